import Atomics
import NIOConcurrencyHelpers
import NIOCore

/// Whether each server of a load balancer can take traffic: it answers its active health check, and (with passive
/// health checking) it has not failed `maxFailedAttempts` times in live traffic within `failureWindow`, which ejects
/// it for that window. Read by every event loop when it picks a server; carried into the next table while the
/// service's definition is unchanged.
public final class ServerHealth: Sendable {
    public struct Passive: Sendable, Hashable {
        public var failureWindow: Int64
        public var maxFailedAttempts: Int

        public init(failureWindow: Int64, maxFailedAttempts: Int) {
            self.failureWindow = failureWindow
            self.maxFailedAttempts = maxFailedAttempts
        }
    }

    private let up: [ManagedAtomic<Bool>]
    public let passive: Passive?
    /// Uptime in nanoseconds until which a server is ejected by passive health checking.
    private let ejectedUntil: [ManagedAtomic<Int64>]
    private let recentFailures: NIOLockedValueBox<[[Int64]]>

    public init(serverCount: Int, passive: Passive? = nil) {
        up = (0..<serverCount).map { _ in ManagedAtomic(true) }
        self.passive = passive
        ejectedUntil = (0..<serverCount).map { _ in ManagedAtomic(0) }
        recentFailures = NIOLockedValueBox(Array(repeating: [], count: serverCount))
    }

    public func isUp(_ index: Int) -> Bool {
        guard up[index].load(ordering: .relaxed) else { return false }
        guard passive != nil else { return true }
        return ejectedUntil[index].load(ordering: .relaxed) <= Self.now
    }

    /// Records an active check's result; true when the state changed.
    @discardableResult
    public func set(_ index: Int, up isUp: Bool) -> Bool {
        up[index].exchange(isUp, ordering: .relaxed) != isUp
    }

    /// Records a failure in live traffic (the server could not be reached or did not answer); true when it ejects
    /// the server.
    @discardableResult
    public func recordFailure(_ index: Int) -> Bool {
        guard let passive else { return false }
        let now = Self.now
        let eject = recentFailures.withLockedValue { failures in
            failures[index].removeAll { $0 <= now - passive.failureWindow }
            failures[index].append(now)
            guard failures[index].count >= passive.maxFailedAttempts else { return false }
            failures[index].removeAll()
            return true
        }
        if eject { ejectedUntil[index].store(now + passive.failureWindow, ordering: .relaxed) }
        return eject
    }

    public var count: Int { up.count }

    static var now: Int64 { Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds) }
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
    /// Follow a 3xx answer's `Location` (at most 10 times) and judge the answer there.
    public var followRedirects = true

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
