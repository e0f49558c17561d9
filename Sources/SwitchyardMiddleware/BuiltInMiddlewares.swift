import NIOCore
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
        MiddlewareType("basicAuth") { try $0.basicAuth.map(BasicAuth.init) },
        MiddlewareType("digestAuth") { try $0.digestAuth.map(DigestAuth.init) },
        MiddlewareType("inFlightReq") { try $0.inFlightReq.map(InFlightReq.init) },
        MiddlewareType("retry") { try $0.retry.map(Retry.init) },
        MiddlewareType("compress") { try $0.compress.map(Compress.init) },
        MiddlewareType("buffering") { try $0.buffering.map(Buffering.init) },
        MiddlewareType("circuitBreaker") { try $0.circuitBreaker.map(CircuitBreaker.init) },
        MiddlewareType("passTLSClientCert") { try $0.passTLSClientCert.map(PassTLSClientCert.init) },
        MiddlewareType("grpcWeb") { try $0.grpcWeb.map(GrpcWeb.init) },
        MiddlewareType("forwardAuth") { try $0.forwardAuth.map(ForwardAuth.init) },
        MiddlewareType("contentType") { $0.contentType.map(ContentType.init) },
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

    public var requestBodyLimit: Int64? { middlewares.requestBodyLimit }
}

extension Array where Element == any HTTPMiddleware {
    /// Runs the request phase of each middleware in order. When one answers, the ones before it see that answer's
    /// head, as they would see a server's: a `headers` middleware before a redirect adds its headers to the redirect.
    /// When one decides `later`, the rest run once its decision is in.
    public func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        handleRequest(&head, context: context, from: 0)
    }

    private func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext, from start: Int)
        -> MiddlewareAction
    {
        for index in start..<count {
            switch self[index].handleRequest(&head, context: context) {
            case .proceed:
                continue
            case .respond(let status, let headers, let body):
                return answer(status, headers: headers, body: body, from: index, request: head, context: context)
            case .later(let decision):
                return .later(
                    decision.flatMap { decision in
                        var head = decision.head
                        let next: MiddlewareAction
                        switch decision.action {
                        case .proceed:
                            next = self.handleRequest(&head, context: context, from: index + 1)
                        case .respond(let status, let headers, let body):
                            next = self.answer(status, headers: headers, body: body, from: index, request: head, context: context)
                        case .later(let further):
                            return further
                        }
                        if case .later(let further) = next { return further }
                        return context.eventLoop.makeSucceededFuture(MiddlewareAction.Decision(next, head: head))
                    })
            }
        }
        return .proceed
    }

    private func answer(
        _ status: HTTPResponseStatus, headers: HTTPHeaders, body: String, from index: Int, request: HTTPRequestHead,
        context: MiddlewareContext
    ) -> MiddlewareAction {
        var response = HTTPResponseHead(version: request.version, status: status, headers: headers)
        for earlier in self[..<index].reversed() {
            earlier.handleResponse(&response, request: request, context: context)
        }
        return .respond(response.status, headers: response.headers, body: body)
    }
}
