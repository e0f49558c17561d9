import SwitchyardConfig
import Testing

@testable import SwitchyardRouting

@Suite struct ExplainAndShadowTests {
    static let services = ["s": Fixtures.service(["http://127.0.0.1:1", "http://127.0.0.1:2"])]

    @Test func explainListsEveryCandidateWithTheClauseThatFailed() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: [
                    "api": Fixtures.router("Host(`a.test`) && PathPrefix(`/api`) && Method(`POST`)", priority: 30),
                    "site": Fixtures.router("Host(`a.test`)", priority: 20),
                    "fallback": Fixtures.router("PathPrefix(`/`)", priority: 1),
                ],
                services: Self.services)
        ])
        let routes = try #require(table.entryPoints["web"])
        let explanation = RouteExplanation(routes: routes, request: Fixtures.request("/api/x", host: "a.test")) { _ in [] }
        #expect(explanation.candidates.map(\.router) == ["api@file", "site@file", "fallback@file"])
        #expect(explanation.candidates[0].failedClause == "Method(`POST`)")
        #expect(explanation.candidates[0].matched == false)
        #expect(explanation.candidates[1].matched && explanation.candidates[1].failedClause == nil)
        #expect(explanation.candidates[2].matched && !explanation.candidates[2].evaluated)
        #expect(explanation.winner == "site@file")
        #expect(explanation.service == "s@file")
        #expect(explanation.servers.map(\.url) == ["http://127.0.0.1:1", "http://127.0.0.1:2"])
        // Asking does not take a turn of the rotation: the next request goes where explain said.
        let server = try #require(explanation.server?.url)
        let again = RouteExplanation(routes: routes, request: Fixtures.request("/", host: "a.test")) { _ in [] }
        #expect(again.server?.url == server)
        guard case .loadBalancer(let balancer) = try #require(table.services["s@file"]) else {
            Issue.record("not a load balancer")
            return
        }
        #expect(balancer.nextServer()?.url == server)
    }

    @Test func explainWritesOrAndNotClausesBackAsRules() throws {
        let matcher = try MatcherCompiler.compile(rule: "(Host(`a.test`) || Host(`b.test`)) && !Method(`GET`)")
        #expect(matcher.firstFailure(Fixtures.request("/", host: "c.test")) == "Host(`a.test`) || Host(`b.test`)")
        #expect(matcher.firstFailure(Fixtures.request("/", host: "b.test")) == "!Method(`GET`)")
        #expect(matcher.ruleText == "(Host(`a.test`) || Host(`b.test`)) && !Method(`GET`)")
    }

    @Test func aRouterThatCanNeverWinIsAWarningNamingTheOneThatWins() throws {
        let table = Fixtures.table([
            Fixtures.snapshot(
                routers: [
                    "wide": Fixtures.router("Host(`a.test`) && PathPrefix(`/api`)", priority: 50),
                    "narrow": Fixtures.router("Host(`a.test`) && PathPrefix(`/api/v1`) && Method(`GET`)", priority: 10),
                    "wildcard": Fixtures.router("Host(`*.b.test`)", priority: 40),
                    "underWildcard": Fixtures.router("Host(`x.b.test`) && Path(`/p`)", priority: 5),
                    "catchAll": Fixtures.router("PathPrefix(`/`)", priority: 2),
                    "shadowedByCatchAll": Fixtures.router("Path(`/only`)", priority: 1),
                    // Higher priority than `wide`: not shadowed.
                    "winsFirst": Fixtures.router("Host(`a.test`) && PathPrefix(`/api/v2`)", priority: 60),
                    // Either side of the `||` is covered.
                    "either": Fixtures.router("Host(`a.test`) && (PathPrefix(`/api/x`) || PathPrefix(`/api/y`))", priority: 3),
                    // A different method on a path `wide` does not cover: served.
                    "other": Fixtures.router("Host(`c.test`) && Method(`GET`)", priority: 30),
                ],
                services: Self.services)
        ])
        let routers = table.status.routers
        #expect(routers["narrow@file"]?.status == .warning)
        #expect(routers["narrow@file"]?.errors.first?.contains("router \"wide@file\" (priority 50)") == true)
        #expect(routers["underWildcard@file"]?.status == .warning)
        #expect(routers["shadowedByCatchAll@file"]?.status == .warning)
        #expect(routers["either@file"]?.status == .warning)
        for name in ["wide@file", "winsFirst@file", "wildcard@file", "catchAll@file"] {
            #expect(routers[name]?.status == .enabled, "\(name)")
        }
        // Host-bound routers are behind `catchAll` only where their priority is lower and every clause is covered.
        #expect(routers["other@file"]?.status == .enabled)
        #expect(table.status.issues.contains { $0.severity == .warning && $0.keyPath == "http.routers.narrow.rule" })
    }

    @Test func aRouterShadowedOnOneEntryPointOnlyIsNotWarned() throws {
        var low = Fixtures.router("Path(`/x`)", priority: 1)
        low.entryPoints = ["web", "admin"]
        var high = Fixtures.router("PathPrefix(`/`)", priority: 5)
        high.entryPoints = ["web"]
        let table = Fixtures.table(
            [Fixtures.snapshot(routers: ["low": low, "high": high], services: Self.services)],
            entryPoints: ["web", "admin"])
        #expect(table.status.routers["low@file"]?.status == .enabled)
    }
}
