/// Parses Traefik v3 HTTP router rules such as
/// ``Host(`example.com`) && (PathPrefix(`/api`) || !Method(`GET`))``.
///
/// Grammar (whitespace allowed between any two tokens):
///
///     rule    := or END
///     or      := and ( "||" and )*
///     and     := unary ( "&&" unary )*
///     unary   := "!" unary | primary
///     primary := "(" or ")" | NAME "(" [ STRING ( "," STRING )* [ "," ] ] ")"
///
/// Matcher names are accepted as written, all-lowercase, ALL-UPPERCASE, or capitalised
/// (`Hostregexp`), like Traefik's `rules.NewParser`. Every error carries the 1-based column
/// where the problem is.
public enum RuleParser {
    /// Deepest nesting of `(` and `!` accepted.
    static let maxNestingDepth = 100
    /// Most matchers accepted in one rule (keeps the expression tree shallow enough to walk recursively).
    static let maxMatchers = 1000

    public static func parse(_ rule: String) throws(RuleSyntaxError) -> RuleExpression {
        var parser = ExpressionParserState<HTTPRuleVocabulary>(rule)
        return try parser.parseRule()
    }

    // MARK: - Matcher table

    /// Every accepted spelling of every matcher name.
    static let spellings: [String: RuleMatcher.Kind] = {
        var table: [String: RuleMatcher.Kind] = [:]
        for kind in RuleMatcher.Kind.allCases {
            let name = kind.rawValue
            let lower = name.lowercased()
            let title = lower.prefix(1).uppercased() + lower.dropFirst()
            for spelling in [name, lower, name.uppercased(), title] {
                table[spelling] = kind
            }
        }
        return table
    }()

    /// The argument counts Traefik v3 accepts for each matcher.
    ///
    /// Traefik's source (`pkg/muxer/http/matcher.go`) also accepts a one-argument `QueryRegexp`
    /// (behaving like `Query`), but the documentation only shows the two-argument form; we require 2.
    static func argumentCounts(_ kind: RuleMatcher.Kind) -> [Int] {
        switch kind {
        case .host, .hostRegexp, .path, .pathPrefix, .pathRegexp, .method, .clientIP: return [1]
        case .header, .headerRegexp, .queryRegexp: return [2]
        case .query: return [1, 2]
        }
    }

    static let matcherList = RuleMatcher.Kind.allCases.map(\.rawValue).joined(separator: ", ")

    /// Names that are not HTTP matchers but that people write, with what to say about them.
    static let knownMistakes: [String: String] = [
        "hostsni": "HostSNI is a TCP router matcher, not available in HTTP rules",
        "hostsniregexp": "HostSNIRegexp is a TCP router matcher, not available in HTTP rules",
        "alpn": "ALPN is a TCP router matcher, not available in HTTP rules",
        "headers": "Headers is Traefik v2 syntax; use Header",
        "headersregexp": "HeadersRegexp is Traefik v2 syntax; use HeaderRegexp",
        "hostheader": "HostHeader was removed in Traefik v3; use Host",
    ]

    static func unknownMatcherMessage(_ name: String) -> String {
        var message = "unknown matcher '\(RuleLexer.abbreviate(name))'; expected one of \(matcherList)"
        let lower = asciiLowercased(name)
        if let hint = knownMistakes[lower] {
            message += " (\(hint))"
        } else if let kind = RuleMatcher.Kind.allCases.first(where: { $0.rawValue.lowercased() == lower }) {
            message += "; did you mean '\(kind.rawValue)'? (names are accepted as written, "
                + "all-lowercase, ALL-UPPERCASE or capitalised)"
        } else if let suggestion = closestMatcher(to: lower) {
            message += "; did you mean '\(suggestion.rawValue)'?"
        }
        return message
    }

    /// The matcher whose name is within edit distance 2 of `lowercasedName`, if any (closest wins).
    static func closestMatcher(to lowercasedName: String) -> RuleMatcher.Kind? {
        let input = Array(lowercasedName.utf8)
        var best: (kind: RuleMatcher.Kind, distance: Int)?
        for kind in RuleMatcher.Kind.allCases {
            let candidate = Array(kind.rawValue.lowercased().utf8)
            guard abs(candidate.count - input.count) <= 2 else { continue }
            let distance = editDistance(input, candidate)
            if distance <= 2, distance < (best?.distance ?? Int.max) {
                best = (kind, distance)
            }
        }
        return best?.kind
    }

    static func asciiLowercased(_ text: String) -> String {
        String(decoding: text.utf8.map { ($0 >= 0x41 && $0 <= 0x5A) ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}


/// The matchers of HTTP router rules.
enum HTTPRuleVocabulary: ExpressionVocabulary {
    static let example = "Host(`example.com`)"

    static func name(_ spelled: String, column: Int) throws(RuleSyntaxError) -> RuleMatcher.Kind {
        guard let kind = RuleParser.spellings[spelled] else {
            throw RuleSyntaxError(column: column, message: RuleParser.unknownMatcherMessage(spelled))
        }
        return kind
    }

    static func display(_ kind: RuleMatcher.Kind) -> String { kind.rawValue }

    static func leaf(
        _ kind: RuleMatcher.Kind,
        arguments: [(value: String, column: Int)],
        column: Int
    ) throws(RuleSyntaxError) -> RuleMatcher {
        let name = kind.rawValue
        let counts = RuleParser.argumentCounts(kind)
        guard counts.contains(arguments.count) else {
            let expected: String
            if counts.count == 1 {
                expected = "exactly \(counts[0]) argument\(counts[0] == 1 ? "" : "s")"
            } else {
                expected = counts.map(String.init).joined(separator: " or ") + " arguments"
            }
            var message = "\(name) takes \(expected), got \(arguments.count)"
            if counts == [1], arguments.count > 1 {
                message += "; to match several values, combine matchers with ||, e.g. \(name)(`a`) || \(name)(`b`)"
            }
            throw RuleSyntaxError(column: column, message: message)
        }

        for argument in arguments where argument.value.isEmpty {
            throw RuleSyntaxError(column: argument.column, message: "empty argument for \(name)")
        }

        var values = arguments.map(\.value)
        let first = arguments[0]
        switch kind {
        case .path, .pathPrefix:
            guard first.value.hasPrefix("/") else {
                throw RuleSyntaxError(
                    column: first.column,
                    message: "\(name) argument must start with '/', got '\(RuleLexer.abbreviate(first.value))'"
                )
            }
        case .clientIP:
            guard IPNetwork(first.value) != nil else {
                throw RuleSyntaxError(
                    column: first.column,
                    message: "invalid IP address or CIDR '\(RuleLexer.abbreviate(first.value))' for ClientIP"
                )
            }
        case .host, .hostRegexp:
            guard first.value.utf8.allSatisfy({ $0 < 0x80 }) else {
                throw RuleSyntaxError(
                    column: first.column,
                    message: "non-ASCII characters are not allowed in \(name); use the punycode (xn--) form"
                )
            }
        case .method:
            values[0] = first.value.uppercased()
        case .pathRegexp, .header, .headerRegexp, .query, .queryRegexp:
            break
        }
        return RuleMatcher(kind: kind, arguments: values, column: column)
    }
}
