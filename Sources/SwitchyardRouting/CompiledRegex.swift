import Foundation

/// A regular expression compiled once per table. Traefik's rules use Go (RE2) syntax; the subset people write in
/// rules (classes, groups, anchors, `(?P<name>...)`, `(?i)`) means the same here.
public struct CompiledRegex: @unchecked Sendable, Hashable {
    // NSRegularExpression is immutable and safe to use from several threads.
    private let expression: NSRegularExpression
    public let pattern: String

    public init(_ pattern: String) throws(RegexError) {
        let translated = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            expression = try NSRegularExpression(pattern: translated)
        } catch {
            throw RegexError(pattern: pattern)
        }
        self.pattern = pattern
    }

    public func matches<S: StringProtocol>(_ text: S) -> Bool {
        let string = String(text)
        return expression.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }

    public static func == (lhs: CompiledRegex, rhs: CompiledRegex) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
}

public struct RegexError: Error, Sendable, CustomStringConvertible {
    public var pattern: String
    public var description: String { "invalid regular expression '\(pattern)'" }
}
