/// The configuration of all providers merged into one, every resource renamed `name@provider` and every reference
/// resolved to such a qualified name.
public struct MergedConfiguration: Sendable, Hashable {
    public var configuration: DynamicConfiguration
    /// Where each resource was defined, by qualified name.
    public var origins: [ResourceKey: SourceLocation]
    /// Errors the providers found while reading their sources.
    public var issues: [ConfigurationIssue]
    /// Resources a provider could not read, by qualified name, with the reason (also in `issues`).
    public var rejected: [ResourceKey: ConfigurationIssue]
    /// The provider of each entry of `configuration.tls.certificates`, in order.
    public var certificateProviders: [String] = []
    /// The providers whose snapshot is part of this merge, sorted.
    public var providers: [String]

    public init(
        configuration: DynamicConfiguration = DynamicConfiguration(),
        origins: [ResourceKey: SourceLocation] = [:],
        issues: [ConfigurationIssue] = [],
        rejected: [ResourceKey: ConfigurationIssue] = [:],
        providers: [String] = []
    ) {
        self.configuration = configuration
        self.origins = origins
        self.issues = issues
        self.rejected = rejected
        self.providers = providers
    }
}

/// Qualified resource names: `name@provider`.
public enum ResourceName {
    public static func qualify(_ name: String, in provider: String) -> String {
        name.contains("@") ? name : "\(name)@\(provider)"
    }

    /// The provider part of a qualified name, nil when there is none.
    public static func provider(of qualifiedName: String) -> String? {
        guard let at = qualifiedName.lastIndex(of: "@") else { return nil }
        return String(qualifiedName[qualifiedName.index(after: at)...])
    }

    /// The name without its provider.
    public static func bare(_ qualifiedName: String) -> String {
        guard let at = qualifiedName.lastIndex(of: "@") else { return qualifiedName }
        return String(qualifiedName[..<at])
    }
}
