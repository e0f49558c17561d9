import NIOHTTP1
import SwitchyardConfig

/// Traefik's `sourceCriterion`: what groups requests for `rateLimit` and `inFlightReq` (the client's IP by
/// `ipStrategy`, the default; a request header; or the host).
struct RequestSource: Sendable {
    enum Kind: Sendable {
        case ip(ClientIPStrategy)
        case header(String)
        case host
    }

    enum Key: Hashable, Sendable {
        case bytes([UInt8])
        case text(String)
    }

    let kind: Kind

    init(_ criterion: SourceCriterion?, option: String) throws(MiddlewareConfigurationError) {
        let chosen = [criterion?.ipStrategy != nil, criterion?.requestHeaderName != nil, criterion?.requestHost == true]
            .filter { $0 }.count
        guard chosen <= 1 else {
            throw MiddlewareConfigurationError("\(option): set one of ipStrategy, requestHeaderName and requestHost")
        }
        if let header = criterion?.requestHeaderName {
            kind = .header(header)
        } else if criterion?.requestHost == true {
            kind = .host
        } else {
            kind = .ip(try ClientIPStrategy(criterion?.ipStrategy, option: "\(option).ipStrategy"))
        }
    }

    func key(_ head: HTTPRequestHead, context: MiddlewareContext) -> Key {
        switch kind {
        case .ip(let strategy): return .bytes(strategy.clientAddress(head, context: context) ?? [])
        case .header(let name): return .text(head.headers.first(name: name) ?? "")
        case .host: return .text((head.headers.first(name: "host") ?? "").lowercased())
        }
    }
}
