import Foundation
import SwitchyardConfig

/// Reads the static configuration from a file (`--configFile`, or `switchyard.yml|yaml|toml` in the working
/// directory or /etc/switchyard), `SWITCHYARD_*` environment variables and `--flags`. Flags win over environment
/// variables, which win over the file. Every unknown key or bad value is an error naming the flag, variable or
/// file line.
struct StaticConfigurationLoader {
    struct Loaded {
        var configuration: StaticConfiguration
        /// Where it came from, for the start-up log.
        var sources: [String]
        /// The file's folder, for relative paths.
        var baseDirectory: String
        var isBuiltInDefault: Bool
        /// The merged tree the configuration was decoded from, to say where a value came from.
        var node: ConfigNode

        /// Where the value at `keyPath` (dotted, any letter case) was given: the flag, the environment variable or
        /// the file, line and column.
        func location(of keyPath: String) -> SourceLocation {
            var current = node
            for part in keyPath.split(separator: ".") {
                guard case .mapping(let entries) = current.value,
                    let entry = entries.first(where: { $0.key.lowercased() == part.lowercased() })
                else { return SourceLocation(source: "static configuration") }
                current = entry.value
            }
            return current.location
        }
    }

    /// Variables read for process settings, not static configuration.
    static let processVariables: Set<String> = ["SWITCHYARD_EVENT_LOOPS", "SWITCHYARD_DASHBOARD_DIR"]

    static let searchPaths = [
        "switchyard.yml", "switchyard.yaml", "switchyard.toml", "/etc/switchyard/switchyard.yml",
        "/etc/switchyard/switchyard.yaml", "/etc/switchyard/switchyard.toml",
    ]

    /// The configuration used when none is given at all: the example folder, the API and ping on.
    static let builtInDefault = """
        entryPoints:
          web:
            address: ":8000"
            asDefault: true
          traefik:
            address: ":8080"
        providers:
          file:
            directory: providers/file/examples
        api:
          insecure: true
          dashboard: true
        ping: {}
        log:
          level: INFO
        """

    var arguments: [String]
    var environment: [String: String]

    func load() throws(ConfigurationIssue) -> Loaded {
        let (flagNode, flagConfigFile) = try parseFlags()
        var configFile = flagConfigFile
        let environmentNode = try parseEnvironment()
        var sources: [String] = []
        var fileNode: ConfigNode?
        var baseDirectory = FileManager.default.currentDirectoryPath
        if configFile == nil {
            configFile = Self.searchPaths.first { FileManager.default.fileExists(atPath: $0) }
        }
        if let configFile {
            guard let data = FileManager.default.contents(atPath: configFile) else {
                throw ConfigurationIssue(at: SourceLocation(source: configFile), message: "cannot read the configuration file")
            }
            let format = ConfigDocument.Format(fileName: configFile) ?? .yaml
            fileNode = try ConfigDocument.parse(String(decoding: data, as: UTF8.self), source: configFile, format: format)
            baseDirectory = (configFile as NSString).deletingLastPathComponent
            sources.append("file \(configFile)")
        }
        var isBuiltInDefault = false
        if fileNode == nil && environmentNode == nil && flagNode == nil {
            fileNode = try ConfigDocument.parse(Self.builtInDefault, source: "built-in default", format: .yaml)
            sources.append("the built-in default (the examples under providers/file/examples)")
            isBuiltInDefault = true
        }
        if environmentNode != nil { sources.append("environment variables") }
        if flagNode != nil { sources.append("command-line flags") }
        var merged = fileNode ?? ConfigNode(.mapping([]), at: SourceLocation(source: "defaults"))
        if let environmentNode { merged = FlatKeyTree.merge(merged, environmentNode) }
        if let flagNode { merged = FlatKeyTree.merge(merged, flagNode) }
        let configuration = try ConfigNodeDecoder.decode(StaticConfiguration.self, from: merged, commaSeparatedLists: true)
        return Loaded(
            configuration: configuration, sources: sources, baseDirectory: baseDirectory,
            isBuiltInDefault: isBuiltInDefault, node: merged)
    }

    /// `--a.b.c=value`, `--a.b.c` (true) → a tree. `--configFile PATH` is also accepted.
    private func parseFlags() throws(ConfigurationIssue) -> (ConfigNode?, String?) {
        var root: ConfigNode?
        var configFile: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let location = SourceLocation(source: "flag \(argument)")
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw ConfigurationIssue(at: location, message: "expected a flag of the form --name=value")
            }
            let body = argument.dropFirst(2)
            var key = String(body)
            var value = "true"
            if let equals = body.firstIndex(of: "=") {
                key = String(body[..<equals])
                value = String(body[body.index(after: equals)...])
            } else if key.lowercased() == "configfile", index < arguments.count {
                value = arguments[index]
                index += 1
            }
            if key.lowercased() == "configfile" {
                configFile = value
                continue
            }
            let path = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else {
                throw ConfigurationIssue(at: location, message: "'\(key)' is not a valid option name")
            }
            root = FlatKeyTree.merge(root ?? ConfigNode(.mapping([]), at: location), FlatKeyTree.tree(path, value, location))
        }
        return (root, configFile)
    }

    private func parseEnvironment() throws(ConfigurationIssue) -> ConfigNode? {
        var root: ConfigNode?
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("SWITCHYARD_") {
            if Self.processVariables.contains(name) { continue }
            let location = SourceLocation(source: "environment variable \(name)")
            let path = name.dropFirst("SWITCHYARD_".count).split(separator: "_", omittingEmptySubsequences: false)
                .map { $0.lowercased() }
            guard !path.contains(where: \.isEmpty) else {
                throw ConfigurationIssue(at: location, message: "'\(name)' is not a valid option name")
            }
            root = FlatKeyTree.merge(root ?? ConfigNode(.mapping([]), at: location), FlatKeyTree.tree(path, value, location))
        }
        return root
    }
}
