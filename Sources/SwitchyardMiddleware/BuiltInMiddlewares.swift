import NIOHTTP1
import SwitchyardConfig

/// The middleware types implemented so far, by their Traefik key.
enum BuiltInMiddlewares {
    static let factories: [any MiddlewareFactory] = [
        MiddlewareType("addPrefix") { try $0.addPrefix.map(AddPrefix.init) },
        MiddlewareType("stripPrefix") { try $0.stripPrefix.map(StripPrefix.init) },
        MiddlewareType("stripPrefixRegex") { try $0.stripPrefixRegex.map(StripPrefixRegex.init) },
        MiddlewareType("replacePath") { try $0.replacePath.map(ReplacePath.init) },
        MiddlewareType("replacePathRegex") { try $0.replacePathRegex.map(ReplacePathRegex.init) },
        MiddlewareType("redirectScheme") { try $0.redirectScheme.map(RedirectScheme.init) },
        MiddlewareType("redirectRegex") { try $0.redirectRegex.map(RedirectRegex.init) },
        MiddlewareType("headers") { try $0.headers.map(Headers.init) },
        MiddlewareType("ipAllowList") { options in try options.ipAllowList.map { try IPAllowList($0, type: "ipAllowList") } },
        MiddlewareType("ipWhiteList") { options in try options.ipWhiteList.map { try IPAllowList($0, type: "ipWhiteList") } },
        MiddlewareType("rateLimit") { try $0.rateLimit.map(RateLimit.init) },
    ]
}

/// Runs several middlewares as one (`chain`): requests in order, responses in reverse order.
public struct ChainedMiddleware: HTTPMiddleware {
    public let middlewares: [any HTTPMiddleware]

    public init(_ middlewares: [any HTTPMiddleware]) {
        self.middlewares = middlewares
    }

    public func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        middlewares.handleRequest(&head, context: context)
    }

    public func handleResponse(_ head: inout HTTPResponseHead, request: HTTPRequestHead, context: MiddlewareContext) {
        for middleware in middlewares.reversed() { middleware.handleResponse(&head, request: request, context: context) }
    }
}

extension Array where Element == any HTTPMiddleware {
    /// Runs the request phase of each middleware in order. When one answers, the ones before it see that answer's
    /// head, as they would see a server's: a `headers` middleware before a redirect adds its headers to the redirect.
    public func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        for (index, middleware) in enumerated() {
            guard case .respond(let status, let headers, let body) = middleware.handleRequest(&head, context: context)
            else { continue }
            var response = HTTPResponseHead(version: head.version, status: status, headers: headers)
            for earlier in self[..<index].reversed() {
                earlier.handleResponse(&response, request: head, context: context)
            }
            return .respond(response.status, headers: response.headers, body: body)
        }
        return .proceed
    }
}
