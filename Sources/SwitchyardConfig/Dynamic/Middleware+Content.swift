/// `compress`: compresses responses (gzip, br, zstd) for clients that accept it.
public struct CompressMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var excludedContentTypes: [String]?
    public var includedContentTypes: [String]?
    public var minResponseBodyBytes: Int?
    public var encodings: [String]?
    public var defaultEncoding: String?

    public init() {}
}

/// `contentType`: re-enables sniffing the `Content-Type` of responses that have none.
public struct ContentTypeMiddleware: Sendable, Hashable, Codable, ConfigModel {
    /// Deprecated in Traefik v3 (the middleware's presence enables detection); kept so older configurations load.
    public var autoDetect: Bool?

    public init() {}
}

/// `errors`: serves an error page from another service for the listed statuses.
public struct ErrorsMiddleware: Sendable, Hashable, Codable, ConfigModel {
    /// Codes or ranges, e.g. `"500"`, `"500-599"`.
    public var status: [String]?
    /// Maps an original status or range (`"418"`, `"502-504"`) to the status sent to the client.
    public var statusRewrites: [String: Int]?
    public var service: String?
    public var query: String?
    /// Request headers forwarded to the error service; unset forwards all of them.
    public var errorRequestHeaders: [String]?

    public init() {}
}

/// `grpcWeb`: translates gRPC-Web requests to gRPC.
public struct GrpcWebMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var allowOrigins: [String]?

    public init() {}
}

/// `passTLSClientCert`: passes the client certificate (PEM and/or selected fields) to the service in headers.
public struct PassTLSClientCertMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var pem: Bool?
    public var info: TLSClientCertificateInfo?

    public init() {}
}

/// Which client-certificate fields `passTLSClientCert` puts in `X-Forwarded-Tls-Client-Cert-Info`.
public struct TLSClientCertificateInfo: Sendable, Hashable, Codable, ConfigModel {
    public var notAfter: Bool?
    public var notBefore: Bool?
    public var sans: Bool?
    public var serialNumber: Bool?
    public var subject: TLSClientCertificateSubjectInfo?
    public var issuer: TLSClientCertificateIssuerInfo?

    public init() {}
}

/// Which subject distinguished-name fields to pass.
public struct TLSClientCertificateSubjectInfo: Sendable, Hashable, Codable, ConfigModel {
    public var country: Bool?
    public var province: Bool?
    public var locality: Bool?
    public var organization: Bool?
    public var organizationalUnit: Bool?
    public var commonName: Bool?
    public var serialNumber: Bool?
    public var domainComponent: Bool?

    public init() {}
}

/// Which issuer distinguished-name fields to pass (Traefik has no `organizationalUnit` here).
public struct TLSClientCertificateIssuerInfo: Sendable, Hashable, Codable, ConfigModel {
    public var country: Bool?
    public var province: Bool?
    public var locality: Bool?
    public var organization: Bool?
    public var commonName: Bool?
    public var serialNumber: Bool?
    public var domainComponent: Bool?

    public init() {}
}

/// `encodedCharacters`: which reserved percent-encoded characters are allowed in the request path.
public struct EncodedCharactersMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var allowEncodedSlash: Bool?
    public var allowEncodedBackSlash: Bool?
    public var allowEncodedNullCharacter: Bool?
    public var allowEncodedSemicolon: Bool?
    public var allowEncodedPercent: Bool?
    public var allowEncodedQuestionMark: Bool?
    public var allowEncodedHash: Bool?

    public init() {}
}

/// `chain`: runs a list of other middlewares in order.
public struct ChainMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var middlewares: [String]?

    public init() {}
}
