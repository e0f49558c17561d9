/// `basicAuth`: HTTP Basic authentication against htpasswd-style users.
public struct BasicAuthMiddleware: Sendable, Hashable, Codable, ConfigModel {
    /// `name:hashed-password` entries.
    public var users: [String]?
    public var usersFile: String?
    public var realm: String?
    public var removeHeader: Bool?
    public var headerField: String?

    public init() {}
}

/// `digestAuth`: HTTP Digest authentication against htdigest-style users.
public struct DigestAuthMiddleware: Sendable, Hashable, Codable, ConfigModel {
    /// `name:realm:hashed-password` entries.
    public var users: [String]?
    public var usersFile: String?
    public var removeHeader: Bool?
    public var realm: String?
    public var headerField: String?

    public init() {}
}

/// `forwardAuth`: delegates authentication to an external HTTP service.
public struct ForwardAuthMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var address: String?
    public var tls: ForwardAuthTLS?
    public var trustForwardHeader: Bool?
    public var authResponseHeaders: [String]?
    public var authResponseHeadersRegex: String?
    public var authRequestHeaders: [String]?
    public var addAuthCookiesToResponse: [String]?
    public var forwardBody: Bool?
    /// Bytes; -1 (Traefik's default) means no limit.
    public var maxBodySize: Int64?
    public var maxResponseBodySize: Int64?
    public var headerField: String?
    public var preserveLocationHeader: Bool?
    public var preserveRequestMethod: Bool?
    public var authSigninURL: String?

    public init() {}
}

/// TLS client settings for the forwardAuth connection to the authentication server.
public struct ForwardAuthTLS: Sendable, Hashable, Codable, ConfigModel {
    public var ca: String?
    public var cert: String?
    public var key: String?
    public var insecureSkipVerify: Bool?
    /// Deprecated in Traefik (client auth is a server-side option); kept so older configurations still load.
    public var caOptional: Bool?

    public init() {}
}

/// TLS client settings (CA, client certificate and key as paths or PEM content) for an outgoing connection.
public struct ClientTLS: Sendable, Hashable, Codable, ConfigModel {
    public var ca: String?
    public var cert: String?
    public var key: String?
    public var insecureSkipVerify: Bool?

    public init() {}
}
