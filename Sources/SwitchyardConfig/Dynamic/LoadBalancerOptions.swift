/// `sticky`: session affinity for a load balancer or weighted service.
public struct Sticky: Sendable, Hashable, Codable, ConfigModel {
    public var cookie: StickyCookie?

    public init() {}
}

/// `sticky.cookie`: the cookie that pins a client to a server.
public struct StickyCookie: Sendable, Hashable, Codable, ConfigModel {
    public var name: String?
    public var secure: Bool?
    public var httpOnly: Bool?
    /// `none`, `lax` or `strict`.
    public var sameSite: String?
    /// Seconds; 0 means a session cookie, negative expires it.
    public var maxAge: Int?
    public var path: String?
    public var domain: String?

    public init() {}
}

/// `healthCheck` of a load balancer: active HTTP or gRPC probes of each server.
public struct ServerHealthCheck: Sendable, Hashable, Codable, ConfigModel {
    public var scheme: String?
    /// `http` or `grpc`.
    public var mode: String?
    public var path: String?
    public var method: String?
    public var status: Int?
    public var port: Int?
    public var interval: ConfigDuration?
    public var unhealthyInterval: ConfigDuration?
    public var timeout: ConfigDuration?
    public var hostname: String?
    public var followRedirects: Bool?
    public var headers: [String: String]?

    public init() {}
}

/// `passiveHealthCheck` of a load balancer: ejects servers that fail live requests.
public struct PassiveHealthCheck: Sendable, Hashable, Codable, ConfigModel {
    public var failureWindow: ConfigDuration?
    public var maxFailedAttempts: Int?

    public init() {}
}

/// `responseForwarding`: how response bodies are flushed to the client.
public struct ResponseForwarding: Sendable, Hashable, Codable, ConfigModel {
    /// Negative means flush after every write.
    public var flushInterval: ConfigDuration?

    public init() {}
}
