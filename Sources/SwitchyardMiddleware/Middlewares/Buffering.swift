import NIOCore
import NIOHTTP1
import SwitchyardConfig

/// What `buffering` asks of the proxy for the response, and when it sends the request again.
public struct BufferingPolicy: Sendable {
    /// Hold the response whole before sending it (`disableResponseBuffer` false).
    public let holdsResponse: Bool
    /// A held response larger than this is replaced by a 500 (0: no limit).
    public let maxResponseBytes: Int64
    let retryExpression: RetryExpression?

    /// Whether the request goes again after a try that failed on the network or answered `status`: the retry
    /// expression with `IsNetworkError()`, `Attempts()` (tries made) and `ResponseCode()`.
    public func retries(afterNetworkError: Bool, status: Int?, attempts: Int) -> Bool {
        guard let retryExpression, attempts < Self.maximumAttempts else { return false }
        return retryExpression.evaluate { function in
            switch function {
            case .isNetworkError: return afterNetworkError ? 1 : 0
            case .attempts: return Double(attempts)
            case .responseCode: return Double(status ?? 0)
            }
        }
    }

    /// An expression that always holds (`ResponseCode() == 502`) still stops here.
    public static let maximumAttempts = 10
}

/// `buffering`: the proxy reads the request body whole before the request goes on (413 above
/// `maxRequestBodyBytes`), holds the response whole before sending it (500 above `maxResponseBodyBytes`), and may
/// send the request again by `retryExpression`, with its body.
struct Buffering: HTTPMiddleware {
    let maxRequestBytes: Int64
    let readsRequest: Bool
    let policy: BufferingPolicy

    init(_ options: BufferingMiddleware) throws(MiddlewareConfigurationError) {
        for (key, value) in [
            ("maxRequestBodyBytes", options.maxRequestBodyBytes), ("memRequestBodyBytes", options.memRequestBodyBytes),
            ("maxResponseBodyBytes", options.maxResponseBodyBytes), ("memResponseBodyBytes", options.memResponseBodyBytes),
        ] where (value ?? 0) < 0 {
            throw MiddlewareConfigurationError("buffering.\(key): must not be negative")
        }
        maxRequestBytes = options.maxRequestBodyBytes ?? 0
        readsRequest = !(options.disableRequestBuffer ?? false)
        var expression: RetryExpression?
        if let text = options.retryExpression, !text.isEmpty {
            do {
                expression = try RetryExpression.parse(text)
            } catch {
                throw MiddlewareConfigurationError("buffering.retryExpression: \(error)")
            }
        }
        policy = BufferingPolicy(
            holdsResponse: !(options.disableResponseBuffer ?? false), maxResponseBytes: options.maxResponseBodyBytes ?? 0,
            retryExpression: expression)
    }

    var requestBodyLimit: Int64? { readsRequest ? (maxRequestBytes > 0 ? maxRequestBytes : -1) : nil }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        if readsRequest, context.scope.requestBody(upTo: requestBodyLimit ?? -1) == nil {
            return .respond(.payloadTooLarge, headers: ["Connection": "close"], body: "Request Entity Too Large\n")
        }
        context.scope.buffering = policy
        return .proceed
    }
}
