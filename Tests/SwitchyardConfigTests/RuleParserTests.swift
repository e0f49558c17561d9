import Testing
@testable import SwitchyardConfig

/// Compact text form of a parsed rule, used to write expected trees as table rows:
/// matchers print as `Name[arg|arg]@column`, operators as `and(…)`, `or(…)`, `not(…)`.
private func render(_ expression: RuleExpression) -> String {
    switch expression {
    case .matcher(let m):
        return "\(m.kind.rawValue)[\(m.arguments.joined(separator: "|"))]@\(m.column)"
    case .not(let inner):
        return "not(\(render(inner)))"
    case .and(let l, let r):
        return "and(\(render(l)), \(render(r)))"
    case .or(let l, let r):
        return "or(\(render(l)), \(render(r)))"
    }
}

private func parseError(_ rule: String) -> RuleSyntaxError? {
    do {
        _ = try RuleParser.parse(rule)
        return nil
    } catch {
        return error
    }
}

@Suite struct RuleParserTests {
    // MARK: Matchers

    struct MatcherCase: CustomTestStringConvertible, Sendable {
        var rule: String
        var kind: RuleMatcher.Kind
        var arguments: [String]
        var testDescription: String { rule }
    }

    @Test(arguments: [
        MatcherCase(rule: "Host(`example.com`)", kind: .host, arguments: ["example.com"]),
        MatcherCase(rule: "HostRegexp(`^[a-z]+\\.example\\.com$`)", kind: .hostRegexp, arguments: ["^[a-z]+\\.example\\.com$"]),
        MatcherCase(rule: "Path(`/api/v1`)", kind: .path, arguments: ["/api/v1"]),
        MatcherCase(rule: "PathPrefix(`/`)", kind: .pathPrefix, arguments: ["/"]),
        MatcherCase(rule: "PathRegexp(`^/users/[0-9]+$`)", kind: .pathRegexp, arguments: ["^/users/[0-9]+$"]),
        MatcherCase(rule: "Method(`GET`)", kind: .method, arguments: ["GET"]),
        MatcherCase(rule: "Method(`post`)", kind: .method, arguments: ["POST"]),
        MatcherCase(rule: "Header(`X-Version`, `2`)", kind: .header, arguments: ["X-Version", "2"]),
        MatcherCase(rule: "HeaderRegexp(`User-Agent`, `(?i)curl`)", kind: .headerRegexp, arguments: ["User-Agent", "(?i)curl"]),
        MatcherCase(rule: "Query(`debug`)", kind: .query, arguments: ["debug"]),
        MatcherCase(rule: "Query(`mobile`, `true`)", kind: .query, arguments: ["mobile", "true"]),
        MatcherCase(rule: "QueryRegexp(`id`, `^[0-9]+$`)", kind: .queryRegexp, arguments: ["id", "^[0-9]+$"]),
        MatcherCase(rule: "ClientIP(`10.0.0.0/8`)", kind: .clientIP, arguments: ["10.0.0.0/8"]),
        MatcherCase(rule: "ClientIP(`192.168.1.7`)", kind: .clientIP, arguments: ["192.168.1.7"]),
        MatcherCase(rule: "ClientIP(`2001:db8::/32`)", kind: .clientIP, arguments: ["2001:db8::/32"]),
        MatcherCase(rule: "ClientIP(`::1`)", kind: .clientIP, arguments: ["::1"]),
    ])
    func everyMatcher(_ c: MatcherCase) throws {
        let parsed = try RuleParser.parse(c.rule)
        #expect(parsed == .matcher(RuleMatcher(kind: c.kind, arguments: c.arguments, column: 1)))
    }

    @Test func everyKindIsCoveredByTheMatcherTable() {
        // Guards the table above against a new Kind being added without a test row.
        let covered: Set<RuleMatcher.Kind> = [
            .host, .hostRegexp, .path, .pathPrefix, .pathRegexp, .method, .header, .headerRegexp, .query,
            .queryRegexp, .clientIP,
        ]
        #expect(Set(RuleMatcher.Kind.allCases) == covered)
    }

    // MARK: Quoting

    @Test(arguments: [
        // (rule, expected arguments)
        ("Host(`a.com`)", ["a.com"]),
        ("Host(\"a.com\")", ["a.com"]),
        ("Header(\"X-A\", `b`)", ["X-A", "b"]),
        ("Header(`X-A`, \"say \\\"hi\\\"\")", ["X-A", "say \"hi\""]),
        ("Header(`X-A`, \"back\\\\slash\")", ["X-A", "back\\slash"]),
        ("Header(`X-A`, \"tab\\there\\nnewline\")", ["X-A", "tab\there\nnewline"]),
        ("Header(`X-A`, \"\\x41\\101\\u00e9\\U0001F600\")", ["X-A", "AAé😀"]),
        // Backticks are raw: backslashes and double quotes are literal.
        ("PathRegexp(`^/a\\d+\"x`)", ["^/a\\d+\"x"]),
        ("Header(`X`, `héllo`) || Path(`/ü`)", ["/ü"]),  // checks the last matcher only (see test body)
    ])
    func quoteStyles(rule: String, expected: [String]) throws {
        var expression = try RuleParser.parse(rule)
        if case .or(_, let right) = expression { expression = right }
        guard case .matcher(let m) = expression else {
            Issue.record("expected a matcher, got \(expression)")
            return
        }
        #expect(m.arguments == expected)
    }

    @Test func trailingCommaAndWhitespaceAreAccepted() throws {
        let rule = "  Header (\n\t`X-A` ,\r\n `b` , ) "
        #expect(try render(RuleParser.parse(rule)) == "Header[X-A|b]@3")
    }

    // MARK: Name casing

    @Test(arguments: [
        ("Host(`a`)", RuleMatcher.Kind.host),
        ("host(`a`)", .host),
        ("HOST(`a`)", .host),
        ("HostRegexp(`a`)", .hostRegexp),
        ("hostregexp(`a`)", .hostRegexp),
        ("HOSTREGEXP(`a`)", .hostRegexp),
        ("Hostregexp(`a`)", .hostRegexp),
        ("pathprefix(`/a`)", .pathPrefix),
        ("Pathprefix(`/a`)", .pathPrefix),
        ("CLIENTIP(`1.2.3.4`)", .clientIP),
        ("Clientip(`1.2.3.4`)", .clientIP),
        ("queryregexp(`a`, `b`)", .queryRegexp),
    ])
    func nameCasing(rule: String, kind: RuleMatcher.Kind) throws {
        guard case .matcher(let m) = try RuleParser.parse(rule) else {
            Issue.record("expected a matcher")
            return
        }
        #expect(m.kind == kind)
    }

    @Test(arguments: ["hostRegexp(`a`)", "HostREGEXP(`a`)", "pATH(`/a`)", "clientIp(`1.2.3.4`)"])
    func mixedCasingIsRejected(rule: String) {
        let error = parseError(rule)
        #expect(error?.column == 1)
        #expect(error?.message.contains("unknown matcher") == true)
        #expect(error?.message.contains("did you mean") == true)
    }

    // MARK: Operators and precedence

    @Test(arguments: [
        ("Host(`a`) || Path(`/b`) && Method(`GET`)",
         "or(Host[a]@1, and(Path[/b]@14, Method[GET]@28))"),
        ("Host(`a`) && Path(`/b`) || Method(`GET`)",
         "or(and(Host[a]@1, Path[/b]@14), Method[GET]@28)"),
        ("!Host(`a`) && Path(`/b`)",
         "and(not(Host[a]@2), Path[/b]@15)"),
        ("!(Host(`a`) && Path(`/b`))",
         "not(and(Host[a]@3, Path[/b]@16))"),
        ("(Host(`a`) || Path(`/b`)) && Method(`GET`)",
         "and(or(Host[a]@2, Path[/b]@15), Method[GET]@30)"),
        ("Host(`a`) && Path(`/b`) && Method(`GET`)",
         "and(and(Host[a]@1, Path[/b]@14), Method[GET]@28)"),
        ("Host(`a`) || Path(`/b`) || Method(`GET`)",
         "or(or(Host[a]@1, Path[/b]@14), Method[GET]@28)"),
        ("!!Host(`a`)",
         "not(not(Host[a]@3))"),
        ("! Host(`a`) || !Path(`/b`) && !(Method(`GET`))",
         "or(not(Host[a]@3), and(not(Path[/b]@17), not(Method[GET]@33)))"),
        ("((Host(`a`)))",
         "Host[a]@3"),
        ("Host(`a`)&&Path(`/b`)||Query(`q`)",
         "or(and(Host[a]@1, Path[/b]@12), Query[q]@24)"),
        ("Host(`x`) && (Path(`/a`) || (PathPrefix(`/b`) && !Header(`K`, `v`)))",
         "and(Host[x]@1, or(Path[/a]@15, and(PathPrefix[/b]@30, not(Header[K|v]@51))))"),
    ])
    func precedence(rule: String, expected: String) throws {
        #expect(try render(RuleParser.parse(rule)) == expected)
    }

    @Test func precedenceAsEnumValues() throws {
        let a = RuleExpression.matcher(RuleMatcher(kind: .host, arguments: ["a"], column: 1))
        let b = RuleExpression.matcher(RuleMatcher(kind: .path, arguments: ["/b"], column: 14))
        let c = RuleExpression.matcher(RuleMatcher(kind: .method, arguments: ["GET"], column: 28))
        #expect(try RuleParser.parse("Host(`a`) || Path(`/b`) && Method(`GET`)") == .or(a, .and(b, c)))
    }

    @Test func columnsCountCharactersNotBytes() throws {
        // "é" is 2 UTF-8 bytes and "👩‍👩‍👧" is many scalars; each is one character.
        #expect(try render(RuleParser.parse("PathRegexp(`é👩‍👩‍👧`) || Path(`/`)")).contains(", Path[/]@21)"))
        #expect(parseError("Path(`/é`) && Hots(`a`)")?.column == 15)
    }

    // MARK: Errors

    struct ErrorCase: CustomTestStringConvertible, Sendable {
        var rule: String
        var column: Int
        var fragment: String
        var testDescription: String { "\(rule) → \(column): \(fragment)" }
    }

    @Test(arguments: [
        // Empty.
        ErrorCase(rule: "", column: 1, fragment: "the rule is empty"),
        ErrorCase(rule: "   \t ", column: 1, fragment: "the rule is empty"),
        // Names.
        ErrorCase(rule: "Hots(`a`)", column: 1, fragment: "unknown matcher 'Hots'; expected one of Host, HostRegexp, Path, PathPrefix, PathRegexp, Method, Header, HeaderRegexp, Query, QueryRegexp, ClientIP"),
        ErrorCase(rule: "Hots(`a`)", column: 1, fragment: "did you mean 'Host'?"),
        ErrorCase(rule: "Host(`a`) && PathPrefx(`/`)", column: 14, fragment: "did you mean 'PathPrefix'?"),
        ErrorCase(rule: "Frobnicate(`a`)", column: 1, fragment: "unknown matcher 'Frobnicate'"),
        ErrorCase(rule: "HostSNI(`a`)", column: 1, fragment: "TCP router matcher"),
        ErrorCase(rule: "Headers(`a`, `b`)", column: 1, fragment: "v2 syntax; use Header"),
        ErrorCase(rule: "Host `a`", column: 6, fragment: "expected '(' after the matcher name Host, found a quoted string"),
        ErrorCase(rule: "Host", column: 5, fragment: "expected '(' after the matcher name Host, found the end of the rule"),
        // Quoting.
        ErrorCase(rule: "Host('a.com')", column: 6, fragment: "single quotes are not allowed"),
        ErrorCase(rule: "Host(a.com)", column: 6, fragment: "expected a quoted argument (`...` or \"...\") for Host, found 'a'"),
        ErrorCase(rule: "Host(`a.com)", column: 6, fragment: "unterminated backtick string"),
        ErrorCase(rule: "Host(\"a.com)", column: 6, fragment: "unterminated double-quoted string"),
        ErrorCase(rule: "Host(\"a\\qb\")", column: 8, fragment: "invalid escape sequence '\\q'"),
        ErrorCase(rule: "Host(\"a\\x4\")", column: 8, fragment: "\\x needs exactly 2 hex digits"),
        ErrorCase(rule: "Host(\"a\nb\")", column: 8, fragment: "newline in double-quoted string"),
        // Argument lists.
        ErrorCase(rule: "Host(`a`", column: 9, fragment: "expected ')' after the arguments of Host, found the end of the rule"),
        ErrorCase(rule: "Header(`a` `b`)", column: 12, fragment: "expected ',' or ')' after an argument of Header, found a quoted string"),
        ErrorCase(rule: "Host(", column: 6, fragment: "expected a quoted argument for Host, found the end of the rule"),
        ErrorCase(rule: "Host(`a`,,)", column: 10, fragment: "found ','"),
        // Argument validation.
        ErrorCase(rule: "Host(`a`, `b`)", column: 1, fragment: "Host takes exactly 1 argument, got 2; to match several values, combine matchers with ||"),
        ErrorCase(rule: "Host()", column: 1, fragment: "Host takes exactly 1 argument, got 0"),
        ErrorCase(rule: "Header(`X-A`)", column: 1, fragment: "Header takes exactly 2 arguments, got 1"),
        ErrorCase(rule: "Path(`/`) && HeaderRegexp(`a`, `b`, `c`)", column: 14, fragment: "HeaderRegexp takes exactly 2 arguments, got 3"),
        ErrorCase(rule: "Query(`a`, `b`, `c`)", column: 1, fragment: "Query takes 1 or 2 arguments, got 3"),
        ErrorCase(rule: "QueryRegexp(`a`)", column: 1, fragment: "QueryRegexp takes exactly 2 arguments, got 1"),
        ErrorCase(rule: "Host(``)", column: 6, fragment: "empty argument for Host"),
        ErrorCase(rule: "Header(`X-A`, \"\")", column: 15, fragment: "empty argument for Header"),
        ErrorCase(rule: "Path(`api`)", column: 6, fragment: "Path argument must start with '/', got 'api'"),
        ErrorCase(rule: "Host(`a`) && PathPrefix(`api/`)", column: 25, fragment: "PathPrefix argument must start with '/'"),
        ErrorCase(rule: "ClientIP(`10.0.0.0/33`)", column: 10, fragment: "invalid IP address or CIDR '10.0.0.0/33' for ClientIP"),
        ErrorCase(rule: "ClientIP(`not-an-ip`)", column: 10, fragment: "invalid IP address or CIDR"),
        ErrorCase(rule: "Host(`bücher.de`)", column: 6, fragment: "non-ASCII characters are not allowed in Host"),
        // Operators.
        ErrorCase(rule: "Host(`a`) &&", column: 13, fragment: "expected a matcher after '&&', found the end of the rule"),
        ErrorCase(rule: "Host(`a`) || ", column: 14, fragment: "expected a matcher after '||', found the end of the rule"),
        ErrorCase(rule: "Host(`a`) && || Path(`/`)", column: 14, fragment: "expected a matcher after '&&', found '||'"),
        ErrorCase(rule: "&& Host(`a`)", column: 1, fragment: "expected a matcher, found '&&'"),
        ErrorCase(rule: "!", column: 2, fragment: "expected a matcher after '!', found the end of the rule"),
        ErrorCase(rule: "Host(`a`) & Path(`/`)", column: 11, fragment: "'&' is not an operator; use '&&'"),
        ErrorCase(rule: "Host(`a`) | Path(`/`)", column: 11, fragment: "'|' is not an operator; use '||'"),
        ErrorCase(rule: "Host(`a`) Path(`/`)", column: 11, fragment: "expected '&&', '||' or the end of the rule, found 'Path'"),
        ErrorCase(rule: "Host(`a`) && Path(`/`) `x`", column: 24, fragment: "found a quoted string"),
        ErrorCase(rule: "Host(`a`) ; Path(`/`)", column: 11, fragment: "unexpected character ';'"),
        ErrorCase(rule: "`a`", column: 1, fragment: "expected a matcher, found a quoted string"),
        // Parentheses.
        ErrorCase(rule: "(Host(`a`)", column: 11, fragment: "expected ')' to close the '(' at column 1, found the end of the rule"),
        ErrorCase(rule: "Host(`a`))", column: 10, fragment: "unexpected ')' without a matching '('"),
        ErrorCase(rule: "()", column: 2, fragment: "expected a matcher after '(', found ')'"),
        ErrorCase(rule: "(Host(`a`) Path(`/`))", column: 12, fragment: "expected '&&', '||' or ')' to close the '(' at column 1, found 'Path'"),
        ErrorCase(rule: "Host(`a`) && ((Path(`/`))", column: 26, fragment: "to close the '(' at column 14"),
    ])
    func errors(_ c: ErrorCase) {
        guard let error = parseError(c.rule) else {
            Issue.record("expected an error for \(c.rule)")
            return
        }
        #expect(error.column == c.column, "\(error)")
        #expect(error.message.contains(c.fragment), "\(error)")
        #expect(error.description == "column \(error.column): \(error.message)")
    }

    // MARK: Limits and robustness

    @Test func nestingDepthIsBounded() throws {
        let ok = String(repeating: "(", count: 100) + "Host(`a`)" + String(repeating: ")", count: 100)
        #expect(try render(RuleParser.parse(ok)) == "Host[a]@101")

        let tooDeep = String(repeating: "(", count: 101) + "Host(`a`)" + String(repeating: ")", count: 101)
        let error = parseError(tooDeep)
        #expect(error?.column == 101)
        #expect(error?.message.contains("nested too deeply") == true)

        let manyNots = String(repeating: "!", count: 10_000) + "Host(`a`)"
        #expect(parseError(manyNots)?.message.contains("nested too deeply") == true)

        let manyOpens = String(repeating: "(", count: 100_000)
        #expect(parseError(manyOpens)?.column == 101)
    }

    @Test func matcherCountIsBounded() throws {
        let chain = Array(repeating: "Host(`a`)", count: 1000).joined(separator: " || ")
        let parsed = try RuleParser.parse(chain)
        #expect(parsed.hashValue == parsed.hashValue)  // walking the deep tree must not crash

        let tooMany = Array(repeating: "Host(`a`)", count: 1001).joined(separator: " && ")
        let error = parseError(tooMany)
        #expect(error?.message.contains("too many matchers") == true)
        #expect(error?.column == 1000 * 13 + 1)
    }

    /// A test argument whose description stays short even when the text is huge.
    struct Hostile: CustomTestStringConvertible, Sendable {
        var rule: String
        init(_ rule: String) { self.rule = rule }
        var testDescription: String {
            let escaped = rule.unicodeScalars.prefix(40).map { $0.escaped(asASCII: true) }.joined()
            return rule.count > 40 ? "\(escaped)… (\(rule.count) characters)" : escaped
        }
    }

    @Test(arguments: [
        Hostile(String(repeating: "&", count: 50_000)),
        Hostile(String(repeating: ")", count: 50_000)),
        Hostile(String(repeating: "Host", count: 50_000)),
        Hostile(String(repeating: "`", count: 50_001)),
        Hostile(String(repeating: "\"\\", count: 20_000)),
        Hostile("Host(`a`) " + String(repeating: "&& ", count: 20_000)),
        Hostile(String(repeating: "Host(`a`) || ", count: 5_000)),
        Hostile(String(repeating: "(!", count: 20_000)),
        Hostile("\u{0}\u{1}\u{7F}"),
        Hostile("Host(`a`)\u{301}"),
        Hostile("Host(`a\u{301}`\u{301})"),
        Hostile("\r\n\r\n"),
        Hostile("Host(\"\\"),
        Hostile("Host(\"\\u12\")"),
        Hostile("Host(\"\\UFFFFFFFF\")"),
        Hostile("Host(\"\\uD800\")"),
        Hostile("Host(\"\\400\")"),
        Hostile("Host(\"\\xff\\xfe\")"),
    ])
    func hostileInputDoesNotCrash(_ input: Hostile) {
        // Any outcome is fine as long as it returns; errors must point inside (or just past) the text.
        let rule = input.rule
        if let error = parseError(rule) {
            #expect(error.column >= 1 && error.column <= rule.count + 1, "\(error)")
            #expect(!error.message.isEmpty)
            #expect(error.message.count < 600)
        }
    }

    @Test func longNamesAreAbbreviatedInMessages() {
        let name = String(repeating: "x", count: 10_000)
        let error = parseError(name + "(`a`)")
        #expect(error?.column == 1)
        #expect((error?.message.count ?? .max) < 400)
    }

    @Test func editDistanceCountsEdits() {
        #expect(SwitchyardConfig.editDistance(Array("host".utf8), Array("hots".utf8)) == 2)
        #expect(SwitchyardConfig.editDistance(Array("".utf8), Array("abc".utf8)) == 3)
        #expect(SwitchyardConfig.editDistance(Array("method".utf8), Array("methd".utf8)) == 1)
        #expect(RuleParser.closestMatcher(to: "clientp") == .clientIP)
        #expect(RuleParser.closestMatcher(to: "banana") == nil)
    }
}
