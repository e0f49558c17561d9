import Atomics

/// Whether each server of a load balancer answers its health check. Written by the health checker, read by every
/// event loop when it picks a server; carried into the next table while the service's definition is unchanged.
public final class ServerHealth: Sendable {
    private let up: [ManagedAtomic<Bool>]

    public init(serverCount: Int) {
        up = (0..<serverCount).map { _ in ManagedAtomic(true) }
    }

    public func isUp(_ index: Int) -> Bool {
        up[index].load(ordering: .relaxed)
    }

    /// Records a check's result; true when the state changed.
    @discardableResult
    public func set(_ index: Int, up isUp: Bool) -> Bool {
        up[index].exchange(isUp, ordering: .relaxed) != isUp
    }

    public var count: Int { up.count }
}

/// How to check a load balancer's servers (`loadBalancer.healthCheck`).
public struct HealthCheckSettings: Sendable, Hashable {
    public var path: String
    public var method: String
    public var scheme: String?
    public var hostname: String?
    public var port: Int?
    public var headers: [String: String]
    /// The status a healthy server answers; nil accepts 2xx and 3xx.
    public var status: Int?
    public var interval: Int64
    public var unhealthyInterval: Int64
    public var timeout: Int64

    public init(
        path: String, method: String = "GET", scheme: String? = nil, hostname: String? = nil, port: Int? = nil,
        headers: [String: String] = [:], status: Int? = nil, interval: Int64 = 30_000_000_000,
        unhealthyInterval: Int64? = nil, timeout: Int64 = 5_000_000_000
    ) {
        self.path = path
        self.method = method
        self.scheme = scheme
        self.hostname = hostname
        self.port = port
        self.headers = headers
        self.status = status
        self.interval = interval
        self.unhealthyInterval = unhealthyInterval ?? interval
        self.timeout = timeout
    }
}

/// One load balancer to check: what the table asks the health-check supervisor to run.
public struct HealthCheckSpec: Sendable {
    public var service: String
    public var servers: [UpstreamServer]
    public var settings: HealthCheckSettings
    public var health: ServerHealth

    public init(service: String, servers: [UpstreamServer], settings: HealthCheckSettings, health: ServerHealth) {
        self.service = service
        self.servers = servers
        self.settings = settings
        self.health = health
    }
}
