import NIOHTTP1
import SwitchyardConfig

/// `addPrefix`: puts a prefix in front of the path.
struct AddPrefix: HTTPMiddleware {
    let prefix: String

    init(_ options: AddPrefixMiddleware) throws(MiddlewareConfigurationError) {
        guard let prefix = options.prefix, !prefix.isEmpty else {
            throw MiddlewareConfigurationError("addPrefix.prefix: the prefix is empty")
        }
        self.prefix = prefix.hasPrefix("/") ? prefix : "/" + prefix
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        var target = RequestTarget(head.uri)
        target.path = prefix + target.path
        head.uri = target.uri
        return .proceed
    }
}
