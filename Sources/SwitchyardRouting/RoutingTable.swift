import SwitchyardConfig
import SwitchyardMiddleware
import SwitchyardTLS
import SwitchyardUpstream

/// A load balancer's live health and the service definition it belongs to.
struct HealthState: Sendable {
    var service: String
    var definition: HTTPService
    var health: ServerHealth
}

/// A middleware instance and the definition it was built from.
struct MiddlewareInstance: Sendable {
    var definition: Middleware
    var middleware: any HTTPMiddleware
}

/// The routing table in force for one version of the configuration. Immutable: a new configuration makes a new
/// table, and a request keeps the table it was routed with until it ends.
public final class RoutingTable: Sendable {
    public let version: UInt64
    /// Seconds since 1970 when the table was compiled.
    public let createdAt: Double
    public let entryPoints: [String: EntryPointRoutes]
    /// The routes of TLS routers, for requests that came over TLS.
    public let secureEntryPoints: [String: EntryPointRoutes]
    /// Certificates and TLS options, for the handshakes of connections accepted while this table is in force.
    public let tls: TLSRuntime
    public let status: RuntimeStatus
    public let configuration: MergedConfiguration
    /// The middleware instances built for this table, with their definitions, for the next table to keep.
    let middlewareInstances: [String: MiddlewareInstance]
    /// Every service that compiled, by name.
    public let services: [String: ServiceTarget]
    /// The health checks this table's load balancers need; the supervisor runs them.
    public let healthChecks: [HealthCheckSpec]
    let healthStates: [String: HealthState]

    init(
        version: UInt64, entryPoints: [String: EntryPointRoutes], secureEntryPoints: [String: EntryPointRoutes] = [:],
        tls: TLSRuntime = .fallback(), status: RuntimeStatus,
        configuration: MergedConfiguration, middlewareInstances: [String: MiddlewareInstance] = [:],
        services: [String: ServiceTarget] = [:], healthChecks: [HealthCheckSpec] = [], healthStates: [String: HealthState] = [:]
    ) {
        self.middlewareInstances = middlewareInstances
        self.services = services
        self.healthChecks = healthChecks
        self.healthStates = healthStates
        self.version = version
        self.entryPoints = entryPoints
        self.secureEntryPoints = secureEntryPoints
        self.tls = tls
        self.status = status
        self.configuration = configuration
        self.createdAt = WallClock.seconds()
    }

    /// A table with no routes, in force before the first configuration arrives.
    public static func empty(entryPoints: [String]) -> RoutingTable {
        RoutingTable(
            version: 0,
            entryPoints: Dictionary(uniqueKeysWithValues: entryPoints.map { ($0, EntryPointRoutes(name: $0, routes: [])) }),
            status: RuntimeStatus(),
            configuration: MergedConfiguration())
    }
}
