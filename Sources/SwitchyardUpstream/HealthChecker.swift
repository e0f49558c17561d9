import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs the health checks of the load balancers in the table in force: one checker per `ServerHealth`, started
/// when a table brings a new one and stopped when no table uses it any more.
public final class HealthCheckSupervisor: Sendable {
    private let group: any EventLoopGroup
    private let logger: Logger
    private let running = NIOLockedValueBox<[ObjectIdentifier: Running]>([:])

    /// A check's repeated task, and the connections its probes use (closed when it stops).
    private struct Running {
        let task: RepeatedTask
        let pool: NIOLoopBoundBox<UpstreamConnectionPool?>

        func stop() {
            task.cancel()
            let pool = self.pool
            pool.eventLoop.execute { pool.value?.closeAll() }
        }
    }
    /// Told when a server goes up or down: service, server URL, up.
    private let onChange: @Sendable (String, String, Bool) -> Void

    public init(group: any EventLoopGroup, logger: Logger, onChange: @escaping @Sendable (String, String, Bool) -> Void = { _, _, _ in }) {
        self.group = group
        self.logger = logger
        self.onChange = onChange
    }

    /// Makes the running checks those of `specs`.
    public func update(_ specs: [HealthCheckSpec]) {
        running.withLockedValue { running in
            let wanted = Dictionary(specs.map { (ObjectIdentifier($0.health), $0) }, uniquingKeysWith: { first, _ in first })
            for (id, check) in running where wanted[id] == nil {
                check.stop()
                running[id] = nil
            }
            for (id, spec) in wanted where running[id] == nil {
                running[id] = start(spec)
            }
        }
    }

    public func stopAll() {
        running.withLockedValue { running in
            for check in running.values { check.stop() }
            running.removeAll()
        }
    }

    private func start(_ spec: HealthCheckSpec) -> Running {
        let loop = group.next()
        let tick = min(spec.settings.interval, spec.settings.unhealthyInterval)
        let nextDue = NIOLockedValueBox([NIODeadline](repeating: .now(), count: spec.servers.count))
        let logger = self.logger
        let onChange = self.onChange
        // The probes' connections (TLS, HTTP/2 with prior knowledge, as the service's requests), kept off the
        // proxy's pools; an HTTP/1.1 connection is not kept between probes.
        let pool = NIOLoopBoundBox.makeEmptyBox(valueType: UpstreamConnectionPool.self, eventLoop: loop)
        let poolSettings = UpstreamConnectionPool.Settings(maxIdlePerServer: 0, connectTimeout: .nanoseconds(spec.settings.timeout))
        let task = loop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: .nanoseconds(max(tick, 10_000_000))) { _ in
            let now = NIODeadline.now()
            let probes = pool.value ?? UpstreamConnectionPool(eventLoop: loop, settings: poolSettings)
            pool.value = probes
            var checks: [EventLoopFuture<Void>] = []
            for (index, server) in spec.servers.enumerated() {
                guard nextDue.withLockedValue({ $0[index] <= now }) else { continue }
                let check = HealthProbe.check(server, settings: spec.settings, pool: probes).map { healthy in
                    let wait = healthy ? spec.settings.interval : spec.settings.unhealthyInterval
                    nextDue.withLockedValue { $0[index] = .now() + .nanoseconds(wait) }
                    if spec.health.set(index, up: healthy) {
                        onChange(spec.service, server.url, healthy)
                        logger.warning(
                            "health check: server \(healthy ? "up" : "down")",
                            metadata: ["service": "\(spec.service)", "server": "\(server.url)"])
                    }
                }
                checks.append(check)
            }
            return EventLoopFuture.andAllComplete(checks, on: loop)
        }
        return Running(task: task, pool: pool)
    }
}

/// One health-check request, through the connections the service's requests would use (`http://`, `https://`
/// with the transport's TLS, `h2c://`): send the configured request, read the status, follow redirects.
enum HealthProbe {
    static func check(_ server: UpstreamServer, settings: HealthCheckSettings, pool: UpstreamConnectionPool) -> EventLoopFuture<Bool> {
        let loop = pool.eventLoop
        var target = server
        if settings.scheme != nil || settings.port != nil {
            let scheme = settings.scheme?.lowercased() ?? server.scheme.rawValue
            let host = server.host.contains(":") ? "[\(server.host)]" : server.host
            if let moved = try? UpstreamServer(url: "\(scheme)://\(host):\(settings.port ?? server.port)") {
                target = moved.using(server.transport)
            }
        }
        let promise = loop.makePromise(of: Bool.self)
        let timeout = loop.scheduleTask(in: .nanoseconds(settings.timeout)) { promise.succeed(false) }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        probe(target, path: settings.path, settings: settings, pool: pool, redirects: 0, until: promise.futureResult).whenComplete { result in
            switch result {
            case .success(let status): promise.succeed(settings.status.map { $0 == status } ?? (200..<400).contains(status))
            case .failure: promise.succeed(false)
            }
        }
        return promise.futureResult
    }

    /// The status `path` answers on `server`, after the redirects it is told to follow. When `done` completes first
    /// (the check timed out), the request in flight is given up and its connection closed: a server that takes
    /// connections and never answers is not left holding one per check.
    static func probe(
        _ server: UpstreamServer, path: String, settings: HealthCheckSettings, pool: UpstreamConnectionPool, redirects: Int,
        until done: EventLoopFuture<Bool>
    ) -> EventLoopFuture<Int> {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: settings.hostname ?? server.hostHeader)
        headers.add(name: "User-Agent", value: "Switchyard health check")
        for (name, value) in settings.headers.sorted(by: { $0.key < $1.key }) { headers.replaceOrAdd(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: settings.method), uri: path, headers: headers)
        return pool.acquire(server).assumeIsolated().flatMap { connection in
            let answer = ProbeAnswer(promise: pool.eventLoop.makePromise())
            connection.delegate = answer
            done.assumeIsolated().whenComplete { _ in answer.promise.fail(ChannelError.ioOnClosedChannel) }  // no-op once answered
            connection.write(.head(head))
            connection.writeAndFlush(.end(nil))
            return answer.promise.futureResult.assumeIsolated().always { _ in
                connection.delegate = nil
                connection.close()
                _ = answer
            }.nonisolated()
        }.flatMap { (result: ProbeResult) -> EventLoopFuture<Int> in
            let status = result.status
            guard settings.followRedirects, (300..<400).contains(status), let location = result.location, redirects < 10 else {
                return pool.eventLoop.makeSucceededFuture(status)
            }
            if location.hasPrefix("/") {
                return probe(server, path: location, settings: settings, pool: pool, redirects: redirects + 1, until: done)
            }
            guard let moved = try? UpstreamServer(url: location) else { return pool.eventLoop.makeSucceededFuture(status) }
            let components = location.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
            let movedPath = components.count > 3 ? "/" + components[3] : "/"
            return probe(
                moved.using(server.transport), path: movedPath, settings: settings, pool: pool, redirects: redirects + 1, until: done)
        }.nonisolated()
    }
}

/// What a probe was answered: the status and `Location`.
struct ProbeResult: Sendable {
    var status: Int
    var location: String?
}

/// Completes a probe with the answer's status and `Location`.
private final class ProbeAnswer: UpstreamConnectionDelegate {
    let promise: EventLoopPromise<ProbeResult>

    init(promise: EventLoopPromise<ProbeResult>) {
        self.promise = promise
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard case .head(let head) = part, head.status.code >= 200 else { return }
        promise.succeed(ProbeResult(status: Int(head.status.code), location: head.headers.first(name: "location")))
    }

    func upstreamWritabilityChanged(isWritable: Bool) {}

    func upstreamClosed(error: (any Error)?) {
        promise.fail(error ?? ChannelError.eof)
    }
}

@available(*, unavailable)
extension ProbeAnswer: Sendable {}
