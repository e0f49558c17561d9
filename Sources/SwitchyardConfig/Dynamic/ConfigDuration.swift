/// A duration as Traefik writes it: a Go duration string (`10s`, `500ms`, `1m30s`, `2h`) or a bare
/// number of seconds. Keeps the text it was read from so the API shows what the user wrote.
public struct ConfigDuration: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Length in nanoseconds.
    public var nanoseconds: Int64
    public var description: String

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
        self.description = ConfigDuration.format(nanoseconds)
    }

    public static func seconds(_ seconds: Int64) -> ConfigDuration { ConfigDuration(nanoseconds: seconds * 1_000_000_000) }
    public static func milliseconds(_ ms: Int64) -> ConfigDuration { ConfigDuration(nanoseconds: ms * 1_000_000) }

    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// Parses `text`; nil when it is not a duration.
    public init?(parsing text: String) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        if let seconds = Int64(trimmed) {
            self.init(nanoseconds: seconds * 1_000_000_000)
            self.description = trimmed
            return
        }
        var rest = Substring(trimmed)
        var negative = false
        if rest.first == "-" { negative = true; rest = rest.dropFirst() } else if rest.first == "+" { rest = rest.dropFirst() }
        var total: Double = 0
        var sawComponent = false
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            total += value * scale
            sawComponent = true
        }
        guard sawComponent, total < 9.2e18 else { return nil }
        self.init(nanoseconds: Int64(negative ? -total : total))
        self.description = trimmed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Int64.self) {
            self.init(nanoseconds: seconds * 1_000_000_000)
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = ConfigDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a duration (examples: 10s, 500ms, 1m30s, or a number of seconds)"
            )
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func == (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool { lhs.nanoseconds == rhs.nanoseconds }
    public func hash(into hasher: inout Hasher) { hasher.combine(nanoseconds) }

    static func format(_ nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(nanoseconds)ns"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }
}
