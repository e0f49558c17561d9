/// `redirectRegex`: redirects when the full request URL matches a regular expression.
public struct RedirectRegexMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var regex: String?
    public var replacement: String?
    public var permanent: Bool?

    public init() {}
}

/// `redirectScheme`: redirects to another scheme (and optionally port).
public struct RedirectSchemeMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var scheme: String?
    /// A string in Traefik (`"443"`).
    public var port: String?
    public var permanent: Bool?

    public init() {}
}
