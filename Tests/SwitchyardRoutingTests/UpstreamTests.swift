import Testing

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
