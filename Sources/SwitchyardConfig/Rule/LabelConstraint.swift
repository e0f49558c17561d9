/// A provider's `constraints` option: which containers (or other labelled objects) it considers, as an expression
/// over their labels such as ``Label(`team`, `web`) && !LabelRegex(`env`, `^test-`)``.
public struct LabelConstraint: Sendable, Hashable, CustomStringConvertible {
    /// One matcher of a constraint.
    public enum Matcher: Sendable, Hashable {
        /// The label exists with exactly this value.
        case label(key: String, value: String)
        /// The label exists and its value matches the regular expression (unanchored).
        case labelRegex(key: String, regex: CompiledRegex)
    }

    public let text: String
    public let expression: LogicalExpression<Matcher>

    /// Parses `text`; errors carry the column of the problem.
    public init(_ text: String) throws(RuleSyntaxError) {
        var parser = ExpressionParserState<ConstraintVocabulary>(text)
        self.text = text
        self.expression = try parser.parseRule()
    }

    public func matches(_ labels: [String: String]) -> Bool {
        expression.evaluate { matcher in
            switch matcher {
            case .label(let key, let value): return labels[key] == value
            case .labelRegex(let key, let regex): return labels[key].map { regex.matches($0) } ?? false
            }
        }
    }

    public var description: String { text }
}

/// The matchers of label constraints.
enum ConstraintVocabulary: ExpressionVocabulary {
    enum Name: String, CaseIterable {
        case label = "Label"
        case labelRegex = "LabelRegex"
    }

    static let example = "Label(`team`, `web`)"

    static func name(_ spelled: String, column: Int) throws(RuleSyntaxError) -> Name {
        guard let name = Name.allCases.first(where: { $0.rawValue.lowercased() == spelled.lowercased() }) else {
            throw RuleSyntaxError(
                column: column,
                message: "unknown constraint matcher '\(RuleLexer.abbreviate(spelled))'; expected Label or LabelRegex")
        }
        return name
    }

    static func display(_ name: Name) -> String { name.rawValue }

    static func leaf(_ name: Name, arguments: [(value: String, column: Int)], column: Int) throws(RuleSyntaxError)
        -> LabelConstraint.Matcher
    {
        guard arguments.count == 2 else {
            throw RuleSyntaxError(
                column: column, message: "\(name.rawValue) takes exactly 2 arguments (label and value), got \(arguments.count)")
        }
        let key = arguments[0].value
        guard !key.isEmpty else { throw RuleSyntaxError(column: arguments[0].column, message: "empty label name") }
        let lower = key.lowercased()
        if lower.hasPrefix("traefik.") || lower.hasPrefix("switchyard.") {
            throw RuleSyntaxError(
                column: arguments[0].column,
                message: "constraints cannot test the provider's own labels ('\(RuleLexer.abbreviate(key))'); use enable to opt containers in or out")
        }
        switch name {
        case .label:
            return .label(key: key, value: arguments[1].value)
        case .labelRegex:
            do {
                return .labelRegex(key: key, regex: try CompiledRegex(arguments[1].value))
            } catch {
                throw RuleSyntaxError(column: arguments[1].column, message: "\(error)")
            }
        }
    }
}
