import NIOHTTP1
import SwitchyardConfig
import SwitchyardMiddleware
import SwitchyardProviderKit
import SwitchyardUpstream
import Testing

@testable import SwitchyardRouting

@Suite struct RoutingTableCompilerTests {
    @Test func routesByPriorityThenDefaultRuleLength() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: [
                    "short": Fixtures.router("PathPrefix(`/`)"),
                    "long": Fixtures.router("Host(`a.test`) && PathPrefix(`/api`)"),
                    "explicit": Fixtures.router("PathPrefix(`/api/v2`)", priority: 1000),
                ],
                services: ["s": Fixtures.service(["http://127.0.0.1:1"])])
        ])
        let routes = try #require(table.entryPoints["web"])
        #expect(routes.route(Fixtures.request("/api/v2/x"))?.name == "explicit@file")
        #expect(routes.route(Fixtures.request("/api/x"))?.name == "long@file")
        #expect(routes.route(Fixtures.request("/api/x", host: "b.test"))?.name == "short@file")
        #expect(table.version == 7)
        #expect(table.status.routers["long@file"]?.effectivePriority == "Host(`a.test`) && PathPrefix(`/api`)".count)
    }

    @Test func hostIndexKeepsHostlessRoutesInOrder() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: [
                    "host": Fixtures.router("Host(`a.test`)", priority: 10),
                    "catchAllHigh": Fixtures.router("PathPrefix(`/admin`)", priority: 20),
                    "catchAll": Fixtures.router("PathPrefix(`/`)", priority: 1),
                ],
                services: ["s": Fixtures.service(["http://127.0.0.1:1"])])
        ])
        let routes = try #require(table.entryPoints["web"])
        #expect(routes.route(Fixtures.request("/admin"))?.name == "catchAllHigh@file")
        #expect(routes.route(Fixtures.request("/"))?.name == "host@file")
        #expect(routes.route(Fixtures.request("/", host: "z.test"))?.name == "catchAll@file")
        #expect(routes.candidates(forHost: "a.test").map(\.name) == ["catchAllHigh@file", "host@file", "catchAll@file"])
    }

    @Test func noMatchIsNil() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(routers: ["r": Fixtures.router("Host(`a.test`)")], services: ["s": Fixtures.service(["http://127.0.0.1:1"])])
        ])
        #expect(table.entryPoints["web"]?.route(Fixtures.request("/", host: "b.test")) == nil)
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        var router: Router
        var keyPath: String
        var fragment: String
        var testDescription: String { fragment }
    }

    @Test(arguments: [
        Broken(router: Fixtures.router("Hots(`a`)"), keyPath: "http.routers.r.rule", fragment: "column 1: unknown matcher 'Hots'"),
        Broken(router: Fixtures.router("Path(`/`)", service: "missing"), keyPath: "http.routers.r.service",
               fragment: "the service \"missing@file\" does not exist"),
        Broken(router: Fixtures.router("Path(`/`)", service: "empty"), keyPath: "http.routers.r.service",
               fragment: "the service \"empty@file\" is disabled"),
        Broken(router: Fixtures.router("", service: "s"), keyPath: "http.routers.r.rule", fragment: "the router has no rule"),
        Broken(router: Fixtures.router("Path(`/`)", entryPoints: ["nope"]), keyPath: "http.routers.r.entryPoints",
               fragment: "no valid entryPoint"),
        Broken(router: Fixtures.router("Path(`/`)", priority: Int.max), keyPath: "http.routers.r.priority",
               fragment: "above the maximum"),
    ])
    func brokenRouterIsDisabledWithItsSource(_ broken: Broken) throws {
        var empty = HTTPService()
        empty.loadBalancer = LoadBalancerService()
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": broken.router, "ok": Fixtures.router("Path(`/ok`)")],
                services: ["s": Fixtures.service(["http://127.0.0.1:1"]), "empty": empty])
        ])
        let info = try #require(table.status.routers["r@file"])
        #expect(info.status == .disabled)
        #expect(info.errors.contains { $0.contains(broken.fragment) && $0.contains(broken.keyPath) && $0.contains("dyn.yml:4:5") },
                "\(info.errors)")
        #expect(table.status.routers["ok@file"]?.status == .enabled)
        #expect(table.entryPoints["web"]?.route(Fixtures.request("/ok"))?.name == "ok@file")
    }

    @Test func unknownEntryPointBesideAValidOneIsAWarning() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": Fixtures.router("Path(`/`)", entryPoints: ["web", "nope"])],
                services: ["s": Fixtures.service(["http://127.0.0.1:1"])])
        ])
        #expect(table.status.routers["r@file"]?.status == .warning)
        #expect(table.entryPoints["web"]?.route(Fixtures.request("/")) != nil)
    }

    @Test func unimplementedMiddlewareTypeDisablesItsRouters() throws {
        var middleware = Middleware()
        middleware.encodedCharacters = EncodedCharactersMiddleware()
        var router = Fixtures.router("Path(`/`)")
        router.middlewares = ["limit", "ghost"]
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": router], services: ["s": Fixtures.service(["http://127.0.0.1:1"])],
                middlewares: ["limit": middleware, "none": Middleware()])
        ])
        #expect(table.status.middlewares["limit@file"]?.errors.first?.contains("'encodedCharacters' is not supported yet") == true)
        #expect(table.status.middlewares["none@file"]?.status == .disabled)
        #expect(table.status.routers["r@file"]?.status == .disabled)
        #expect(table.status.routers["r@file"]?.errors.first?.contains("middleware \"limit@file\" is disabled") == true)
    }

    static func middleware(_ configure: (inout Middleware) -> Void) -> Middleware {
        var middleware = Middleware()
        configure(&middleware)
        return middleware
    }

    static func chain(_ names: [String]) -> Middleware {
        middleware { var chain = ChainMiddleware(); chain.middlewares = names; $0.chain = chain }
    }

    static let strip = middleware { var options = StripPrefixMiddleware(); options.prefixes = ["/api"]; $0.stripPrefix = options }
    static let badRegex = middleware { var options = ReplacePathRegexMiddleware(); options.regex = "("; $0.replacePathRegex = options }

    @Test func chainsResolveTheirMembersAndReportLoops() throws {
        var router = Fixtures.router("Path(`/`)")
        router.middlewares = ["outer"]
        var looping = Fixtures.router("Path(`/loop`)")
        looping.middlewares = ["a"]
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": router, "loop": looping], services: ["s": Fixtures.service(["http://127.0.0.1:1"])],
                middlewares: [
                    "strip": Self.strip, "inner": Self.chain(["strip"]), "outer": Self.chain(["inner", "strip"]),
                    "a": Self.chain(["b"]), "b": Self.chain(["a"]), "broken": Self.chain(["strip", "regex"]),
                    "regex": Self.badRegex, "missing": Self.chain(["nothing"]),
                ])
        ])
        #expect(table.status.middlewares["outer@file"]?.status == .enabled)
        #expect(table.status.routers["r@file"]?.status == .enabled)
        #expect(table.status.middlewares["strip@file"]?.usedBy.sorted() == ["broken@file", "inner@file", "outer@file"])
        #expect(table.status.middlewares["a@file"]?.errors.contains { $0.contains("the chain includes itself") } == true)
        #expect(table.status.routers["loop@file"]?.status == .disabled)
        #expect(table.status.middlewares["regex@file"]?.errors.first?.contains("invalid regular expression") == true)
        #expect(table.status.middlewares["broken@file"]?.errors.first?.contains("middleware \"regex@file\" is disabled") == true)
        #expect(table.status.middlewares["missing@file"]?.errors.first?.contains("middleware \"nothing@file\" does not exist") == true)
    }

    @Test func middlewaresKeepTheirInstanceWhileTheirDefinitionStays() throws {
        let limit = Self.middleware { var options = RateLimitMiddleware(); options.average = 5; $0.rateLimit = options }
        let faster = Self.middleware { var options = RateLimitMiddleware(); options.average = 50; $0.rateLimit = options }
        func table(_ middlewares: [String: Middleware], previous: RoutingTable?) -> RoutingTable {
            var router = Fixtures.router("Path(`/`)")
            router.middlewares = ["limit"]
            let merged = ConfigurationMerger.merge([
                Fixtures.snapshot(
                    routers: ["r": router], services: ["s": Fixtures.service(["http://127.0.0.1:1"])],
                    middlewares: middlewares)
            ])
            return RoutingTableCompiler(entryPoints: ["web"]).compile(merged, version: 1, previous: previous)
        }
        func instance(_ table: RoutingTable) -> AnyObject? {
            table.entryPoints["web"]?.route(Fixtures.request("/"))?.middlewares.first as AnyObject?
        }
        let first = table(["limit": limit, "strip": Self.strip], previous: nil)
        let same = table(["limit": limit], previous: first)
        #expect(instance(same) === instance(first))
        let changed = table(["limit": faster], previous: same)
        #expect(instance(changed) !== instance(same))
    }

    static func weighted(_ children: [(String, Int?)]) -> HTTPService {
        var weighted = WeightedService()
        weighted.services = children.map { name, weight in
            var reference = WeightedServiceRef()
            reference.name = name
            reference.weight = weight
            return reference
        }
        var service = HTTPService()
        service.weighted = weighted
        return service
    }

    @Test func weightedStickyCookieKeepsAClientOnItsChildAcrossTables() throws {
        var canary = Self.weighted([("stable", 1), ("next", 1)])
        var sticky = Sticky()
        sticky.cookie = StickyCookie()
        sticky.cookie?.name = "canary"
        canary.weighted?.sticky = sticky
        canary.weighted?.healthCheck = HealthCheckPresence()
        var badSticky = Self.weighted([("stable", 1)])
        badSticky.weighted?.sticky = Sticky()
        func build() -> RoutingTable {
            Fixtures.table([
                Fixtures.snapshot(
                    routers: ["r": Fixtures.router("Path(`/`)", service: "canary")],
                    services: [
                        "stable": Fixtures.service(["http://127.0.0.1:1"]), "next": Fixtures.service(["http://127.0.0.1:2"]),
                        "canary": canary, "bad": badSticky,
                    ])
            ])
        }
        let table = build()
        let route = try #require(table.entryPoints["web"]?.route(Fixtures.request("/")))
        func pick(_ route: Route, cookie: String?) -> (name: String, setCookies: [String])? {
            let resolution = Fixtures.resolve(route, headers: cookie.map { ["Cookie": "other=1; \($0)"] } ?? [:])
            return resolution.balancer.map { ($0.name, resolution.setCookies) }
        }
        let first = try #require(pick(route, cookie: nil))
        let cookie = try #require(first.setCookies.first)
        #expect(cookie.hasPrefix("canary=") && cookie.hasSuffix("; Path=/"))
        let pair = String(cookie.prefix { $0 != ";" })
        // Round robin would alternate; the cookie holds the client on its child, also in a rebuilt table.
        let rebuilt = try #require(build().entryPoints["web"]?.route(Fixtures.request("/")))
        for route in [route, rebuilt, route, rebuilt] {
            let again = try #require(pick(route, cookie: pair))
            #expect(again.name == first.name)
            #expect(again.setCookies.isEmpty)
        }
        // A cookie naming no child gets a new one.
        #expect(pick(route, cookie: "canary=0000")?.setCookies.count == 1)
        #expect(table.status.services["bad@file"]?.errors.first?.contains("weighted.sticky") == true)
    }

    @Test func weightedServicesSplitByWeightAndReportLoops() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": Fixtures.router("Path(`/`)", service: "canary")],
                services: [
                    "stable": Fixtures.service(["http://127.0.0.1:1"]), "next": Fixtures.service(["http://127.0.0.1:2"]),
                    "canary": Self.weighted([("stable", 3), ("split", 1)]),
                    "split": Self.weighted([("next", 1), ("stable", nil)]),
                    "a": Self.weighted([("b", 1)]), "b": Self.weighted([("a", 1)]),
                    "ghost": Self.weighted([("nothing", 1)]), "idle": Self.weighted([("stable", 0)]),
                ])
        ])
        let route = try #require(table.entryPoints["web"]?.route(Fixtures.request("/")))
        var counts: [String: Int] = [:]
        for _ in 0..<800 {
            guard case .loadBalancer(let balancer)? = route.service.resolved() else { Issue.record("no leaf"); return }
            counts[balancer.name, default: 0] += 1
        }
        #expect(counts == ["stable@file": 700, "next@file": 100])
        #expect(table.status.services["split@file"]?.usedBy == ["canary@file"])
        #expect(table.status.services["a@file"]?.errors.contains { $0.contains("the service includes itself") } == true)
        #expect(table.status.services["ghost@file"]?.errors.first?.contains("\"nothing@file\" does not exist") == true)
        #expect(table.status.services["idle@file"]?.errors.first?.contains("every service has weight 0") == true)
        #expect(table.status.services["canary@file"]?.status == .enabled)
    }

    @Test func healthStateSurvivesASwapWhileTheServiceStaysTheSame() throws {
        func service(path: String?, interval: Int64 = 10) -> HTTPService {
            var service = Fixtures.service(["http://127.0.0.1:1", "http://127.0.0.1:2"])
            var check = ServerHealthCheck()
            check.path = path
            check.interval = .seconds(interval)
            service.loadBalancer?.healthCheck = check
            return service
        }
        func table(_ services: [String: HTTPService], previous: RoutingTable?) -> RoutingTable {
            let merged = ConfigurationMerger.merge([Fixtures.snapshot(services: services)])
            return RoutingTableCompiler(entryPoints: ["web"]).compile(merged, version: 1, previous: previous)
        }
        let first = table(["s": service(path: "/health")], previous: nil)
        let spec = try #require(first.healthChecks.first)
        #expect(spec.settings.path == "/health")
        #expect(spec.settings.interval == 10_000_000_000)
        spec.health.set(1, up: false)
        let same = table(["s": service(path: "/health"), "other": Fixtures.service(["http://127.0.0.1:3"])], previous: first)
        #expect(same.healthChecks.first?.health === spec.health)
        let changed = table(["s": service(path: "/health", interval: 5)], previous: same)
        #expect(changed.healthChecks.first?.health !== spec.health)
        let broken = table(["s": service(path: "health")], previous: nil)
        #expect(broken.status.services["s@file"]?.errors.first?.contains("loadBalancer.healthCheck.path") == true)
        #expect(broken.healthChecks.isEmpty)
    }

    @Test func failoverOnStatusesIsCollectedWhenTheMainServiceIsChosen() throws {
        func failover(_ statuses: [String]) -> HTTPService {
            var service = HTTPService()
            service.failover = FailoverService()
            service.failover?.service = "main"
            service.failover?.fallback = "spare"
            service.failover?.errors = FailoverErrors()
            service.failover?.errors?.status = statuses
            return service
        }
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": Fixtures.router("Path(`/`)", service: "app")],
                services: [
                    "main": Fixtures.service(["http://127.0.0.1:1"]), "spare": Fixtures.service(["http://127.0.0.1:2"]),
                    "app": failover(["500-504", "429"]), "bad": failover(["5xx"]), "none": failover([]),
                ])
        ])
        let route = try #require(table.entryPoints["web"]?.route(Fixtures.request("/")))
        let resolution = Fixtures.resolve(route)
        #expect(resolution.balancer?.name == "main@file")
        let fallback = resolution.statusFallback
        let policy = try #require(fallback?.policy)
        #expect(policy.matches(503) && policy.matches(429) && !policy.matches(505))
        #expect(policy.maxBodyBytes == -1)
        guard case .loadBalancer(let spare)? = fallback?.target else { Issue.record("the fallback"); return }
        #expect(spare.name == "spare@file")
        #expect(table.status.services["bad@file"]?.errors.first?.contains("'5xx' is not a status") == true)
        #expect(table.status.services["none@file"]?.errors.first?.contains("name at least one status") == true)
    }

    @Test func failoverUsesTheFallbackWhileTheMainHasNoHealthyServer() throws {
        var main = Fixtures.service(["http://127.0.0.1:1"])
        var check = ServerHealthCheck()
        check.path = "/health"
        main.loadBalancer?.healthCheck = check
        var failover = FailoverService()
        failover.service = "main"
        failover.fallback = "spare"
        var service = HTTPService()
        service.failover = failover
        var broken = HTTPService()
        broken.failover = FailoverService()
        broken.failover?.service = "main"
        broken.failover?.fallback = "nothing"
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": Fixtures.router("Path(`/`)", service: "app")],
                services: ["main": main, "spare": Fixtures.service(["http://127.0.0.1:2"]), "app": service, "broken": broken])
        ])
        let route = try #require(table.entryPoints["web"]?.route(Fixtures.request("/")))
        guard case .loadBalancer(let first)? = route.service.resolved() else { Issue.record("no leaf"); return }
        #expect(first.name == "main@file")
        try #require(table.healthChecks.first).health.set(0, up: false)
        guard case .loadBalancer(let second)? = route.service.resolved() else { Issue.record("no leaf"); return }
        #expect(second.name == "spare@file")
        #expect(table.status.services["broken@file"]?.errors.first?.contains("\"nothing@file\" does not exist") == true)
    }

    @Test func serviceValidation() throws {
        var twoKinds = Fixtures.service(["http://127.0.0.1:1"])
        twoKinds.weighted = WeightedService()
        let table = Fixtures.table([
            Fixtures.snapshot(services: [
                "badURL": Fixtures.service(["127.0.0.1:80"]),
                "badPort": Fixtures.service(["http://127.0.0.1:99999"]),
                "twoKinds": twoKinds,
                "zero": Fixtures.service(["http://127.0.0.1:1"], weights: [0]),
                "good": Fixtures.service(["http://[::1]:8080", "http://localhost"]),
            ])
        ])
        #expect(table.status.services["badURL@file"]?.errors.first?.contains("expected scheme://host") == true)
        #expect(table.status.services["badPort@file"]?.errors.first?.contains("port must be a number") == true)
        #expect(table.status.services["twoKinds@file"]?.errors.first?.contains("more than one kind") == true)
        #expect(table.status.services["zero@file"]?.status == .disabled)
        #expect(table.status.services["good@file"]?.status == .enabled)
        #expect(table.status.issues.count == 4)
    }

    @Test func referencesResolveAcrossProviders() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(provider: "file", routers: ["r": Fixtures.router("Path(`/`)", service: "s@docker")]),
            Fixtures.snapshot(provider: "docker", services: ["s": Fixtures.service(["http://127.0.0.1:1"])]),
        ])
        #expect(table.entryPoints["web"]?.route(Fixtures.request("/"))?.serviceName == "s@docker")
        #expect(table.status.services["s@docker"]?.usedBy == ["r@file"])
    }
}

@Suite struct ErrorPagesPolicyTests {
    static func policy(_ configure: (inout ErrorsMiddleware) -> Void) throws -> ErrorPagesPolicy {
        var options = ErrorsMiddleware()
        options.status = ["500-599", "404"]
        options.query = "/{status}.html?orig={originalStatus}&u={url}"
        configure(&options)
        let service = ServiceTarget.loadBalancer(
            LoadBalancer(name: "p", servers: [try UpstreamServer(url: "http://127.0.0.1:1")], passHostHeader: true))
        return try ErrorPagesPolicy.make(options, service: service)
    }

    @Test func pathsAndStatuses() throws {
        let policy = try Self.policy { $0.statusRewrites = ["503": 500] }
        #expect(policy.matches(404) && policy.matches(503) && !policy.matches(403))
        #expect(policy.clientStatus(for: 503) == 500)
        #expect(policy.path(for: 503, url: "http://a.test/x?y=1") == "/500.html?orig=503&u=http%3A%2F%2Fa.test%2Fx%3Fy%3D1")
        #expect(policy.path(for: 404, url: "/") == "/404.html?orig=404&u=%2F")
    }

    @Test func badOptions() {
        #expect(throws: MiddlewareConfigurationError.self) { try Self.policy { $0.status = [] } }
        #expect(throws: MiddlewareConfigurationError.self) { try Self.policy { $0.status = ["600"] } }
        #expect(throws: MiddlewareConfigurationError.self) { try Self.policy { $0.statusRewrites = ["x": 500] } }
    }
}

@Suite struct RendezvousTests {
    static func balancer(_ name: String, port: Int, health: ServerHealth? = nil) throws -> ServiceTarget {
        .loadBalancer(LoadBalancer(
            name: name, servers: [try UpstreamServer(url: "http://127.0.0.1:\(port)")], passHostHeader: true, health: health))
    }

    @Test func clientsStickAndSpreadByWeight() throws {
        let downable = ServerHealth(serverCount: 1)
        let services = RendezvousServices(name: "hrw", children: [
            ("a", try Self.balancer("a", port: 1), 3), ("b", try Self.balancer("b", port: 2, health: downable), 1),
        ])
        func pick(_ client: [UInt8]) -> String? {
            guard case .loadBalancer(let balancer)? = services.pick(client: client) else { return nil }
            return balancer.name
        }
        var counts: [String: Int] = [:]
        var before: [[UInt8]: String] = [:]
        for index in 0..<4000 {
            let client: [UInt8] = [10, UInt8(index >> 16 & 0xFF), UInt8(index >> 8 & 0xFF), UInt8(index & 0xFF)]
            let chosen = try #require(pick(client))
            #expect(pick(client) == chosen, "the same client, the same service")
            counts[chosen, default: 0] += 1
            before[client] = chosen
        }
        let share = Double(counts["a"] ?? 0) / 4000
        #expect(share > 0.70 && share < 0.80, "weights 3:1 give about 75 %, got \(share)")
        // b goes down: only its clients move.
        downable.set(0, up: false)
        for (client, chosen) in before { #expect(pick(client) == "a", "\(chosen) -> a") }
    }

    @Test func compiledFromConfiguration() throws {
        var rendezvous = HighestRandomWeightService()
        rendezvous.services = RoutingTableCompilerTests.weighted([("one", 1), ("two", 1)]).weighted?.services
        var service = HTTPService()
        service.highestRandomWeight = rendezvous
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": Fixtures.router("Path(`/`)", service: "hrw")],
                services: ["hrw": service, "one": Fixtures.service(["http://127.0.0.1:1"]), "two": Fixtures.service(["http://127.0.0.1:2"])])
        ])
        #expect(table.status.services["hrw@file"]?.status == .enabled)
        let route = try #require(table.entryPoints["web"]?.route(Fixtures.request("/")))
        guard case .loadBalancer(let first)? = route.service.resolved(client: [127, 0, 0, 1]) else { Issue.record("leaf"); return }
        for _ in 0..<5 {
            guard case .loadBalancer(let again)? = route.service.resolved(client: [127, 0, 0, 1]) else { continue }
            #expect(again === first)
        }
    }
}

@Suite struct MirroringCompileTests {
    static func mirroring(_ mirrors: [(String, Int)]) -> HTTPService {
        var options = MirroringService()
        options.service = "main"
        options.mirrors = mirrors.map { name, percent in
            var reference = MirrorRef()
            reference.name = name
            reference.percent = percent
            return reference
        }
        var service = HTTPService()
        service.mirroring = options
        return service
    }

    @Test func mainAnswersAndMirrorsAreCollected() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: ["r": Fixtures.router("Path(`/`)", service: "app")],
                services: [
                    "app": Self.mirroring([("copy", 25)]), "main": Fixtures.service(["http://127.0.0.1:1"]),
                    "copy": Fixtures.service(["http://127.0.0.1:2"]), "bad": Self.mirroring([("copy", 150)]),
                    "ghost": Self.mirroring([("nothing", 10)]),
                ])
        ])
        let route = try #require(table.entryPoints["web"]?.route(Fixtures.request("/")))
        let resolution = Fixtures.resolve(route)
        let mirrors = resolution.mirrors
        #expect(resolution.balancer?.name == "main@file", "the main service answers")
        #expect(mirrors.map(\.percent) == [25])
        #expect(mirrors.first?.mirrorBody == true)
        #expect(table.status.services["bad@file"]?.errors.first?.contains("percent must be from 0 to 100") == true)
        #expect(table.status.services["ghost@file"]?.errors.first?.contains("\"nothing@file\" does not exist") == true)
    }
}
