import Atomics
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Requests, server errors and response times of one router or service, counted by every event loop with relaxed
/// atomic increments (no lock on the request path). Counters are kept by name across table versions.
public final class TrafficCounter: Sendable {
    /// Upper bounds of the response-time buckets, in nanoseconds; the last bucket takes everything slower.
    static let bucketBounds: [Int64] = [
        100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000,
        250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000,
    ]

    let requests = ManagedAtomic<Int>(0)
    let errors = ManagedAtomic<Int>(0)
    let buckets: [ManagedAtomic<Int>]
    /// Uptime in nanoseconds of the last request's end; 0 before the first.
    let lastHit = ManagedAtomic<Int64>(0)

    init() {
        buckets = (0...Self.bucketBounds.count).map { _ in ManagedAtomic(0) }
    }

    /// Counts one exchange: its status (5xx are errors), how long it took, and when it ended (uptime nanoseconds).
    public func record(status: Int, nanoseconds: Int64, endedAt: Int64) {
        requests.wrappingIncrement(ordering: .relaxed)
        if status >= 500 { errors.wrappingIncrement(ordering: .relaxed) }
        var bucket = 0
        while bucket < Self.bucketBounds.count && nanoseconds > Self.bucketBounds[bucket] { bucket += 1 }
        buckets[bucket].wrappingIncrement(ordering: .relaxed)
        lastHit.store(endedAt, ordering: .relaxed)
    }

    var histogram: [Int] { buckets.map { $0.load(ordering: .relaxed) } }
}

/// The traffic counters of every router and service, and their recent history: every second `sample()` adds the
/// requests and errors of the last second to a 60-second ring, and every 10 seconds a copy of the response-time
/// histogram, so rates and percentiles cover the last minute. Rings exist only for counters that saw traffic.
public final class TrafficRegistry: Sendable {
    public static let window = 60
    static let histogramEvery = 10

    struct History {
        var requests = [Int](repeating: 0, count: TrafficRegistry.window)
        var errors = [Int](repeating: 0, count: TrafficRegistry.window)
        var lastRequests = 0
        var lastErrors = 0
        /// Histograms taken every 10 s, oldest first, at most 7 (a minute between the first and the last).
        var histograms: [[Int]] = []
    }

    struct State {
        var routers: [String: TrafficCounter] = [:]
        var services: [String: TrafficCounter] = [:]
        var history: [ObjectIdentifier: History] = [:]
        var ticks = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The counter of a router, made on first use (when a table is compiled).
    public func router(_ name: String) -> TrafficCounter { counter(name, in: \.routers) }

    public func service(_ name: String) -> TrafficCounter { counter(name, in: \.services) }

    private func counter(_ name: String, in kind: WritableKeyPath<State, [String: TrafficCounter]>) -> TrafficCounter {
        state.withLockedValue { state in
            if let counter = state[keyPath: kind][name] { return counter }
            let counter = TrafficCounter()
            state[keyPath: kind][name] = counter
            return counter
        }
    }

    /// Forgets the counters of routers and services that the table in force no longer has.
    public func retain(routers: Set<String>, services: Set<String>) {
        state.withLockedValue { state in
            for (name, counter) in state.routers where !routers.contains(name) {
                state.routers[name] = nil
                state.history[ObjectIdentifier(counter)] = nil
            }
            for (name, counter) in state.services where !services.contains(name) {
                state.services[name] = nil
                state.history[ObjectIdentifier(counter)] = nil
            }
        }
    }

    /// Moves the rings on by one second; called once a second.
    public func sample() {
        state.withLockedValue { state in
            state.ticks += 1
            let takeHistogram = state.ticks % Self.histogramEvery == 0
            for counter in Array(state.routers.values) + Array(state.services.values) {
                let requests = counter.requests.load(ordering: .relaxed)
                let id = ObjectIdentifier(counter)
                guard requests > 0 || state.history[id] != nil else { continue }
                var history = state.history[id] ?? History()
                let errors = counter.errors.load(ordering: .relaxed)
                history.requests.removeFirst()
                history.requests.append(requests &- history.lastRequests)
                history.errors.removeFirst()
                history.errors.append(errors &- history.lastErrors)
                history.lastRequests = requests
                history.lastErrors = errors
                if takeHistogram || history.histograms.isEmpty {
                    history.histograms.append(counter.histogram)
                    if history.histograms.count > Self.window / Self.histogramEvery + 1 { history.histograms.removeFirst() }
                }
                state.history[id] = history
            }
        }
    }

    /// A router's or service's last minute, as `/api/traffic` shows it.
    public struct Summary: Sendable, Encodable {
        /// Requests per second over the last minute.
        public var rate: Double
        /// The share of 5xx answers over the last minute (0 with no requests).
        public var errorRate: Double
        /// Response-time percentiles over the last minute, in milliseconds (bucket upper bounds); nil without requests.
        public var p50: Double?
        public var p99: Double?
        public var lastHit: String?
        /// Requests and errors of each of the last 60 seconds, oldest first.
        public var requests: [Int]
        public var errors: [Int]
        public var total: Int

        enum CodingKeys: String, CodingKey { case rate, errorRate, p50, p99, lastHit, requests, errors, total }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rate, forKey: .rate)
            try container.encode(errorRate, forKey: .errorRate)
            try container.encode(p50, forKey: .p50)
            try container.encode(p99, forKey: .p99)
            try container.encode(lastHit, forKey: .lastHit)
            try container.encode(requests, forKey: .requests)
            try container.encode(errors, forKey: .errors)
            try container.encode(total, forKey: .total)
        }
    }

    /// Every router and service that saw traffic since it was last (re)defined.
    public func summaries() -> (routers: [String: Summary], services: [String: Summary]) {
        let nowUptime = Int64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds)
        let nowWall = Date()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return state.withLockedValue { state in
            func summary(_ counter: TrafficCounter) -> Summary? {
                guard let history = state.history[ObjectIdentifier(counter)] else { return nil }
                let requests = history.requests.reduce(0, +)
                let errors = history.errors.reduce(0, +)
                var recent = counter.histogram
                if let oldest = history.histograms.first, history.histograms.count > 1 {
                    recent = zip(recent, oldest).map { max(0, $0 &- $1) }
                }
                let hit = counter.lastHit.load(ordering: .relaxed)
                return Summary(
                    rate: Double(requests) / Double(Self.window),
                    errorRate: requests == 0 ? 0 : Double(errors) / Double(requests),
                    p50: Self.percentile(0.50, recent), p99: Self.percentile(0.99, recent),
                    lastHit: hit == 0 ? nil : formatter.string(from: nowWall.addingTimeInterval(-Double(nowUptime - hit) / 1e9)),
                    requests: history.requests, errors: history.errors,
                    total: counter.requests.load(ordering: .relaxed))
            }
            return (state.routers.compactMapValues(summary), state.services.compactMapValues(summary))
        }
    }

    /// The upper bound (ms) of the bucket holding the `q` quantile; the slowest bucket reports its lower bound.
    static func percentile(_ q: Double, _ histogram: [Int]) -> Double? {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = Int((Double(total) * q).rounded(.up))
        var seen = 0
        for (index, count) in histogram.enumerated() {
            seen += count
            if seen >= rank {
                let bound = index < TrafficCounter.bucketBounds.count ? TrafficCounter.bucketBounds[index] : TrafficCounter.bucketBounds.last!
                return Double(bound) / 1e6
            }
        }
        return nil
    }
}
