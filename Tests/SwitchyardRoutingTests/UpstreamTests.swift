import Foundation
import Testing

@testable import SwitchyardRouting
@testable import SwitchyardUpstream

@Suite struct UpstreamTests {
    @Test func smoothWeightedOrderSpreadsHeavyServers() {
        #expect(WeightedRoundRobin.smoothOrder(weights: [5, 1, 1]) == [0, 0, 1, 0, 2, 0, 0])
        #expect(WeightedRoundRobin.smoothOrder(weights: [1, 1]) == [0, 1])
        #expect(WeightedRoundRobin.smoothOrder(weights: [2, 2]) == [0, 1])
        #expect(WeightedRoundRobin.smoothOrder(weights: [0, 3]) == [1])
        #expect(WeightedRoundRobin.smoothOrder(weights: [0, 0]).isEmpty)
    }

    @Test func picksFollowTheWeights() {
        let rotation = WeightedRoundRobin(weights: [3, 1])
        var counts = [0, 0]
        for _ in 0..<40 { counts[rotation.next()!] += 1 }
        #expect(counts == [30, 10])
    }

    @Test func hugeWeightsStayBounded() {
        let order = WeightedRoundRobin.smoothOrder(weights: [1_000_000, 999_999, 1])
        #expect(order.count <= WeightedRoundRobin.maximumOrderLength + 3)
        #expect(Set(order) == [0, 1, 2])
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080", "127.0.0.1", 8080, "127.0.0.1:8080"),
        ("http://example.test", "example.test", 80, "example.test"),
        ("https://example.test", "example.test", 443, "example.test"),
        ("http://[::1]:9000/base", "::1", 9000, "[::1]:9000"),
        ("HTTP://h:1", "h", 1, "h:1"),
    ])
    func parsesServerURLs(_ url: String, _ host: String, _ port: Int, _ hostHeader: String) throws {
        let server = try UpstreamServer(url: url)
        #expect(server.host == host)
        #expect(server.port == port)
        #expect(server.hostHeader == hostHeader)
    }

    @Test(arguments: ["127.0.0.1:80", "ftp://a", "http://", "http://a:0", "http://a:x", "http://[::1", "http://u@a"])
    func rejectsBadServerURLs(_ url: String) {
        #expect(throws: UpstreamServer.ParseError.self) { try UpstreamServer(url: url) }
    }

    @Test func preservePathKeepsTheURLPath() throws {
        #expect(try UpstreamServer(url: "http://a/base/", preservePath: true).pathPrefix == "/base/")
        #expect(try UpstreamServer(url: "http://a/base/").pathPrefix == "")
    }
}

@Suite struct HealthTests {
    @Test func unhealthyServersLeaveTheRotationAndComeBack() throws {
        let servers = try ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"].map { try UpstreamServer(url: $0) }
        let health = ServerHealth(serverCount: 3)
        let balancer = LoadBalancer(name: "s", servers: servers, passHostHeader: true, health: health)
        #expect(Set((0..<6).compactMap { _ in balancer.nextServer()?.port }) == [1, 2, 3])
        #expect(health.set(1, up: false))
        #expect(!health.set(1, up: false), "no change")
        #expect(Set((0..<12).compactMap { _ in balancer.nextServer()?.port }) == [1, 3])
        health.set(0, up: false)
        health.set(2, up: false)
        #expect(balancer.nextServer() == nil, "no healthy server: 503")
        health.set(1, up: true)
        #expect((0..<5).compactMap { _ in balancer.nextServer()?.port } == [2, 2, 2, 2, 2])
    }
}

@Suite struct StickyTests {
    static let servers = try! ["http://127.0.0.1:1", "http://127.0.0.1:2"].map { try UpstreamServer(url: $0) }

    static func sticky(_ name: String? = nil, maxAge: Int = 0) -> StickyCookieSettings {
        StickyCookieSettings(
            name: name, serviceName: "app@file", keys: servers.map(\.url), secure: true, httpOnly: true, sameSite: "lax",
            maxAge: maxAge, path: nil, domain: nil)
    }

    @Test func cookieNamesAServerAndSurvivesRebuilds() throws {
        let health = ServerHealth(serverCount: 2)
        let balancer = LoadBalancer(name: "app", servers: Self.servers, passHostHeader: true, health: health, sticky: Self.sticky("lb"))
        let (first, setCookie) = try #require(balancer.server(cookieHeaders: []))
        let cookie = try #require(setCookie)
        #expect(cookie.hasPrefix("lb="))
        #expect(cookie.hasSuffix("; Path=/; HttpOnly; Secure; SameSite=Lax"))
        let value = String(cookie.dropFirst(3).prefix { $0 != ";" })
        // The same client keeps coming back to the same server, even through a new balancer (a table swap).
        let rebuilt = LoadBalancer(name: "app", servers: Self.servers, passHostHeader: true, health: health, sticky: Self.sticky("lb"))
        for _ in 0..<5 {
            let (server, again) = try #require(rebuilt.server(cookieHeaders: ["other=1; lb=\(value)"]))
            #expect(server == first)
            #expect(again == nil)
        }
        // Its server goes down: another one, and a new cookie.
        health.set(Self.servers.firstIndex(of: first)!, up: false)
        let (moved, newCookie) = try #require(rebuilt.server(cookieHeaders: ["lb=\(value)"]))
        #expect(moved != first)
        #expect(newCookie?.hasPrefix("lb=") == true)
        #expect(newCookie != cookie)
    }

    @Test func defaultNameAndMaxAge() {
        let settings = Self.sticky(maxAge: 60)
        #expect(settings.name.hasPrefix("_") && settings.name.count == 6)
        #expect(settings.setCookie(for: 0).contains("; Max-Age=60"))
        #expect(Self.sticky(maxAge: -1).setCookie(for: 0).contains("; Max-Age=0"))
        #expect(StickyCookieSettings.hexDigest("a") == StickyCookieSettings.hexDigest("a"))
        #expect(StickyCookieSettings.hexDigest("a") != StickyCookieSettings.hexDigest("b"))
    }
}

@Suite struct PowerOfTwoChoicesTests {
    @Test func prefersTheLessLoadedOfTwo() {
        let load = ServerLoad(serverCount: 3)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<5 { load.began(0) }
        load.began(1)
        var picks = [0, 0, 0]
        for _ in 0..<300 { picks[load.pick(among: [0, 1, 2], random: &random)!] += 1 }
        #expect(picks[0] == 0, "the busiest server is never the less loaded of two")
        #expect(picks[2] > picks[1], "the idle server wins against the one with one request")
        #expect(load.pick(among: [1], random: &random) == 1)
        #expect(load.pick(among: [], random: &random) == nil)
        load.ended(1)
        #expect(load.current(1) == 0)
    }

    @Test func balancerSkipsDownServersWithP2C() throws {
        let servers = try ["http://127.0.0.1:1", "http://127.0.0.1:2"].map { try UpstreamServer(url: $0) }
        let health = ServerHealth(serverCount: 2)
        let balancer = LoadBalancer(name: "s", servers: servers, passHostHeader: true, health: health, powerOfTwoChoices: true)
        #expect(balancer.load != nil)
        health.set(0, up: false)
        #expect((0..<20).allSatisfy { _ in balancer.nextServer()?.port == 2 })
        health.set(1, up: false)
        #expect(balancer.nextServer() == nil)
    }
}

@Suite struct PassiveHealthTests {
    @Test func failuresWithinTheWindowEjectTheServerForTheWindow() throws {
        let health = ServerHealth(serverCount: 2, passive: .init(failureWindow: 200_000_000, maxFailedAttempts: 2))
        #expect(!health.recordFailure(0))
        #expect(health.isUp(0))
        #expect(health.recordFailure(0), "the second failure within the window ejects")
        #expect(!health.isUp(0))
        #expect(health.isUp(1))
        let deadline = ContinuousClock.now + .seconds(2)
        while !health.isUp(0) && ContinuousClock.now < deadline { usleep(20_000) }
        #expect(health.isUp(0), "back after the window")
        #expect(!ServerHealth(serverCount: 1).recordFailure(0), "without passive checking failures change nothing")
    }
}

@Suite struct RoutingRequestHostTests {
    @Test(arguments: [
        ("Example.COM.:8080", "example.com"), ("[::1]:80", "[::1]"), ("[::1]", "[::1]"), ("a.test", "a.test"),
        ("a.test.", "a.test"), ("ÉCOLE.fr", "école.fr"), ("", ""), (":80", ""),
    ])
    func normalizesTheHost(_ authority: String, _ expected: String) {
        #expect(RoutingRequest.normalizedHost(authority[...]) == expected)
    }
}
