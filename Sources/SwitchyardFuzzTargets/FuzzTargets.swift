import SwitchyardConfig
import SwitchyardDockerProvider
import SwitchyardProviderKit
import SwitchyardRouting

/// What the fuzzer drives: the inputs users write by hand. Each target takes arbitrary bytes and must end in a
/// value or a clear error, never a crash or a hang.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A router rule (`Host(...) && PathPrefix(...)`), compiled to a matcher and run on a request.
    case rule
    /// Container labels, one `key=value` per line, built into a provider snapshot and compiled into a table.
    case labels
    /// A dynamic configuration document (YAML, or TOML when the first byte is `#`), decoded and compiled.
    case config

    public func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .rule:
            if let matcher = try? MatcherCompiler.compile(rule: text) {
                _ = matcher.matches(Self.request)
            }
        case .labels:
            var labels: [String: String] = [:]
            for line in text.split(separator: "\n").prefix(512) {
                let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                labels[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            let container = DockerContainer(
                id: "fuzz", name: "fuzz", labels: labels,
                networks: ["bridge": .init(ipAddress: "127.0.0.2")], ports: [.init(number: 80)])
            let snapshot = DockerConfigurationBuilder(options: DockerProviderOptions()).build([container])
            Self.compile([snapshot])
        case .config:
            let format: ConfigDocument.Format = bytes.first == UInt8(ascii: "#") ? .toml : .yaml
            guard let node = try? ConfigDocument.parse(text, source: "fuzz", format: format),
                let configuration = try? ConfigNodeDecoder.decode(DynamicConfiguration.self, from: node)
            else { return }
            Self.compile([ProviderSnapshot(provider: "file", configuration: configuration)])
        }
    }

    static func compile(_ snapshots: [ProviderSnapshot]) {
        let table = RoutingTableCompiler(entryPoints: ["web"]).compile(ConfigurationMerger.merge(snapshots), version: 1)
        _ = table.entryPoints["web"]?.route(Self.request)
    }

    static var request: RoutingRequest {
        RoutingRequest(
            head: .init(version: .http1_1, method: .GET, uri: "/a/b?x=1", headers: ["Host": "fuzz.test", "X-A": "b"]),
            clientAddress: [127, 0, 0, 1])
    }
}
