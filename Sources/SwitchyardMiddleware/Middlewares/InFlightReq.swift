import NIOConcurrencyHelpers
import NIOHTTP1
import SwitchyardConfig

/// `inFlightReq`: at most `amount` requests of one source (`sourceCriterion`, by default the client's IP) in flight
/// at once; one more gets 429. A request counts until its response ends or its client leaves.
final class InFlightReq: HTTPMiddleware {
    let amount: Int
    let source: RequestSource
    private let counts = NIOLockedValueBox<[RequestSource.Key: Int]>([:])

    init(_ options: InFlightReqMiddleware) throws(MiddlewareConfigurationError) {
        guard let amount = options.amount, amount > 0 else {
            throw MiddlewareConfigurationError("inFlightReq.amount: must be at least 1")
        }
        self.amount = Int(amount)
        source = try RequestSource(options.sourceCriterion, option: "inFlightReq.sourceCriterion")
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        let key = source.key(head, context: context)
        let admitted = counts.withLockedValue { counts in
            let current = counts[key] ?? 0
            guard current < amount else { return false }
            counts[key] = current + 1
            return true
        }
        guard admitted else { return .respond(.tooManyRequests, headers: [:], body: "Too Many Requests\n") }
        context.scope.onCompletion { [counts] in
            counts.withLockedValue { counts in
                let left = (counts[key] ?? 1) - 1
                counts[key] = left > 0 ? left : nil
            }
        }
        return .proceed
    }

    var inFlight: Int { counts.withLockedValue { $0.values.reduce(0, +) } }
}
