/// Where a piece of configuration came from: a file and a position in it, or a description of another source
/// (a container and label key, a Kubernetes object).
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var source: String
    public var line: Int?
    public var column: Int?

    public init(source: String, line: Int? = nil, column: Int? = nil) {
        self.source = source
        self.line = line
        self.column = column
    }

    public var description: String {
        switch (line, column) {
        case let (line?, column?): return "\(source):\(line):\(column)"
        case let (line?, nil): return "\(source):\(line)"
        default: return source
        }
    }
}

/// A parsed configuration document, independent of its syntax (YAML, TOML, JSON, labels), with the position of
/// every node so that errors can name file and line.
public struct ConfigNode: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        case scalar(String)
        case mapping([Entry])
        case sequence([ConfigNode])
        case null
    }

    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: ConfigNode

        public init(key: String, keyLocation: SourceLocation, value: ConfigNode) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    public var kindName: String {
        switch value {
        case .scalar: return "a value"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .null: return "nothing"
        }
    }
}
