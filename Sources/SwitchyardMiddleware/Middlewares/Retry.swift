import NIOHTTP1
import SwitchyardConfig

/// When the proxy sends a request again (`retry`): after a network error (the server could not be reached or closed
/// before answering) unless that is switched off, and on the listed statuses; only requests whose body has not gone
/// out yet, and only idempotent methods unless `retryNonIdempotentMethod`.
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included.
    public let attempts: Int
    public let initialInterval: Int64
    public let statuses: [ClosedRange<Int>]
    public let onNetworkError: Bool
    public let nonIdempotentMethods: Bool
    /// A request body up to this size is kept, so a request whose body went out can go again (0: none is kept).
    public let replayBodyBytes: Int64
    /// No try starts later than this after the first (nanoseconds; 0: no limit).
    public let timeout: Int64

    /// Waits twice as long before each further try: `initialInterval`, then 2x, 4x...
    public func delay(beforeTry number: Int) -> Int64 {
        guard initialInterval > 0, number > 1 else { return 0 }
        return initialInterval << Int64(min(number - 2, 16))
    }

    public func retries(status: Int) -> Bool { statuses.contains { $0.contains(status) } }

    public func allows(_ method: HTTPMethod) -> Bool {
        nonIdempotentMethods || [.GET, .HEAD, .OPTIONS, .TRACE, .PUT, .DELETE].contains(method)
    }
}

/// `retry`: hands its policy to the proxy, which sends the request to the next server when it may.
struct Retry: HTTPMiddleware {
    let policy: RetryPolicy
    /// Traefik's default `maxRequestBodyBytes`: bodies up to 2 MiB are kept to send again.
    static let defaultReplayBytes: Int64 = 2 << 20
    /// `maxRequestBodyBytes: -1` (any size) keeps at most this much in memory.
    static let maximumReplayBytes: Int64 = 16 << 20

    init(_ options: RetryMiddleware) throws(MiddlewareConfigurationError) {
        guard let attempts = options.attempts, attempts >= 1 else {
            throw MiddlewareConfigurationError("retry.attempts: must be at least 1")
        }
        let interval = options.initialInterval?.nanoseconds ?? 0
        guard interval >= 0 else { throw MiddlewareConfigurationError("retry.initialInterval: must not be negative") }
        let timeout = options.timeout?.nanoseconds ?? 0
        guard timeout >= 0 else { throw MiddlewareConfigurationError("retry.timeout: must not be negative") }
        let replay = options.maxRequestBodyBytes ?? Self.defaultReplayBytes
        guard replay >= -1 else { throw MiddlewareConfigurationError("retry.maxRequestBodyBytes: must be -1 or more") }
        let statuses: [ClosedRange<Int>]
        switch StatusRanges.parse(options.status ?? []) {
        case .success(let ranges): statuses = ranges
        case .failure(let invalid): throw MiddlewareConfigurationError("retry.status: \(invalid.message)")
        }
        policy = RetryPolicy(
            attempts: attempts, initialInterval: interval, statuses: statuses,
            onNetworkError: !(options.disableRetryOnNetworkError ?? false),
            nonIdempotentMethods: options.retryNonIdempotentMethod ?? false,
            replayBodyBytes: replay < 0 ? Self.maximumReplayBytes : replay, timeout: timeout)
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        context.scope.retry = policy
        return .proceed
    }
}

extension Substring {
    func trimmingCharacters(in set: Character) -> String { String(self).trimmingCharacters(in: set) }
}
