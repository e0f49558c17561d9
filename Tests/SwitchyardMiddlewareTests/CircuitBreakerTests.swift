import NIOHTTP1
import SwitchyardConfig
import Testing

@testable import SwitchyardMiddleware

@Suite struct BreakerExpressionTests {
    @Test(arguments: [
        ("NetworkErrorRatio() > 0.5", BreakerExpression.compare(.networkErrorRatio, .greater, 0.5)),
        ("ResponseCodeRatio(500, 600, 0, 600) >= 0.25",
         .compare(.responseCodeRatio(from: 500, to: 600, divFrom: 0, divTo: 600), .greaterOrEqual, 0.25)),
        ("LatencyAtQuantileMS(50.0) > 100", .compare(.latencyAtQuantile(50), .greater, 100)),
        ("NetworkErrorRatio() > 0.3 || LatencyAtQuantileMS(99) > 500 && ResponseCodeRatio(500,600,0,600) != 0",
         .or(.compare(.networkErrorRatio, .greater, 0.3),
             .and(.compare(.latencyAtQuantile(99), .greater, 500),
                  .compare(.responseCodeRatio(from: 500, to: 600, divFrom: 0, divTo: 600), .notEqual, 0)))),
        ("(NetworkErrorRatio() < 1 || NetworkErrorRatio() == 1) && NetworkErrorRatio() <= 1",
         .and(.or(.compare(.networkErrorRatio, .less, 1), .compare(.networkErrorRatio, .equal, 1)),
              .compare(.networkErrorRatio, .lessOrEqual, 1))),
    ])
    func parses(_ text: String, _ expected: BreakerExpression) throws {
        #expect(try BreakerExpression.parse(text) == expected)
    }

    @Test(arguments: [
        ("", 1, "expected NetworkErrorRatio()"),
        ("NetworkErrorRatio > 0.5", 1, "expected '(' after NetworkErrorRatio"),
        ("NetworkErrorRatio() 0.5", 21, "expected a comparison"),
        ("NetworkErrorRatio() > abc", 23, "expected a number"),
        ("ErrorRatio() > 0.5", 1, "unknown function 'ErrorRatio'"),
        ("ResponseCodeRatio(500, 600) > 0.5", 1, "wrong number of arguments"),
        ("ResponseCodeRatio(600, 500, 0, 600) > 0.5", 1, "from < to"),
        ("LatencyAtQuantileMS(150) > 1", 1, "quantile from 0 to 100"),
        ("(NetworkErrorRatio() > 0.5", 27, "expected ')'"),
        ("NetworkErrorRatio() > 0.5 &&", 29, "expected NetworkErrorRatio()"),
        ("NetworkErrorRatio() > 0.5 extra", 27, "unexpected 'e'"),
    ])
    func errorsNameTheColumn(_ text: String, _ column: Int, _ fragment: String) {
        do {
            _ = try BreakerExpression.parse(text)
            Issue.record("'\(text)' should not parse")
        } catch {
            #expect(error.position + 1 == column, "\(error)")
            #expect(error.message.contains(fragment), "\(error)")
        }
    }
}

@Suite struct CircuitBreakerTests {
    static let second: Int64 = 1_000_000_000

    @Test func windowMetrics() {
        var window = BreakerWindow()
        let now = 100 * Self.second
        for status in [200, 200, 500, 503] { window.record(now: now, status: status, networkError: false, latencyMilliseconds: 10) }
        window.record(now: now, status: 502, networkError: true, latencyMilliseconds: 1000)
        #expect(window.value(of: .networkErrorRatio, now: now) == 0.2)
        #expect(window.value(of: .responseCodeRatio(from: 500, to: 600, divFrom: 0, divTo: 600), now: now) == 0.6)
        #expect(window.value(of: .latencyAtQuantile(50), now: now) == 10)
        #expect(window.value(of: .latencyAtQuantile(100), now: now) == 1000)
        #expect(window.value(of: .networkErrorRatio, now: now + 11 * Self.second) == 0, "outcomes older than 10 s are gone")
    }

    @Test func tripsThenRecoversLinearlyThenCloses() throws {
        let breaker = try #require(
            try Run.middleware(
                "circuitBreaker: {expression: 'NetworkErrorRatio() > 0.5', checkPeriod: 1s, fallbackDuration: 10s, recoveryDuration: 10s}")
                as? CircuitBreaker)
        var now = 1000 * Self.second
        #expect(breaker.admit(now: now, lottery: 0.5))
        for _ in 0..<3 { breaker.record(now: now, status: 502, networkError: true) }
        breaker.record(now: now, status: 200, networkError: false)
        #expect(breaker.admit(now: now + Self.second / 2, lottery: 0.5), "checked only every checkPeriod")
        now += 2 * Self.second
        #expect(!breaker.admit(now: now, lottery: 0.5), "3 of 4 failed: open")
        #expect(breaker.mode == .open(until: now + 10 * Self.second))
        #expect(!breaker.admit(now: now + 5 * Self.second, lottery: 0))
        let reopen = now + 10 * Self.second
        _ = breaker.admit(now: reopen, lottery: 0.5)
        #expect(breaker.mode == .recovering(from: reopen, until: reopen + 10 * Self.second))
        #expect(breaker.admit(now: reopen + 7 * Self.second, lottery: 0.6), "70 % of the way: 0.6 passes")
        #expect(!breaker.admit(now: reopen + 2 * Self.second, lottery: 0.6), "20 % of the way: 0.6 does not")
        #expect(breaker.admit(now: reopen + 10 * Self.second, lottery: 0.99))
        #expect(breaker.mode == .closed)
    }
}

@Suite struct RetryExpressionTests {
    @Test func conditionsComparisonsAndTheBound() throws {
        let expression = try RetryExpression.parse("IsNetworkError() && Attempts() < 2 || ResponseCode() == 503")
        let policy = BufferingPolicy(holdsResponse: false, maxResponseBytes: 0, retryExpression: expression)
        #expect(policy.retries(afterNetworkError: true, status: nil, attempts: 1))
        #expect(!policy.retries(afterNetworkError: true, status: nil, attempts: 2))
        #expect(policy.retries(afterNetworkError: false, status: 503, attempts: 5))
        #expect(!policy.retries(afterNetworkError: false, status: 503, attempts: BufferingPolicy.maximumAttempts))
        #expect(!policy.retries(afterNetworkError: false, status: 500, attempts: 1))
        #expect(!BufferingPolicy(holdsResponse: true, maxResponseBytes: 0, retryExpression: nil)
            .retries(afterNetworkError: true, status: nil, attempts: 1))
    }

    @Test(arguments: [
        ("Attempts()", 10, "expected a comparison"), ("IsNetworkError(1)", 0, "takes no arguments"),
        ("NetworkErrorRatio() > 1", 0, "unknown function 'NetworkErrorRatio'"),
    ])
    func errorsNameTheColumn(_ text: String, _ column: Int, _ fragment: String) {
        do {
            _ = try RetryExpression.parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.position == column)
            #expect(error.message.contains(fragment), "\(error)")
        }
    }
}
