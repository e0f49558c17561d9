/// Names one resource of the dynamic configuration, e.g. the HTTP router `app`.
public struct ResourceKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case httpRouter = "http.routers"
        case httpService = "http.services"
        case httpMiddleware = "http.middlewares"
        case httpServersTransport = "http.serversTransports"
        case tcpRouter = "tcp.routers"
        case tcpService = "tcp.services"
        case tcpMiddleware = "tcp.middlewares"
        case tcpServersTransport = "tcp.serversTransports"
        case udpRouter = "udp.routers"
        case udpService = "udp.services"
        case tlsOptions = "tls.options"
        case tlsStore = "tls.stores"
    }

    public var kind: Kind
    public var name: String
    /// One option of the resource (`rule`, `service`), to point at its own line; nil for the resource itself.
    public var field: String?

    public init(_ kind: Kind, _ name: String, field: String? = nil) {
        self.kind = kind
        self.name = name
        self.field = field
    }

    public var description: String { "\(kind.rawValue).\(name)" + (field.map { ".\($0)" } ?? "") }
}
