import Atomics

/// Requests in flight per server, for the `p2c` strategy: every event loop adds one when it sends a request to a
/// server and takes it away when the exchange ends.
public final class ServerLoad: Sendable {
    private let inFlight: [ManagedAtomic<Int>]

    public init(serverCount: Int) {
        inFlight = (0..<serverCount).map { _ in ManagedAtomic(0) }
    }

    public func began(_ index: Int) { inFlight[index].wrappingIncrement(ordering: .relaxed) }
    public func ended(_ index: Int) { inFlight[index].wrappingDecrement(ordering: .relaxed) }
    public func current(_ index: Int) -> Int { inFlight[index].load(ordering: .relaxed) }

    /// Power of two choices: two distinct candidates at random, the one with fewer requests in flight.
    public func pick(among candidates: [Int], random: inout some RandomNumberGenerator) -> Int? {
        switch candidates.count {
        case 0: return nil
        case 1: return candidates[0]
        default:
            let first = Int.random(in: 0..<candidates.count, using: &random)
            var second = Int.random(in: 0..<(candidates.count - 1), using: &random)
            if second >= first { second += 1 }
            let a = candidates[first], b = candidates[second]
            return current(b) < current(a) ? b : a
        }
    }
}
