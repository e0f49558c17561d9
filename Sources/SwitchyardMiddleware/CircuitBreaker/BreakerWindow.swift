/// What the circuit breaker's expression reads: the outcomes of the last ten seconds, in one-second buckets.
struct BreakerWindow: Sendable {
    struct Bucket: Sendable {
        var second: Int64 = -1
        var requests = 0
        var networkErrors = 0
        var statuses: [Int: Int] = [:]
        var latencies: [Double] = []
    }

    static let seconds = 10
    /// Latencies kept per bucket at most (the quantile is estimated from them).
    static let latencySamples = 512
    private var buckets = [Bucket](repeating: Bucket(), count: seconds)

    mutating func record(now: Int64, status: Int?, networkError: Bool, latencyMilliseconds: Double) {
        let second = now / 1_000_000_000
        let index = Int(second % Int64(Self.seconds))
        if buckets[index].second != second { buckets[index] = Bucket(second: second) }
        buckets[index].requests += 1
        if networkError { buckets[index].networkErrors += 1 }
        if let status { buckets[index].statuses[status, default: 0] += 1 }
        if buckets[index].latencies.count < Self.latencySamples { buckets[index].latencies.append(latencyMilliseconds) }
    }

    mutating func reset() { buckets = [Bucket](repeating: Bucket(), count: Self.seconds) }

    private func live(_ now: Int64) -> [Bucket] {
        let second = now / 1_000_000_000
        return buckets.filter { $0.second > second - Int64(Self.seconds) }
    }

    func value(of metric: BreakerMetric, now: Int64) -> Double {
        let buckets = live(now)
        switch metric {
        case .networkErrorRatio:
            let total = buckets.reduce(0) { $0 + $1.requests }
            return total == 0 ? 0 : Double(buckets.reduce(0) { $0 + $1.networkErrors }) / Double(total)
        case .responseCodeRatio(let from, let to, let divFrom, let divTo):
            func count(_ range: Range<Int>) -> Int {
                buckets.reduce(0) { sum, bucket in sum + bucket.statuses.filter { range.contains($0.key) }.values.reduce(0, +) }
            }
            let denominator = count(divFrom..<divTo)
            return denominator == 0 ? 0 : Double(count(from..<to)) / Double(denominator)
        case .latencyAtQuantile(let quantile):
            let samples = buckets.flatMap(\.latencies).sorted()
            guard !samples.isEmpty else { return 0 }
            let rank = Int((quantile / 100 * Double(samples.count - 1)).rounded())
            return samples[min(samples.count - 1, max(0, rank))]
        }
    }
}
