/// `headers`: custom request/response headers, CORS and security headers.
public struct HeadersMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var customRequestHeaders: [String: String]?
    public var customResponseHeaders: [String: String]?

    public var accessControlAllowCredentials: Bool?
    public var accessControlAllowHeaders: [String]?
    public var accessControlAllowMethods: [String]?
    public var accessControlAllowOriginList: [String]?
    public var accessControlAllowOriginListRegex: [String]?
    public var accessControlExposeHeaders: [String]?
    public var accessControlMaxAge: Int64?
    public var addVaryHeader: Bool?

    public var allowedHosts: [String]?
    public var hostsProxyHeaders: [String]?
    public var sslProxyHeaders: [String: String]?
    public var stsSeconds: Int64?
    public var stsIncludeSubdomains: Bool?
    public var stsPreload: Bool?
    public var forceSTSHeader: Bool?
    public var frameDeny: Bool?
    public var customFrameOptionsValue: String?
    public var contentTypeNosniff: Bool?
    public var browserXssFilter: Bool?
    public var customBrowserXSSValue: String?
    public var contentSecurityPolicy: String?
    public var contentSecurityPolicyReportOnly: String?
    public var publicKey: String?
    public var referrerPolicy: String?
    public var permissionsPolicy: String?
    public var isDevelopment: Bool?

    /// Deprecated (use `permissionsPolicy`); kept so older configurations still load.
    public var featurePolicy: String?
    /// Deprecated (use the redirectScheme middleware); kept so older configurations still load.
    public var sslRedirect: Bool?
    /// Deprecated (use the redirectScheme middleware); kept so older configurations still load.
    public var sslTemporaryRedirect: Bool?
    /// Deprecated (use the redirectRegex middleware); kept so older configurations still load.
    public var sslHost: String?
    /// Deprecated (use the redirectRegex middleware); kept so older configurations still load.
    public var sslForceHost: Bool?

    public init() {}
}
