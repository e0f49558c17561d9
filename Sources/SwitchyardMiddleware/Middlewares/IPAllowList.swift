import NIOHTTP1
import SwitchyardConfig

/// `ipAllowList` (and the deprecated `ipWhiteList`): only clients in `sourceRange` pass; others get
/// `rejectStatusCode` (403). The client's address comes from `ipStrategy`.
struct IPAllowList: HTTPMiddleware {
    let networks: [IPNetwork]
    let strategy: ClientIPStrategy
    let rejectStatus: HTTPResponseStatus

    init(_ options: IPAllowListMiddleware, type: String) throws(MiddlewareConfigurationError) {
        let ranges = options.sourceRange ?? []
        guard !ranges.isEmpty else { throw MiddlewareConfigurationError("\(type).sourceRange: no range given") }
        var networks: [IPNetwork] = []
        for text in ranges {
            guard let network = IPNetwork(text) else {
                throw MiddlewareConfigurationError("\(type).sourceRange: '\(text)' is not an IP or CIDR")
            }
            networks.append(network)
        }
        self.networks = networks
        strategy = try ClientIPStrategy(options.ipStrategy, option: "\(type).ipStrategy")
        let code = options.rejectStatusCode ?? 403
        guard (100...599).contains(code) else {
            throw MiddlewareConfigurationError("\(type).rejectStatusCode: \(code) is not an HTTP status")
        }
        rejectStatus = HTTPResponseStatus(statusCode: code)
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        if let address = strategy.clientAddress(head, context: context), networks.contains(where: { $0.contains(address) }) {
            return .proceed
        }
        return .respond(rejectStatus, headers: [:], body: "\(rejectStatus.reasonPhrase)\n")
    }
}
