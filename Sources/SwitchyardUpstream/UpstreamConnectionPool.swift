import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to upstream servers, one pool per event loop: a connection is only ever used on the loop
/// that opened it, next to the client connection it serves, so the pool needs no lock.
public final class UpstreamConnectionPool {
    public struct Settings: Sendable {
        public var maxIdlePerServer: Int
        public var idleTimeout: TimeAmount
        public var connectTimeout: TimeAmount

        public init(maxIdlePerServer: Int = 200, idleTimeout: TimeAmount = .seconds(90), connectTimeout: TimeAmount = .seconds(30)) {
            self.maxIdlePerServer = maxIdlePerServer
            self.idleTimeout = idleTimeout
            self.connectTimeout = connectTimeout
        }
    }

    public let eventLoop: any EventLoop
    public let settings: Settings
    private var idle: [String: [UpstreamConnection]] = [:]

    public init(eventLoop: any EventLoop, settings: Settings = Settings()) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// A connection to `server`: an idle one if there is one, else a new one. `fresh` always opens a new one (for
    /// requests that switch protocols: many servers only upgrade the first request of a connection).
    public func acquire(_ server: UpstreamServer, fresh: Bool = false) -> EventLoopFuture<UpstreamConnection> {
        if !fresh, let connection = takeIdle(server) {
            return eventLoop.assumeIsolated().makeSucceededFuture(connection)
        }
        return connect(server)
    }

    /// An idle kept-alive connection to `server`, if there is one: the common case, answered without a future.
    public func takeIdle(_ server: UpstreamServer) -> UpstreamConnection? {
        eventLoop.preconditionInEventLoop()
        guard idle[server.poolKey] != nil else { return nil }
        let now = NIODeadline.now()
        while let connection = idle[server.poolKey]?.popLast() {
            if connection.isActive, let since = connection.idleSince, now - since < settings.idleTimeout {
                connection.idleSince = nil
                connection.wasReused = true
                return connection
            }
            connection.close()
        }
        return nil
    }

    /// Takes a connection back after a complete exchange; `reusable` false closes it.
    public func release(_ connection: UpstreamConnection, reusable: Bool) {
        eventLoop.preconditionInEventLoop()
        connection.delegate = nil
        connection.handler.readingPaused = false
        guard reusable, connection.isActive, idle[connection.poolKey, default: []].count < settings.maxIdlePerServer
        else {
            connection.close()
            return
        }
        connection.idleSince = .now()
        idle[connection.poolKey, default: []].append(connection)
    }

    /// Closes every idle connection.
    public func closeAll() {
        for list in idle.values { for connection in list { connection.close() } }
        idle.removeAll()
    }

    public var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    private func connect(_ server: UpstreamServer) -> EventLoopFuture<UpstreamConnection> {
        let key = server.poolKey
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes, enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                }
            }
            .connect(host: server.host, port: server.port)
            .assumeIsolated()
            .flatMapThrowing { [weak self] channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
                let connection = UpstreamConnection(channel: channel, handler: handler, poolKey: key)
                handler.onClose = { [weak self, weak connection] in
                    guard let self, let connection else { return }
                    self.forget(connection)
                }
                return connection
            }
            .nonisolated()
    }

    private func forget(_ connection: UpstreamConnection) {
        guard var list = idle[connection.poolKey] else { return }
        list.removeAll { $0 === connection }
        idle[connection.poolKey] = list.isEmpty ? nil : list
    }
}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}
