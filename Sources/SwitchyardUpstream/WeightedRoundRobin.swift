import Atomics

/// Smooth weighted round robin (as nginx does it) over a fixed set of weights.
///
/// The order of picks is computed once when the table is compiled; a pick is one atomic increment, so event loops
/// share the rotation without a lock. For weights 5,1,1 the order is a a b a c a a: heavy servers are spread out.
public final class WeightedRoundRobin: Sendable {
    private let order: [Int]
    private let counter = ManagedAtomic<Int>(0)

    /// The longest order computed; larger total weights are scaled down keeping their ratios roughly.
    static let maximumOrderLength = 4096

    public init(weights: [Int]) {
        self.order = Self.smoothOrder(weights: weights)
    }

    /// How many picks make one full turn of the rotation.
    public var length: Int { order.count }

    /// The index of the next server, nil when every weight is zero.
    public func next() -> Int? {
        guard !order.isEmpty else { return nil }
        let ticket = counter.loadThenWrappingIncrement(ordering: .relaxed)
        return order[Int(UInt(bitPattern: ticket) % UInt(order.count))]
    }

    /// The index `offset` picks after the next one would be, without taking a turn.
    public func peek(offset: Int = 0) -> Int? {
        guard !order.isEmpty else { return nil }
        let ticket = counter.load(ordering: .relaxed) &+ offset
        return order[Int(UInt(bitPattern: ticket) % UInt(order.count))]
    }

    static func smoothOrder(weights: [Int]) -> [Int] {
        var weights = weights.map { max(0, $0) }
        let divisor = weights.reduce(0) { gcd($0, $1) }
        guard divisor > 0 else { return [] }
        weights = weights.map { $0 / divisor }
        var total = weights.reduce(0, +)
        if total > maximumOrderLength {
            let scale = Double(maximumOrderLength) / Double(total)
            weights = weights.map { $0 == 0 ? 0 : max(1, Int((Double($0) * scale).rounded())) }
            total = weights.reduce(0, +)
        }
        var current = [Int](repeating: 0, count: weights.count)
        var order: [Int] = []
        order.reserveCapacity(total)
        for _ in 0..<total {
            var best = -1
            for index in weights.indices where weights[index] > 0 {
                current[index] += weights[index]
                if best < 0 || current[index] > current[best] { best = index }
            }
            current[best] -= total
            order.append(best)
        }
        return order
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }
}
