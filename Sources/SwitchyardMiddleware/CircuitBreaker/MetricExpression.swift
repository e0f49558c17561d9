/// A function an expression may call: parsed from its name and numeric arguments.
protocol ExpressionFunction: Sendable, Equatable {
    /// The function `name(arguments)`, or an error naming what is wrong with it.
    static func named(_ name: String, arguments: [Double], at position: Int) throws(ExpressionSyntaxError) -> Self
    /// The functions there are, for errors.
    static var known: String { get }
    /// A condition on its own (`IsNetworkError()`): true when its value is not 0, with no comparison after it.
    var isCondition: Bool { get }
}

struct ExpressionSyntaxError: Error, Sendable, CustomStringConvertible {
    var position: Int
    var message: String
    var description: String { "column \(position + 1): \(message)" }
}

/// Traefik's expressions over functions of a request or of traffic, compared with numbers and combined with `&&`,
/// `||` and parentheses: the circuit breaker's `NetworkErrorRatio() > 0.5`, buffering's
/// `IsNetworkError() && Attempts() < 2`.
indirect enum MetricExpression<Metric: ExpressionFunction>: Sendable, Equatable {
    enum Comparison: String, Sendable, Equatable, CaseIterable {
        case greaterOrEqual = ">=", lessOrEqual = "<=", equal = "==", notEqual = "!=", greater = ">", less = "<"

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .equal: return a == b
            case .notEqual: return a != b
            }
        }
    }

    case compare(Metric, Comparison, Double)
    case and(MetricExpression, MetricExpression)
    case or(MetricExpression, MetricExpression)

    typealias SyntaxError = ExpressionSyntaxError

    static func parse(_ text: String) throws(SyntaxError) -> MetricExpression {
        var parser = Parser(characters: Array(text))
        let expression = try parser.parseOr(depth: 0)
        parser.skipSpaces()
        guard parser.index == parser.characters.count else {
            throw SyntaxError(position: parser.index, message: "unexpected '\(parser.characters[parser.index])'")
        }
        return expression
    }

    /// What the expression reads: given the functions' values, whether it holds.
    func evaluate(_ value: (Metric) -> Double) -> Bool {
        switch self {
        case .compare(let metric, let comparison, let threshold): return comparison.holds(value(metric), threshold)
        case .and(let lhs, let rhs): return lhs.evaluate(value) && rhs.evaluate(value)
        case .or(let lhs, let rhs): return lhs.evaluate(value) || rhs.evaluate(value)
        }
    }

    private struct Parser {
        let characters: [Character]
        var index = 0

        mutating func skipSpaces() {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
        }

        mutating func consume(_ token: String) -> Bool {
            skipSpaces()
            let token = Array(token)
            guard index + token.count <= characters.count, Array(characters[index..<(index + token.count)]) == token else {
                return false
            }
            index += token.count
            return true
        }

        func fail(_ message: String) -> SyntaxError { SyntaxError(position: index, message: message) }

        mutating func parseOr(depth: Int) throws(SyntaxError) -> MetricExpression {
            var lhs = try parseAnd(depth: depth)
            while consume("||") { lhs = .or(lhs, try parseAnd(depth: depth)) }
            return lhs
        }

        mutating func parseAnd(depth: Int) throws(SyntaxError) -> MetricExpression {
            var lhs = try parsePrimary(depth: depth)
            while consume("&&") { lhs = .and(lhs, try parsePrimary(depth: depth)) }
            return lhs
        }

        mutating func parsePrimary(depth: Int) throws(SyntaxError) -> MetricExpression {
            guard depth < 32 else { throw fail("too deeply nested") }
            if consume("(") {
                let inner = try parseOr(depth: depth + 1)
                guard consume(")") else { throw fail("expected ')'") }
                return inner
            }
            let metric = try parseMetric()
            guard let comparison = Comparison.allCases.first(where: { consume($0.rawValue) }) else {
                if metric.isCondition { return .compare(metric, .notEqual, 0) }
                throw fail("expected a comparison (>, >=, <, <=, ==, !=) after the function")
            }
            return .compare(metric, comparison, try parseNumber())
        }

        mutating func parseMetric() throws(SyntaxError) -> Metric {
            skipSpaces()
            let start = index
            while index < characters.count, characters[index].isLetter { index += 1 }
            let name = String(characters[start..<index])
            guard consume("(") else {
                throw SyntaxError(
                    position: start, message: name.isEmpty ? "expected \(Metric.known)" : "expected '(' after \(name)")
            }
            var arguments: [Double] = []
            if !consume(")") {
                repeat { arguments.append(try parseNumber()) } while consume(",")
                guard consume(")") else { throw fail("expected ')' after the arguments of \(name)") }
            }
            return try Metric.named(name, arguments: arguments, at: start)
        }

        mutating func parseNumber() throws(SyntaxError) -> Double {
            skipSpaces()
            let start = index
            while index < characters.count, characters[index].isNumber || characters[index] == "." || characters[index] == "-" {
                index += 1
            }
            guard let value = Double(String(characters[start..<index])) else { throw SyntaxError(position: start, message: "expected a number") }
            return value
        }
    }
}

/// The circuit breaker's functions: `NetworkErrorRatio()`, `ResponseCodeRatio(from, to, divFrom, divTo)`,
/// `LatencyAtQuantileMS(q)`.
enum BreakerMetric: ExpressionFunction {
    case networkErrorRatio
    /// Requests with a status in `from..<to` over those with a status in `divFrom..<divTo`.
    case responseCodeRatio(from: Int, to: Int, divFrom: Int, divTo: Int)
    case latencyAtQuantile(Double)

    static let known = "NetworkErrorRatio(), ResponseCodeRatio(...) or LatencyAtQuantileMS(...)"
    var isCondition: Bool { false }

    static func named(_ name: String, arguments: [Double], at start: Int) throws(ExpressionSyntaxError) -> BreakerMetric {
        switch (name, arguments.count) {
        case ("NetworkErrorRatio", 0):
            return .networkErrorRatio
        case ("ResponseCodeRatio", 4):
            let codes = arguments.map { Int($0) }
            guard codes[0] < codes[1], codes[2] < codes[3] else {
                throw ExpressionSyntaxError(position: start, message: "ResponseCodeRatio takes two ranges from, to with from < to")
            }
            return .responseCodeRatio(from: codes[0], to: codes[1], divFrom: codes[2], divTo: codes[3])
        case ("LatencyAtQuantileMS", 1):
            guard (0...100).contains(arguments[0]) else {
                throw ExpressionSyntaxError(position: start, message: "LatencyAtQuantileMS takes a quantile from 0 to 100")
            }
            return .latencyAtQuantile(arguments[0])
        case ("NetworkErrorRatio", _), ("ResponseCodeRatio", _), ("LatencyAtQuantileMS", _):
            throw ExpressionSyntaxError(position: start, message: "wrong number of arguments for \(name)")
        default:
            throw ExpressionSyntaxError(
                position: start,
                message: "unknown function '\(name)'; expected NetworkErrorRatio, ResponseCodeRatio or LatencyAtQuantileMS")
        }
    }
}

typealias BreakerExpression = MetricExpression<BreakerMetric>

/// The `buffering` middleware's retry functions: `IsNetworkError()`, `Attempts()`, `ResponseCode()`.
enum RetryFunction: ExpressionFunction {
    case isNetworkError
    case attempts
    case responseCode

    static let known = "IsNetworkError(), Attempts() or ResponseCode()"
    var isCondition: Bool { self == .isNetworkError }

    static func named(_ name: String, arguments: [Double], at start: Int) throws(ExpressionSyntaxError) -> RetryFunction {
        let function: RetryFunction
        switch name {
        case "IsNetworkError": function = .isNetworkError
        case "Attempts": function = .attempts
        case "ResponseCode": function = .responseCode
        default: throw ExpressionSyntaxError(position: start, message: "unknown function '\(name)'; expected \(known)")
        }
        guard arguments.isEmpty else { throw ExpressionSyntaxError(position: start, message: "\(name) takes no arguments") }
        return function
    }
}

typealias RetryExpression = MetricExpression<RetryFunction>
