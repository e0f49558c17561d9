/// A configuration value of no fixed schema (plugin options and similar): kept as written, compared by value.
public enum AnyConfigValue: Sendable, Hashable, Codable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case list([AnyConfigValue])
    case map([String: AnyConfigValue])
    case null

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var map: [String: AnyConfigValue] = [:]
            for key in keyed.allKeys { map[key.stringValue] = try keyed.decode(AnyConfigValue.self, forKey: key) }
            self = .map(map)
            return
        }
        // Scalars before lists: a decoder may present a single value as a list of one.
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null; return }
        if let bool = try? single.decode(Bool.self) { self = .bool(bool); return }
        if let number = try? single.decode(Double.self) { self = .number(number); return }
        if let string = try? single.decode(String.self) { self = .string(string); return }
        var unkeyed = try decoder.unkeyedContainer()
        var list: [AnyConfigValue] = []
        while !unkeyed.isAtEnd { list.append(try unkeyed.decode(AnyConfigValue.self)) }
        self = .list(list)
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .string(let value): var c = encoder.singleValueContainer(); try c.encode(value)
        case .number(let value): var c = encoder.singleValueContainer(); try c.encode(value)
        case .bool(let value): var c = encoder.singleValueContainer(); try c.encode(value)
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .list(let values): var c = encoder.unkeyedContainer(); for v in values { try c.encode(v) }
        case .map(let values):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in values { try c.encode(v, forKey: AnyKey(k)) }
        }
    }
}

/// A coding key that accepts any string.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = String(intValue) }
}
