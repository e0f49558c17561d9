import SwitchyardConfig
import SwitchyardUpstream

/// Why a request goes where it goes (`/api/explain`): every route of the entry point in evaluation order, whether
/// its rule matched and the first clause that did not, then the winner's middlewares, service and server. Nothing
/// is changed by asking: round robins are peeked at, not advanced.
public struct RouteExplanation: Sendable, Encodable {
    public struct Candidate: Sendable, Encodable {
        public var router: String
        public var priority: Int
        public var rule: String
        public var matched: Bool
        /// The part of the rule that did not match, written as in a rule; nil when it matched.
        public var failedClause: String?
        /// False for routes after the winner: they would match or not, but the request never gets to them.
        public var evaluated: Bool

        enum CodingKeys: String, CodingKey { case router, priority, rule, matched, failedClause, evaluated }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(router, forKey: .router)
            try container.encode(priority, forKey: .priority)
            try container.encode(rule, forKey: .rule)
            try container.encode(matched, forKey: .matched)
            try container.encode(failedClause, forKey: .failedClause)
            try container.encode(evaluated, forKey: .evaluated)
        }
    }

    public struct Server: Sendable, Encodable {
        public var url: String
        /// `UP` or `DOWN` by the health checks (`UP` without any).
        public var status: String
    }

    public var candidates: [Candidate] = []
    public var winner: String?
    public var middlewares: [String] = []
    public var service: String?
    /// The services followed from the router's down to the one that answers (weighted, failover, ...).
    public var serviceChain: [String] = []
    /// The server the next such request would go to; nil when none can take it (or an internal service answers).
    public var server: Server?
    /// The servers of the load balancer reached, with their health.
    public var servers: [Server] = []

    enum CodingKeys: String, CodingKey {
        case candidates, winner, middlewares, service, serviceChain, server, servers
    }

    /// Absent answers are `null`, not missing keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(candidates, forKey: .candidates)
        try container.encode(winner, forKey: .winner)
        try container.encode(middlewares, forKey: .middlewares)
        try container.encode(service, forKey: .service)
        try container.encode(serviceChain, forKey: .serviceChain)
        try container.encode(server, forKey: .server)
        try container.encode(servers, forKey: .servers)
    }

    public init(routes: EntryPointRoutes, request: RoutingRequest, middlewareNames: (String) -> [String]) {
        var winner: Route?
        for route in routes.routes {
            let failure = route.matcher.firstFailure(request)
            candidates.append(Candidate(
                router: route.name, priority: route.priority, rule: route.rule, matched: failure == nil,
                failedClause: failure, evaluated: winner == nil))
            if winner == nil, failure == nil { winner = route }
        }
        guard let winner else { return }
        self.winner = winner.name
        middlewares = middlewareNames(winner.name)
        service = winner.serviceName
        var target = winner.service
        // Bounded: the compiler refuses loops of services.
        for _ in 0..<64 {
            switch target {
            case .weighted(let weighted):
                serviceChain.append(weighted.name)
                guard let next = weighted.peek() else { return }
                target = next
            case .failover(let main, let fallback, _):
                target = main.isAvailable ? main : fallback
            case .highestRandomWeight(let rendezvous):
                serviceChain.append(rendezvous.name)
                guard let next = rendezvous.pick(client: request.clientAddress) else { return }
                target = next
            case .mirroring(let mirroring):
                serviceChain.append(mirroring.name)
                target = mirroring.main
            case .internal:
                return
            case .loadBalancer(let balancer):
                serviceChain.append(balancer.name)
                servers = balancer.servers.indices.map { index in
                    Server(url: balancer.servers[index].url, status: balancer.health?.isUp(index) ?? true ? "UP" : "DOWN")
                }
                server = balancer.peekServer().map { Server(url: $0.url, status: "UP") }
                return
            }
        }
    }
}

extension Matcher {
    /// The first clause, in evaluation order, that keeps this matcher from matching `request`; nil when it matches.
    public func firstFailure(_ request: RoutingRequest) -> String? {
        switch self {
        case .and(let lhs, let rhs):
            return lhs.firstFailure(request) ?? rhs.firstFailure(request)
        default:
            return matches(request) ? nil : ruleText
        }
    }

    /// The matcher written back as a rule.
    public var ruleText: String {
        switch self {
        case .host(let host): return "Host(`\(host)`)"
        case .hostWildcard(let suffix): return "Host(`*\(suffix)`)"
        case .anyHost: return "Host(`*`)"
        case .hostRegexp(let regex): return "HostRegexp(`\(regex.pattern)`)"
        case .path(let path): return "Path(`\(path)`)"
        case .pathPrefix(let prefix): return "PathPrefix(`\(prefix)`)"
        case .pathRegexp(let regex): return "PathRegexp(`\(regex.pattern)`)"
        case .method(let method): return "Method(`\(method)`)"
        case .header(let name, let value): return "Header(`\(name)`, `\(value)`)"
        case .headerRegexp(let name, let regex): return "HeaderRegexp(`\(name)`, `\(regex.pattern)`)"
        case .query(let name, let value?): return "Query(`\(name)`, `\(value)`)"
        case .query(let name, nil): return "Query(`\(name)`)"
        case .queryRegexp(let name, let regex): return "QueryRegexp(`\(name)`, `\(regex.pattern)`)"
        case .clientIP(let network): return "ClientIP(`\(network)`)"
        case .not(let inner): return "!\(inner.operandText)"
        case .and(let lhs, let rhs): return "\(lhs.operandText) && \(rhs.operandText)"
        case .or(let lhs, let rhs): return "\(lhs.operandText) || \(rhs.operandText)"
        }
    }

    private var operandText: String {
        switch self {
        case .and, .or: return "(\(ruleText))"
        default: return ruleText
        }
    }
}

extension WeightedServices {
    /// The child the next request goes to, without taking the turn.
    public func peek() -> ServiceTarget? {
        rotation.peek().map { children[$0] }
    }
}

extension LoadBalancer {
    /// The server the next request without a sticky cookie would most likely go to, without taking the turn:
    /// the next healthy one of the rotation, or with `p2c` the healthy one with the fewest requests in flight.
    public func peekServer() -> UpstreamServer? {
        let usable = servers.indices.filter { servers[$0].weight > 0 && (health?.isUp($0) ?? true) }
        if let load {
            return usable.min { load.current($0) < load.current($1) }.map { servers[$0] }
        }
        for offset in 0..<max(1, rotation.length) {
            guard let index = rotation.peek(offset: offset) else { return nil }
            if usable.contains(index) { return servers[index] }
        }
        return nil
    }
}
