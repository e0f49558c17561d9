/// A parsed boolean expression over matchers (a router rule, a provider constraint). `!` is kept as written (the
/// compiler applies it); && binds tighter than ||.
///
/// `A || B && C` is `.or(A, .and(B, C))`; both operators are left-associative, so
/// `A && B && C` is `.and(.and(A, B), C)`.
public indirect enum LogicalExpression<Leaf: Sendable & Hashable>: Sendable, Hashable {
    case matcher(Leaf)
    case not(LogicalExpression)
    case and(LogicalExpression, LogicalExpression)
    case or(LogicalExpression, LogicalExpression)

    /// Evaluates the expression, each matcher by `test`.
    public func evaluate(_ test: (Leaf) -> Bool) -> Bool {
        switch self {
        case .matcher(let leaf): return test(leaf)
        case .not(let inner): return !inner.evaluate(test)
        case .and(let left, let right): return left.evaluate(test) && right.evaluate(test)
        case .or(let left, let right): return left.evaluate(test) || right.evaluate(test)
        }
    }
}

/// A parsed HTTP router rule.
public typealias RuleExpression = LogicalExpression<RuleMatcher>

extension LogicalExpression where Leaf == RuleMatcher {
    /// The hosts the rule names in `Host` matchers (not those under `!`), lowercased, in order: what TLS options
    /// and certificates are chosen for.
    public var hosts: [String] {
        switch self {
        case .matcher(let matcher): return matcher.kind == .host ? matcher.arguments.map { $0.lowercased() } : []
        case .not: return []
        case .and(let left, let right), .or(let left, let right): return left.hosts + right.hosts
        }
    }
}

/// One matcher call of a rule, e.g. ``Host(`example.com`)``.
///
/// `arguments` are the decoded argument strings (quotes removed, escapes applied). They are
/// already validated by ``RuleParser``: the count fits the matcher, none is empty, `Path` and
/// `PathPrefix` values start with `/`, `ClientIP` values parse as ``IPNetwork``, `Host` and
/// `HostRegexp` values are ASCII, and `Method` values are uppercased. Regular expressions are
/// not compiled here.
public struct RuleMatcher: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case host = "Host", hostRegexp = "HostRegexp", path = "Path", pathPrefix = "PathPrefix",
             pathRegexp = "PathRegexp", method = "Method", header = "Header", headerRegexp = "HeaderRegexp",
             query = "Query", queryRegexp = "QueryRegexp", clientIP = "ClientIP"
    }

    public var kind: Kind
    public var arguments: [String]
    /// 1-based column (in characters) of the matcher's name in the rule text.
    public var column: Int

    public init(kind: Kind, arguments: [String], column: Int) {
        self.kind = kind
        self.arguments = arguments
        self.column = column
    }
}

/// Why a rule could not be parsed, and where (1-based column, counted in characters).
public struct RuleSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var column: Int      // 1-based
    public var message: String
    public var description: String { "column \(column): \(message)" }

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }
}
