/// The `tls` section: certificates, named TLS options and certificate stores.
public struct TLSConfiguration: Sendable, Hashable, Codable, ConfigModel {
    public var certificates: [TLSCertificateConfig]?
    public var options: [String: TLSOptions]?
    public var stores: [String: TLSStore]?

    public init() {}
}

/// A certificate and key (paths or PEM content) and the stores that hold it.
public struct TLSCertificateConfig: Sendable, Hashable, Codable, ConfigModel {
    public var certFile: String?
    public var keyFile: String?
    public var stores: [String]?

    public init() {}
}

/// A certificate/key pair (paths or PEM content), e.g. a client certificate or a store's default certificate.
public struct TLSCertificateFiles: Sendable, Hashable, Codable, ConfigModel {
    public var certFile: String?
    public var keyFile: String?

    public init() {}
}

/// Named TLS options: versions, ciphers, curves, client authentication, SNI strictness and ALPN.
public struct TLSOptions: Sendable, Hashable, Codable, ConfigModel {
    public var minVersion: String?
    public var maxVersion: String?
    public var cipherSuites: [String]?
    public var curvePreferences: [String]?
    public var clientAuth: TLSClientAuth?
    public var sniStrict: Bool?
    public var alpnProtocols: [String]?
    public var disableSessionTickets: Bool?
    /// Deprecated (ignored by Go's TLS stack); kept so older configurations still load.
    public var preferServerCipherSuites: Bool?

    public init() {}
}

/// `clientAuth`: CAs and policy for client certificates (mTLS).
public struct TLSClientAuth: Sendable, Hashable, Codable, ConfigModel {
    public var caFiles: [String]?
    /// `NoClientCert`, `RequestClientCert`, `RequireAnyClientCert`, `VerifyClientCertIfGiven`
    /// or `RequireAndVerifyClientCert`.
    public var clientAuthType: String?

    public init() {}
}

/// A certificate store (only `default` is honoured): its fallback certificate.
public struct TLSStore: Sendable, Hashable, Codable, ConfigModel {
    public var defaultCertificate: TLSCertificateFiles?
    public var defaultGeneratedCert: TLSGeneratedCert?

    public init() {}
}

/// `defaultGeneratedCert`: obtain the store's default certificate from a certificate resolver.
public struct TLSGeneratedCert: Sendable, Hashable, Codable, ConfigModel {
    public var resolver: String?
    public var domain: TLSDomain?

    public init() {}
}

/// A domain for a certificate: main name and subject alternative names.
public struct TLSDomain: Sendable, Hashable, Codable, ConfigModel {
    public var main: String?
    public var sans: [String]?

    public init() {}
}
