import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardMiddleware
import SwitchyardUpstream

/// A service compiled for the data plane.
public enum ServiceTarget: Sendable {
    case loadBalancer(LoadBalancer)
    /// A `weighted` service: weighted round robin over other services (canary splits).
    case weighted(WeightedServices)
    /// A `failover` service: the main service while it has a healthy server, else the fallback; with `errors`,
    /// also the fallback when the main service answers one of those statuses.
    indirect case failover(main: ServiceTarget, fallback: ServiceTarget, errors: FailoverOnStatus?)
    /// A `highestRandomWeight` service: rendezvous hashing of the client's address over services.
    case highestRandomWeight(RendezvousServices)
    /// A `mirroring` service: the main service answers; copies of some requests go to the mirrors.
    case mirroring(MirroringServices)
    /// A service answered inside Switchyard (`api@internal`, `ping@internal`, `noop@internal`).
    case `internal`(any InternalService)
}

/// A load balancer over servers, with the settings the proxy needs per request.
public final class LoadBalancer: Sendable {
    public let name: String
    public let servers: [UpstreamServer]
    public let passHostHeader: Bool
    /// Live health when the service has a health check; servers that fail it leave the rotation.
    public let health: ServerHealth?
    /// Sticky sessions, when the service asks for them.
    public let sticky: StickyCookieSettings?
    /// Requests in flight per server, with the `p2c` strategy; nil with `wrr`.
    public let load: ServerLoad?
    let rotation: WeightedRoundRobin

    public init(
        name: String, servers: [UpstreamServer], passHostHeader: Bool, health: ServerHealth? = nil,
        sticky: StickyCookieSettings? = nil, powerOfTwoChoices: Bool = false
    ) {
        self.name = name
        self.servers = servers
        self.passHostHeader = passHostHeader
        self.health = health
        self.sticky = sticky
        self.load = powerOfTwoChoices ? ServerLoad(serverCount: servers.count) : nil
        self.rotation = WeightedRoundRobin(weights: servers.map(\.weight))
    }

    /// The server for a request: the one its sticky cookie names while that one is up, else the next in the
    /// rotation, with the Set-Cookie value to send back when the client is not (or no longer) stuck to it.
    public func server(cookieHeaders: [String]) -> (server: UpstreamServer, setCookie: String?)? {
        guard let sticky else { return nextServer().map { ($0, nil) } }
        if let index = sticky.serverIndex(cookieHeaders: cookieHeaders), health?.isUp(index) ?? true,
            servers[index].weight > 0
        {
            return (servers[index], nil)
        }
        guard let server = nextServer(), let index = servers.firstIndex(of: server) else { return nil }
        return (server, sticky.setCookie(for: index))
    }

    /// Whether some server with weight is up.
    public var hasAvailableServer: Bool {
        servers.indices.contains { servers[$0].weight > 0 && (health?.isUp($0) ?? true) }
    }

    /// The next server: by the strategy, among the healthy ones; nil when none can take traffic (503).
    public func nextServer() -> UpstreamServer? {
        if let load {
            var random = SystemRandomNumberGenerator()
            let candidates = servers.indices.filter { servers[$0].weight > 0 && (health?.isUp($0) ?? true) }
            return load.pick(among: candidates, random: &random).map { servers[$0] }
        }
        return nextInRotation()
    }

    /// The next healthy server in weighted round-robin order.
    private func nextInRotation() -> UpstreamServer? {
        guard let health else { return rotation.next().map { servers[$0] } }
        // Skip unhealthy servers; a bounded number of tries covers every server of the rotation.
        for _ in 0..<max(1, rotation.length) {
            guard let index = rotation.next() else { return nil }
            if health.isUp(index) { return servers[index] }
        }
        return nil
    }
}

/// Weighted round robin over services, each of which may itself be weighted.
public final class WeightedServices: Sendable {
    public let name: String
    public let children: [ServiceTarget]
    /// Sticky sessions by cookie naming the child service, when the service asks for them.
    public let sticky: StickyCookieSettings?
    /// `healthCheck: {}`: children with no available server are skipped (else they are picked and answer 503).
    let skipsUnavailable: Bool
    let weights: [Int]
    let rotation: WeightedRoundRobin

    init(
        name: String, children: [(target: ServiceTarget, weight: Int)], sticky: StickyCookieSettings? = nil,
        skipsUnavailable: Bool = false
    ) {
        self.name = name
        self.children = children.map(\.target)
        self.sticky = sticky
        self.skipsUnavailable = skipsUnavailable
        self.weights = children.map(\.weight)
        self.rotation = WeightedRoundRobin(weights: weights)
    }

    /// The next child in weighted order; nil when every weight is zero (or, with `healthCheck`, no child with
    /// weight is available).
    public func next() -> ServiceTarget? {
        nextIndex().map { children[$0] }
    }

    /// The child a request goes to: the one its sticky cookie names while that one has weight and is available,
    /// else the next; the Set-Cookie for a client not (or no longer) stuck to it is appended to `setCookies`.
    func pick(headers: HTTPHeaders, setCookies: inout [String]) -> ServiceTarget? {
        guard let sticky else { return next() }
        if let index = sticky.serverIndex(cookieHeaders: headers["cookie"]), weights[index] > 0,
            children[index].isAvailable
        {
            return children[index]
        }
        guard let index = nextIndex() else { return nil }
        setCookies.append(sticky.setCookie(for: index))
        return children[index]
    }

    private func nextIndex() -> Int? {
        guard skipsUnavailable else { return rotation.next() }
        // A bounded number of tries covers every child of the rotation.
        for _ in 0..<max(1, rotation.length) {
            guard let index = rotation.next() else { return nil }
            if children[index].isAvailable { return index }
        }
        return nil
    }
}

/// `failover.errors`: the statuses of the main service's answer that send the request to the fallback instead,
/// with its body when that is at most `maxBodyBytes` (kept as it goes).
public struct FailoverOnStatus: Sendable {
    public let statuses: [ClosedRange<Int>]
    public let maxBodyBytes: Int64

    public init(statuses: [ClosedRange<Int>], maxBodyBytes: Int64) {
        self.statuses = statuses
        self.maxBodyBytes = maxBodyBytes
    }

    public func matches(_ status: Int) -> Bool { statuses.contains { $0.contains(status) } }
}

/// A fallback to go to when the main service answers a status `failover.errors` names. A class: a request holds it
/// while it runs, and testing an optional reference is one comparison.
public final class StatusFallback: Sendable {
    public let policy: FailoverOnStatus
    public let target: ServiceTarget

    init(policy: FailoverOnStatus, target: ServiceTarget) {
        self.policy = policy
        self.target = target
    }
}

extension ServiceTarget {
    /// Follows weighted services down to the one that answers. Weighted services cannot nest in a loop (the compiler
    /// refuses it), so the walk ends; nil when a weighted service has nothing to pick.
    public func resolved(client: [UInt8] = []) -> ServiceTarget? {
        var ignoredMirrors: [MirroringServices.Mirror] = []
        var ignoredCookies: [String] = []
        var ignoredFallback: StatusFallback?
        return resolved(
            client: client, headers: HTTPHeaders(), mirrors: &ignoredMirrors, setCookies: &ignoredCookies,
            statusFallback: &ignoredFallback)
    }

    /// As `resolved(client:)`, for a request with these headers (weighted sticky cookies), collecting the mirrors of
    /// the mirroring services on the way, the Set-Cookie values of weighted sticky services, and the fallback of a
    /// failover service that fails over on statuses (the innermost one).
    public func resolved(
        client: [UInt8], headers: HTTPHeaders, mirrors: inout [MirroringServices.Mirror], setCookies: inout [String],
        statusFallback: inout StatusFallback?
    ) -> ServiceTarget? {
        var target = self
        while true {
            switch target {
            case .weighted(let weighted):
                guard let next = weighted.pick(headers: headers, setCookies: &setCookies) else { return nil }
                target = next
            case .failover(let main, let fallback, let errors):
                if main.isAvailable {
                    if let errors { statusFallback = StatusFallback(policy: errors, target: fallback) }
                    target = main
                } else {
                    target = fallback
                }
            case .highestRandomWeight(let rendezvous):
                guard let next = rendezvous.pick(client: client) else { return nil }
                target = next
            case .mirroring(let mirroring):
                mirrors += mirroring.mirrors
                target = mirroring.main
            case .loadBalancer, .internal:
                return target
            }
        }
    }

    /// Whether the service has a server that can take a request now (by the health checks).
    public var isAvailable: Bool {
        switch self {
        case .loadBalancer(let balancer): return balancer.hasAvailableServer
        case .weighted(let weighted): return weighted.children.contains { $0.isAvailable }
        case .failover(let main, let fallback, _): return main.isAvailable || fallback.isAvailable
        case .highestRandomWeight(let rendezvous): return rendezvous.children.contains { $0.target.isAvailable }
        case .mirroring(let mirroring): return mirroring.main.isAvailable
        case .internal: return true
        }
    }
}

/// Rendezvous (highest random weight) hashing: each client address scores every service by a hash of the address
/// and the service's name, scaled by its weight; the best available one wins. A client keeps its service while the
/// set of services and their health stay the same, and only the clients of a service that leaves move.
public final class RendezvousServices: Sendable {
    public let name: String
    let children: [(name: String, target: ServiceTarget, weight: Int)]

    init(name: String, children: [(name: String, target: ServiceTarget, weight: Int)]) {
        self.name = name
        self.children = children
    }

    public func pick(client: [UInt8]) -> ServiceTarget? {
        var best: (score: Double, target: ServiceTarget)?
        for child in children where child.weight > 0 && child.target.isAvailable {
            let score = Self.score(client: client, name: child.name, weight: child.weight)
            if best == nil || score > best!.score { best = (score, child.target) }
        }
        return best?.target
    }

    /// weight / -ln(u), u uniform in (0, 1) from FNV-1a over the address and the name.
    static func score(client: [UInt8], name: String, weight: Int) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in client + [0] + Array(name.utf8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        // Finalize (splitmix64) so nearby inputs spread over the whole range.
        hash ^= hash >> 30
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash = hash &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        let unit = (Double(hash >> 11) + 0.5) / Double(UInt64(1) << 53)
        return Double(weight) / -log(unit)
    }
}

/// Mirroring: the main service answers; each mirror gets a copy of `percent` % of the requests, whose answer is
/// thrown away. A mirror never slows the main request: its copy is dropped when it cannot keep up.
public final class MirroringServices: Sendable {
    public struct Mirror: Sendable {
        public let target: ServiceTarget
        public let percent: Int
        /// Copy the body too (else the copy has none).
        public let mirrorBody: Bool
        /// Bodies larger than this are not copied (-1: no limit).
        public let maxBodySize: Int64

        /// Whether this request gets a copy (a draw of `percent` in 100).
        public func draws() -> Bool { percent >= 100 || (percent > 0 && Int.random(in: 0..<100) < percent) }
    }

    public let name: String
    public let main: ServiceTarget
    public let mirrors: [Mirror]

    init(name: String, main: ServiceTarget, mirrors: [Mirror]) {
        self.name = name
        self.main = main
        self.mirrors = mirrors
    }
}

/// A response produced inside Switchyard.
public struct InternalResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// A body that goes on after `body` until the client leaves (Server-Sent Events); nil for a whole response.
    public var stream: (any InternalStream)?

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: ByteBuffer, stream: (any InternalStream)? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
    }
}

/// The source of a streamed internal response: given a writer once the head is out, it writes when it has
/// something, from any thread, until the writer says the client is gone.
public protocol InternalStream: Sendable {
    func start(_ writer: InternalStreamWriter)
}

/// Writes a streamed response's parts to its client. The proxy closes it when the client goes away, when the
/// client cannot keep up (its socket stays full), or at shutdown.
public final class InternalStreamWriter: Sendable {
    private let deliver: @Sendable (ByteBuffer) -> Void
    private let closed = ManagedAtomic(false)

    public init(deliver: @escaping @Sendable (ByteBuffer) -> Void) {
        self.deliver = deliver
    }

    /// Sends a part; false once the stream has ended (the part is dropped).
    @discardableResult
    public func write(_ buffer: ByteBuffer) -> Bool {
        guard !closed.load(ordering: .relaxed) else { return false }
        deliver(buffer)
        return true
    }

    public var isClosed: Bool { closed.load(ordering: .relaxed) }

    public func close() { closed.store(true, ordering: .relaxed) }
}

/// A service that Switchyard answers itself, like Traefik's `api@internal`.
public protocol InternalService: Sendable {
    func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse>
}

/// A router ready to serve: its matcher, middleware chain and service, all built for one table version.
public final class Route: Sendable {
    public let name: String
    public let priority: Int
    public let rule: String
    public let matcher: Matcher
    public let middlewares: [any HTTPMiddleware]
    public let serviceName: String
    public let service: ServiceTarget
    /// Position in the table's deterministic order, used to break priority ties.
    let order: Int
    /// Where the router's and its service's requests are counted (`/api/traffic`); nil when nothing counts.
    public let traffic: TrafficCounter?
    public let serviceTraffic: TrafficCounter?
    /// How much of the request body the middlewares read before the request goes on (nil: none, -1: all).
    public let requestBodyLimit: Int64?

    init(
        name: String, priority: Int, rule: String, matcher: Matcher, middlewares: [any HTTPMiddleware],
        serviceName: String, service: ServiceTarget, order: Int, traffic: TrafficRegistry? = nil
    ) {
        self.traffic = traffic?.router(name)
        self.serviceTraffic = traffic?.service(serviceName)
        self.name = name
        self.priority = priority
        self.rule = rule
        self.matcher = matcher
        self.middlewares = middlewares
        self.requestBodyLimit = middlewares.requestBodyLimit
        self.serviceName = serviceName
        self.service = service
        self.order = order
    }
}

/// The routes of one entry point, sorted by priority, indexed by host so a lookup looks at few routes.
public final class EntryPointRoutes: Sendable {
    public let name: String
    /// Every route in evaluation order.
    public let routes: [Route]
    /// For each host some route requires: the routes that can match that host, in evaluation order.
    private let byHost: [String: [Route]]
    /// Routes that may match any host, for hosts not in `byHost`.
    private let anyHost: [Route]

    init(name: String, routes: [Route]) {
        let sorted = routes.sorted { ($0.priority, -$0.order) > ($1.priority, -$1.order) }
        self.name = name
        self.routes = sorted
        var hostRoutes: [String: [Route]] = [:]
        var anyHost: [Route] = []
        for route in sorted {
            if let hosts = route.matcher.requiredHosts {
                for host in hosts { hostRoutes[host, default: []].append(route) }
            } else {
                anyHost.append(route)
            }
        }
        // Each host's list also holds the host-agnostic routes, merged in priority order.
        var byHost: [String: [Route]] = [:]
        for (host, list) in hostRoutes {
            byHost[host] = EntryPointRoutes.mergeSorted(list, anyHost)
        }
        self.byHost = byHost
        self.anyHost = anyHost
    }

    /// The routes a request for `host` is evaluated against, in order.
    public func candidates(forHost host: String) -> [Route] {
        byHost.isEmpty ? anyHost : byHost[host] ?? anyHost
    }

    /// The first route whose rule matches, or nil (the proxy answers 404).
    public func route(_ request: RoutingRequest) -> Route? {
        for route in candidates(forHost: request.host) where route.matcher.matches(request) {
            return route
        }
        return nil
    }

    private static func mergeSorted(_ a: [Route], _ b: [Route]) -> [Route] {
        var result: [Route] = []
        result.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j >= b.count || (i < a.count && (a[i].priority, -a[i].order) > (b[j].priority, -b[j].order)) {
                result.append(a[i]); i += 1
            } else {
                result.append(b[j]); j += 1
            }
        }
        return result
    }
}
