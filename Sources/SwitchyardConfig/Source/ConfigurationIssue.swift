/// An error or warning found in configuration, tied to where it came from and, when known, the key path inside it.
public struct ConfigurationIssue: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    /// File and position, container and label key, or Kubernetes namespace/name.
    public var location: SourceLocation
    /// Dotted path of the key in the dynamic configuration, e.g. `http.routers.app.rule`.
    public var keyPath: String?
    public var message: String

    public init(_ severity: Severity = .error, at location: SourceLocation, keyPath: String? = nil, message: String) {
        self.severity = severity
        self.location = location
        self.keyPath = keyPath
        self.message = message
    }

    public var description: String {
        var text = "\(location)"
        if let keyPath, !keyPath.isEmpty { text += ": \(keyPath)" }
        return "\(text): \(message)"
    }
}
