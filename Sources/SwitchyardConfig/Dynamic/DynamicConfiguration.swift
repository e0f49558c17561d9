/// The dynamic configuration one provider sees, in Traefik's schema: `http`, `tcp`, `udp` and `tls` sections.
public struct DynamicConfiguration: Sendable, Hashable, Codable, ConfigModel {
    public var http: HTTPConfiguration?
    public var tcp: TCPConfiguration?
    public var udp: UDPConfiguration?
    public var tls: TLSConfiguration?

    public init() {}
}

/// The `http` section: routers, services, middlewares and the transports to reach servers.
public struct HTTPConfiguration: Sendable, Hashable, Codable, ConfigModel {
    public var routers: [String: Router]?
    public var services: [String: HTTPService]?
    public var middlewares: [String: Middleware]?
    public var serversTransports: [String: ServersTransport]?

    public init() {}
}

/// An HTTP router: a rule that selects requests, the middlewares they pass and the service that answers them.
public struct Router: Sendable, Hashable, Codable, ConfigModel {
    public var entryPoints: [String]?
    public var middlewares: [String]?
    public var service: String?
    public var rule: String?
    public var ruleSyntax: String?
    public var priority: Int?
    public var tls: RouterTLS?
    public var observability: RouterObservability?

    public init() {}
}

/// `tls` on a router: present (even empty) means the router serves HTTPS only.
public struct RouterTLS: Sendable, Hashable, Codable, ConfigModel {
    public var options: String?
    public var certResolver: String?
    public var domains: [TLSDomain]?

    public init() {}
}

/// Per-router switches for access logs, metrics and tracing.
public struct RouterObservability: Sendable, Hashable, Codable, ConfigModel {
    public var accessLogs: Bool?
    public var metrics: Bool?
    public var tracing: Bool?
    public var traceVerbosity: String?

    public init() {}
}

/// An HTTP service: exactly one of its kinds is set.
public struct HTTPService: Sendable, Hashable, Codable, ConfigModel {
    public var loadBalancer: LoadBalancerService?
    public var weighted: WeightedService?
    public var mirroring: MirroringService?
    public var failover: FailoverService?
    public var highestRandomWeight: HighestRandomWeightService?
    public var middlewares: [String]?

    public init() {}

    /// The keys of the kinds that are set, in Traefik's spelling.
    public var configuredKinds: [String] {
        var kinds: [String] = []
        if loadBalancer != nil { kinds.append("loadBalancer") }
        if weighted != nil { kinds.append("weighted") }
        if mirroring != nil { kinds.append("mirroring") }
        if failover != nil { kinds.append("failover") }
        if highestRandomWeight != nil { kinds.append("highestRandomWeight") }
        return kinds
    }
}

/// A load balancer over a list of servers.
public struct LoadBalancerService: Sendable, Hashable, Codable, ConfigModel {
    public var servers: [LoadBalancerServer]?
    public var strategy: String?
    public var passHostHeader: Bool?
    public var serversTransport: String?
    public var sticky: Sticky?
    public var healthCheck: ServerHealthCheck?
    public var passiveHealthCheck: PassiveHealthCheck?
    public var responseForwarding: ResponseForwarding?

    public init() {}
}

/// One server of a load balancer.
public struct LoadBalancerServer: Sendable, Hashable, Codable, ConfigModel {
    public var url: String?
    public var weight: Int?
    public var preservePath: Bool?

    public init() {}

    public init(url: String, weight: Int? = nil) {
        self.url = url
        self.weight = weight
    }
}
