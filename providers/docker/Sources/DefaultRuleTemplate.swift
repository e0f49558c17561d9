/// `defaultRule`: the rule given to a container's router when its labels set none, written as a Go text/template
/// over the container, as in Traefik: ``Host(`{{ normalize .Name }}`)``.
///
/// The template language is the part of Go's that rules use: `{{ pipeline }}` actions (with `{{-` / `-}}` trimming),
/// the fields `.Name` (the service name), `.ContainerName` and `.Labels` (also `.Labels.key`), string literals in
/// double quotes or backquotes, pipelines with `|`, and the functions `normalize`, `index`, `lower`, `upper`,
/// `trim`, `trimPrefix`, `trimSuffix`, `replace` and `default` (Sprig's argument order).
public struct DefaultRuleTemplate: Sendable, Hashable {
    public static let traefikDefault = "Host(`{{ normalize .Name }}`)"

    /// What a template is rendered for.
    public struct Model: Sendable {
        public var name: String
        public var containerName: String
        public var labels: [String: String]

        public init(name: String, containerName: String, labels: [String: String]) {
            self.name = name
            self.containerName = containerName
            self.labels = labels
        }
    }

    public struct TemplateError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    enum Part: Sendable, Hashable {
        case text(String)
        case action([Command])
    }

    /// One command of a pipeline: a function applied to arguments, or a single operand.
    struct Command: Sendable, Hashable {
        var function: Function?
        var arguments: [Operand]
    }

    enum Operand: Sendable, Hashable {
        case literal(String)
        case name
        case containerName
        case labels
        case label(String)
    }

    enum Function: String, Sendable, Hashable, CaseIterable {
        case normalize, index, lower, upper, trim, trimPrefix, trimSuffix, replace, `default`
    }

    enum Value {
        case string(String)
        case map([String: String])
    }

    public let text: String
    let parts: [Part]

    public init(_ text: String) throws(TemplateError) {
        self.text = text
        self.parts = try Self.parse(text)
    }

    public func render(_ model: Model) throws(TemplateError) -> String {
        var output = ""
        for part in parts {
            switch part {
            case .text(let text): output += text
            case .action(let pipeline):
                switch try Self.run(pipeline, model) {
                case .string(let value): output += value
                case .map: throw TemplateError(message: "a map cannot be printed; use index .Labels \"key\"")
                }
            }
        }
        return output
    }

    /// Traefik's `normalize`: every run of characters other than letters and digits becomes one `-`, and none is
    /// left at either end.
    public static func normalize(_ name: String) -> String {
        name.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).joined(separator: "-")
    }

    // MARK: - Parsing

    private static func parse(_ text: String) throws(TemplateError) -> [Part] {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            var literal = String(rest[..<open.lowerBound])
            var body = rest[open.upperBound...]
            if body.hasPrefix("-") {
                body = body.dropFirst()
                while let last = literal.last, last.isWhitespace { literal.removeLast() }
            }
            guard let close = body.range(of: "}}") else {
                throw TemplateError(message: "unclosed action: '{{' without '}}'")
            }
            var inside = body[..<close.lowerBound]
            var after = body[close.upperBound...]
            if inside.hasSuffix("-") {
                inside = inside.dropLast()
                after = after.drop(while: \.isWhitespace)
            }
            if !literal.isEmpty { parts.append(.text(literal)) }
            parts.append(.action(try parsePipeline(inside)))
            rest = after
        }
        if rest.contains("}}") { throw TemplateError(message: "unexpected '}}' without '{{'") }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        return parts
    }

    private enum Token: Equatable {
        case word(String)
        case field(String)
        case string(String)
        case pipe
    }

    private static func tokens(_ text: Substring) throws(TemplateError) -> [Token] {
        var result: [Token] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isWhitespace {
                index = text.index(after: index)
            } else if character == "|" {
                result.append(.pipe)
                index = text.index(after: index)
            } else if character == "`" {
                let start = text.index(after: index)
                guard let end = text[start...].firstIndex(of: "`") else { throw TemplateError(message: "unterminated raw string") }
                result.append(.string(String(text[start..<end])))
                index = text.index(after: end)
            } else if character == "\"" {
                var value = ""
                var cursor = text.index(after: index)
                var closed = false
                while cursor < text.endIndex {
                    let c = text[cursor]
                    if c == "\"" { closed = true; break }
                    if c == "\\" {
                        cursor = text.index(after: cursor)
                        guard cursor < text.endIndex else { break }
                        switch text[cursor] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case let escaped: value.append(escaped)
                        }
                    } else {
                        value.append(c)
                    }
                    cursor = text.index(after: cursor)
                }
                guard closed else { throw TemplateError(message: "unterminated quoted string") }
                result.append(.string(value))
                index = text.index(after: cursor)
            } else {
                let end = text[index...].firstIndex(where: { $0.isWhitespace || $0 == "|" || $0 == "\"" || $0 == "`" })
                    ?? text.endIndex
                let word = String(text[index..<end])
                result.append(word.hasPrefix(".") ? .field(word) : .word(word))
                index = end
            }
        }
        return result
    }

    private static func parsePipeline(_ text: Substring) throws(TemplateError) -> [Command] {
        let all = try tokens(text)
        guard !all.isEmpty else { throw TemplateError(message: "empty action '{{ }}'") }
        var commands: [Command] = []
        for group in all.split(separator: .pipe, omittingEmptySubsequences: false) {
            guard let first = group.first else { throw TemplateError(message: "missing command around '|'") }
            var command = Command(function: nil, arguments: [])
            var operands = group[...]
            if case .word(let name) = first {
                guard let function = Function.allCases.first(where: { $0.rawValue == name }) else {
                    let known = Function.allCases.map(\.rawValue).joined(separator: ", ")
                    throw TemplateError(message: "function \"\(name)\" not defined; the functions are \(known)")
                }
                command.function = function
                operands = operands.dropFirst()
            }
            for token in operands {
                switch token {
                case .string(let value): command.arguments.append(.literal(value))
                case .field(let path): command.arguments.append(try operand(path))
                case .word(let name): throw TemplateError(message: "unexpected \"\(name)\"; only the first word of a command may be a function")
                case .pipe: break
                }
            }
            if command.function == nil && command.arguments.count != 1 {
                throw TemplateError(message: "a command without a function takes one value")
            }
            commands.append(command)
        }
        return commands
    }

    private static func operand(_ path: String) throws(TemplateError) -> Operand {
        let fields = path.dropFirst().split(separator: ".", maxSplits: 1).map(String.init)
        switch fields.first {
        case "Name" where fields.count == 1: return .name
        case "ContainerName" where fields.count == 1: return .containerName
        case "Labels": return fields.count == 2 ? .label(fields[1]) : .labels
        default:
            throw TemplateError(message: "can't evaluate field \(path); the fields are .Name, .ContainerName and .Labels")
        }
    }

    // MARK: - Evaluation

    private static func run(_ pipeline: [Command], _ model: Model) throws(TemplateError) -> Value {
        var previous: Value?
        for command in pipeline {
            var arguments: [Value] = command.arguments.map { operand in
                switch operand {
                case .literal(let value): return .string(value)
                case .name: return .string(model.name)
                case .containerName: return .string(model.containerName)
                case .labels: return .map(model.labels)
                case .label(let key): return .string(model.labels[key] ?? "")
                }
            }
            if let previous { arguments.append(previous) }
            guard let function = command.function else {
                guard arguments.count == 1 else { throw TemplateError(message: "a value cannot take arguments") }
                previous = arguments[0]
                continue
            }
            previous = try call(function, arguments)
        }
        return previous ?? .string("")
    }

    private static func call(_ function: Function, _ arguments: [Value]) throws(TemplateError) -> Value {
        func strings(_ count: Int) throws(TemplateError) -> [String] {
            guard arguments.count == count else {
                throw TemplateError(message: "\(function.rawValue) takes \(count) argument\(count == 1 ? "" : "s"), got \(arguments.count)")
            }
            var result: [String] = []
            for argument in arguments {
                guard case .string(let value) = argument else {
                    throw TemplateError(message: "\(function.rawValue) takes strings, got a map")
                }
                result.append(value)
            }
            return result
        }
        switch function {
        case .normalize: return .string(normalize(try strings(1)[0]))
        case .lower: return .string(try strings(1)[0].lowercased())
        case .upper: return .string(try strings(1)[0].uppercased())
        case .trim:
            let value = try strings(1)[0]
            return .string(String(value.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()))
        case .trimPrefix:
            let values = try strings(2)
            return .string(values[1].hasPrefix(values[0]) ? String(values[1].dropFirst(values[0].count)) : values[1])
        case .trimSuffix:
            let values = try strings(2)
            return .string(values[1].hasSuffix(values[0]) ? String(values[1].dropLast(values[0].count)) : values[1])
        case .replace:
            let values = try strings(3)
            guard !values[0].isEmpty else { return .string(values[2]) }
            return .string(values[2].split(separator: values[0], omittingEmptySubsequences: false).joined(separator: values[1]))
        case .default:
            let values = try strings(2)
            return .string(values[1].isEmpty ? values[0] : values[1])
        case .index:
            guard arguments.count == 2, case .map(let map) = arguments[0], case .string(let key) = arguments[1] else {
                throw TemplateError(message: "index takes a map and a key, e.g. index .Labels \"com.example.host\"")
            }
            return .string(map[key] ?? "")
        }
    }
}
