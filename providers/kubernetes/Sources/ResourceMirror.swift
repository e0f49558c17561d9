import Foundation
import Logging
import NIOConcurrencyHelpers
import SwitchyardProviderKit

/// A live copy of one kind of object: list, then watch from the list's resource version (with bookmarks), applying
/// ADDED / MODIFIED / DELETED; a watch the server ends is resumed from the last version seen; `410 Gone` lists
/// again. Failures back off from 250 ms, doubling, to 30 s; the copy keeps its last good content meanwhile.
final class ResourceMirror<Object: KubernetesObject>: MirrorRunning {
    /// `/apis/networking.k8s.io/v1/ingresses` or a namespace's path.
    let paths: [String]
    let query: [String: String]
    /// A path that answers 404 (a group the API server does not serve) counts as listed and empty, and is asked
    /// again every 30 s.
    let optional: Bool
    private let state = NIOLockedValueBox(State())

    struct State {
        var objects: [String: [String: Object]] = [:]
        /// Every path listed at least once.
        var listed: Set<String> = []
        var errors: [String: String] = [:]
    }

    init(paths: [String], query: [String: String] = [:], optional: Bool = false) {
        self.paths = paths
        self.query = query
        self.optional = optional
    }

    /// Every object of every path, by `namespace/name`.
    var objects: [String: Object] {
        state.withLockedValue { state in
            state.objects.values.reduce(into: [:]) { all, objects in all.merge(objects) { first, _ in first } }
        }
    }

    /// Whether every path has been listed at least once.
    var ready: Bool { state.withLockedValue { $0.listed.count == paths.count } }

    /// The current failure of each path that is failing.
    var errors: [String: String] { state.withLockedValue { $0.errors } }

    /// Follows every path until cancelled; `changed` is called after each change of the copy or of its errors.
    func run(client: KubernetesClient, logger: Logger, changed: @escaping @Sendable () async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            for path in paths {
                group.addTask { await self.follow(path, client: client, logger: logger, changed: changed) }
            }
        }
    }

    private func follow(_ path: String, client: KubernetesClient, logger: Logger, changed: @escaping @Sendable () async -> Void) async {
        var backoff = Duration.milliseconds(250)
        var resourceVersion: String?
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    let (items, version) = try await client.list(path, query: query, as: Object.self)
                    let fresh = Dictionary(items.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
                    let different = state.withLockedValue { state -> Bool in
                        let before = (state.objects[path], state.errors[path], state.listed.contains(path))
                        state.objects[path] = fresh
                        state.errors[path] = nil
                        state.listed.insert(path)
                        return before.0 != fresh || before.1 != nil || !before.2
                    }
                    resourceVersion = version
                    if different { await changed() }
                }
                try await client.watch(path, query: query, resourceVersion: resourceVersion ?? "", as: Object.self) { event in
                    var different = true
                    switch event {
                    case .added(let object), .modified(let object):
                        resourceVersion = object.metadata.resourceVersion ?? resourceVersion
                        different = state.withLockedValue { state in
                            let before = state.objects[path]?[object.key]
                            state.objects[path, default: [:]][object.key] = object
                            return before != object
                        }
                    case .deleted(let object):
                        resourceVersion = object.metadata.resourceVersion ?? resourceVersion
                        different = state.withLockedValue { $0.objects[path]?.removeValue(forKey: object.key) != nil }
                    case .bookmark(let version):
                        if !version.isEmpty { resourceVersion = version }
                        different = false
                    }
                    backoff = .milliseconds(250)
                    if different { await changed() }
                }
                // The server ended the watch (its timeout, or the connection was cut): resume from where it was.
            } catch let error as KubernetesClient.APIError where optional && error.status == 404 {
                let different = state.withLockedValue { state -> Bool in
                    let before = state.listed.contains(path) && (state.objects[path] ?? [:]).isEmpty && state.errors[path] == nil
                    state.objects[path] = [:]
                    state.errors[path] = nil
                    state.listed.insert(path)
                    return !before
                }
                if different { await changed() }
                resourceVersion = nil
                try? await Task.sleep(for: .seconds(30))
            } catch is KubernetesClient.Expired {
                logger.info("watch expired (410 Gone); listing again", metadata: ["path": "\(path)"])
                resourceVersion = nil
            } catch {
                if Task.isCancelled { return }
                let message = "\(error)"
                let first = state.withLockedValue { state -> Bool in
                    let first = state.errors[path] != message
                    state.errors[path] = message
                    return first
                }
                if first {
                    logger.error("Kubernetes API: \(message)", metadata: ["path": "\(path)"])
                    await changed()
                }
                // List again after a failure: events may have been missed while the stream was down.
                resourceVersion = nil
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }
}

/// A mirror, whatever kind it copies.
protocol MirrorRunning: Sendable {
    func run(client: KubernetesClient, logger: Logger, changed: @escaping @Sendable () async -> Void) async
}

/// Runs a provider's mirrors and, after each change (at most once per `throttle`), sends the snapshot `build`
/// makes, unless it is nil or the same as the last one sent.
enum MirroredProvider {
    static func run(
        client: KubernetesClient, logger: Logger, mirrors: [any MirrorRunning], throttle: Duration,
        updates: ProviderUpdates, build: @escaping @Sendable () -> ProviderSnapshot?
    ) async {
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let changed: @Sendable () async -> Void = { signal.yield() }
        await withTaskGroup(of: Void.self) { group in
            for mirror in mirrors {
                group.addTask { await mirror.run(client: client, logger: logger, changed: changed) }
            }
            group.addTask {
                var lastSent: ProviderSnapshot?
                for await _ in signals {
                    guard let snapshot = build(), snapshot != lastSent else { continue }
                    lastSent = snapshot
                    await updates.send(snapshot)
                    try? await Task.sleep(for: throttle)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
