import Logging
import NIOCore
import NIOSSL
import SwitchyardRouting
import SwitchyardTLS

/// The first handler of every accepted connection. It reads the client's first bytes: a TLS ClientHello gets the
/// TLS option of the host it names (SNI), with the certificate chosen for that name, then HTTP over TLS; anything
/// else is plain HTTP. Then it steps aside and hands the bytes on. The TLS settings come from the routing table in
/// force when the client says hello, so a new certificate serves the next handshake.
final class ConnectionSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// What the client's first bytes say it speaks.
    enum Speech {
        case http1
        /// HTTP/2 with prior knowledge, without TLS.
        case h2c
        /// TLS with this option; HTTP/1.1 or HTTP/2 inside, as ALPN decides.
        case tls(TLSRuntime.Option)
        /// An ACME CA checking a TLS-ALPN-01 challenge: the handshake is the whole answer.
        case acmeChallenge(NIOSSLContext)
    }

    /// Adds the handlers after this one for the protocol; the client is the one a trusted PROXY header named.
    typealias SetUp = (any Channel, Speech, SocketAddress?) throws -> Void

    /// What an HTTP/2 client sends first (RFC 9113 § 3.4).
    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// How long a client may take to say what it speaks: the entry point's `readTimeout`, as Go's server gives a
    /// new connection for its first request; five minutes when that is off.
    private let firstBytesTimeout: TimeAmount

    private let slot: RoutingTableStore.Slot
    private let challengeContext: (@Sendable (String) -> NIOSSLContext?)?
    /// Read a PROXY protocol header first (the connection comes from a trusted balancer).
    private var expectsProxyHeader: Bool
    private var proxiedClient: SocketAddress?
    private let setUp: SetUp
    private let logger: Logger
    private var buffered: ByteBuffer?
    private var timeout: Scheduled<Void>?
    private var decided = false

    init(
        slot: RoutingTableStore.Slot, logger: Logger, challengeContext: (@Sendable (String) -> NIOSSLContext?)? = nil,
        expectsProxyHeader: Bool = false, firstBytesTimeout: TimeAmount? = .seconds(60), setUp: @escaping SetUp
    ) {
        self.slot = slot
        self.firstBytesTimeout = firstBytesTimeout ?? .minutes(5)
        self.expectsProxyHeader = expectsProxyHeader
        self.challengeContext = challengeContext
        self.logger = logger
        self.setUp = setUp
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: firstBytesTimeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return context.fireChannelRead(data) }
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        if expectsProxyHeader {
            switch ProxyProtocolHeader.peek(buffered!) {
            case .needMore: return
            case .absent: break
            case .invalid(let reason):
                logger.debug("bad PROXY protocol header", metadata: ["reason": "\(reason)"])
                decided = true
                context.close(promise: nil)
                return
            case .header(let length, let client):
                buffered!.moveReaderIndex(forwardBy: length)
                proxiedClient = client
            }
            expectsProxyHeader = false
            if buffered!.readableBytes == 0 { return }
        }
        let chosen: Speech
        switch ClientHello.peek(buffered!) {
        case .needMore:
            return
        case .notTLS:
            let start = buffered!.readableBytesView.prefix(Self.http2Preface.count)
            if start.elementsEqual(Self.http2Preface.prefix(start.count)) {
                guard start.count == Self.http2Preface.count else { return }  // wait for the whole preface
                chosen = .h2c
            } else {
                chosen = .http1
            }
        case .unreadable:
            guard let option = slot.table.tls.options["default"] else {
                context.close(promise: nil)
                return
            }
            chosen = .tls(option)
        case .hello(let hello) where hello.alpn.contains("acme-tls/1"):
            // Only a CA checking a challenge asks for acme-tls/1; with no challenge pending it is refused.
            guard let challenge = challengeContext?(hello.serverName ?? "") else {
                logger.debug("acme-tls/1 handshake without a pending challenge refused", metadata: ["sni": "\(hello.serverName ?? "")"])
                decided = true
                context.close(promise: nil)
                return
            }
            chosen = .acmeChallenge(challenge)
        case .hello(let hello):
            switch slot.table.tls.decide(serverName: hello.serverName) {
            case .handshake(let option):
                chosen = .tls(option)
            case .refuse(let reason):
                logger.debug("TLS handshake refused", metadata: ["reason": "\(reason)"])
                decided = true
                context.close(promise: nil)
                return
            }
        }
        decided = true
        timeout?.cancel()
        do {
            try setUp(context.channel, chosen, proxiedClient)
        } catch {
            logger.error("cannot set up the connection", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        let bytes = buffered!
        buffered = nil
        context.fireChannelRead(wrapInboundOut(bytes))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
