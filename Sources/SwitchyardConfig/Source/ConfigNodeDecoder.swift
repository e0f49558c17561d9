import Foundation

/// A configuration type whose keys can be listed (its stored properties, read from a default instance), so the
/// decoder can accept keys in any letter case, as Traefik does, and suggest the right key for a typo.
public protocol ConfigModel {
    init()
}

/// Decodes `Decodable` configuration types from a `ConfigNode` tree. Unknown keys, wrong types and bad values are
/// reported as a `ConfigurationIssue` naming the file, line and key path.
public enum ConfigNodeDecoder {
    /// `commaSeparatedLists`: a single value where a list is expected is split at commas, as labels and flags
    /// write lists (`entrypoints=web, websecure`).
    public static func decode<T: Decodable>(
        _ type: T.Type,
        from node: ConfigNode,
        keyPath: [String] = [],
        commaSeparatedLists: Bool = false
    ) throws(ConfigurationIssue) -> T {
        do {
            return try NodeDecoder(node: node, path: keyPath, commaSeparatedLists: commaSeparatedLists)
                .decodeValue(T.self)
        } catch let issue as ConfigurationIssue {
            throw issue
        } catch {
            throw ConfigurationIssue(at: node.location, keyPath: render(keyPath), message: "\(error)")
        }
    }

    static func render(_ path: [String]) -> String {
        var text = ""
        for part in path {
            if part.hasPrefix("[") { text += part } else if text.isEmpty { text = part } else { text += "." + part }
        }
        return text
    }
}

/// A dictionary behind a lock, for values computed once and read from any thread.
final class LockedCache<Key: Hashable, Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Key: Value] = [:]

    func withLock<Result>(_ body: (inout [Key: Value]) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&values)
    }
}

private struct KnownKeys {
    let names: [String]
    let byLowercase: [String: String]

    init(_ names: [String]) {
        self.names = names
        var map: [String: String] = [:]
        for name in names { map[name.lowercased()] = name }
        self.byLowercase = map
    }

    func suggestion(for key: String) -> String? {
        let lower = key.lowercased()
        let best = names.map { ($0, editDistance(lower, $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= max(2, lower.count / 4) else { return nil }
        return best.0
    }
}

private struct NodeDecoder: Decoder {
    let node: ConfigNode
    let path: [String]
    let commaSeparatedLists: Bool
    var knownKeys: KnownKeys?

    init(node: ConfigNode, path: [String], commaSeparatedLists: Bool, knownKeys: KnownKeys? = nil) {
        self.node = node
        self.path = path
        self.commaSeparatedLists = commaSeparatedLists
        self.knownKeys = knownKeys
    }

    var codingPath: [any CodingKey] { path.map { AnyKey($0) } }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func issue(_ message: String, at location: SourceLocation? = nil) -> ConfigurationIssue {
        ConfigurationIssue(at: location ?? node.location, keyPath: ConfigNodeDecoder.render(path), message: message)
    }

    /// Decodes a child value, turning errors thrown by custom `init(from:)` into issues with this node's position.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        var decoder = self
        if let model = T.self as? any ConfigModel.Type {
            decoder.knownKeys = Self.keys(of: model)
        }
        do {
            return try T(from: decoder)
        } catch let issue as ConfigurationIssue {
            throw issue
        } catch let error as DecodingError {
            throw issue(Self.describe(error))
        }
    }

    private static func keys(of model: any ConfigModel.Type) -> KnownKeys {
        let id = ObjectIdentifier(model)
        if let known = knownKeysCache.withLock({ $0[id] }) { return known }
        let known = KnownKeys(Mirror(reflecting: model.init()).children.compactMap { $0.label })
        knownKeysCache.withLock { $0[id] = known }
        return known
    }

    /// The keys of each model type, read once: a configuration of 10,000 routers decodes 10,000 of each.
    private static let knownKeysCache = LockedCache<ObjectIdentifier, KnownKeys>()

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
            .keyNotFound(_, let context):
            return context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    func child(_ node: ConfigNode, key: String) -> NodeDecoder {
        NodeDecoder(node: node, path: path + [key], commaSeparatedLists: commaSeparatedLists)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries) = node.value else {
            if case .null = node.value {
                return KeyedDecodingContainer(KeyedNodeContainer<Key>(decoder: self, entries: [:]))
            }
            throw issue("expected a mapping of keys, found \(node.kindName)")
        }
        var byKey: [String: ConfigNode.Entry] = [:]
        for entry in entries {
            var key = entry.key
            if Key(stringValue: key) == nil {
                if let known = knownKeys, let canonical = known.byLowercase[key.lowercased()] {
                    key = canonical
                } else {
                    var message = "unknown key '\(entry.key)'"
                    if let suggestion = knownKeys?.suggestion(for: entry.key) { message += "; did you mean '\(suggestion)'?" }
                    throw ConfigurationIssue(
                        at: entry.keyLocation,
                        keyPath: ConfigNodeDecoder.render(path + [entry.key]),
                        message: message
                    )
                }
            }
            if byKey[key] != nil {
                throw ConfigurationIssue(
                    at: entry.keyLocation,
                    keyPath: ConfigNodeDecoder.render(path + [entry.key]),
                    message: "key '\(entry.key)' is given twice"
                )
            }
            byKey[key] = ConfigNode.Entry(key: key, keyLocation: entry.keyLocation, value: entry.value)
        }
        return KeyedDecodingContainer(KeyedNodeContainer<Key>(decoder: self, entries: byKey))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch node.value {
        case .sequence(let items): return UnkeyedNodeContainer(decoder: self, items: items)
        case .null: return UnkeyedNodeContainer(decoder: self, items: [])
        // A single value where a list is expected is a list of one, or a comma-separated list from labels and flags.
        case .scalar(let text):
            guard commaSeparatedLists else { return UnkeyedNodeContainer(decoder: self, items: [node]) }
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return UnkeyedNodeContainer(decoder: self, items: items.map { ConfigNode(.scalar($0), at: node.location) })
        case .mapping: throw issue("expected a list, found a mapping")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleNodeContainer(decoder: self) }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let entries: [String: ConfigNode.Entry]

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.keys.sorted().compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { entries[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let entry = entries[key.stringValue] else { return true }
        if case .null = entry.value.value { return true }
        return false
    }

    /// `true` where a section is expected turns it on with its defaults, `false` leaves it off, as Traefik's
    /// presence flags (`--ping=true`, `...routers.r.tls=true`) do.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let entry = entries[key.stringValue] else { return nil }
        if case .null = entry.value.value { return nil }
        if T.self is any ConfigModel.Type, case .scalar(let text) = entry.value.value {
            switch text.lowercased() {
            case "false": return nil
            case "true":
                let empty = ConfigNode(.mapping([]), at: entry.value.location)
                return try decoder.child(empty, key: key.stringValue).decodeValue(T.self)
            default: break
            }
        }
        return try decoder.child(entry.value, key: key.stringValue).decodeValue(T.self)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let entry = entries[key.stringValue] else {
            throw decoder.issue("missing key '\(key.stringValue)'")
        }
        return try decoder.child(entry.value, key: key.stringValue).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        guard let entry = entries[key.stringValue] else { throw decoder.issue("missing key '\(key.stringValue)'") }
        return try decoder.child(entry.value, key: key.stringValue).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard let entry = entries[key.stringValue] else { throw decoder.issue("missing key '\(key.stringValue)'") }
        return try decoder.child(entry.value, key: key.stringValue).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        guard let entry = entries[key.stringValue] else { throw decoder.issue("missing key '\(key.stringValue)'") }
        return decoder.child(entry.value, key: key.stringValue)
    }
}

private struct UnkeyedNodeContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [ConfigNode]
    var currentIndex = 0

    init(decoder: NodeDecoder, items: [ConfigNode]) {
        self.decoder = decoder
        self.items = items
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else { throw decoder.issue("the list has fewer items than expected") }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: "[\(currentIndex)]")
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return true }
        if case .null = items[currentIndex].value {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    { try next().container(keyedBy: type) }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleNodeContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        if case .null = decoder.node.value { return true }
        return false
    }

    private func scalar(_ expected: String) throws -> String {
        switch decoder.node.value {
        case .scalar(let text): return text
        default: throw decoder.issue("expected \(expected), found \(decoder.node.kindName)")
        }
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        switch try scalar("true or false").lowercased() {
        case "true": return true
        case "false": return false
        case let other: throw decoder.issue("expected true or false, found '\(other)'")
        }
    }

    func decode(_ type: String.Type) throws -> String { try scalar("a string") }

    func decode(_ type: Double.Type) throws -> Double {
        let text = try scalar("a number")
        guard let value = Double(text) else { throw decoder.issue("expected a number, found '\(text)'") }
        return value
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let text = try scalar("a whole number")
        guard let value = T(text) else {
            throw decoder.issue("expected a whole number in range \(T.min)...\(T.max), found '\(text)'")
        }
        return value
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(T.self) }
}
