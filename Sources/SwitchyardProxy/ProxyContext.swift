import NIOCore
import NIOSSL
import SwitchyardConfig
import SwitchyardRouting
import SwitchyardUpstream

/// What every connection of one entry point shares.
public struct EntryPointSettings: Sendable {
    public var name: String
    /// `http` or `https`.
    public var scheme: String
    /// Time to wait for the upstream's response head; nil waits as long as it takes.
    public var responseHeaderTimeout: TimeAmount?
    /// Sent as X-Forwarded-Server.
    public var hostname: String
    /// The connection came over TLS: TLS routers answer it, and X-Forwarded-Proto is https.
    public var isTLS = false
    /// The TLS-ALPN-01 answer for a domain an ACME CA is checking (handshakes offering `acme-tls/1`), if any.
    public var tlsChallengeContext: (@Sendable (String) -> NIOSSLContext?)?
    /// `proxyProtocol`: the addresses whose PROXY protocol header (v1 or v2) names the client.
    public var proxyProtocol: TrustedAddresses?
    /// The client a trusted PROXY header named, for this connection.
    public var proxiedClient: SocketAddress?
    /// `transport.respondingTimeouts`: the wait for a request on a kept-alive connection, and the time to read one
    /// (first byte to last); nil or zero: no limit.
    public var idleTimeout: TimeAmount? = .seconds(180)
    public var readTimeout: TimeAmount? = .seconds(60)
    /// `transport.respondingTimeouts.writeTimeout`: from a request's head until its response is written (HTTP/1.1
    /// connections); nil: no limit.
    public var writeTimeout: TimeAmount?
    /// `http2.maxConcurrentStreams`: streams one HTTP/2 client may have open at once.
    public var maxConcurrentStreams = 250
    /// `http.sanitizePath`: `.`/`..` segments and repeated slashes are removed before routing (default true).
    public var sanitizePath = true
    /// `http.encodedCharacters`: the encoded characters a path may carry (none of the ambiguous ones by default).
    public var encodedCharacters = RequestPath.EncodedCharacters()
    /// More request headers than this are refused with 431.
    public var maxHeaderCount = 256
    /// Whose X-Forwarded-* headers are kept (`forwardedHeaders.trustedIPs` / `insecure`).
    public var forwardedHeaders = TrustedAddresses()
    /// Told of every exchange once it has ended (metrics, access log).
    public var observers: [any ExchangeObserver] = []
    /// Counts the entry point's open connections.
    public var connections: ConnectionGauge?

    public init(name: String, scheme: String = "http", responseHeaderTimeout: TimeAmount? = nil, hostname: String) {
        self.name = name
        self.scheme = scheme
        self.responseHeaderTimeout = responseHeaderTimeout
        self.hostname = hostname
    }
}

/// Addresses an entry point trusts (`trustedIPs`, or every one with `insecure`): for `forwardedHeaders`, whose
/// X-Forwarded-* headers are kept (everyone else's are replaced); for `proxyProtocol`, whose PROXY header is read.
public struct TrustedAddresses: Sendable {
    public var insecure: Bool
    public var trustedIPs: [IPNetwork]

    public init(insecure: Bool = false, trustedIPs: [IPNetwork] = []) {
        self.insecure = insecure
        self.trustedIPs = trustedIPs
    }

    public func trusts(_ address: [UInt8]) -> Bool {
        insecure || trustedIPs.contains { $0.contains(address) }
    }
}

/// Who a connection's client is, worked out once per connection: the streams of an HTTP/2 connection share it.
struct ClientIdentity {
    /// The address bytes rules and middlewares match client IPs on, and their text.
    let address: [UInt8]
    let ip: String
    /// The client is one whose X-Forwarded-* headers the entry point trusts.
    let forwardedTrusted: Bool

    /// The identity of the channel's client (the one a PROXY protocol header named, if any); nil for a channel
    /// with no remote address.
    init?(_ channel: any Channel, settings: EntryPointSettings) {
        guard let remote = channel.remoteAddress else { return nil }
        (address, ip) = (settings.proxiedClient ?? remote).clientIdentity
        forwardedTrusted = settings.forwardedHeaders.trusts(address)
    }
}

/// Converts a socket address to the bytes rules and middlewares match client IPs on.
extension SocketAddress {
    var addressBytes: [UInt8] {
        switch self {
        case .v4(let address):
            return withUnsafeBytes(of: address.address.sin_addr.s_addr) { Array($0) }
        case .v6(let address):
            return withUnsafeBytes(of: address.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return []
        }
    }

    /// The client's address bytes and text, with IPv4-mapped IPv6 addresses (from dual-stack listeners) shown
    /// as the IPv4 address they are.
    var clientIdentity: (bytes: [UInt8], text: String) {
        let bytes = addressBytes
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            let v4 = Array(bytes[12..<16])
            return (v4, v4.map(String.init).joined(separator: "."))
        }
        return (bytes, ipAddress ?? "")
    }
}
