/// The matchers one expression language knows: how their names are spelled and what their arguments must be.
protocol ExpressionVocabulary {
    associatedtype Name
    associatedtype Leaf: Sendable & Hashable

    /// The matcher a name written in the expression stands for; an error says which names exist.
    static func name(_ spelled: String, column: Int) throws(RuleSyntaxError) -> Name
    static func display(_ name: Name) -> String
    /// Checks the arguments and builds the matcher.
    static func leaf(_ name: Name, arguments: [(value: String, column: Int)], column: Int) throws(RuleSyntaxError) -> Leaf
    /// An example matcher for the message about an empty expression.
    static var example: String { get }
}

/// One parse in progress: a lexer plus one token of lookahead.
struct ExpressionParserState<Vocabulary: ExpressionVocabulary> {
    private var lexer: RuleLexer
    private var current = RuleToken(kind: .end, column: 1)
    private var depth = 0
    private var matcherCount = 0

    init(_ rule: String) {
        lexer = RuleLexer(rule)
    }

    mutating func parseRule() throws(RuleSyntaxError) -> LogicalExpression<Vocabulary.Leaf> {
        try advance()
        if current.kind == .end {
            throw RuleSyntaxError(column: 1, message: "the rule is empty; expected a matcher such as \(Vocabulary.example)")
        }
        let expression = try parseOr(context: nil)
        switch current.kind {
        case .end:
            return expression
        case .rightParen:
            throw RuleSyntaxError(column: current.column, message: "unexpected ')' without a matching '('")
        default:
            throw RuleSyntaxError(
                column: current.column,
                message: "expected '&&', '||' or the end of the rule, found \(current.display)"
            )
        }
    }

    // MARK: - Expressions

    private mutating func advance() throws(RuleSyntaxError) {
        current = try lexer.next()
    }

    /// `context` says what came before the expected operand, e.g. "after '&&'" (nil at the start).
    private mutating func parseOr(context: String?) throws(RuleSyntaxError) -> LogicalExpression<Vocabulary.Leaf> {
        var left = try parseAnd(context: context)
        while current.kind == .or {
            try advance()
            let right = try parseAnd(context: "after '||'")
            left = .or(left, right)
        }
        return left
    }

    private mutating func parseAnd(context: String?) throws(RuleSyntaxError) -> LogicalExpression<Vocabulary.Leaf> {
        var left = try parseUnary(context: context)
        while current.kind == .and {
            try advance()
            let right = try parseUnary(context: "after '&&'")
            left = .and(left, right)
        }
        return left
    }

    private mutating func parseUnary(context: String?) throws(RuleSyntaxError) -> LogicalExpression<Vocabulary.Leaf> {
        guard current.kind == .not else {
            return try parsePrimary(context: context)
        }
        try enterNesting(at: current.column)
        try advance()
        let operand = try parseUnary(context: "after '!'")
        depth -= 1
        return .not(operand)
    }

    private mutating func parsePrimary(context: String?) throws(RuleSyntaxError) -> LogicalExpression<Vocabulary.Leaf> {
        switch current.kind {
        case .leftParen:
            let openColumn = current.column
            try enterNesting(at: openColumn)
            try advance()
            let inner = try parseOr(context: "after '('")
            switch current.kind {
            case .rightParen:
                try advance()
            case .end:
                throw RuleSyntaxError(
                    column: current.column,
                    message: "expected ')' to close the '(' at column \(openColumn), found the end of the rule"
                )
            default:
                throw RuleSyntaxError(
                    column: current.column,
                    message: "expected '&&', '||' or ')' to close the '(' at column \(openColumn), found \(current.display)"
                )
            }
            depth -= 1
            return inner
        case .word(let name):
            return .matcher(try parseMatcher(name: name, column: current.column))
        case .string:
            throw RuleSyntaxError(
                column: current.column,
                message: "expected a matcher\(context.map { " " + $0 } ?? ""), found a quoted string "
                    + "(arguments go inside a matcher, e.g. Host(`example.com`))"
            )
        default:
            throw RuleSyntaxError(
                column: current.column,
                message: "expected a matcher\(context.map { " " + $0 } ?? ""), found \(current.display)"
            )
        }
    }

    private mutating func enterNesting(at column: Int) throws(RuleSyntaxError) {
        guard depth < RuleParser.maxNestingDepth else {
            throw RuleSyntaxError(
                column: column,
                message: "the rule is nested too deeply (more than \(RuleParser.maxNestingDepth) levels of '(' and '!')"
            )
        }
        depth += 1
    }

    // MARK: - Matchers

    private mutating func parseMatcher(name spelled: String, column: Int) throws(RuleSyntaxError) -> Vocabulary.Leaf {
        let name = try Vocabulary.name(spelled, column: column)
        let canonical = Vocabulary.display(name)
        try advance()
        guard current.kind == .leftParen else {
            throw RuleSyntaxError(
                column: current.column,
                message: "expected '(' after the matcher name \(canonical), found \(current.display)"
            )
        }
        try advance()

        var arguments: [(value: String, column: Int)] = []
        argumentLoop: while current.kind != .rightParen {
            switch current.kind {
            case .string(let value):
                arguments.append((value, current.column))
            case .end:
                throw RuleSyntaxError(
                    column: current.column,
                    message: "expected a quoted argument for \(canonical), found the end of the rule"
                )
            default:
                throw RuleSyntaxError(
                    column: current.column,
                    message: "expected a quoted argument (`...` or \"...\") for \(canonical), found \(current.display)"
                )
            }
            try advance()
            switch current.kind {
            case .comma:
                try advance()  // a trailing comma before ')' is allowed, as in Go
            case .rightParen:
                break argumentLoop
            case .end:
                throw RuleSyntaxError(
                    column: current.column,
                    message: "expected ')' after the arguments of \(canonical), found the end of the rule"
                )
            default:
                throw RuleSyntaxError(
                    column: current.column,
                    message: "expected ',' or ')' after an argument of \(canonical), found \(current.display)"
                )
            }
        }
        try advance()  // past ')'

        matcherCount += 1
        if matcherCount > RuleParser.maxMatchers {
            throw RuleSyntaxError(
                column: column,
                message: "the rule has too many matchers (more than \(RuleParser.maxMatchers))"
            )
        }
        return try Vocabulary.leaf(name, arguments: arguments, column: column)
    }
}
