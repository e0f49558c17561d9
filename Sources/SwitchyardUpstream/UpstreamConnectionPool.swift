import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import NIOTLS

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
    private var idle: [PoolKey: IdleList] = [:]

    /// The idle connections to one server, the most recently released last. A class: taking and releasing one mutate
    /// it in place, where an array kept as a dictionary's value goes through accessors that allocate each time.
    final class IdleList {
        var connections: [UpstreamConnection] = []
    }
    /// One HTTP/2 connection per `h2c://` server; each request is a stream of it.
    private var http2: [String: HTTP2Connection] = [:]
    private var http2Connecting: [String: EventLoopFuture<HTTP2Connection>] = [:]
    /// What each `https://` server chose by ALPN: true for HTTP/2.
    private var speaksHTTP2: [String: Bool] = [:]

    /// An HTTP/2 connection to a server and what opens its streams.
    final class HTTP2Connection {
        let channel: any Channel
        let multiplexer: NIOHTTP2Handler.StreamMultiplexer

        init(channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer) {
            self.channel = channel
            self.multiplexer = multiplexer
        }
    }

    public init(eventLoop: any EventLoop, settings: Settings = Settings()) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    /// A connection to `server`: an idle one if there is one, else a new one. `fresh` always opens a new one (for
    /// requests that switch protocols: many servers only upgrade the first request of a connection).
    public func acquire(_ server: UpstreamServer, fresh: Bool = false) -> EventLoopFuture<UpstreamConnection> {
        if server.scheme == .h2c { return openStream(server) }
        if server.scheme == .https, server.transport.negotiatesHTTP2, !fresh {
            // HTTP/2 when the server picks it by ALPN (learnt on the first connection), as Go's transport does.
            switch speaksHTTP2[server.poolKey] {
            case true?: return openStream(server)
            case false?: break
            case nil: return openStream(server)  // the first connection asks
            }
        }
        if !fresh, let connection = takeIdle(server) {
            return eventLoop.assumeIsolated().makeSucceededFuture(connection)
        }
        return connect(server)
    }

    /// An idle kept-alive connection to `server`, if there is one: the common case, answered without a future.
    public func takeIdle(_ server: UpstreamServer) -> UpstreamConnection? {
        eventLoop.preconditionInEventLoop()
        guard let list = idle[server.idleKey] else { return nil }
        let now = NIODeadline.now()
        while let connection = list.connections.popLast() {
            if connection.isActive, let since = connection.idleSince, now - since < idleTimeout(of: connection) {
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
        let list = idle[connection.poolKey]
        guard reusable, !connection.isStream, connection.isActive,
            (list?.connections.count ?? 0) < connection.maxIdle ?? settings.maxIdlePerServer
        else {
            connection.close()
            return
        }
        let now = NIODeadline.now()
        connection.idleSince = now
        if let list {
            list.connections.append(connection)
        } else {
            let list = IdleList()
            list.connections.append(connection)
            idle[connection.poolKey] = list
        }
        let expiry = now + idleTimeout(of: connection)
        if sweepAt.map({ expiry < $0 }) ?? true { scheduleSweep(at: expiry) }
    }

    private func idleTimeout(of connection: UpstreamConnection) -> TimeAmount {
        connection.idleTimeout ?? settings.idleTimeout
    }

    /// One timer per pool, armed while connections sit idle: a connection idle for its transport's
    /// `idleConnTimeout` (90 s by default) is closed, as Go's transport does, even if no request asks for one.
    private var sweep: Scheduled<Void>?
    private var sweepAt: NIODeadline?

    private func scheduleSweep(at deadline: NIODeadline) {
        sweep?.cancel()
        sweepAt = deadline
        sweep = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in self?.closeExpired() }
    }

    func closeExpired() {
        sweep = nil
        sweepAt = nil
        let now = NIODeadline.now()
        var soonest: NIODeadline?
        for list in idle.values {
            var kept: [UpstreamConnection] = []
            for connection in list.connections {
                let expiry = connection.idleSince.map { $0 + idleTimeout(of: connection) } ?? now
                if connection.isActive, expiry > now {
                    kept.append(connection)
                    soonest = min(soonest ?? expiry, expiry)
                } else {
                    connection.close()
                }
            }
            list.connections = kept
        }
        idle = idle.filter { !$0.value.connections.isEmpty }
        if let soonest { scheduleSweep(at: soonest) }
    }

    /// Closes every idle connection.
    public func closeAll() {
        sweep?.cancel()
        sweep = nil
        sweepAt = nil
        for list in idle.values { for connection in list.connections { connection.close() } }
        idle.removeAll()
        for connection in http2.values { connection.channel.close(promise: nil) }
        http2.removeAll()
    }

    public var idleCount: Int { idle.values.reduce(0) { $0 + $1.connections.count } }

    private func connect(_ server: UpstreamServer) -> EventLoopFuture<UpstreamConnection> {
        let key = server.idleKey
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(server.transport.forwarding?.dialTimeout ?? settings.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if server.scheme == .https {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: try server.transport.tlsContext(), serverHostname: server.tlsServerName))
                    }
                    try channel.pipeline.syncOperations.addHandler(HTTP1UpstreamHandler())
                }
            }
            .connect(host: server.host, port: server.port)
            .assumeIsolated()
            .flatMapThrowing { [weak self] channel in
                let handler = try channel.pipeline.syncOperations.handler(type: HTTP1UpstreamHandler.self)
                let connection = UpstreamConnection(
                    channel: channel, handler: handler, poolKey: key, maxIdle: server.transport.forwarding?.maxIdleConnsPerHost,
                    idleTimeout: server.transport.forwarding?.idleConnTimeout)
                // The connection is held until its channel closes (a weak reference would slow its reference
                // counting on every request: see `UpstreamHandler.delegate`).
                handler.onClose = { [weak self, connection] in self?.forget(connection) }
                return connection
            }
            .nonisolated()
    }

    /// A new stream on the server's HTTP/2 connection (opened first if there is none), shaped as an HTTP/1 exchange.
    private func openStream(_ server: UpstreamServer) -> EventLoopFuture<UpstreamConnection> {
        let key = server.poolKey
        let promise = eventLoop.makePromise(of: UpstreamConnection.self)
        let loop = eventLoop
        func open(_ http2: HTTP2Connection) {
            let streamPromise = loop.makePromise(of: (any Channel).self)
            http2.multiplexer.createStreamChannel(promise: streamPromise) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                    try stream.pipeline.syncOperations.addHandler(StreamUpstreamHandler())
                }
            }
            streamPromise.futureResult.assumeIsolated().whenComplete { result in
                do {
                    let stream = try result.get()
                    let handler = try stream.pipeline.syncOperations.handler(type: StreamUpstreamHandler.self)
                    promise.assumeIsolated().succeed(UpstreamConnection(channel: stream, handler: handler, poolKey: server.idleKey, isStream: true))
                } catch {
                    promise.fail(error)
                }
            }
        }
        if let existing = http2[key], existing.channel.isActive {
            open(existing)
            return promise.futureResult
        }
        let connecting: EventLoopFuture<HTTP2Connection>
        if let pending = http2Connecting[key] {
            connecting = pending
        } else {
            http2[key] = nil
            connecting = connectHTTP2(server)
            http2Connecting[key] = connecting
            connecting.assumeIsolated().whenComplete { [weak self] result in
                self?.http2Connecting[key] = nil
                if case .success(let made) = result { self?.http2[key] = made }
            }
        }
        connecting.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let connection): open(connection)
            case .failure(let error as SpeaksHTTP1):
                _ = error
                self.connect(server).assumeIsolated().whenComplete { promise.assumeIsolated().completeWith($0) }
            case .failure(let error): promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// The server's HTTP/2 connection: prior knowledge for `h2c://`; for `https://`, TLS offering h2 by ALPN. A
    /// server that picks HTTP/1.1 is remembered as such, and the connection fails with `SpeaksHTTP1` so the
    /// request goes over HTTP/1.1.
    private func connectHTTP2(_ server: UpstreamServer) -> EventLoopFuture<HTTP2Connection> {
        let key = server.poolKey
        let negotiated = NegotiatedProtocol(eventLoop.makePromise(of: String?.self))
        let result = eventLoop.makePromise(of: HTTP2Connection.self)
        ClientBootstrap(group: eventLoop)
            .connectTimeout(server.transport.forwarding?.dialTimeout ?? settings.connectTimeout)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if server.scheme == .https, server.transport.negotiatesHTTP2 {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: try server.transport.tlsContext(negotiating: true),
                                                serverHostname: server.tlsServerName))
                        try channel.pipeline.syncOperations.addHandler(ALPNWaiter(negotiated))
                    } else {
                        negotiated.complete(.success(nil))
                    }
                }
            }
            .connect(host: server.host, port: server.port)
            .assumeIsolated()
            .whenComplete { connected in
                let channel: any Channel
                switch connected {
                case .success(let made): channel = made
                case .failure(let error):
                    negotiated.complete(.failure(error))
                    result.fail(error)
                    return
                }
                negotiated.promise.futureResult.assumeIsolated().whenComplete { chosen in
                    do {
                        if server.scheme == .https {
                            let http2 = try chosen.get() == "h2"
                            self.speaksHTTP2[key] = http2
                            guard http2 else {
                                channel.close(promise: nil)
                                throw SpeaksHTTP1()
                            }
                        }
                        var connection = NIOHTTP2Handler.ConnectionConfiguration()
                        connection.initialSettings = nioDefaultSettings
                        var stream = NIOHTTP2Handler.StreamConfiguration()
                        stream.targetWindowSize = 1 << 20
                        let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: connection, streamConfiguration: stream
                        ) { stream in
                            // Servers do not open streams towards the proxy.
                            stream.close()
                        }
                        result.assumeIsolated().succeed(HTTP2Connection(channel: channel, multiplexer: multiplexer))
                    } catch {
                        channel.close(promise: nil)
                        result.fail(error)
                    }
                }
            }
        return result.futureResult
    }

    /// An `https://` server answered ALPN with HTTP/1.1.
    struct SpeaksHTTP1: Error {}

    private func forget(_ connection: UpstreamConnection) {
        idle[connection.poolKey]?.connections.removeAll { $0 === connection }
    }
}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}

/// The protocol a connection's TLS handshake negotiated, completed once by whichever comes first: the handshake,
/// the connection's end, or the connection attempt's failure. Used on one event loop.
final class NegotiatedProtocol: @unchecked Sendable {
    let promise: EventLoopPromise<String?>
    private var done = false

    init(_ promise: EventLoopPromise<String?>) {
        self.promise = promise
    }

    func complete(_ result: Result<String?, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}

/// Reports the protocol ALPN chose (nil when none) once the TLS handshake completes.
final class ALPNWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let negotiated: NegotiatedProtocol

    init(_ negotiated: NegotiatedProtocol) {
        self.negotiated = negotiated
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let chosen) = event {
            negotiated.complete(.success(chosen))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        negotiated.complete(.failure(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        negotiated.complete(.failure(ChannelError.eof))
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ALPNWaiter: Sendable {}
