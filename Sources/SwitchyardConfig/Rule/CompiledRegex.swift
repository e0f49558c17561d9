import Foundation

/// A regular expression compiled once per table. Traefik's rules use Go (RE2) syntax; the subset people write in
/// rules (classes, groups, anchors, `(?P<name>...)`, `(?i)`) means the same here.
public struct CompiledRegex: @unchecked Sendable, Hashable {
    // NSRegularExpression is immutable and safe to use from several threads.
    private let expression: NSRegularExpression
    public let pattern: String
    /// Capture group numbers by name, for `${name}` in replacements.
    private let groupNumbers: [String: Int]

    public init(_ pattern: String) throws(RegexError) {
        let translated = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            expression = try NSRegularExpression(pattern: translated)
        } catch {
            throw RegexError(pattern: pattern)
        }
        self.pattern = pattern
        self.groupNumbers = Self.namedGroups(in: translated)
    }

    /// Numbers the capture groups of `pattern` in order of their opening parenthesis and returns the named ones.
    static func namedGroups(in pattern: String) -> [String: Int] {
        var names: [String: Int] = [:]
        var number = 0
        var inClass = false
        let characters = Array(pattern)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\" {
                index += 2
                continue
            }
            if inClass {
                if character == "]" { inClass = false }
            } else if character == "[" {
                inClass = true
            } else if character == "(" {
                let rest = characters[(index + 1)...]
                if rest.first != "?" {
                    number += 1
                } else if rest.starts(with: ["?", "<"]), rest.count > 2, rest[rest.startIndex + 2] != "=",
                    rest[rest.startIndex + 2] != "!"
                {
                    number += 1
                    let nameStart = rest.startIndex + 2
                    if let close = rest[nameStart...].firstIndex(of: ">") {
                        names[String(rest[nameStart..<close])] = number
                    }
                }
            }
            index += 1
        }
        return names
    }

    public func matches<S: StringProtocol>(_ text: S) -> Bool {
        let string = String(text)
        return expression.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }

    /// The range of the first match in `text`, nil when there is none.
    public func firstMatch(in text: String) -> Range<String.Index>? {
        guard let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
        return Range(match.range, in: text)
    }

    /// `text` with every match replaced by `template`, where `$1`, `${1}` and `${name}` name capture groups, as in
    /// Go's `Regexp.ReplaceAllString`. Nil when the expression does not match.
    public func replacingMatches(in text: String, with template: String) -> String? {
        let range = NSRange(text.startIndex..., in: text)
        guard expression.firstMatch(in: text, range: range) != nil else { return nil }
        let icu = Self.icuTemplate(template, groups: groupNumbers)
        return expression.stringByReplacingMatches(in: text, range: range, withTemplate: icu)
    }

    /// Go's `${1}` and `${name}` → ICU's `$1` (names by their group number); a literal `\` is escaped. An unknown
    /// name stands for the empty string, as in Go.
    static func icuTemplate(_ template: String, groups: [String: Int] = [:]) -> String {
        var result = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            if character == "\\" {
                result += "\\\\"
            } else if character == "$", template[template.index(after: index)...].hasPrefix("{"),
                let close = template[index...].firstIndex(of: "}")
            {
                let name = template[template.index(index, offsetBy: 2)..<close]
                if name.allSatisfy(\.isNumber) {
                    result += "$\(name)"
                } else if let number = groups[String(name)] {
                    result += "$\(number)"
                }
                index = template.index(after: close)
                continue
            } else {
                result.append(character)
            }
            index = template.index(after: index)
        }
        return result
    }

    public static func == (lhs: CompiledRegex, rhs: CompiledRegex) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }
}

public struct RegexError: Error, Sendable, CustomStringConvertible {
    public var pattern: String
    public var description: String { "invalid regular expression '\(pattern)'" }
}
