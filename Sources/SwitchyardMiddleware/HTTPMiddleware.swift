import NIOCore
import NIOHTTP1
import SwitchyardConfig

/// What a middleware decides about a request.
public enum MiddlewareAction: Sendable {
    /// Pass the (possibly changed) request on to the next middleware and then the service.
    case proceed
    /// Answer the client now; the service is not called.
    case respond(HTTPResponseStatus, headers: HTTPHeaders, body: String)
    /// The decision needs work that must not run on the event loop (a password hash, a call to an auth server).
    /// The future completes on the request's event loop with the decision and the request head to go on with.
    case later(EventLoopFuture<Decision>)

    public struct Decision: Sendable {
        public var action: MiddlewareAction
        public var head: HTTPRequestHead

        public init(_ action: MiddlewareAction, head: HTTPRequestHead) {
            self.action = action
            self.head = head
        }
    }
}

/// What a middleware can read about the request besides its head; set up by the proxy once per request.
public struct MiddlewareContext: Sendable {
    public var entryPoint: String
    public var router: String
    /// The client's address as 4 (IPv4) or 16 (IPv6) bytes; empty when unknown (a unix socket).
    public var clientAddress: [UInt8]
    public var clientIP: String
    /// `http` or `https`, as the client reached the entry point.
    public var scheme: String
    /// The loop the request runs on; a `later` decision completes here.
    public var eventLoop: any EventLoop
    /// The DER bytes of the certificate the client presented in its TLS handshake, if any.
    public var clientCertificate: [UInt8]?
    /// What to do when this exchange ends, however it ends.
    public let scope: RequestScope

    public init(
        entryPoint: String, router: String, clientAddress: [UInt8], clientIP: String, scheme: String,
        eventLoop: any EventLoop, scope: RequestScope = RequestScope()
    ) {
        self.entryPoint = entryPoint
        self.router = router
        self.clientAddress = clientAddress
        self.clientIP = clientIP
        self.scheme = scheme
        self.eventLoop = eventLoop
        self.scope = scope
    }
}

/// Work a middleware leaves for the end of the exchange (a counter to give back): run exactly once when the response
/// has ended, the client has gone, or the connection has become a tunnel. Used on the request's event loop only.
public final class RequestScope: @unchecked Sendable {
    private var completions: [@Sendable () -> Void] = []
    /// Set by `retry`: when and how often the proxy sends the request again.
    public var retry: RetryPolicy?
    /// Set by `errors`: which answers the proxy replaces with a page from another service (a policy of the routing
    /// layer, which knows services).
    public var errorPages: (any Sendable)?
    /// Set by `compress`: the encoding for the response, if it qualifies.
    public var compression: CompressionPolicy?
    /// Set by `grpcWeb`: the server's trailers go in the body, as gRPC-Web's trailer frame.
    public var grpcWeb: GrpcWebExchange?
    /// Set by the proxy: the status the client got, and whether the server could not be reached or failed.
    public var responseStatus: Int?
    public var upstreamFailed = false
    /// Set by `basicAuth` and `digestAuth`: the user they let in (the access log's `ClientUsername`).
    public var username: String?
    /// Set by the proxy before the middlewares run, on a route whose middlewares read the request body
    /// (`buffering`, `forwardAuth.forwardBody`): the whole body, or nil when it was larger than they accept
    /// (`requestBodyTooLarge`).
    public var requestBody: ByteBuffer?
    public var requestBodyTooLarge = false
    /// Set by `buffering`: how the proxy holds the response and when it sends the request again.
    public var buffering: BufferingPolicy?
    /// Set by `forwardAuth` (`addAuthCookiesToResponse`): cookies of the authentication server for the response.
    public var authResponseCookies: [String] = []

    /// The request body if the proxy read it and it is at most `limit` bytes (-1: any size the proxy read).
    public func requestBody(upTo limit: Int64) -> ByteBuffer? {
        guard !requestBodyTooLarge, let body = requestBody, limit < 0 || Int64(body.readableBytes) <= limit else { return nil }
        return body
    }

    public init() {}

    public func onCompletion(_ body: @escaping @Sendable () -> Void) {
        completions.append(body)
    }

    /// Runs the completions once; later calls do nothing.
    public func complete() {
        let pending = completions
        completions.removeAll()
        for completion in pending { completion() }
    }
}

/// A middleware instance, built once per routing table from its options and shared by the routers that name it.
///
/// Phases run on the event loop and are synchronous; a middleware whose decision needs blocking work or I/O returns
/// `.later` with a future instead of blocking the loop. The default implementations do nothing. Header names and values a
/// middleware adds must be checked when it is built (the pipelines do not re-validate outbound headers).
public protocol HTTPMiddleware: Sendable {
    /// Runs before the request goes to the service; may change the head or answer at once.
    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction
    /// Runs on the response head before it goes to the client.
    func handleResponse(_ head: inout HTTPResponseHead, request: HTTPRequestHead, context: MiddlewareContext)
    /// How much of the request body the middleware reads (`MiddlewareContext.scope.requestBody`): nil for none
    /// (the default: the body streams to the server), -1 for all of it, else at most that many bytes. The proxy
    /// reads the body whole before the route's middlewares run when one of them asks.
    var requestBodyLimit: Int64? { get }
}

extension HTTPMiddleware {
    public func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        .proceed
    }

    public func handleResponse(_ head: inout HTTPResponseHead, request: HTTPRequestHead, context: MiddlewareContext) {}

    public var requestBodyLimit: Int64? { nil }
}

extension Array where Element == any HTTPMiddleware {
    /// How much of the body the middlewares read together: the largest limit, -1 when one reads any size.
    public var requestBodyLimit: Int64? {
        var combined: Int64?
        for middleware in self {
            guard let limit = middleware.requestBodyLimit else { continue }
            if limit < 0 || combined == -1 { combined = -1 } else { combined = Swift.max(combined ?? 0, limit) }
        }
        return combined
    }
}

/// Builds middlewares of one Traefik type (`stripPrefix`, `headers`, ...) from their options.
public protocol MiddlewareFactory: Sendable {
    /// The type's key in the dynamic configuration, e.g. `stripPrefix`.
    var typeName: String { get }
    /// Builds the middleware, or throws a message saying which option is wrong.
    func make(name: String, options: Middleware) throws -> any HTTPMiddleware
}

/// The middleware types this build knows, by their Traefik key.
public struct MiddlewareRegistry: Sendable {
    private var factories: [String: any MiddlewareFactory] = [:]

    public init(_ factories: [any MiddlewareFactory] = []) {
        for factory in factories { register(factory) }
    }

    public mutating func register(_ factory: any MiddlewareFactory) {
        factories[factory.typeName] = factory
    }

    public func factory(for typeName: String) -> (any MiddlewareFactory)? { factories[typeName] }

    public var typeNames: [String] { factories.keys.sorted() }

    /// Every middleware shipped with Switchyard (`chain` is resolved by the routing compiler, as it names others).
    public static let builtIn = MiddlewareRegistry(BuiltInMiddlewares.factories)
}

/// A factory from a function of the options: builds the middleware when its type's options are set.
public struct MiddlewareType: MiddlewareFactory {
    public let typeName: String
    private let build: @Sendable (Middleware) throws -> (any HTTPMiddleware)?

    public init(_ typeName: String, build: @escaping @Sendable (Middleware) throws -> (any HTTPMiddleware)?) {
        self.typeName = typeName
        self.build = build
    }

    public func make(name: String, options: Middleware) throws -> any HTTPMiddleware {
        guard let middleware = try build(options) else {
            throw MiddlewareConfigurationError("the options of \(typeName) are missing")
        }
        return middleware
    }
}
