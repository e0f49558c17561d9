import NIOHTTP1
import SwitchyardConfig
import Testing

@testable import SwitchyardMiddleware

@Suite struct IPAllowListTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var client: [UInt8]
        var forwardedFor: String?
        var allowed: Bool
        var testDescription: String { "\(yaml) \(client) \(forwardedFor ?? "")" }
    }

    @Test(arguments: [
        Case(yaml: "ipAllowList: {sourceRange: [127.0.0.1/32]}", client: [127, 0, 0, 1], allowed: true),
        Case(yaml: "ipAllowList: {sourceRange: [10.0.0.0/8, 192.168.1.7]}", client: [127, 0, 0, 1], allowed: false),
        Case(yaml: "ipAllowList: {sourceRange: [10.0.0.0/8]}", client: [10, 9, 8, 7], allowed: true),
        Case(yaml: "ipAllowList: {sourceRange: ['::1']}", client: Array(repeating: 0, count: 15) + [1], allowed: true),
        // The client's X-Forwarded-For is ignored without an ipStrategy.
        Case(yaml: "ipAllowList: {sourceRange: [10.0.0.0/8]}", client: [127, 0, 0, 1], forwardedFor: "10.0.0.1", allowed: false),
        Case(yaml: "ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: 1}}", client: [127, 0, 0, 1],
             forwardedFor: "1.1.1.1, 10.0.0.1", allowed: true),
        Case(yaml: "ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: 2}}", client: [127, 0, 0, 1],
             forwardedFor: "1.1.1.1, 10.0.0.1", allowed: false),
        Case(yaml: "ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: 3}}", client: [127, 0, 0, 1],
             forwardedFor: "1.1.1.1, 10.0.0.1", allowed: false),
        Case(yaml: "ipAllowList: {sourceRange: [1.1.1.1], ipStrategy: {excludedIPs: [10.0.0.0/8]}}", client: [127, 0, 0, 1],
             forwardedFor: "1.1.1.1, 10.0.0.1, 10.0.0.2", allowed: true),
        Case(yaml: "ipWhiteList: {sourceRange: [127.0.0.1]}", client: [127, 0, 0, 1], allowed: true),
    ])
    func allowsOnlyTheRanges(_ test: Case) throws {
        let middleware = try Run.middleware(test.yaml)
        var context = Run.context
        context.clientAddress = test.client
        var headers = HTTPHeaders([("Host", "a.test")])
        if let forwardedFor = test.forwardedFor { headers.add(name: "X-Forwarded-For", value: forwardedFor) }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        switch middleware.handleRequest(&head, context: context) {
        case .proceed: #expect(test.allowed)
        case .respond(let status, _, _):
            #expect(!test.allowed)
            #expect(status == .forbidden)
        case .later:
            Issue.record("the allow list decides at once")
        }
    }

    @Test func rejectStatusCodeIsConfigurable() throws {
        var context = Run.context
        context.clientAddress = [8, 8, 8, 8]
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Host", "a")]))
        let middleware = try Run.middleware("ipAllowList: {sourceRange: [10.0.0.0/8], rejectStatusCode: 404}")
        guard case .respond(let status, _, _) = middleware.handleRequest(&head, context: context) else {
            Issue.record("expected a refusal"); return
        }
        #expect(status == .notFound)
    }
}

@Suite struct RateLimitTests {
    static func limiter(_ yaml: String) throws -> RateLimit {
        try #require(try Run.middleware(yaml) as? RateLimit)
    }

    @Test func burstThenRefillAtTheAverageRate() throws {
        let limiter = try Self.limiter("rateLimit: {average: 10, period: 1s, burst: 3}")
        let key = RateLimit.Key.text("a")
        let start: UInt64 = 1_000_000_000
        for _ in 0..<3 { #expect(limiter.take(key, now: start) == nil) }
        let wait = try #require(limiter.take(key, now: start))
        #expect(wait == 100_000_000, "one token every 100 ms")
        #expect(limiter.take(key, now: start + 50_000_000) == 50_000_000)
        #expect(limiter.take(key, now: start + 100_000_000) == nil)
        // Other sources have their own bucket.
        #expect(limiter.take(.text("b"), now: start) == nil)
        // After a long pause the bucket holds at most the burst.
        let later = start + 10_000_000_000
        for _ in 0..<3 { #expect(limiter.take(key, now: later) == nil) }
        #expect(limiter.take(key, now: later) != nil)
    }

    @Test func answers429WithRetryAfter() throws {
        let middleware = try Run.middleware("rateLimit: {average: 1, period: 10s, burst: 1}")
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Host", "a")]))
        guard case .proceed = middleware.handleRequest(&head, context: Run.context) else { Issue.record("first passes"); return }
        guard case .respond(let status, let headers, _) = middleware.handleRequest(&head, context: Run.context) else {
            Issue.record("second is limited"); return
        }
        #expect(status == .tooManyRequests)
        #expect(headers["Retry-After"].first.flatMap(Int.init).map { (9...10).contains($0) } == true)
        #expect(headers["X-Retry-In"].first?.hasSuffix("s") == true)
    }

    @Test func zeroAverageMeansNoLimit() throws {
        let middleware = try Run.middleware("rateLimit: {average: 0}")
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Host", "a")]))
        for _ in 0..<100 {
            guard case .proceed = middleware.handleRequest(&head, context: Run.context) else { Issue.record("limited"); return }
        }
    }

    @Test func goDurations() {
        #expect(RateLimit.goDuration(1_500_000_000) == "1.5s")
        #expect(RateLimit.goDuration(200_000_000) == "200ms")
        #expect(RateLimit.goDuration(2_000_000_000) == "2s")
    }
}

@Suite struct InFlightReqTests {
    @Test func admitsUpToTheAmountAndReleasesOnCompletion() throws {
        let middleware = try #require(try Run.middleware("inFlightReq: {amount: 2}") as? InFlightReq)
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Host", "a")]))
        var scopes: [RequestScope] = []
        for _ in 0..<2 {
            var context = Run.context
            context = MiddlewareContext(
                entryPoint: "web", router: "r", clientAddress: [127, 0, 0, 1], clientIP: "127.0.0.1", scheme: "http",
                eventLoop: context.eventLoop)
            guard case .proceed = middleware.handleRequest(&head, context: context) else { Issue.record("admitted"); return }
            scopes.append(context.scope)
        }
        guard case .respond(let status, _, _) = middleware.handleRequest(&head, context: Run.context) else {
            Issue.record("the third is refused"); return
        }
        #expect(status == .tooManyRequests)
        // Another client has its own count.
        var other = Run.context
        other.clientAddress = [10, 0, 0, 1]
        let otherContext = MiddlewareContext(
            entryPoint: "web", router: "r", clientAddress: [10, 0, 0, 1], clientIP: "10.0.0.1", scheme: "http",
            eventLoop: other.eventLoop)
        guard case .proceed = middleware.handleRequest(&head, context: otherContext) else { Issue.record("other"); return }
        #expect(middleware.inFlight == 3)
        scopes[0].complete()
        scopes[0].complete()
        #expect(middleware.inFlight == 2, "a completion runs once")
        otherContext.scope.complete()
        scopes[1].complete()
        #expect(middleware.inFlight == 0)
    }
}

@Suite struct RetryTests {
    @Test func policyFromOptions() throws {
        let middleware = try #require(
            try Run.middleware("retry: {attempts: 4, initialInterval: 100ms, status: ['503', '520-529']}") as? Retry)
        let policy = middleware.policy
        #expect(policy.attempts == 4)
        #expect(policy.delay(beforeTry: 1) == 0)
        #expect(policy.delay(beforeTry: 2) == 100_000_000)
        #expect(policy.delay(beforeTry: 3) == 200_000_000)
        #expect(policy.delay(beforeTry: 4) == 400_000_000)
        #expect(policy.retries(status: 503) && policy.retries(status: 525) && !policy.retries(status: 500))
        #expect(policy.onNetworkError)
        #expect(policy.allows(.GET) && policy.allows(.PUT) && !policy.allows(.POST))
        // The proxy finds the policy in the request's scope.
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Host", "a")]))
        let context = MiddlewareContext(
            entryPoint: "web", router: "r", clientAddress: [], clientIP: "", scheme: "http", eventLoop: Run.context.eventLoop)
        _ = middleware.handleRequest(&head, context: context)
        #expect(context.scope.retry?.attempts == 4)
    }
}

@Suite struct CompressTests {
    static func compress(_ yaml: String = "compress: {}") throws -> Compress {
        try #require(try Run.middleware(yaml) as? Compress)
    }

    @Test(arguments: [
        (["gzip, deflate, br"], "gzip"), (["br;q=1.0, gzip;q=0.5"], "br"), (["gzip;q=0"], nil), (["*"], "gzip"),
        (["br, zstd"], "br"), (["zstd", "br;q=0.9"], "zstd"), ([], nil), (["identity"], nil), ([""], nil),
        (["gzip;q=0, *"], "br"), (["gzip;q=0.2, br;q=0.2, zstd;q=0.8"], "zstd"),
    ] as [([String], String?)])
    func negotiatesByQualityThenOrder(_ accept: [String], _ chosen: String?) throws {
        #expect(try Self.compress().negotiate(accept) == chosen)
    }

    @Test func encodingsOrderAndDefault() throws {
        #expect(try Self.compress("compress: {defaultEncoding: gzip}").negotiate([]) == "gzip")
        #expect(try Self.compress("compress: {defaultEncoding: zstd}").negotiate(["*"]) == "zstd")
        let zstdFirst = try Self.compress("compress: {encodings: [zstd, br]}")
        #expect(zstdFirst.negotiate(["gzip, br, zstd"]) == "zstd")
        #expect(zstdFirst.negotiate(["gzip"]) == nil)
    }

    @Test func whichResponsesQualify() throws {
        let policy = CompressionPolicy(encoding: "gzip", minimumBytes: 1024, excludedTypes: ["image/png"], includedTypes: [])
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        func head(_ headers: [(String, String)], _ status: HTTPResponseStatus = .ok) -> HTTPResponseHead {
            HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))
        }
        #expect(policy.applies(to: head([("Content-Type", "text/html"), ("Content-Length", "5000")]), request: get))
        #expect(policy.applies(to: head([("Content-Type", "text/html")]), request: get), "unknown length: compressed")
        #expect(!policy.applies(to: head([("Content-Length", "100")]), request: get), "too small")
        #expect(!policy.applies(to: head([("Content-Type", "image/png; x=1")]), request: get))
        #expect(!policy.applies(to: head([("Content-Encoding", "br")]), request: get))
        #expect(!policy.applies(to: head([], .noContent), request: get))
        #expect(!policy.applies(to: head([]), request: HTTPRequestHead(version: .http1_1, method: .HEAD, uri: "/")))
        let only = CompressionPolicy(encoding: "gzip", minimumBytes: 0, excludedTypes: [], includedTypes: ["application/json"])
        #expect(only.applies(to: head([("Content-Type", "application/json")]), request: get))
        #expect(!only.applies(to: head([("Content-Type", "text/html")]), request: get))
    }
}
