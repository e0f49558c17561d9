import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import SwitchyardConfig

/// `rateLimit`: a token bucket per source (client IP by `ipStrategy`, a request header, or the host), refilled at
/// `average` per `period` up to `burst`. An empty bucket answers 429 with `Retry-After` and `X-Retry-In`. The buckets
/// live in the instance, which the compiler carries into the next table while the definition stays the same.
final class RateLimit: HTTPMiddleware {
    typealias Key = RequestSource.Key

    struct Bucket {
        var tokens: Double
        var updated: Int64
    }

    /// Sources tracked at most; beyond it, full buckets (which hold no state) are dropped first.
    static let maximumSources = 65_536

    let ratePerNanosecond: Double
    let burst: Double
    let source: RequestSource
    private let buckets = NIOLockedValueBox<[Key: Bucket]>([:])

    init(_ options: RateLimitMiddleware) throws(MiddlewareConfigurationError) {
        if options.redis != nil {
            throw MiddlewareConfigurationError("rateLimit.redis: shared buckets in Redis are not supported yet")
        }
        let average = options.average ?? 0
        let period = options.period?.nanoseconds ?? 1_000_000_000
        let burst = options.burst ?? 1
        guard average >= 0 else { throw MiddlewareConfigurationError("rateLimit.average: must not be negative") }
        guard period > 0 else { throw MiddlewareConfigurationError("rateLimit.period: must be longer than 0s") }
        guard burst >= 1 else { throw MiddlewareConfigurationError("rateLimit.burst: must be at least 1") }
        ratePerNanosecond = Double(average) / Double(period)
        self.burst = Double(burst)
        source = try RequestSource(options.sourceCriterion, option: "rateLimit.sourceCriterion")
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        guard ratePerNanosecond > 0 else { return .proceed }
        guard let wait = take(source.key(head, context: context), now: NIODeadline.now().uptimeNanoseconds) else {
            return .proceed
        }
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: String(Int((Double(wait) / 1e9).rounded(.up))))
        headers.add(name: "X-Retry-In", value: Self.goDuration(wait))
        return .respond(.tooManyRequests, headers: headers, body: "Too Many Requests\n")
    }

    /// Takes a token for `key`; nil when there was one, else how long until there is (nanoseconds).
    func take(_ key: Key, now: UInt64) -> Int64? {
        let now = Int64(bitPattern: now)
        return buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + Double(max(0, now - bucket.updated)) * ratePerNanosecond)
            bucket.updated = now
            defer {
                if buckets[key] == nil && buckets.count >= Self.maximumSources { Self.evict(&buckets, now: now, rate: ratePerNanosecond, burst: burst) }
                buckets[key] = bucket
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return Int64(((1 - bucket.tokens) / ratePerNanosecond).rounded(.up))
        }
    }

    /// Drops the buckets that have refilled (they would start full anyway), or half of them if none has.
    private static func evict(_ buckets: inout [Key: Bucket], now: Int64, rate: Double, burst: Double) {
        let full = buckets.filter { $0.value.tokens + Double(now - $0.value.updated) * rate >= burst }.map(\.key)
        if full.isEmpty {
            for key in buckets.keys.prefix(buckets.count / 2) { buckets[key] = nil }
        } else {
            for key in full { buckets[key] = nil }
        }
    }

    /// A duration as Go prints it (`1.5s`, `200ms`), for `X-Retry-In` as Traefik sends it.
    static func goDuration(_ nanoseconds: Int64) -> String {
        if nanoseconds >= 1_000_000_000 { return "\(trimmed(Double(nanoseconds) / 1e9))s" }
        if nanoseconds >= 1_000_000 { return "\(trimmed(Double(nanoseconds) / 1e6))ms" }
        return "\(trimmed(Double(nanoseconds) / 1e3))µs"
    }

    private static func trimmed(_ value: Double) -> String {
        var text = String((value * 1000).rounded() / 1000)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
