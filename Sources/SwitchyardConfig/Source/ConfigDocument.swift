import TOMLKit
import Yams

/// Turns the text of a configuration file into a `ConfigNode` tree, keeping line and column of every node.
public enum ConfigDocument {
    public enum Format: String, Sendable, CaseIterable {
        case yaml
        case toml
        case json

        /// The format a file name's extension selects, nil when it is not a configuration file.
        public init?(fileName: String) {
            let lower = fileName.lowercased()
            if lower.hasSuffix(".yml") || lower.hasSuffix(".yaml") { self = .yaml }
            else if lower.hasSuffix(".toml") { self = .toml }
            else if lower.hasSuffix(".json") { self = .json }
            else { return nil }
        }
    }

    /// Parses `text`. An empty document is an empty mapping.
    public static func parse(_ text: String, source: String, format: Format) throws(ConfigurationIssue) -> ConfigNode {
        switch format {
        case .yaml, .json:
            // JSON is a subset of YAML: one parser gives line numbers for both.
            return try parseYAML(text, source: source)
        case .toml:
            return try parseTOML(text, source: source)
        }
    }

    static func parseYAML(_ text: String, source: String) throws(ConfigurationIssue) -> ConfigNode {
        let root: Node?
        do {
            // No resolver rules: the decoder types scalars by the schema (a string "true" and a bool true are
            // one), and the default rules are regular expressions that load ICU (megabytes resident) to tag
            // every scalar for nothing.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ConfigurationIssue(at: yamlErrorLocation(error, source: source), message: yamlErrorMessage(error))
        } catch {
            throw ConfigurationIssue(at: SourceLocation(source: source), message: "cannot parse: \(error)")
        }
        guard let root else { return ConfigNode(.mapping([]), at: SourceLocation(source: source, line: 1, column: 1)) }
        return convert(root, source: source)
    }

    private static func location(_ mark: Mark?, _ source: String) -> SourceLocation {
        SourceLocation(source: source, line: mark?.line, column: mark?.column)
    }

    private static func convert(_ node: Node, source: String) -> ConfigNode {
        let here = location(node.mark, source)
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
                return ConfigNode(.null, at: here)
            }
            return ConfigNode(.scalar(scalar.string), at: here)
        case .mapping(let mapping):
            let entries = mapping.map { key, value in
                ConfigNode.Entry(
                    key: key.string ?? "\(key)",
                    keyLocation: location(key.mark, source),
                    value: convert(value, source: source)
                )
            }
            return ConfigNode(.mapping(entries), at: here)
        case .sequence(let sequence):
            return ConfigNode(.sequence(sequence.map { convert($0, source: source) }), at: here)
        case .alias:
            return ConfigNode(.null, at: here)
        }
    }

    private static func yamlErrorLocation(_ error: YamlError, source: String) -> SourceLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return SourceLocation(source: source, line: mark.line, column: mark.column)
        default:
            return SourceLocation(source: source)
        }
    }

    private static func yamlErrorMessage(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            if let context { return "invalid YAML: \(problem) (\(context.text))" }
            return "invalid YAML: \(problem)"
        default:
            return "invalid YAML: \(error)"
        }
    }

    static func parseTOML(_ text: String, source: String) throws(ConfigurationIssue) -> ConfigNode {
        if let (line, column) = badTableHeaderStart(text) {
            // The parser library asserts (and aborts the process) when a table header's key starts with anything else.
            throw ConfigurationIssue(
                at: SourceLocation(source: source, line: line, column: column),
                message: "invalid TOML: a table header's key starts with a letter, a digit, '_', '-' or a quote")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationIssue(
                at: SourceLocation(source: source, line: error.source.begin.line, column: error.source.begin.column),
                message: "invalid TOML: \(error.description)"
            )
        } catch {
            throw ConfigurationIssue(at: SourceLocation(source: source), message: "invalid TOML: \(error)")
        }
        let index = TOMLLineIndex(text)
        return convert(table.tomlValue, path: [], index: index, source: source)
    }

    /// The line and column of the first table header (`[` or `[[` outside strings, comments and values) whose key
    /// does not start with a bare-key character or a quote; never valid TOML.
    static func badTableHeaderStart(_ text: String) -> (Int, Int)? {
        enum State { case code, comment, basic, literal, multiBasic, multiLiteral }
        let basicMarker = Array("\"\"\"".utf8), literalMarker = Array("'''".utf8)
        var state = State.code
        var line = 1, column = 0
        var valueDepth = 0, inValue = false  // inside a value's arrays / inline tables; past a key's `=`
        let bytes = Array(text.utf8)
        var index = 0
        func starts(_ pattern: [UInt8]) -> Bool {
            index + pattern.count <= bytes.count && bytes[index..<index + pattern.count].elementsEqual(pattern)
        }
        func headerKeyStart(after open: Int) -> Int {
            var next = open + 1
            func skipBlanks() { while next < bytes.count, bytes[next] == 0x20 || bytes[next] == 0x09 { next += 1 } }
            skipBlanks()
            if next < bytes.count, bytes[next] == UInt8(ascii: "[") {
                next += 1
                skipBlanks()
            }
            return next
        }
        while index < bytes.count {
            let byte = bytes[index]
            column += 1
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
                if state == .comment || state == .basic || state == .literal { state = .code }
                if valueDepth == 0 { inValue = false }
                index += 1
                continue
            }
            switch state {
            case .code:
                if byte == UInt8(ascii: "#") {
                    state = .comment
                } else if starts(basicMarker) {
                    state = .multiBasic
                    index += 2
                } else if starts(literalMarker) {
                    state = .multiLiteral
                    index += 2
                } else if byte == UInt8(ascii: "\"") {
                    state = .basic
                } else if byte == UInt8(ascii: "'") {
                    state = .literal
                } else if byte == UInt8(ascii: "=") {
                    inValue = true
                } else if inValue, byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") {
                    valueDepth += 1
                } else if inValue, byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") {
                    valueDepth = max(0, valueDepth - 1)
                } else if byte == UInt8(ascii: "[") {
                    let key = headerKeyStart(after: index)
                    guard key < bytes.count else { return nil }
                    let first = bytes[key]
                    let bare = (first >= 0x30 && first <= 0x39) || (first | 0x20 >= 0x61 && first | 0x20 <= 0x7A)
                        || first == UInt8(ascii: "_") || first == UInt8(ascii: "-")
                    let quoteOrEnd = first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") || first == UInt8(ascii: "]")
                    if !bare && !quoteOrEnd { return (line, column + key - index) }
                }
            case .comment:
                break
            case .basic:
                if byte == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "\n") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") { state = .code }
            case .literal:
                if byte == UInt8(ascii: "'") { state = .code }
            case .multiBasic:
                if byte == UInt8(ascii: "\\") {
                    if index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "\n") { index += 1 }
                } else if starts(basicMarker) {
                    state = .code
                    index += 2
                }
            case .multiLiteral:
                if starts(literalMarker) {
                    state = .code
                    index += 2
                }
            }
            index += 1
        }
        return nil
    }

    /// TOMLKit keeps no positions; lines come from a scan of the text (`TOMLLineIndex`).
    private static func convert(
        _ value: TOMLValueConvertible, path: [String], index: TOMLLineIndex, source: String
    ) -> ConfigNode {
        let here = SourceLocation(source: source, line: index.line(of: path))
        if let table = value.table {
            let entries = table.keys.sorted().compactMap { key -> ConfigNode.Entry? in
                guard let child = table[key] else { return nil }
                let childPath = path + [key]
                return ConfigNode.Entry(
                    key: key, keyLocation: SourceLocation(source: source, line: index.line(of: childPath)),
                    value: convert(child, path: childPath, index: index, source: source))
            }
            return ConfigNode(.mapping(entries), at: here)
        }
        if let array = value.array {
            let items = array.enumerated().map { offset, item in
                convert(item, path: path + ["[\(offset)]"], index: index, source: source)
            }
            return ConfigNode(.sequence(items), at: here)
        }
        if let bool = value.bool { return ConfigNode(.scalar(bool ? "true" : "false"), at: here) }
        if let int = value.int { return ConfigNode(.scalar(String(int)), at: here) }
        if let double = value.double { return ConfigNode(.scalar(String(double)), at: here) }
        if let string = value.string { return ConfigNode(.scalar(string), at: here) }
        return ConfigNode(.scalar(value.debugDescription), at: here)
    }
}
