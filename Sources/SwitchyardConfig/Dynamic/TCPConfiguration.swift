/// The `tcp` section: routers, services, middlewares and transports for TCP.
public struct TCPConfiguration: Sendable, Hashable, Codable, ConfigModel {
    public var routers: [String: TCPRouter]?
    public var services: [String: TCPService]?
    public var middlewares: [String: TCPMiddleware]?
    public var serversTransports: [String: TCPServersTransport]?

    public init() {}
}

/// A TCP router: a `HostSNI`/`ClientIP`/`ALPN` rule, middlewares and the service that gets the connection.
public struct TCPRouter: Sendable, Hashable, Codable, ConfigModel {
    public var entryPoints: [String]?
    public var middlewares: [String]?
    public var service: String?
    public var rule: String?
    public var ruleSyntax: String?
    public var priority: Int?
    public var tls: TCPRouterTLS?

    public init() {}
}

/// `tls` on a TCP router: terminate TLS, or pass it through untouched.
public struct TCPRouterTLS: Sendable, Hashable, Codable, ConfigModel {
    public var passthrough: Bool?
    public var options: String?
    public var certResolver: String?
    public var domains: [TLSDomain]?

    public init() {}
}

/// A TCP service: exactly one of its kinds is set.
public struct TCPService: Sendable, Hashable, Codable, ConfigModel {
    public var loadBalancer: TCPLoadBalancerService?
    public var weighted: TCPWeightedService?

    public init() {}
}

/// A TCP load balancer over a list of server addresses.
public struct TCPLoadBalancerService: Sendable, Hashable, Codable, ConfigModel {
    public var servers: [TCPServer]?
    public var serversTransport: String?
    /// Deprecated (set it on the TCP servers transport).
    public var proxyProtocol: ProxyProtocol?
    /// Deprecated, in milliseconds (set it on the TCP servers transport).
    public var terminationDelay: Int?
    public var healthCheck: TCPServerHealthCheck?

    public init() {}
}

/// One server of a TCP load balancer.
public struct TCPServer: Sendable, Hashable, Codable, ConfigModel {
    /// `host:port`.
    public var address: String?
    public var tls: Bool?

    public init() {}
}

/// `proxyProtocol`: send a PROXY protocol header (version 1 or 2) to the server.
public struct ProxyProtocol: Sendable, Hashable, Codable, ConfigModel {
    public var version: Int?

    public init() {}
}

/// `healthCheck` of a TCP load balancer: connect, optionally send a payload and expect a reply.
public struct TCPServerHealthCheck: Sendable, Hashable, Codable, ConfigModel {
    public var port: Int?
    public var send: String?
    public var expect: String?
    public var interval: ConfigDuration?
    public var unhealthyInterval: ConfigDuration?
    public var timeout: ConfigDuration?

    public init() {}
}

/// `weighted` TCP service: weighted round robin over other TCP services.
public struct TCPWeightedService: Sendable, Hashable, Codable, ConfigModel {
    public var services: [WeightedServiceRef]?

    public init() {}
}

/// A TCP middleware: exactly one of its types is set.
public struct TCPMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var inFlightConn: TCPInFlightConnMiddleware?
    public var ipAllowList: TCPIPAllowListMiddleware?
    /// Deprecated alias of `ipAllowList`.
    public var ipWhiteList: TCPIPAllowListMiddleware?

    public init() {}

    /// The Traefik keys of the middleware types that are set, in declaration order.
    public var configuredTypes: [String] {
        var types: [String] = []
        if inFlightConn != nil { types.append("inFlightConn") }
        if ipAllowList != nil { types.append("ipAllowList") }
        if ipWhiteList != nil { types.append("ipWhiteList") }
        return types
    }
}

/// `inFlightConn`: caps simultaneous connections per client IP.
public struct TCPInFlightConnMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var amount: Int64?

    public init() {}
}

/// TCP `ipAllowList` (and `ipWhiteList`): only accepts connections from the ranges.
public struct TCPIPAllowListMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var sourceRange: [String]?

    public init() {}
}

/// A TCP servers transport: dialing, half-close, PROXY protocol and TLS towards TCP servers.
public struct TCPServersTransport: Sendable, Hashable, Codable, ConfigModel {
    public var dialTimeout: ConfigDuration?
    public var dialKeepAlive: ConfigDuration?
    /// Negative means no deadline.
    public var terminationDelay: ConfigDuration?
    public var proxyProtocol: ProxyProtocol?
    public var tls: TCPServersTransportTLS?

    public init() {}
}

/// `tls` of a TCP servers transport.
public struct TCPServersTransportTLS: Sendable, Hashable, Codable, ConfigModel {
    public var serverName: String?
    public var insecureSkipVerify: Bool?
    public var rootCAs: [String]?
    public var certificates: [TLSCertificateFiles]?
    /// Deprecated in favour of `peerCertSANs`.
    public var peerCertURI: String?
    public var peerCertSANs: [PeerCertSAN]?
    public var spiffe: SpiffeOptions?

    public init() {}
}
