import Atomics
import NIOHTTP1

/// One request and its answer, as the proxy saw it, handed to the observers (metrics, access log) once the
/// exchange has ended. Built only when an entry point has observers.
public struct ExchangeRecord: Sendable {
    public var entryPoint: String
    /// The router that took the request; nil when none matched (404).
    public var router: String?
    public var service: String?
    /// The server it went to, when it went to one.
    public var serverURL: String?
    public var request: HTTPRequestHead
    /// `http`, `websocket`, `sse` or `grpc`, as Traefik's `protocol` label.
    public var `protocol`: String
    /// `http` or `https`.
    public var scheme: String
    public var clientIP: String
    public var clientPort: Int
    public var status: Int
    /// The status the server answered with, 0 when none answered (502, a local answer).
    public var originStatus: Int
    public var responseHeaders: HTTPHeaders
    /// Nanoseconds from the request's head to the end of its response.
    public var duration: Int64
    /// Wall-clock seconds since 1970 when the request's head arrived.
    public var started: Double
    public var requestBytes: Int
    public var responseBytes: Int
    /// Tries beyond the first (`retry`).
    public var retries: Int
    /// The routing table version that routed it.
    public var tableVersion: UInt64
    /// The user `basicAuth` or `digestAuth` accepted, when one did.
    public var username: String?

    public init(
        entryPoint: String, router: String?, service: String?, serverURL: String?, request: HTTPRequestHead,
        protocol: String, scheme: String, clientIP: String, clientPort: Int, status: Int, originStatus: Int,
        responseHeaders: HTTPHeaders, duration: Int64, started: Double, requestBytes: Int, responseBytes: Int,
        retries: Int, tableVersion: UInt64, username: String?
    ) {
        self.entryPoint = entryPoint
        self.router = router
        self.service = service
        self.serverURL = serverURL
        self.request = request
        self.protocol = `protocol`
        self.scheme = scheme
        self.clientIP = clientIP
        self.clientPort = clientPort
        self.status = status
        self.originStatus = originStatus
        self.responseHeaders = responseHeaders
        self.duration = duration
        self.started = started
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
        self.retries = retries
        self.tableVersion = tableVersion
        self.username = username
    }

    /// Traefik's `protocol` label of a request.
    public static func protocolName(of head: HTTPRequestHead) -> String {
        let headers = head.headers
        if headers[canonicalForm: "upgrade"].contains(where: { $0.lowercased() == "websocket" }) { return "websocket" }
        if headers[canonicalForm: "accept"].contains(where: { $0.lowercased().hasPrefix("text/event-stream") }) { return "sse" }
        if headers[canonicalForm: "content-type"].contains(where: { $0.lowercased().hasPrefix("application/grpc") }) { return "grpc" }
        return "http"
    }
}

/// Told of every exchange of an entry point once it has ended, on the connection's event loop: it must not block.
public protocol ExchangeObserver: Sendable {
    func exchangeEnded(_ record: ExchangeRecord)
}

/// The connections an entry point has open, for the `open_connections` metric.
public final class ConnectionGauge: Sendable {
    private let open = ManagedAtomic(0)

    public init() {}

    public func opened() { open.wrappingIncrement(ordering: .relaxed) }
    public func closed() { open.wrappingDecrement(ordering: .relaxed) }
    public var current: Int { open.load(ordering: .relaxed) }
}
