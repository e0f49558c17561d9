import Foundation
import SwitchyardConfig

/// A source of dynamic configuration (a directory of files, the Docker Engine, the Kubernetes API).
///
/// A provider sends its *whole* view every time it changes, never a diff. When it fails it keeps its last good
/// view in force: it sends a snapshot with the last good configuration and the new errors.
public protocol Provider: Sendable {
    /// The name used in `name@provider`, e.g. `file`, `docker`.
    var name: String { get }

    /// Runs until the task is cancelled, sending a snapshot at start and after each change.
    func run(sending updates: ProviderUpdates) async throws
}

/// Where a provider sends its snapshots.
public struct ProviderUpdates: Sendable {
    private let deliver: @Sendable (ProviderSnapshot) async -> Void

    public init(_ deliver: @escaping @Sendable (ProviderSnapshot) async -> Void) {
        self.deliver = deliver
    }

    public func send(_ snapshot: ProviderSnapshot) async {
        await deliver(snapshot)
    }
}

/// Everything one provider sees at one moment: its configuration, where each resource was defined, and the
/// errors it found (each tied to its source).
public struct ProviderSnapshot: Sendable, Hashable {
    public var provider: String
    public var configuration: DynamicConfiguration
    /// Where each resource was defined, keyed by `ResourceKey` (unqualified names).
    public var origins: [ResourceKey: SourceLocation]
    public var issues: [ConfigurationIssue]
    /// Resources the provider could not read (a label with a bad value, say), by unqualified name: they show in the
    /// API as disabled with this error, and whatever names them fails with it. Their issues are in `issues` too.
    public var rejected: [ResourceKey: ConfigurationIssue]
    /// Files the configuration names (certificates, keys), with a stamp of their content: a new stamp makes a new
    /// snapshot, so the files are read again.
    public var fileStamps: [String: String] = [:]
    /// The provider could not read its source at all and has no view of its own yet (the Docker Engine cannot be
    /// reached, the directory does not exist): a configuration restored from the history stays in force for it.
    public var sourceUnavailable = false

    public init(
        provider: String,
        configuration: DynamicConfiguration,
        origins: [ResourceKey: SourceLocation] = [:],
        issues: [ConfigurationIssue] = [],
        rejected: [ResourceKey: ConfigurationIssue] = [:]
    ) {
        self.provider = provider
        self.configuration = configuration
        self.origins = origins
        self.issues = issues
        self.rejected = rejected
    }
}


extension ProviderSnapshot {
    /// The part of a merged configuration (qualified names) that `provider` defined, as that provider's snapshot
    /// (unqualified names; references stay qualified, as the merger leaves them): its HTTP, TCP and UDP resources.
    /// Nil when it defined none.
    public static func restored(from merged: DynamicConfiguration, provider: String) -> ProviderSnapshot? {
        let suffix = "@" + provider
        guard let data = try? JSONEncoder().encode(merged),
            var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return nil }
        var found = false
        for protocolName in ["http", "tcp", "udp"] {
            guard var sections = object[protocolName] as? [String: Any] else { continue }
            for (kind, value) in sections {
                guard let resources = value as? [String: Any] else { continue }
                var mine: [String: Any] = [:]
                for (name, resource) in resources where name.hasSuffix(suffix) {
                    mine[String(name.dropLast(suffix.count))] = resource
                }
                found = found || !mine.isEmpty
                sections[kind] = mine
            }
            object[protocolName] = sections
        }
        object["tls"] = nil
        guard found, let filtered = try? JSONSerialization.data(withJSONObject: object),
            let configuration = try? JSONDecoder().decode(DynamicConfiguration.self, from: filtered)
        else { return nil }
        return ProviderSnapshot(provider: provider, configuration: configuration)
    }
}
