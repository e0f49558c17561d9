import NIOHTTP1
import SwitchyardConfig

/// Traefik's `ipStrategy`: which address stands for the client. `depth` n takes the n-th `X-Forwarded-For` entry from
/// the right; `excludedIPs` takes the first entry from the right that is not excluded; neither takes the address
/// of the connection. `ipv6Subnet` groups IPv6 clients by their network.
struct ClientIPStrategy: Sendable {
    enum Kind: Sendable {
        case remoteAddress
        case depth(Int)
        case excluding([IPNetwork])
    }

    let kind: Kind
    let ipv6Subnet: Int?

    init(_ options: IPStrategy?, option: String) throws(MiddlewareConfigurationError) {
        let depth = options?.depth ?? 0
        guard depth >= 0 else { throw MiddlewareConfigurationError("\(option).depth: must not be negative") }
        if depth > 0 {
            kind = .depth(depth)
        } else if let excluded = options?.excludedIPs, !excluded.isEmpty {
            var networks: [IPNetwork] = []
            for text in excluded {
                guard let network = IPNetwork(text) else {
                    throw MiddlewareConfigurationError("\(option).excludedIPs: '\(text)' is not an IP or CIDR")
                }
                networks.append(network)
            }
            kind = .excluding(networks)
        } else {
            kind = .remoteAddress
        }
        if let subnet = options?.ipv6Subnet, !(0...128).contains(subnet) {
            throw MiddlewareConfigurationError("\(option).ipv6Subnet: must be from 0 to 128")
        }
        ipv6Subnet = options?.ipv6Subnet
    }

    /// The client's address as 4 or 16 bytes, nil when the strategy finds none (then nothing is allowed).
    func clientAddress(_ head: HTTPRequestHead, context: MiddlewareContext) -> [UInt8]? {
        var address: [UInt8]?
        switch kind {
        case .remoteAddress:
            address = context.clientAddress.isEmpty ? nil : context.clientAddress
        case .depth(let depth):
            let entries = forwardedFor(head)
            guard depth <= entries.count else { return nil }
            address = IPNetwork.parseAddress(entries[entries.count - depth][...])
        case .excluding(let excluded):
            address = forwardedFor(head).reversed().lazy.compactMap { IPNetwork.parseAddress($0[...]) }
                .first { candidate in !excluded.contains { $0.contains(candidate) } }
        }
        guard var bytes = address else { return nil }
        if bytes.count == 16, let subnet = ipv6Subnet {
            for index in 0..<16 {
                let keep = max(0, min(8, subnet - index * 8))
                bytes[index] &= keep == 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            }
        }
        return bytes
    }

    private func forwardedFor(_ head: HTTPRequestHead) -> [String] {
        head.headers["x-forwarded-for"].flatMap { $0.split(separator: ",") }.map {
            String($0.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        }
    }
}
