import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchyardConfig

/// `circuitBreaker`: while its expression holds over the last ten seconds of outcomes (checked every `checkPeriod`),
/// the breaker opens and answers `responseCode` for `fallbackDuration`; then it lets a growing share of requests
/// through for `recoveryDuration` and closes. Its state belongs to the middleware instance (kept across table swaps
/// while its definition is unchanged), shared by the routers that use it.
final class CircuitBreaker: HTTPMiddleware {
    enum Mode: Sendable, Equatable {
        case closed
        case open(until: Int64)
        case recovering(from: Int64, until: Int64)
    }

    struct State: Sendable {
        var mode = Mode.closed
        var window = BreakerWindow()
        var lastCheck: Int64 = 0
    }

    let expression: BreakerExpression
    let checkPeriod: Int64
    let fallbackDuration: Int64
    let recoveryDuration: Int64
    let responseCode: HTTPResponseStatus
    private let state = NIOLockedValueBox(State())

    init(_ options: CircuitBreakerMiddleware) throws(MiddlewareConfigurationError) {
        guard let text = options.expression, !text.isEmpty else {
            throw MiddlewareConfigurationError("circuitBreaker.expression: no expression given")
        }
        do {
            expression = try BreakerExpression.parse(text)
        } catch {
            throw MiddlewareConfigurationError("circuitBreaker.expression: \(error.description)")
        }
        checkPeriod = options.checkPeriod?.nanoseconds ?? 100_000_000
        fallbackDuration = options.fallbackDuration?.nanoseconds ?? 10_000_000_000
        recoveryDuration = options.recoveryDuration?.nanoseconds ?? 10_000_000_000
        guard checkPeriod > 0, fallbackDuration >= 0, recoveryDuration >= 0 else {
            throw MiddlewareConfigurationError("circuitBreaker: checkPeriod must be longer than 0s, the durations not negative")
        }
        let code = options.responseCode ?? 503
        guard (100...599).contains(code) else {
            throw MiddlewareConfigurationError("circuitBreaker.responseCode: \(code) is not an HTTP status")
        }
        responseCode = HTTPResponseStatus(statusCode: code)
    }

    static var now: Int64 { Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds) }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        let now = Self.now
        guard admit(now: now, lottery: Double.random(in: 0..<1)) else {
            return .respond(responseCode, headers: [:], body: "\(responseCode.reasonPhrase)\n")
        }
        let scope = context.scope
        context.scope.onCompletion { [state] in
            let end = Self.now
            state.withLockedValue {
                $0.window.record(
                    now: end, status: scope.responseStatus, networkError: scope.upstreamFailed,
                    latencyMilliseconds: Double(end - now) / 1e6)
            }
        }
        return .proceed
    }

    /// Whether a request arriving at `now` goes through; `lottery` in 0..<1 decides during recovery.
    func admit(now: Int64, lottery: Double) -> Bool {
        state.withLockedValue { state in
            if case .open(let until) = state.mode, now >= until {
                // The fallback time is over: recovery runs from its end, whenever the next request comes.
                state.mode = .recovering(from: until, until: until + recoveryDuration)
            }
            switch state.mode {
            case .open:
                return false
            case .recovering(let from, let until):
                if now >= until {
                    state.mode = .closed
                    return true
                }
                return lottery < Double(now - from) / Double(until - from)
            case .closed:
                guard now - state.lastCheck >= checkPeriod else { return true }
                state.lastCheck = now
                let window = state.window
                guard expression.evaluate({ window.value(of: $0, now: now) }) else { return true }
                state.mode = .open(until: now + fallbackDuration)
                state.window.reset()
                return false
            }
        }
    }

    var mode: Mode { state.withLockedValue { $0.mode } }
    func record(now: Int64, status: Int?, networkError: Bool) {
        state.withLockedValue { $0.window.record(now: now, status: status, networkError: networkError, latencyMilliseconds: 1) }
    }
}
