/// The `udp` section: routers and services for UDP.
public struct UDPConfiguration: Sendable, Hashable, Codable, ConfigModel {
    public var routers: [String: UDPRouter]?
    public var services: [String: UDPService]?

    public init() {}
}

/// A UDP router: all datagrams of its entrypoints go to one service (no rule).
public struct UDPRouter: Sendable, Hashable, Codable, ConfigModel {
    public var entryPoints: [String]?
    public var service: String?

    public init() {}
}

/// A UDP service: exactly one of its kinds is set.
public struct UDPService: Sendable, Hashable, Codable, ConfigModel {
    public var loadBalancer: UDPLoadBalancerService?
    public var weighted: UDPWeightedService?

    public init() {}
}

/// A UDP load balancer over a list of server addresses.
public struct UDPLoadBalancerService: Sendable, Hashable, Codable, ConfigModel {
    public var servers: [UDPServer]?

    public init() {}
}

/// One server of a UDP load balancer.
public struct UDPServer: Sendable, Hashable, Codable, ConfigModel {
    /// `host:port`.
    public var address: String?

    public init() {}
}

/// `weighted` UDP service: weighted round robin over other UDP services.
public struct UDPWeightedService: Sendable, Hashable, Codable, ConfigModel {
    public var services: [WeightedServiceRef]?

    public init() {}
}
