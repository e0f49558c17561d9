import Logging
import SwitchyardConfig

/// Keeps the newest snapshot of every provider, drops snapshots that change nothing, waits out the throttle window,
/// and emits the merged configuration of all providers.
///
/// The first change after a quiet period is emitted at once; further changes within `throttle` of the last emission
/// are coalesced into one emission at the end of the window, so a burst of edits costs one table build.
public actor ConfigurationWatcher {
    /// One merged configuration, with the providers whose change caused it.
    public struct Update: Sendable {
        public var merged: MergedConfiguration
        public var changedProviders: [String]
    }

    public nonisolated let updates: AsyncStream<Update>
    private let continuation: AsyncStream<Update>.Continuation
    private let throttle: Duration
    private let clock = ContinuousClock()
    private let logger: Logger

    private var snapshots: [String: ProviderSnapshot] = [:]
    private var changed: Set<String> = []
    private var lastEmission: ContinuousClock.Instant?
    private var pending: Task<Void, Never>?

    public init(throttle: Duration, logger: Logger = Logger(label: "switchyard.watcher")) {
        self.throttle = throttle
        self.logger = logger
        (updates, continuation) = AsyncStream.makeStream(of: Update.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The sink to hand to providers.
    public nonisolated var sink: ProviderUpdates {
        ProviderUpdates { [weak self] snapshot in await self?.receive(snapshot) }
    }

    /// Configurations restored from the history, by provider, kept in force while their provider cannot read its
    /// source; dropped at its first real view.
    private var restored: [String: ProviderSnapshot] = [:]

    /// Hands the watcher what each provider last defined (from the history), for providers that start unable to
    /// read their source.
    public func restore(_ snapshots: [ProviderSnapshot]) {
        for snapshot in snapshots { restored[snapshot.provider] = snapshot }
    }

    public func receive(_ snapshot: ProviderSnapshot) {
        var snapshot = snapshot
        if snapshot.sourceUnavailable, var kept = restored[snapshot.provider] {
            kept.issues = snapshot.issues + [ConfigurationIssue(
                .warning, at: SourceLocation(source: snapshot.provider),
                message: "serving the \(snapshot.provider) provider's configuration from the history until it can read its source")]
            kept.sourceUnavailable = true
            snapshot = kept
        } else if !snapshot.sourceUnavailable {
            restored[snapshot.provider] = nil
        }
        if snapshots[snapshot.provider] == snapshot {
            logger.debug("skipping unchanged configuration", metadata: ["provider": "\(snapshot.provider)"])
            return
        }
        snapshots[snapshot.provider] = snapshot
        changed.insert(snapshot.provider)
        scheduleEmission()
    }

    /// Stops emitting; the `updates` stream finishes.
    public func finish() {
        pending?.cancel()
        continuation.finish()
    }

    private func scheduleEmission() {
        guard pending == nil else { return }
        let now = clock.now
        let due = lastEmission.map { $0 + throttle } ?? now
        if due <= now {
            emit()
            return
        }
        pending = Task { [weak self] in
            try? await Task.sleep(until: due, clock: .continuous)
            await self?.emitPending()
        }
    }

    private func emitPending() {
        pending = nil
        guard !Task.isCancelled, !changed.isEmpty else { return }
        emit()
    }

    private func emit() {
        let merged = ConfigurationMerger.merge(Array(snapshots.values))
        let update = Update(merged: merged, changedProviders: changed.sorted())
        changed.removeAll()
        lastEmission = clock.now
        continuation.yield(update)
    }
}
