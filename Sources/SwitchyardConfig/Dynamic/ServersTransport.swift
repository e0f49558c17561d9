/// An HTTP servers transport: TLS and timeouts for connections from the proxy to servers.
public struct ServersTransport: Sendable, Hashable, Codable, ConfigModel {
    public var serverName: String?
    public var insecureSkipVerify: Bool?
    public var rootCAs: [String]?
    public var certificates: [TLSCertificateFiles]?
    public var maxIdleConnsPerHost: Int?
    public var forwardingTimeouts: ForwardingTimeouts?
    public var disableHTTP2: Bool?
    /// Deprecated in favour of `peerCertSANs`.
    public var peerCertURI: String?
    public var peerCertSANs: [PeerCertSAN]?
    public var spiffe: SpiffeOptions?
    public var cipherSuites: [String]?
    public var minVersion: String?
    public var maxVersion: String?

    public init() {}
}

/// `forwardingTimeouts` of an HTTP servers transport.
public struct ForwardingTimeouts: Sendable, Hashable, Codable, ConfigModel {
    public var dialTimeout: ConfigDuration?
    public var responseHeaderTimeout: ConfigDuration?
    public var idleConnTimeout: ConfigDuration?
    public var readIdleTimeout: ConfigDuration?
    public var pingTimeout: ConfigDuration?
    public var readTimeout: ConfigDuration?
    public var writeTimeout: ConfigDuration?

    public init() {}
}

/// A subject alternative name the server certificate must carry.
public struct PeerCertSAN: Sendable, Hashable, Codable, ConfigModel {
    /// `URI` or `DNSName`.
    public var type: String?
    public var value: String?

    public init() {}
}

/// `spiffe`: accept servers whose SPIFFE ID is listed or belongs to the trust domain.
public struct SpiffeOptions: Sendable, Hashable, Codable, ConfigModel {
    public var ids: [String]?
    public var trustDomain: String?

    public init() {}
}
