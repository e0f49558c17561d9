/// `weighted`: weighted round robin over other services.
public struct WeightedService: Sendable, Hashable, Codable, ConfigModel {
    public var services: [WeightedServiceRef]?
    public var sticky: Sticky?
    public var healthCheck: HealthCheckPresence?

    public init() {}
}

/// A service of a weighted (or highest-random-weight) service, with its weight.
public struct WeightedServiceRef: Sendable, Hashable, Codable, ConfigModel {
    public var name: String?
    public var weight: Int?

    public init() {}
}

/// `healthCheck: {}` on a composite service: present means child health is propagated upwards. Has no options.
public struct HealthCheckPresence: Sendable, Hashable, Codable, ConfigModel {
    public init() {}

    private enum NoKeys: CodingKey {}

    /// Takes no options: any key in it is reported as unknown, and a scalar is a type error.
    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: NoKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: NoKeys.self)
    }
}

/// `mirroring`: sends requests to a main service and copies a percentage to mirrors.
public struct MirroringService: Sendable, Hashable, Codable, ConfigModel {
    public var service: String?
    public var mirrorBody: Bool?
    /// Bytes; -1 (Traefik's default) means unlimited.
    public var maxBodySize: Int64?
    public var mirrors: [MirrorRef]?
    public var healthCheck: HealthCheckPresence?

    public init() {}
}

/// A mirror of a mirroring service and the percentage of requests it receives.
public struct MirrorRef: Sendable, Hashable, Codable, ConfigModel {
    public var name: String?
    public var percent: Int?

    public init() {}
}

/// `failover`: uses a fallback service while the main one is down (or answers with listed statuses).
public struct FailoverService: Sendable, Hashable, Codable, ConfigModel {
    public var service: String?
    public var fallback: String?
    public var healthCheck: HealthCheckPresence?
    public var errors: FailoverErrors?

    public init() {}
}

/// `failover.errors`: fail over on these response statuses, buffering request bodies up to a limit.
public struct FailoverErrors: Sendable, Hashable, Codable, ConfigModel {
    public var status: [String]?
    /// Bytes; -1 (Traefik's default) means unlimited.
    public var maxRequestBodyBytes: Int64?

    public init() {}
}

/// `highestRandomWeight`: consistent hashing of the client IP over weighted services.
public struct HighestRandomWeightService: Sendable, Hashable, Codable, ConfigModel {
    public var services: [WeightedServiceRef]?
    public var healthCheck: HealthCheckPresence?

    public init() {}
}
