/// `addPrefix`: prepends a prefix to the request path.
public struct AddPrefixMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var prefix: String?

    public init() {}
}

/// `stripPrefix`: removes the first matching prefix from the path (sets `X-Forwarded-Prefix`).
public struct StripPrefixMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var prefixes: [String]?
    /// Deprecated since Traefik v3 (kept so v2-era configurations still load).
    public var forceSlash: Bool?

    public init() {}
}

/// `stripPrefixRegex`: removes the first prefix matching one of the regular expressions.
public struct StripPrefixRegexMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var regex: [String]?

    public init() {}
}

/// `replacePath`: replaces the whole path (the original goes to `X-Replaced-Path`).
public struct ReplacePathMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var path: String?

    public init() {}
}

/// `replacePathRegex`: rewrites the path with a regular expression and replacement.
public struct ReplacePathRegexMiddleware: Sendable, Hashable, Codable, ConfigModel {
    public var regex: String?
    public var replacement: String?

    public init() {}
}
