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
    private let running = NIOLockedValueBox<[ObjectIdentifier: RepeatedTask]>([:])
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
            for (id, task) in running where wanted[id] == nil {
                task.cancel()
                running[id] = nil
            }
            for (id, spec) in wanted where running[id] == nil {
                running[id] = start(spec)
            }
        }
    }

    public func stopAll() {
        running.withLockedValue { running in
            for task in running.values { task.cancel() }
            running.removeAll()
        }
    }

    private func start(_ spec: HealthCheckSpec) -> RepeatedTask {
        let loop = group.next()
        let tick = min(spec.settings.interval, spec.settings.unhealthyInterval)
        let nextDue = NIOLockedValueBox([NIODeadline](repeating: .now(), count: spec.servers.count))
        let logger = self.logger
        let onChange = self.onChange
        return loop.scheduleRepeatedAsyncTask(initialDelay: .zero, delay: .nanoseconds(max(tick, 10_000_000))) { _ in
            let now = NIODeadline.now()
            var checks: [EventLoopFuture<Void>] = []
            for (index, server) in spec.servers.enumerated() {
                guard nextDue.withLockedValue({ $0[index] <= now }) else { continue }
                let check = HealthProbe.check(server, settings: spec.settings, on: loop).map { healthy in
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
    }
}

/// One health-check request: connect, send the configured request, read the status line, close.
enum HealthProbe {
    static func check(_ server: UpstreamServer, settings: HealthCheckSettings, on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let promise = loop.makePromise(of: Bool.self)
        let timeout = loop.scheduleTask(in: .nanoseconds(settings.timeout)) { promise.succeed(false) }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        var headers = HTTPHeaders()
        let port = settings.port ?? server.port
        let host = settings.hostname ?? server.host
        headers.add(name: "Host", value: settings.port == nil && settings.hostname == nil ? server.hostHeader : "\(host):\(port)")
        headers.add(name: "User-Agent", value: "Switchyard health check")
        headers.add(name: "Connection", value: "close")
        for (name, value) in settings.headers.sorted(by: { $0.key < $1.key }) { headers.replaceOrAdd(name: name, value: value) }
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: settings.method), uri: settings.path, headers: headers)
        let expected = settings.status
        ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(settings.timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler(promise: promise, expected: expected))
                }
            }
            .connect(host: server.host, port: port)
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    channel.write(HTTPClientRequestPart.head(head), promise: nil)
                    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                    promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                case .failure:
                    promise.succeed(false)
                }
            }
        return promise.futureResult
    }
}

/// Completes the probe with the answer's status.
private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<Bool>
    let expected: Int?

    init(promise: EventLoopPromise<Bool>, expected: Int?) {
        self.promise = promise
        self.expected = expected
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let code = Int(head.status.code)
        promise.succeed(expected.map { $0 == code } ?? (200..<400).contains(code))
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(false)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(false)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ProbeHandler: Sendable {}
