import NIOHTTP1
import SwitchyardConfig

/// `replacePath`: replaces the path (the query stays); the original goes to `X-Replaced-Path`.
struct ReplacePath: HTTPMiddleware {
    let path: String

    init(_ options: ReplacePathMiddleware) throws(MiddlewareConfigurationError) {
        guard let path = options.path, !path.isEmpty else {
            throw MiddlewareConfigurationError("replacePath.path: the path is empty")
        }
        self.path = path
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        var target = RequestTarget(head.uri)
        head.headers.replaceOrAdd(name: "X-Replaced-Path", value: target.path)
        target.path = path
        head.uri = target.uri
        return .proceed
    }
}
