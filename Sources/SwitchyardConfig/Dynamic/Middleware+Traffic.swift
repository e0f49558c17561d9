/// `rateLimit`: token-bucket rate limiting per source (rate = average / period).
public struct RateLimitMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var average: Int64?
    public var period: ConfigDuration?
    public var burst: Int64?
    public var sourceCriterion: SourceCriterion?
    public var redis: RateLimitRedis?

    public init() {}
}

/// `rateLimit.redis`: a Redis server that shares the rate-limit buckets between instances.
public struct RateLimitRedis: Sendable, Hashable, Codable, ConfigModel {
    public var endpoints: [String]?
    public var tls: ClientTLS?
    public var username: String?
    public var password: String?
    public var db: Int?
    public var poolSize: Int?
    public var minIdleConns: Int?
    public var maxActiveConns: Int?
    public var readTimeout: ConfigDuration?
    public var writeTimeout: ConfigDuration?
    public var dialTimeout: ConfigDuration?

    public init() {}
}

/// `inFlightReq`: caps the number of simultaneous requests per source.
public struct InFlightReqMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var amount: Int64?
    public var sourceCriterion: SourceCriterion?

    public init() {}
}

/// How requests are grouped by source: client IP (via an IP strategy), a request header, or the host.
public struct SourceCriterion: Sendable, Hashable, Codable, ConfigModel {
    public var ipStrategy: IPStrategy?
    public var requestHeaderName: String?
    public var requestHost: Bool?

    public init() {}
}

/// How the client IP is taken from `X-Forwarded-For` (depth or excluded IPs), else the remote address.
public struct IPStrategy: Sendable, Hashable, Codable, ConfigModel {
    public var depth: Int?
    public var excludedIPs: [String]?
    public var ipv6Subnet: Int?

    public init() {}
}

/// `ipAllowList` (and its deprecated alias `ipWhiteList`): only lets client IPs in the ranges through.
public struct IPAllowListMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var sourceRange: [String]?
    public var ipStrategy: IPStrategy?
    public var rejectStatusCode: Int?

    public init() {}
}

/// `retry`: re-sends a request to the service when it fails (network errors, or the listed statuses).
public struct RetryMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var attempts: Int?
    public var initialInterval: ConfigDuration?
    public var timeout: ConfigDuration?
    public var maxRequestBodyBytes: Int64?
    public var status: [String]?
    public var disableRetryOnNetworkError: Bool?
    public var retryNonIdempotentMethod: Bool?

    public init() {}
}

/// `circuitBreaker`: stops forwarding while an expression over recent traffic holds.
public struct CircuitBreakerMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var expression: String?
    public var checkPeriod: ConfigDuration?
    public var fallbackDuration: ConfigDuration?
    public var recoveryDuration: ConfigDuration?
    public var responseCode: Int?

    public init() {}
}

/// `buffering`: buffers request and response bodies, with size limits and an optional retry expression.
public struct BufferingMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var maxRequestBodyBytes: Int64?
    public var memRequestBodyBytes: Int64?
    public var maxResponseBodyBytes: Int64?
    public var memResponseBodyBytes: Int64?
    public var retryExpression: String?
    public var disableRequestBuffer: Bool?
    public var disableResponseBuffer: Bool?

    public init() {}
}
