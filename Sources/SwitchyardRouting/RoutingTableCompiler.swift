import SwitchyardConfig
import SwitchyardMiddleware
import SwitchyardUpstream

/// Turns a merged configuration into an immutable `RoutingTable`, validating as it goes: a broken router,
/// service or middleware is disabled with its error recorded; everything else goes live.
public struct RoutingTableCompiler: Sendable {
    /// Routers Switchyard adds itself (`api@internal`, `ping@internal`), with the entry points they live on.
    public struct InternalRouter: Sendable {
        public var name: String
        public var entryPoints: [String]
        public var rule: String
        public var priority: Int
        public var service: String

        public init(name: String, entryPoints: [String], rule: String, priority: Int, service: String) {
            self.name = name
            self.entryPoints = entryPoints
            self.rule = rule
            self.priority = priority
            self.service = service
        }
    }

    /// The largest priority a user may set; above it sit the internal routers.
    public static let maximumPriority = Int.max - 1000

    public var entryPoints: [String]
    /// Entry points a router without `entryPoints` attaches to.
    public var defaultEntryPoints: [String]
    public var internalServices: [String: any InternalService]
    public var internalRouters: [InternalRouter]
    public var middlewares: MiddlewareRegistry

    public init(
        entryPoints: [String],
        defaultEntryPoints: [String]? = nil,
        internalServices: [String: any InternalService] = [:],
        internalRouters: [InternalRouter] = [],
        middlewares: MiddlewareRegistry = .builtIn
    ) {
        self.entryPoints = entryPoints
        self.defaultEntryPoints = defaultEntryPoints ?? entryPoints
        self.internalServices = internalServices
        self.internalRouters = internalRouters
        self.middlewares = middlewares
    }

    /// Compiles `merged`. Middlewares whose definition is the same as in `previous` keep their instance, and with it
    /// their state (rate-limit buckets and the like).
    public func compile(_ merged: MergedConfiguration, version: UInt64, previous: RoutingTable? = nil) -> RoutingTable {
        var build = Build(
            compiler: self, merged: merged, previous: previous?.middlewareInstances ?? [:],
            previousHealth: previous?.healthStates ?? [:])
        build.compileServices()
        build.compileMiddlewares()
        build.compileRouters()
        build.compileInternalRouters()
        var routes: [String: EntryPointRoutes] = [:]
        for entryPoint in entryPoints {
            routes[entryPoint] = EntryPointRoutes(name: entryPoint, routes: build.routesByEntryPoint[entryPoint] ?? [])
        }
        build.status.issues = merged.issues + build.issues
        var instances: [String: MiddlewareInstance] = [:]
        for (name, middleware) in build.builtMiddlewares {
            guard let definition = build.http.middlewares?[name], definition.chain == nil else { continue }
            instances[name] = MiddlewareInstance(definition: definition, middleware: middleware)
        }
        let health = Dictionary(build.healthStates.map { ($0.service, $0) }, uniquingKeysWith: { first, _ in first })
        return RoutingTable(
            version: version, entryPoints: routes, status: build.status, configuration: merged,
            middlewareInstances: instances, services: build.services, healthChecks: build.healthChecks,
            healthStates: health)
    }
}

/// The working state of one compilation.
private struct Build {
    let compiler: RoutingTableCompiler
    let merged: MergedConfiguration
    let http: HTTPConfiguration
    var status = RuntimeStatus()
    var issues: [ConfigurationIssue] = []
    var services: [String: ServiceTarget] = [:]
    var builtMiddlewares: [String: any HTTPMiddleware] = [:]
    var routesByEntryPoint: [String: [Route]] = [:]
    var routeOrder = 0

    let previous: [String: MiddlewareInstance]
    let previousHealth: [String: HealthState]
    var healthChecks: [HealthCheckSpec] = []
    var healthStates: [HealthState] = []

    init(
        compiler: RoutingTableCompiler, merged: MergedConfiguration, previous: [String: MiddlewareInstance],
        previousHealth: [String: HealthState]
    ) {
        self.compiler = compiler
        self.merged = merged
        self.previous = previous
        self.previousHealth = previousHealth
        self.http = merged.configuration.http ?? HTTPConfiguration()
    }

    static func provider(of name: String) -> String {
        ResourceName.provider(of: name) ?? "unknown"
    }

    /// Records an error on a resource, with the place it was defined.
    mutating func report(
        _ kind: ResourceKey.Kind, _ name: String, key: String? = nil, _ message: String,
        severity: ConfigurationIssue.Severity = .error
    ) -> String {
        let field = key?.split(separator: ".").first.map { $0.split(separator: "[").first.map(String.init) ?? String($0) }
        let location = field.flatMap { merged.origins[ResourceKey(kind, name, field: $0.lowercased())] }
            ?? merged.origins[ResourceKey(kind, name)] ?? SourceLocation(source: Self.provider(of: name))
        let bareName = ResourceName.bare(name)
        var keyPath = "\(kind.rawValue).\(bareName)"
        if let key { keyPath += ".\(key)" }
        let issue = ConfigurationIssue(severity, at: location, keyPath: keyPath, message: message)
        issues.append(issue)
        return issue.description
    }

    mutating func compileServices() {
        for (name, service) in (http.services ?? [:]).sorted(by: { $0.key < $1.key }) {
            if Self.composite.contains(service.configuredKinds), service.middlewares?.isEmpty ?? true {
                status.services[name] = ServiceInfo(
                    name: name, provider: Self.provider(of: name), service: service, status: .enabled, errors: [],
                    usedBy: [], serverStatus: [:])
                continue  // built below, once the services it names are
            }
            var info = ServiceInfo(
                name: name, provider: Self.provider(of: name), service: service, status: .enabled, errors: [],
                usedBy: [], serverStatus: [:])
            switch compileService(name, service) {
            case .success(let target):
                services[name] = target
                if case .loadBalancer(let balancer) = target {
                    for server in balancer.servers { info.serverStatus[server.url] = "UP" }
                }
            case .failure(let failure):
                info.status = .disabled
                info.errors.append(report(.httpService, name, key: failure.key, failure.message))
            }
            status.services[name] = info
        }
        for (name, service) in (http.services ?? [:]).sorted(by: { $0.key < $1.key })
        where Self.composite.contains(service.configuredKinds) && service.middlewares?.isEmpty ?? true {
            var visiting: [String] = []
            _ = compileComposite(name, visiting: &visiting)
        }
        for (name, service) in compiler.internalServices {
            services[name] = .internal(service)
            status.services[name] = ServiceInfo(
                name: name, provider: "internal", service: HTTPService(), status: .enabled, errors: [], usedBy: [],
                serverStatus: [:])
        }
    }

    /// Service kinds that name other services, built after the load balancers.
    static let composite: [[String]] = [["weighted"], ["failover"], ["highestRandomWeight"], ["mirroring"]]

    /// Builds the weighted or failover service `name` from the services it names (composite ones included); a
    /// missing or disabled child or a loop disables it.
    private mutating func compileComposite(_ name: String, visiting: inout [String]) -> ServiceTarget? {
        if let built = services[name] { return built }
        guard let service = http.services?[name], status.services[name]?.status != .disabled else { return nil }
        func fail(_ key: String, _ message: String) -> ServiceTarget? {
            let error = report(.httpService, name, key: key, message)
            status.services[name]?.status = .disabled
            status.services[name]?.errors.append(error)
            return nil
        }
        guard !visiting.contains(name) else {
            return fail(service.configuredKinds.first ?? "", "the service includes itself: \((visiting + [name]).joined(separator: " -> "))")
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        /// A child service by name: built, or built now.
        func child(_ reference: String?, key: String, visiting: inout [String]) -> Result<ServiceTarget, Failure> {
            guard let reference, !reference.isEmpty else { return .failure(Failure(key: key, message: "no service named")) }
            status.services[reference]?.usedBy.append(name)
            if let target = services[reference] ?? compileComposite(reference, visiting: &visiting) { return .success(target) }
            if let existing = status.services[reference] {
                return .failure(Failure(key: key, message: "the service \"\(reference)\" is disabled: \(existing.errors.first ?? "")"))
            }
            return .failure(Failure(key: key, message: "the service \"\(reference)\" does not exist"))
        }
        if let failover = service.failover {
            if failover.healthCheck != nil { return fail("failover.healthCheck", "'healthCheck' is not supported yet") }
            if failover.errors != nil { return fail("failover.errors", "'errors' is not supported yet") }
            let main: ServiceTarget, fallback: ServiceTarget
            switch child(failover.service, key: "failover.service", visiting: &visiting) {
            case .success(let target): main = target
            case .failure(let failure): return fail(failure.key ?? "failover", failure.message)
            }
            switch child(failover.fallback, key: "failover.fallback", visiting: &visiting) {
            case .success(let target): fallback = target
            case .failure(let failure): return fail(failure.key ?? "failover", failure.message)
            }
            let target = ServiceTarget.failover(main: main, fallback: fallback)
            services[name] = target
            return target
        }
        /// The services a weighted or rendezvous service names, with their weights (at least one above 0).
        func weightedChildren(_ references: [WeightedServiceRef]?, key: String, visiting: inout [String])
            -> Result<[(name: String, target: ServiceTarget, weight: Int)], Failure>
        {
            let references = references ?? []
            guard !references.isEmpty else { return .failure(Failure(key: key, message: "the service names no service")) }
            var children: [(name: String, target: ServiceTarget, weight: Int)] = []
            for (index, reference) in references.enumerated() {
                let entry = "\(key)[\(index)]"
                let weight = reference.weight ?? 1
                guard weight >= 0 else { return .failure(Failure(key: entry, message: "the weight must not be negative")) }
                switch child(reference.name, key: entry, visiting: &visiting) {
                case .success(let target): children.append((reference.name ?? "", target, weight))
                case .failure(let failure): return .failure(Failure(key: entry, message: failure.message))
                }
            }
            guard children.contains(where: { $0.weight > 0 }) else {
                return .failure(Failure(key: key, message: "every service has weight 0"))
            }
            return .success(children)
        }
        let target: ServiceTarget
        if let mirroring = service.mirroring {
            if mirroring.healthCheck != nil { return fail("mirroring.healthCheck", "'healthCheck' is not supported yet") }
            let main: ServiceTarget
            switch child(mirroring.service, key: "mirroring.service", visiting: &visiting) {
            case .success(let found): main = found
            case .failure(let failure): return fail(failure.key ?? "mirroring", failure.message)
            }
            var mirrors: [MirroringServices.Mirror] = []
            for (index, reference) in (mirroring.mirrors ?? []).enumerated() {
                let key = "mirroring.mirrors[\(index)]"
                let percent = reference.percent ?? 0
                guard (0...100).contains(percent) else { return fail(key, "the percent must be from 0 to 100") }
                switch child(reference.name, key: key, visiting: &visiting) {
                case .success(let found):
                    mirrors.append(MirroringServices.Mirror(
                        target: found, percent: percent, mirrorBody: mirroring.mirrorBody ?? true,
                        maxBodySize: mirroring.maxBodySize ?? -1))
                case .failure(let failure): return fail(key, failure.message)
                }
            }
            target = .mirroring(MirroringServices(name: name, main: main, mirrors: mirrors))
        } else if let rendezvous = service.highestRandomWeight {
            if rendezvous.healthCheck != nil {
                return fail("highestRandomWeight.healthCheck", "'healthCheck' is not supported yet")
            }
            switch weightedChildren(rendezvous.services, key: "highestRandomWeight.services", visiting: &visiting) {
            case .success(let children): target = .highestRandomWeight(RendezvousServices(name: name, children: children))
            case .failure(let failure): return fail(failure.key ?? "highestRandomWeight", failure.message)
            }
        } else if let weighted = service.weighted {
            if weighted.sticky != nil { return fail("weighted.sticky", "'sticky' is not supported yet") }
            if weighted.healthCheck != nil { return fail("weighted.healthCheck", "'healthCheck' is not supported yet") }
            switch weightedChildren(weighted.services, key: "weighted.services", visiting: &visiting) {
            case .success(let children):
                target = .weighted(WeightedServices(name: name, children: children.map { ($0.target, $0.weight) }))
            case .failure(let failure): return fail(failure.key ?? "weighted", failure.message)
            }
        } else {
            return nil
        }
        services[name] = target
        return target
    }

    struct Failure: Error {
        var key: String?
        var message: String
    }

    static func healthCheckSettings(_ check: ServerHealthCheck) -> Result<HealthCheckSettings, Failure> {
        func fail(_ key: String, _ message: String) -> Result<HealthCheckSettings, Failure> {
            .failure(Failure(key: "loadBalancer.healthCheck.\(key)", message: message))
        }
        guard let path = check.path, path.hasPrefix("/") else { return fail("path", "the path must start with '/'") }
        if let mode = check.mode, mode.lowercased() != "http" {
            return fail("mode", "the mode '\(mode)' is not supported yet; use http")
        }
        if let scheme = check.scheme, scheme.lowercased() != "http" {
            return fail("scheme", "the scheme '\(scheme)' is not supported yet; use http")
        }
        if let port = check.port, !(1...65535).contains(port) { return fail("port", "the port must be from 1 to 65535") }
        if let status = check.status, !(100...599).contains(status) { return fail("status", "\(status) is not an HTTP status") }
        let interval = check.interval?.nanoseconds ?? 30_000_000_000
        let unhealthy = check.unhealthyInterval?.nanoseconds ?? interval
        let timeout = check.timeout?.nanoseconds ?? 5_000_000_000
        guard interval > 0, unhealthy > 0, timeout > 0 else {
            return fail("interval", "interval, unhealthyInterval and timeout must be longer than 0s")
        }
        return .success(HealthCheckSettings(
            path: path, method: (check.method ?? "GET").uppercased(), scheme: check.scheme, hostname: check.hostname,
            port: check.port, headers: check.headers ?? [:], status: check.status, interval: interval,
            unhealthyInterval: unhealthy, timeout: timeout))
    }

    mutating func compileService(_ name: String, _ service: HTTPService) -> Result<ServiceTarget, Failure> {
        let kinds = service.configuredKinds
        guard kinds.count == 1 else {
            let message = kinds.isEmpty
                ? "the service defines no kind; set one of loadBalancer, weighted, mirroring, failover, highestRandomWeight"
                : "the service defines more than one kind (\(kinds.joined(separator: ", "))); set exactly one"
            return .failure(Failure(message: message))
        }
        if let middlewares = service.middlewares, !middlewares.isEmpty {
            return .failure(Failure(key: "middlewares", message: "service middlewares are not supported yet"))
        }
        guard let balancer = service.loadBalancer else {
            return .failure(Failure(key: kinds[0], message: "the service kind '\(kinds[0])' is not supported yet"))
        }
        let configured = balancer.servers ?? []
        guard !configured.isEmpty else {
            return .failure(Failure(key: "loadBalancer.servers", message: "the load balancer has no servers"))
        }
        let strategy = (balancer.strategy ?? "wrr").lowercased()
        guard strategy == "wrr" || strategy == "p2c" else {
            return .failure(Failure(
                key: "loadBalancer.strategy", message: "the strategy '\(strategy)' is not supported yet; use wrr or p2c"))
        }
        if balancer.serversTransport != nil {
            return .failure(Failure(key: "loadBalancer.serversTransport", message: "'serversTransport' is not supported yet"))
        }
        var passive: ServerHealth.Passive?
        if let options = balancer.passiveHealthCheck {
            let window = options.failureWindow?.nanoseconds ?? 10_000_000_000
            let attempts = options.maxFailedAttempts ?? 1
            guard window > 0 else {
                return .failure(Failure(key: "loadBalancer.passiveHealthCheck.failureWindow", message: "must be longer than 0s"))
            }
            guard attempts >= 1 else {
                return .failure(Failure(key: "loadBalancer.passiveHealthCheck.maxFailedAttempts", message: "must be at least 1"))
            }
            passive = ServerHealth.Passive(failureWindow: window, maxFailedAttempts: attempts)
        }
        var servers: [UpstreamServer] = []
        for (index, server) in configured.enumerated() {
            guard let url = server.url, !url.isEmpty else {
                return .failure(Failure(key: "loadBalancer.servers[\(index)].url", message: "the server has no url"))
            }
            do {
                let parsed = try UpstreamServer(url: url, weight: server.weight ?? 1, preservePath: server.preservePath ?? false)
                if parsed.scheme != .http {
                    return .failure(Failure(
                        key: "loadBalancer.servers[\(index)].url",
                        message: "servers with the scheme '\(parsed.scheme.rawValue)' are not supported yet; use http"))
                }
                servers.append(parsed)
            } catch {
                return .failure(Failure(key: "loadBalancer.servers[\(index)].url", message: error.description))
            }
        }
        guard servers.contains(where: { $0.weight > 0 }) else {
            return .failure(Failure(key: "loadBalancer.servers", message: "every server has weight 0"))
        }
        var health: ServerHealth?
        if balancer.healthCheck != nil || passive != nil {
            // The same definition keeps its live health (and its running checker) across tables.
            if let kept = previousHealth[name], kept.definition == service {
                health = kept.health
            } else {
                health = ServerHealth(serverCount: servers.count, passive: passive)
            }
            healthStates.append(HealthState(service: name, definition: service, health: health!))
        }
        if let check = balancer.healthCheck, let health {
            switch Self.healthCheckSettings(check) {
            case .success(let settings):
                healthChecks.append(HealthCheckSpec(service: name, servers: servers, settings: settings, health: health))
            case .failure(let failure):
                healthStates.removeLast()
                return .failure(failure)
            }
        }
        var sticky: StickyCookieSettings?
        if let cookie = balancer.sticky?.cookie {
            if let sameSite = cookie.sameSite, !["", "none", "lax", "strict"].contains(sameSite.lowercased()) {
                return .failure(Failure(
                    key: "loadBalancer.sticky.cookie.sameSite", message: "'\(sameSite)' is not none, lax or strict"))
            }
            let forbidden = Set("=;, \t\r\n\"")
            for (key, value) in [("name", cookie.name), ("path", cookie.path), ("domain", cookie.domain)] {
                if let value, value.contains(where: { forbidden.contains($0) && !(key == "path" && $0 == "=") }) {
                    return .failure(Failure(key: "loadBalancer.sticky.cookie.\(key)", message: "'\(value)' cannot go in a cookie"))
                }
            }
            sticky = StickyCookieSettings(
                name: cookie.name, serviceName: name, servers: servers, secure: cookie.secure ?? false,
                httpOnly: cookie.httpOnly ?? false, sameSite: cookie.sameSite, maxAge: cookie.maxAge ?? 0,
                path: cookie.path, domain: cookie.domain)
        } else if balancer.sticky != nil {
            return .failure(Failure(key: "loadBalancer.sticky", message: "set sticky.cookie (the only kind of stickiness)"))
        }
        let target = LoadBalancer(
            name: name, servers: servers, passHostHeader: balancer.passHostHeader ?? true, health: health, sticky: sticky,
            powerOfTwoChoices: strategy == "p2c")
        return .success(.loadBalancer(target))
    }

    mutating func compileMiddlewares() {
        for (name, middleware) in (http.middlewares ?? [:]).sorted(by: { $0.key < $1.key }) {
            let types = middleware.configuredTypes
            var info = MiddlewareInfo(
                name: name, provider: Self.provider(of: name), middleware: middleware, status: .enabled, errors: [],
                usedBy: [], type: types.first ?? "")
            if types.count != 1 {
                let message = types.isEmpty
                    ? "the middleware sets no type (such as stripPrefix or headers)"
                    : "the middleware sets more than one type (\(types.joined(separator: ", "))); define one middleware per type"
                info.status = .disabled
                info.errors.append(report(.httpMiddleware, name, message))
            } else if types[0] == "chain" {
                // Built below, once the middlewares it names are.
            } else if types[0] == "errors", let options = middleware.errors {
                // Needs a service: built here, where services are known.
                if let serviceName = options.service, let service = services[serviceName] {
                    status.services[serviceName]?.usedBy.append(name)
                    do {
                        builtMiddlewares[name] = ErrorPages(policy: try ErrorPagesPolicy.make(options, service: service))
                    } catch {
                        info.status = .disabled
                        info.errors.append(report(.httpMiddleware, name, key: "errors", error.description))
                    }
                } else {
                    info.status = .disabled
                    let message = options.service.map {
                        status.services[$0] == nil ? "the service \"\($0)\" does not exist" : "the service \"\($0)\" is disabled"
                    } ?? "the middleware names no service"
                    info.errors.append(report(.httpMiddleware, name, key: "errors.service", message))
                }
            } else if let kept = previous[name], kept.definition == middleware {
                builtMiddlewares[name] = kept.middleware
            } else if let factory = compiler.middlewares.factory(for: types[0]) {
                do {
                    builtMiddlewares[name] = try factory.make(name: name, options: middleware)
                } catch {
                    info.status = .disabled
                    info.errors.append(report(.httpMiddleware, name, key: types[0], "\(error)"))
                }
            } else {
                info.status = .disabled
                info.errors.append(
                    report(.httpMiddleware, name, key: types[0], "the middleware type '\(types[0])' is not supported yet"))
            }
            status.middlewares[name] = info
        }
        for (name, middleware) in (http.middlewares ?? [:]).sorted(by: { $0.key < $1.key })
        where middleware.configuredTypes == ["chain"] {
            var visiting: [String] = []
            _ = compileChain(name, visiting: &visiting)
        }
    }

    /// Builds the chain `name` from the middlewares it names (chains included); a missing or disabled member, or
    /// a chain that names itself through others, disables it.
    private mutating func compileChain(_ name: String, visiting: inout [String]) -> (any HTTPMiddleware)? {
        if let built = builtMiddlewares[name] { return built }
        guard let members = http.middlewares?[name]?.chain?.middlewares, status.middlewares[name]?.status != .disabled
        else { return nil }
        func fail(_ message: String) -> (any HTTPMiddleware)? {
            let error = report(.httpMiddleware, name, key: "chain.middlewares", message)
            status.middlewares[name]?.status = .disabled
            status.middlewares[name]?.errors.append(error)
            return nil
        }
        guard !members.isEmpty else { return fail("the chain names no middleware") }
        guard !visiting.contains(name) else {
            return fail("the chain includes itself: \((visiting + [name]).joined(separator: " -> "))")
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        var chain: [any HTTPMiddleware] = []
        for member in members {
            status.middlewares[member]?.usedBy.append(name)
            if let built = builtMiddlewares[member] ?? compileChain(member, visiting: &visiting) {
                chain.append(built)
            } else if let existing = status.middlewares[member] {
                return fail("middleware \"\(member)\" is disabled: \(existing.errors.first ?? "")")
            } else {
                return fail("middleware \"\(member)\" does not exist")
            }
        }
        let built = ChainedMiddleware(chain)
        builtMiddlewares[name] = built
        return built
    }

    mutating func compileRouters() {
        for (name, router) in (http.routers ?? [:]).sorted(by: { $0.key < $1.key }) {
            var info = RouterInfo(
                name: name, provider: Self.provider(of: name), router: router, status: .enabled, errors: [], using: [],
                effectivePriority: 0)
            let route = compileRouter(name, router, info: &info)
            if let route, info.status != .disabled {
                for entryPoint in info.using { routesByEntryPoint[entryPoint, default: []].append(route) }
            } else {
                info.status = .disabled
            }
            status.routers[name] = info
        }
    }

    private mutating func compileRouter(_ name: String, _ router: Router, info: inout RouterInfo) -> Route? {
        func fail(_ key: String?, _ message: String) -> Route? {
            info.errors.append(report(.httpRouter, name, key: key, message))
            info.status = .disabled
            return nil
        }
        // Entry points: unknown ones are a warning while another one is valid.
        let wanted = router.entryPoints ?? compiler.defaultEntryPoints
        for entryPoint in wanted where !compiler.entryPoints.contains(entryPoint) {
            info.errors.append(
                report(.httpRouter, name, key: "entryPoints", "entryPoint \"\(entryPoint)\" doesn't exist", severity: .warning))
            info.status = .warning
        }
        info.using = wanted.filter { compiler.entryPoints.contains($0) }
        guard !info.using.isEmpty else { return fail("entryPoints", "no valid entryPoint for this router") }
        if let syntax = router.ruleSyntax, syntax != "v3" {
            return fail("ruleSyntax", "the rule syntax '\(syntax)' is not supported; write the rule in Traefik v3 syntax")
        }
        if router.tls != nil {
            return fail("tls", "TLS termination is not supported yet; the router is disabled")
        }
        guard let rule = router.rule, !rule.isEmpty else { return fail("rule", "the router has no rule") }
        let matcher: Matcher
        do {
            matcher = try MatcherCompiler.compile(rule: rule)
        } catch {
            return fail("rule", error.message)
        }
        let priority = router.priority.flatMap { $0 == 0 ? nil : $0 } ?? rule.count
        guard priority <= RoutingTableCompiler.maximumPriority else {
            return fail("priority", "the priority \(priority) is above the maximum \(RoutingTableCompiler.maximumPriority)")
        }
        info.effectivePriority = priority
        var chain: [any HTTPMiddleware] = []
        for middleware in router.middlewares ?? [] {
            status.middlewares[middleware]?.usedBy.append(name)
            guard let built = builtMiddlewares[middleware] else {
                if let existing = status.middlewares[middleware] {
                    return fail("middlewares", "middleware \"\(middleware)\" is disabled: \(existing.errors.first ?? "")")
                }
                return fail("middlewares", "middleware \"\(middleware)\" does not exist")
            }
            chain.append(built)
        }
        guard let serviceName = router.service, !serviceName.isEmpty else {
            return fail("service", "the router has no service")
        }
        status.services[serviceName]?.usedBy.append(name)
        guard let service = services[serviceName] else {
            if let existing = status.services[serviceName] {
                return fail("service", "the service \"\(serviceName)\" is disabled: \(existing.errors.first ?? "")")
            }
            return fail("service", "the service \"\(serviceName)\" does not exist")
        }
        routeOrder += 1
        return Route(
            name: name, priority: priority, rule: rule, matcher: matcher, middlewares: chain, serviceName: serviceName,
            service: service, order: routeOrder)
    }

    mutating func compileInternalRouters() {
        for internalRouter in compiler.internalRouters {
            var router = Router()
            router.rule = internalRouter.rule
            router.entryPoints = internalRouter.entryPoints
            router.service = internalRouter.service
            router.priority = internalRouter.priority
            var info = RouterInfo(
                name: internalRouter.name, provider: "internal", router: router, status: .enabled, errors: [],
                using: internalRouter.entryPoints.filter { compiler.entryPoints.contains($0) },
                effectivePriority: internalRouter.priority)
            guard let service = services[internalRouter.service],
                let matcher = try? MatcherCompiler.compile(rule: internalRouter.rule)
            else {
                info.status = .disabled
                info.errors.append("the internal service \(internalRouter.service) is not available")
                status.routers[internalRouter.name] = info
                continue
            }
            status.services[internalRouter.service]?.usedBy.append(internalRouter.name)
            routeOrder += 1
            let route = Route(
                name: internalRouter.name, priority: internalRouter.priority, rule: internalRouter.rule, matcher: matcher,
                middlewares: [], serviceName: internalRouter.service, service: service, order: routeOrder)
            for entryPoint in info.using { routesByEntryPoint[entryPoint, default: []].append(route) }
            status.routers[internalRouter.name] = info
        }
    }
}
