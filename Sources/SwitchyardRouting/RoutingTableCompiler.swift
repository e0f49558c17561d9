import SwitchyardConfig
import SwitchyardMiddleware
import SwitchyardTLS
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

    /// What an entry point gives every router on it (`entryPoints.<name>.http` in the static configuration).
    public struct EntryPointModel: Sendable {
        /// Middlewares run before the router's own; unqualified names resolve in the router's provider.
        public var middlewares: [String]
        /// Routers on the entry point are TLS routers with these settings unless they have their own.
        public var tls: RouterTLS?
        /// Every request on the entry point is redirected (`http.redirections.entryPoint`).
        public var redirect: Redirect?

        public struct Redirect: Sendable {
            public var scheme: String
            /// The port to redirect to; nil for the scheme's default.
            public var port: String?
            public var permanent: Bool
            public var priority: Int
            /// The entry point or address it redirects to, for the router's name.
            public var target: String

            public init(scheme: String, port: String?, permanent: Bool, priority: Int, target: String) {
                self.scheme = scheme
                self.port = port
                self.permanent = permanent
                self.priority = priority
                self.target = target
            }
        }

        public init(middlewares: [String] = [], tls: RouterTLS? = nil, redirect: Redirect? = nil) {
            self.middlewares = middlewares
            self.tls = tls
            self.redirect = redirect
        }
    }

    public var entryPoints: [String]
    public var entryPointModels: [String: EntryPointModel] = [:]
    /// The names of the static `certificatesResolvers`.
    public var certificateResolvers: Set<String> = []
    /// How load balancers that name no servers transport reach their servers (the static `serversTransport`).
    public var defaultTransport: UpstreamTransport = .standard
    /// Entry points a router without `entryPoints` attaches to.
    public var defaultEntryPoints: [String]
    public var internalServices: [String: any InternalService]
    public var internalRouters: [InternalRouter]
    public var middlewares: MiddlewareRegistry
    /// Where routes count their traffic (`/api/traffic`); nil counts nothing.
    public var traffic: TrafficRegistry?

    public init(
        entryPoints: [String],
        defaultEntryPoints: [String]? = nil,
        internalServices: [String: any InternalService] = [:],
        internalRouters: [InternalRouter] = [],
        middlewares: MiddlewareRegistry = .builtIn
    ) {
        self.entryPoints = entryPoints
        self.defaultEntryPoints = defaultEntryPoints ?? entryPoints
        // `invalid-backend@internal` answers 500: where a provider keeps a route whose backends do not resolve
        // (the Gateway API asks for that answer).
        self.internalServices = internalServices.merging(["invalid-backend@internal": FixedStatusService(status: .internalServerError)]) { given, _ in given }
        self.internalRouters = internalRouters
        self.middlewares = middlewares
    }

    /// Compiles `merged`. Middlewares whose definition is the same as in `previous` keep their instance, and with it
    /// their state (rate-limit buckets and the like).
    public func compile(_ merged: MergedConfiguration, version: UInt64, previous: RoutingTable? = nil) -> RoutingTable {
        var build = RoutingTableBuild(
            compiler: self, merged: merged, previous: previous?.middlewareInstances ?? [:],
            previousHealth: previous?.healthStates ?? [:])
        build.compileTLS()
        build.compileTransports()
        build.compileServices()
        build.compileMiddlewares()
        build.compileRouters()
        build.compileInternalRouters()
        build.compileRedirections()
        var routes: [String: EntryPointRoutes] = [:]
        var secureRoutes: [String: EntryPointRoutes] = [:]
        for entryPoint in entryPoints {
            routes[entryPoint] = EntryPointRoutes(name: entryPoint, routes: build.routesByEntryPoint[entryPoint] ?? [])
            secureRoutes[entryPoint] = EntryPointRoutes(
                name: entryPoint, routes: build.secureRoutesByEntryPoint[entryPoint] ?? [])
        }
        build.reportShadowedRouters(Array(routes.values) + Array(secureRoutes.values))
        // One issue once, even when found for each entry point of a router.
        var seen: Set<ConfigurationIssue> = []
        build.status.issues = (merged.issues + build.issues).filter { seen.insert($0).inserted }
        for (name, info) in build.status.routers where Set(info.errors).count != info.errors.count {
            var once: Set<String> = []
            build.status.routers[name]?.errors = info.errors.filter { once.insert($0).inserted }
        }
        var instances: [String: MiddlewareInstance] = [:]
        for (name, middleware) in build.builtMiddlewares {
            guard let definition = build.http.middlewares?[name], definition.chain == nil else { continue }
            instances[name] = MiddlewareInstance(definition: definition, middleware: middleware)
        }
        let health = Dictionary(build.healthStates.map { ($0.service, $0) }, uniquingKeysWith: { first, _ in first })
        return RoutingTable(
            version: version, entryPoints: routes, secureEntryPoints: secureRoutes, tls: build.tlsRuntime,
            status: build.status, configuration: merged,
            middlewareInstances: instances, services: build.services, healthChecks: build.healthChecks,
            healthStates: health)
    }
}

/// The working state of one compilation.
struct RoutingTableBuild {
    let compiler: RoutingTableCompiler
    let merged: MergedConfiguration
    let http: HTTPConfiguration
    var status = RuntimeStatus()
    var issues: [ConfigurationIssue] = []
    var services: [String: ServiceTarget] = [:]
    var builtMiddlewares: [String: any HTTPMiddleware] = [:]
    var routesByEntryPoint: [String: [Route]] = [:]
    /// Routes of routers with `tls`: they answer only requests that came over TLS.
    var secureRoutesByEntryPoint: [String: [Route]] = [:]
    var routeOrder = 0
    var tlsStore: CertificateStore?
    var tlsOptions: [String: TLSRuntime.Option] = [:]
    /// Options that failed to compile, by name, with their error.
    var tlsOptionErrors: [String: String] = [:]
    var hostOptionChoices: [String: (option: String, router: String)] = [:]
    var conflictingHosts: Set<String> = []
    var transports: [String: UpstreamTransport] = [:]
    var transportErrors: [String: String] = [:]

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

    mutating func compileRouters() {
        for (name, router) in (http.routers ?? [:]).sorted(by: { $0.key < $1.key }) {
            var info = RouterInfo(
                name: name, provider: Self.provider(of: name), router: router, status: .enabled, errors: [], using: [],
                effectivePriority: 0)
            let route = compileRouter(name, router, info: &info)
            if let route, info.status != .disabled {
                for entryPoint in info.using {
                    guard let (placed, tls) = applyModel(of: entryPoint, to: route, router: router, info: &info) else { continue }
                    if let tls {
                        secureRoutesByEntryPoint[entryPoint, default: []].append(placed)
                        if let rule = router.rule {
                            useTLSOption(tls.options ?? "default", for: rule, router: name)
                            checkCertificates(for: rule, router: name, tls: tls, info: &info)
                        }
                    } else {
                        routesByEntryPoint[entryPoint, default: []].append(placed)
                    }
                }
            }
            if route == nil || info.status == .disabled {
                info.status = .disabled
            }
            status.routers[name] = info
        }
        for (name, issue) in rejected(.httpRouter) where status.routers[name] == nil {
            status.routers[name] = RouterInfo(
                name: name, provider: Self.provider(of: name), router: Router(), status: .disabled,
                errors: [issue.description], using: [], effectivePriority: 0)
        }
    }

    /// The resources of one kind that their provider could not read, by qualified name.
    func rejected(_ kind: ResourceKey.Kind) -> [(String, ConfigurationIssue)] {
        merged.rejected.filter { $0.key.kind == kind }.map { ($0.key.name, $0.value) }.sorted { $0.0 < $1.0 }
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
        if let tls = router.tls, case .failure(let failure) = checkTLS(tls, router: name) {
            return fail(failure.key, failure.message)
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
        // The service's own middlewares run after the router's; their names are the service's provider's.
        for reference in http.services?[serviceName]?.middlewares ?? [] {
            let middleware = ResourceName.qualify(reference, in: Self.provider(of: serviceName))
            status.middlewares[middleware]?.usedBy.append(name)
            guard let built = builtMiddlewares[middleware] else {
                let state = status.middlewares[middleware].map { "is disabled: \($0.errors.first ?? "")" } ?? "does not exist"
                return fail("service", "the middleware \"\(middleware)\" of the service \"\(serviceName)\" \(state)")
            }
            chain.append(built)
        }
        routeOrder += 1
        return Route(
            name: name, priority: priority, rule: rule, matcher: matcher, middlewares: chain, serviceName: serviceName,
            service: service, order: routeOrder, traffic: compiler.traffic)
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
