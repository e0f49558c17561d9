import Logging
import NIOCore
import NIOConcurrencyHelpers
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOHTTP2
import NIOSSL
import NIOTLS
import SwitchyardRouting
import SwitchyardUpstream

/// Where an entry point listens.
public struct EntryPointBinding: Sendable {
    public var settings: EntryPointSettings
    public var host: String
    public var port: Int

    public init(settings: EntryPointSettings, host: String, port: Int) {
        self.settings = settings
        self.host = host
        self.port = port
    }
}

/// The data plane: every entry point's listener, each event loop's upstream pool, and graceful shutdown.
public final class ProxyServer: Sendable {
    private let group: any EventLoopGroup
    private let store: RoutingTableStore
    private let bindings: [EntryPointBinding]
    private let pools: [ObjectIdentifier: LoopOwned<UpstreamConnectionPool>]
    /// One per entry point: a helper follows the connections of one listening channel.
    private let quiescing: [ServerQuiescingHelper]
    private let logger: Logger
    private let channels = NIOLockedValueBoxHolder()

    public init(
        group: any EventLoopGroup, store: RoutingTableStore, bindings: [EntryPointBinding],
        poolSettings: UpstreamConnectionPool.Settings = .init(), logger: Logger
    ) {
        self.group = group
        self.store = store
        self.bindings = bindings
        self.logger = logger
        self.quiescing = bindings.map { _ in ServerQuiescingHelper(group: group) }
        var pools: [ObjectIdentifier: LoopOwned<UpstreamConnectionPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = LoopOwned(
                UpstreamConnectionPool(eventLoop: loop, settings: poolSettings), eventLoop: loop)
        }
        self.pools = pools
    }

    /// Binds every entry point; throws naming the entry point that cannot listen.
    public func start() async throws {
        for (binding, quiescing) in zip(bindings, quiescing) {
            let channel: any Channel
            do {
                channel = try await bootstrap(for: binding, quiescing: quiescing).bind(host: binding.host, port: binding.port).get()
            } catch {
                throw ProxyServerError.cannotListen(entryPoint: binding.settings.name, address: "\(binding.host):\(binding.port)", underlying: "\(error)")
            }
            channels.append(channel)
            logger.info(
                "entry point listening",
                metadata: ["entryPoint": "\(binding.settings.name)", "address": "\(channel.localAddress.map { "\($0)" } ?? "")"])
        }
    }

    /// The addresses the entry points listen on, by name (useful with port 0).
    public var boundAddresses: [String: SocketAddress] {
        var result: [String: SocketAddress] = [:]
        for (binding, channel) in zip(bindings, channels.all) { result[binding.settings.name] = channel.localAddress }
        return result
    }

    /// Stops accepting, lets requests in flight finish for up to each entry point's grace time (`graceTimeout`
    /// of its name), then closes what is left.
    public func shutdown(graceTimeout: (String) -> TimeAmount) async {
        let loop = group.next()
        var timeouts: [Scheduled<Void>] = []
        let promises = zip(bindings, quiescing).map { binding, helper in
            let promise = loop.makePromise(of: Void.self)
            helper.initiateShutdown(promise: promise)
            let name = binding.settings.name
            let logger = self.logger
            timeouts.append(loop.scheduleTask(in: graceTimeout(name)) {
                logger.warning("grace time over; closing the connections still open", metadata: ["entryPoint": "\(name)"])
                promise.fail(ProxyServerError.graceTimeoutExpired)
            })
            return promise
        }
        // Each entry point ends when its connections have, or at the end of its grace time.
        for promise in promises { _ = try? await promise.futureResult.get() }
        for timeout in timeouts { timeout.cancel() }
        for pool in pools.values {
            try? await pool.eventLoop.submit { pool.value.closeAll() }.get()
        }
    }

    private func bootstrap(for binding: EntryPointBinding, quiescing: ServerQuiescingHelper) -> ServerBootstrap {
        let store = self.store
        let pools = self.pools
        let logger = self.logger
        let settings = binding.settings
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Each connection keeps its receive buffer between reads: 1 KiB to start (most request heads fit) rather
            // than 2 KiB, grown as reads fill it. 1.1 KiB less per idle keep-alive connection.
            .childChannelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let loop = channel.eventLoop
                    guard let pool = pools[ObjectIdentifier(loop)] else {
                        throw ProxyServerError.unknownEventLoop
                    }
                    let slot = store.slot(for: loop)
                    if let gauge = settings.connections {
                        gauge.opened()
                        channel.closeFuture.whenComplete { _ in gauge.closed() }
                    }
                    let connection = ConnectionSetUp(settings: settings, slot: slot, pool: pool, logger: logger)
                    let remote = channel.remoteAddress?.clientIdentity.bytes ?? []
                    let sniffer = ConnectionSniffer(
                        slot: slot, logger: logger, challengeContext: settings.tlsChallengeContext,
                        expectsProxyHeader: settings.proxyProtocol?.trusts(remote) ?? false,
                        firstBytesTimeout: settings.readTimeout
                    ) { channel, chosen, client in
                        try connection.configure(channel, chosen, client: client)
                    }
                    try channel.pipeline.syncOperations.addHandler(sniffer)
                }
            }
    }
}

public enum ProxyServerError: Error, CustomStringConvertible {
    case cannotListen(entryPoint: String, address: String, underlying: String)
    case graceTimeoutExpired
    case unknownEventLoop

    public var description: String {
        switch self {
        case .cannotListen(let entryPoint, let address, let underlying):
            return "entry point \(entryPoint) cannot listen on \(address): \(underlying)"
        case .graceTimeoutExpired: return "the grace time expired"
        case .unknownEventLoop: return "a connection arrived on an event loop the server does not own"
        }
    }
}

/// The listening channels, appended at start-up and read by the API and shutdown.
private final class NIOLockedValueBoxHolder: Sendable {
    private let box = NIOLockedValueBox<[any Channel]>([])
    func append(_ channel: any Channel) { box.withLockedValue { $0.append(channel) } }
    var all: [any Channel] { box.withLockedValue { $0 } }
}

/// A value made on one thread and used only on `eventLoop` from then on.
/// Builds a connection's pipeline once its protocol is known: HTTP/1.1, HTTP/2 (prior knowledge, or negotiated
/// by ALPN inside TLS), each request ending at a `ProxyHandler` (one per HTTP/2 stream).
struct ConnectionSetUp: Sendable {
    let settings: EntryPointSettings
    let slot: RoutingTableStore.Slot
    let pool: LoopOwned<UpstreamConnectionPool>
    let logger: Logger

    func configure(_ channel: any Channel, _ chosen: ConnectionSniffer.Speech, client: SocketAddress? = nil) throws {
        let sync = channel.pipeline.syncOperations
        var settings = self.settings
        settings.proxiedClient = client
        switch chosen {
        case .http1:
            try configureHTTP1(channel, settings)
        case .h2c:
            try configureHTTP2(channel, settings)
        case .acmeChallenge(let context):
            try sync.addHandler(NIOSSLServerHandler(context: context))
        case .tls(let option):
            if option.acceptsAnyClientCertificate {
                try sync.addHandler(NIOSSLServerHandler(context: option.context) { _, promise in
                    promise.succeed(.certificateVerified)  // asked for, not verified: the option says so
                })
            } else {
                try sync.addHandler(NIOSSLServerHandler(context: option.context))
            }
            var secure = settings
            secure.scheme = "https"
            secure.isTLS = true
            guard option.offersHTTP2 else { return try configureHTTP1(channel, secure) }
            let setUp = self
            try sync.addHandler(ApplicationProtocolNegotiationHandler { result, channel in
                channel.eventLoop.makeCompletedFuture {
                    if case .negotiated("h2") = result {
                        try setUp.configureHTTP2(channel, secure)
                    } else {
                        try setUp.configureHTTP1(channel, secure)
                    }
                }
            })
        }
    }

    func configureHTTP1(_ channel: any Channel, _ settings: EntryPointSettings) throws {
        let sync = channel.pipeline.syncOperations
        // The proxy handler queues pipelined requests itself: a read-gating pipeline handler costs two epoll changes
        // per request. It answers what the parser refuses itself too (no error handler every response part passes).
        // Heads are not validated again on the way out: they are rebuilt from what the parser accepted, and values a
        // middleware sets are checked when it is built.
        // Under TLS a response's head and body go out as one record.
        if settings.isTLS { try sync.addHandler(FlushCoalescer(flushesPerTurn: false)) }
        let clock = RequestClock(idleTimeout: settings.idleTimeout, readTimeout: settings.readTimeout, writeTimeout: settings.writeTimeout)
        let codec = HTTP1ServerCodec(clock: clock.isActive ? clock : nil)
        let proxy = ProxyHandler(settings: settings, slot: slot, pool: pool.value, logger: logger, clock: clock.isActive ? clock : nil)
        try sync.addHandler(codec)
        try sync.addHandler(proxy)
        codec.proxy = proxy
        proxy.codec = codec
    }

    /// HTTP/2 with NIOHTTP2's defences on (rapid reset and other glitches, CONTINUATION floods, control-frame
    /// floods), at most `maxConcurrentStreams` streams at once; each stream is an HTTP/1-shaped exchange, its
    /// pipeline the proxy handler alone (which converts the frames itself: `HTTP2StreamCodec`). NIOHTTP2's
    /// connection manager closes a connection with no stream for the entry point's `idleTimeout` (GOAWAY first),
    /// and closes gracefully at shutdown (a client that does not answer the closing PING within 30 s is cut off).
    func configureHTTP2(_ channel: any Channel, _ settings: EntryPointSettings) throws {
        let manager = NIOHTTP2ServerConnectionManagementHandler(
            eventLoop: channel.eventLoop,
            configuration: .init(maxIdleTime: settings.idleTimeout, maxAge: nil, maxGraceTime: .seconds(30), keepalive: nil))
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: settings.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 1 << 16),
        ]
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = 1 << 20
        let slot = self.slot, pool = self.pool, logger = self.logger
        let client = ClientIdentity(channel, settings: settings)
        try channel.pipeline.syncOperations.addHandler(FlushCoalescer(flushesPerTurn: true))
        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: connection, streamConfiguration: stream,
            streamDelegate: manager.http2StreamDelegate
        ) { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                try streamChannel.pipeline.syncOperations.addHandler(
                    ProxyHandler(settings: settings, slot: slot, pool: pool.value, logger: logger, client: client, http2Stream: true))
            }
        }
        try channel.pipeline.syncOperations.addHandler(manager)
        try channel.pipeline.syncOperations.addHandler(HTTP2ConnectionErrorCloser())
        // The manager starts its timers on channelActive, which this connection had before it was known to speak
        // HTTP/2 (after the sniffing or the TLS handshake): it is told now.
        if channel.isActive {
            manager.channelActive(context: try channel.pipeline.syncOperations.context(handler: manager))
        }
    }
}

struct LoopOwned<Value>: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let stored: Value

    init(_ value: Value, eventLoop: any EventLoop) {
        self.stored = value
        self.eventLoop = eventLoop
    }

    var value: Value {
        eventLoop.preconditionInEventLoop()
        return stored
    }
}

/// Closes an HTTP/2 connection on a connection error, once NIOHTTP2 has sent its GOAWAY (RFC 9113 §5.4.1): a
/// client that floods frames (resets, CONTINUATION, SETTINGS, PING) is cut off instead of read on.
final class HTTP2ConnectionErrorCloser: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
