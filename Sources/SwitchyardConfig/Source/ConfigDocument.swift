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
            root = try Yams.compose(yaml: text)
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
