/// A token of the rule language, with the 1-based column (in characters) where it starts.
struct RuleToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        /// A run of letters, digits and `_` (a matcher name, or a mistake such as an unquoted value).
        case word(String)
        /// A quoted argument, already decoded.
        case string(String)
        case leftParen, rightParen, comma
        case and, or, not
        case end
    }

    var kind: Kind
    var column: Int

    /// How the token is named in error messages ("found …").
    var display: String {
        switch kind {
        case .word(let word): return "'\(RuleLexer.abbreviate(word))'"
        case .string: return "a quoted string"
        case .leftParen: return "'('"
        case .rightParen: return "')'"
        case .comma: return "','"
        case .and: return "'&&'"
        case .or: return "'||'"
        case .not: return "'!'"
        case .end: return "the end of the rule"
        }
    }
}

/// Splits rule text into tokens on demand, so errors come out in text order.
///
/// Strings follow Go's literal syntax, as Traefik's parser (go/parser via vulcand/predicate) does:
/// backtick strings are raw (no escapes; carriage returns dropped) and double-quoted strings take
/// Go escapes (`\a \b \f \n \r \t \v \\ \"`, `\xHH`, `\OOO`, `\uHHHH`, `\UHHHHHHHH`).
struct RuleLexer {
    private let chars: [Character]
    private var index = 0

    init(_ text: String) {
        chars = Array(text)
    }

    /// The column just past the last character, used for "found the end of the rule" errors.
    var endColumn: Int { chars.count + 1 }

    mutating func next() throws(RuleSyntaxError) -> RuleToken {
        while index < chars.count, Self.isSpace(chars[index]) {
            index += 1
        }
        guard index < chars.count else {
            return RuleToken(kind: .end, column: endColumn)
        }
        let column = index + 1
        let c = chars[index]
        switch c {
        case "(":
            index += 1
            return RuleToken(kind: .leftParen, column: column)
        case ")":
            index += 1
            return RuleToken(kind: .rightParen, column: column)
        case ",":
            index += 1
            return RuleToken(kind: .comma, column: column)
        case "!":
            index += 1
            return RuleToken(kind: .not, column: column)
        case "&":
            if index + 1 < chars.count, chars[index + 1] == "&" {
                index += 2
                return RuleToken(kind: .and, column: column)
            }
            throw RuleSyntaxError(column: column, message: "'&' is not an operator; use '&&' for AND")
        case "|":
            if index + 1 < chars.count, chars[index + 1] == "|" {
                index += 2
                return RuleToken(kind: .or, column: column)
            }
            throw RuleSyntaxError(column: column, message: "'|' is not an operator; use '||' for OR")
        case "`":
            return try lexRawString()
        case "\"":
            return try lexInterpretedString()
        case "'", "\u{2018}", "\u{2019}":
            throw RuleSyntaxError(
                column: column,
                message: "single quotes are not allowed; quote arguments with backticks (`) or double quotes (\")"
            )
        default:
            if Self.isWordCharacter(c) {
                var end = index
                while end < chars.count, Self.isWordCharacter(chars[end]) {
                    end += 1
                }
                let word = String(chars[index..<end])
                index = end
                return RuleToken(kind: .word(word), column: column)
            }
            throw RuleSyntaxError(column: column, message: "unexpected character '\(Self.escaped(c))'")
        }
    }

    // MARK: - Strings

    private mutating func lexRawString() throws(RuleSyntaxError) -> RuleToken {
        let column = index + 1
        var value = ""
        var i = index + 1
        while i < chars.count {
            let c = chars[i]
            if c == "`" {
                index = i + 1
                return RuleToken(kind: .string(value), column: column)
            }
            // Go drops carriage returns from raw strings.
            if c == "\r\n" {
                value.append("\n")
            } else if c != "\r" {
                value.append(c)
            }
            i += 1
        }
        throw RuleSyntaxError(column: column, message: "unterminated backtick string; expected a closing '`'")
    }

    private mutating func lexInterpretedString() throws(RuleSyntaxError) -> RuleToken {
        let column = index + 1
        var bytes: [UInt8] = []
        var i = index + 1
        while i < chars.count {
            let c = chars[i]
            if c == "\"" {
                index = i + 1
                return RuleToken(kind: .string(String(decoding: bytes, as: UTF8.self)), column: column)
            }
            if c == "\n" || c == "\r\n" {
                throw RuleSyntaxError(
                    column: i + 1,
                    message: "newline in double-quoted string; expected a closing '\"' (use \\n for a newline)"
                )
            }
            if c != "\\" {
                bytes.append(contentsOf: c.utf8)
                i += 1
                continue
            }
            // Escape sequence.
            let escapeColumn = i + 1
            guard i + 1 < chars.count else { break }
            let e = chars[i + 1]
            i += 2
            switch e {
            case "a": bytes.append(0x07)
            case "b": bytes.append(0x08)
            case "f": bytes.append(0x0C)
            case "n": bytes.append(0x0A)
            case "r": bytes.append(0x0D)
            case "t": bytes.append(0x09)
            case "v": bytes.append(0x0B)
            case "\\": bytes.append(0x5C)
            case "\"": bytes.append(0x22)
            case "x":
                guard let value = digits(at: i, count: 2, radix: 16), value <= 0xFF else {
                    throw RuleSyntaxError(column: escapeColumn, message: "invalid escape sequence: \\x needs exactly 2 hex digits")
                }
                bytes.append(UInt8(value))
                i += 2
            case "0", "1", "2", "3", "4", "5", "6", "7":
                guard let value = digits(at: i - 1, count: 3, radix: 8), value <= 0xFF else {
                    throw RuleSyntaxError(
                        column: escapeColumn,
                        message: "invalid escape sequence: an octal escape needs exactly 3 digits, at most \\377"
                    )
                }
                bytes.append(UInt8(value))
                i += 2
            case "u", "U":
                let count = e == "u" ? 4 : 8
                guard let value = digits(at: i, count: count, radix: 16),
                      let scalar = Unicode.Scalar(UInt32(value))
                else {
                    throw RuleSyntaxError(
                        column: escapeColumn,
                        message: "invalid escape sequence: \\\(e) needs exactly \(count) hex digits naming a Unicode scalar"
                    )
                }
                bytes.append(contentsOf: String(Character(scalar)).utf8)
                i += count
            default:
                throw RuleSyntaxError(
                    column: escapeColumn,
                    message: "invalid escape sequence '\\\(Self.escaped(e))' in double-quoted string; "
                        + "valid escapes are \\\" \\\\ \\n \\t \\r \\a \\b \\f \\v \\xHH \\OOO \\uHHHH \\UHHHHHHHH"
                )
            }
        }
        throw RuleSyntaxError(column: column, message: "unterminated double-quoted string; expected a closing '\"'")
    }

    /// Exactly `count` ASCII digits in `radix` starting at `start`, or nil.
    private func digits(at start: Int, count: Int, radix: Int) -> Int? {
        guard start >= 0, start + count <= chars.count else { return nil }
        var value = 0
        for c in chars[start..<(start + count)] {
            guard c.isASCII, let digit = c.hexDigitValue, digit < radix else { return nil }
            value = value * radix + digit
        }
        return value
    }

    // MARK: - Character classes

    /// Go's whitespace between tokens: space, tab, newline, carriage return.
    static func isSpace(_ c: Character) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\r\n"
    }

    static func isWordCharacter(_ c: Character) -> Bool {
        c == "_" || c.isLetter || (c.isASCII && c.isNumber)
    }

    /// The character with control and non-printing scalars escaped.
    static func escaped(_ c: Character) -> String {
        if c.isASCII, !(c.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? true) {
            return String(c)
        }
        if c.isLetter || c.isPunctuation || c.isSymbol || c.isNumber {
            return String(c)
        }
        return c.unicodeScalars.map { $0.escaped(asASCII: true) }.joined()
    }

    /// Shortens long text for error messages.
    static func abbreviate(_ text: String, limit: Int = 40) -> String {
        text.count <= limit ? text : String(text.prefix(limit)) + "…"
    }
}
