import Foundation
import Logging
import SwitchyardConfig
import SwitchyardProviderKit

/// The Docker provider: routes from the labels of running containers. It lists the containers, follows the Engine's
/// events and lists again after each one, and also every `pollInterval` so a missed event heals. While the Engine
/// is away the last good view stays in force.
public struct DockerProvider: Provider {
    public let name = DockerConfigurationBuilder.providerName
    public let options: DockerProviderOptions
    private let logger: Logger

    /// Container events after which the provider lists again.
    static let relevantActions: Set<String> = [
        "start", "die", "stop", "kill", "pause", "unpause", "destroy", "rename", "health_status", "restart", "update",
        "connect", "disconnect",
    ]

    public init(options: DockerProviderOptions, logger: Logger = Logger(label: "switchyard.provider.docker")) {
        self.options = options
        self.logger = logger
    }

    /// Checks the endpoint and TLS options (for start-up, before serving).
    public static func validate(_ options: DockerProviderOptions) throws(ConfigurationIssue) {
        let client = try DockerEngineClient(endpoint: options.endpoint, tls: options.tls, timeout: options.httpClientTimeout)
        Task { await client.shutdown() }
    }

    public func run(sending updates: ProviderUpdates) async throws {
        let client = try DockerEngineClient(endpoint: options.endpoint, tls: options.tls, timeout: options.httpClientTimeout)
        let discovery = DockerDiscovery(client: client, builder: DockerConfigurationBuilder(options: options), logger: logger)
        let (triggers, trigger) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        trigger.yield()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in triggers {
                    // Events come in bursts (create, connect, start): let the burst end, then list once.
                    try? await Task.sleep(for: .milliseconds(25))
                    if Task.isCancelled { break }
                    if let snapshot = await discovery.refresh() { await updates.send(snapshot) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: options.pollInterval) } catch { break }
                    trigger.yield()
                }
            }
            if options.watch {
                group.addTask { await followEvents(client: client, discovery: discovery, trigger: trigger) }
            }
            await withTaskCancellationHandler {
                await group.next()
            } onCancel: {
                trigger.finish()
            }
            group.cancelAll()
        }
        await client.shutdown()
    }

    /// Follows the event stream, reconnecting with a capped back-off; each (re)connection lists again.
    private func followEvents(client: DockerEngineClient, discovery: DockerDiscovery, trigger: AsyncStream<Void>.Continuation) async {
        var backoff: Duration = .milliseconds(250)
        while !Task.isCancelled {
            do {
                let version = try await discovery.apiVersion()
                try await client.followEvents(version: version) {
                    trigger.yield()
                } onEvent: { event in
                    let action = event.Action.map { String($0.split(separator: ":").first ?? "") } ?? ""
                    if Self.relevantActions.contains(action) { trigger.yield() }
                }
                backoff = .milliseconds(250)
            } catch {
                if Task.isCancelled { break }
                await discovery.lost(error)
                trigger.yield()  // lists (and fails) at once, so the outage shows as an error
            }
            do { try await Task.sleep(for: backoff) } catch { break }
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}

/// The provider's state between listings: the Engine's API version, the containers already inspected, the last
/// snapshot sent.
actor DockerDiscovery {
    private let client: DockerEngineClient
    private let builder: DockerConfigurationBuilder
    private let logger: Logger
    private var version: String?
    /// Inspected containers by id, with the listing summary they were inspected at.
    private var inspected: [String: (summary: String, container: DockerContainer)] = [:]
    private var lastGood: ProviderSnapshot?
    /// The containers `lastGood` was built from: the same containers again need no new build.
    private var lastContainers: Set<DockerContainer> = []
    private var lastSent: ProviderSnapshot?
    private var reachable = true

    init(client: DockerEngineClient, builder: DockerConfigurationBuilder, logger: Logger) {
        self.client = client
        self.builder = builder
        self.logger = logger
    }

    func apiVersion() async throws -> String {
        if let version { return version }
        let negotiated = try await client.negotiateVersion()
        version = negotiated
        return negotiated
    }

    /// Lists and inspects the containers; the snapshot to send, or nil when nothing changed.
    func refresh() async -> ProviderSnapshot? {
        let snapshot: ProviderSnapshot
        let started = ContinuousClock.now
        do {
            let (containers, inspections) = try await listContainers()
            let current = Set(containers)
            if let lastGood, current == lastContainers {
                snapshot = lastGood
            } else {
                snapshot = builder.build(containers)
                lastContainers = current
            }
            logger.debug(
                "listed the containers",
                metadata: [
                    "served": "\(containers.count)", "inspected": "\(inspections)",
                    "ms": "\(Self.milliseconds(ContinuousClock.now - started))",
                ])
            lastGood = snapshot
            if !reachable {
                logger.notice("the Docker Engine is back; listing its containers again", metadata: ["endpoint": "\(client.endpoint)"])
                reachable = true
            }
        } catch {
            lost(error)
            var kept = lastGood ?? ProviderSnapshot(provider: DockerConfigurationBuilder.providerName, configuration: DynamicConfiguration())
            kept.sourceUnavailable = lastGood == nil
            kept.issues.append(ConfigurationIssue(
                at: SourceLocation(source: "providers.docker.endpoint \(client.endpoint)"),
                message: "cannot reach the Docker Engine: \(error); \(lastGood == nil ? "no containers known yet" : "keeping the last good view")"))
            snapshot = kept
        }
        guard snapshot != lastSent else { return nil }
        lastSent = snapshot
        return snapshot
    }

    static func milliseconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.1f", value)
    }

    /// Records that the Engine cannot be reached (logged once per outage).
    func lost(_ error: any Error) {
        version = nil
        guard reachable else { return }
        reachable = false
        logger.warning(
            "cannot reach the Docker Engine; keeping the last good view and retrying",
            metadata: ["endpoint": "\(client.endpoint)", "error": "\(error)"])
    }

    private struct Summary: Decodable {
        var Id: String
        var Names: [String]?
        var State: String?
        var Status: String?
        var Labels: [String: String]?
        var NetworkSettings: Settings?
        struct Settings: Decodable { var Networks: [String: Endpoint?]? }
        struct Endpoint: Decodable { var IPAddress: String? }

        /// What would make an inspection stale: state, health, name, addresses.
        var key: String {
            let health = Status.flatMap { status in status.firstIndex(of: "(").map { String(status[$0...]) } } ?? ""
            let addresses = (NetworkSettings?.Networks ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value?.IPAddress ?? "")" }.joined(separator: ",")
            return "\(State ?? "")|\(health)|\((Names ?? []).joined(separator: ","))|\(addresses)"
        }

        /// Running, or kept though not running by the `docker.allownonrunning` label.
        var considered: Bool {
            if State == "running" { return true }
            return (Labels ?? [:]).contains { key, value in
                let lower = key.lowercased()
                return (lower == "switchyard.docker.allownonrunning" || lower == "traefik.docker.allownonrunning")
                    && value.lowercased() == "true"
            }
        }
    }

    /// The containers to consider, and how many had to be inspected afresh.
    private func listContainers() async throws -> ([DockerContainer], Int) {
        let version = try await apiVersion()
        let summaries = try JSONDecoder().decode([Summary].self, from: try await client.get("/v\(version)/containers/json?all=1"))
        let wanted = summaries.filter(\.considered)
        let stale = wanted.filter { inspected[$0.Id]?.summary != $0.key }
        let client = self.client
        // A few inspections at a time: fast for hundreds of containers, gentle on the Engine.
        let fresh = try await withThrowingTaskGroup(of: (String, String, DockerContainer?).self) { group in
            var results: [(String, String, DockerContainer?)] = []
            var iterator = stale.makeIterator()
            func addNext() {
                guard let summary = iterator.next() else { return }
                let key = summary.key
                group.addTask {
                    do {
                        let data = try await client.get("/v\(version)/containers/\(summary.Id)/json")
                        return (summary.Id, key, try DockerContainer(inspectJSON: data))
                    } catch is DockerEngineClient.EngineError {
                        return (summary.Id, key, nil)  // removed since the listing
                    }
                }
            }
            for _ in 0..<8 { addNext() }
            while let result = try await group.next() {
                results.append(result)
                addNext()
            }
            return results
        }
        for (id, key, container) in fresh {
            inspected[id] = container.map { (key, $0) }
        }
        let ids = Set(wanted.map(\.Id))
        inspected = inspected.filter { ids.contains($0.key) }
        return (inspected.values.map(\.container), stale.count)
    }
}
