import SwitchyardConfig

/// Whether a resource serves traffic, as the API shows it (Traefik's `status`).
public enum ResourceStatus: String, Sendable, Codable, Hashable {
    case enabled
    case disabled
    case warning
}

/// The fields every resource shows in the API beside its configuration (Traefik's runtime info).
private struct StatusFields: Encodable {
    var name: String
    var provider: String
    var status: ResourceStatus
    var errors: [String]

    enum CodingKeys: String, CodingKey {
        case name, provider, status, error
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(provider, forKey: .provider)
        try container.encode(status, forKey: .status)
        if !errors.isEmpty { try container.encode(errors, forKey: .error) }
    }
}

/// A router as the API shows it: its configuration, where it came from, and what went wrong.
public struct RouterInfo: Sendable, Hashable, Encodable {
    public var name: String
    public var provider: String
    public var router: Router
    public var status: ResourceStatus
    public var errors: [String]
    /// The entry points it is attached to.
    public var using: [String]
    /// The priority it is evaluated with (explicit, or the rule's length).
    public var effectivePriority: Int

    enum CodingKeys: String, CodingKey {
        case using, priority
    }

    public func encode(to encoder: any Encoder) throws {
        try router.encode(to: encoder)
        try StatusFields(name: name, provider: provider, status: status, errors: errors).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(using, forKey: .using)
        try container.encode(effectivePriority, forKey: .priority)
    }
}

/// A service as the API shows it.
public struct ServiceInfo: Sendable, Hashable, Encodable {
    public var name: String
    public var provider: String
    public var service: HTTPService
    public var status: ResourceStatus
    public var errors: [String]
    public var usedBy: [String]
    /// Server URL → `UP` or `DOWN`.
    public var serverStatus: [String: String]

    enum CodingKeys: String, CodingKey {
        case usedBy, serverStatus
    }

    public func encode(to encoder: any Encoder) throws {
        try service.encode(to: encoder)
        try StatusFields(name: name, provider: provider, status: status, errors: errors).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(usedBy, forKey: .usedBy)
        if !serverStatus.isEmpty { try container.encode(serverStatus, forKey: .serverStatus) }
    }
}

/// A middleware as the API shows it.
public struct MiddlewareInfo: Sendable, Hashable, Encodable {
    public var name: String
    public var provider: String
    public var middleware: Middleware
    public var status: ResourceStatus
    public var errors: [String]
    public var usedBy: [String]
    /// The middleware's type key, e.g. `stripPrefix`; empty when it sets none.
    public var type: String

    enum CodingKeys: String, CodingKey {
        case usedBy, type
    }

    public func encode(to encoder: any Encoder) throws {
        try middleware.encode(to: encoder)
        try StatusFields(name: name, provider: provider, status: status, errors: errors).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(usedBy, forKey: .usedBy)
        try container.encode(type, forKey: .type)
    }
}

/// The state of every resource in one table version: what serves, what is disabled and why.
public struct RuntimeStatus: Sendable, Hashable {
    public var routers: [String: RouterInfo] = [:]
    public var services: [String: ServiceInfo] = [:]
    public var middlewares: [String: MiddlewareInfo] = [:]
    /// Every error and warning of this version: the providers' and the compiler's, each with its source.
    public var issues: [ConfigurationIssue] = []

    public init() {}
}
