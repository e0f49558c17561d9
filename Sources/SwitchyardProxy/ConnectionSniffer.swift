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

    /// Adds the handlers after this one: HTTP over TLS with the option given, or plain HTTP without.
    typealias SetUp = (any Channel, TLSRuntime.Option?) throws -> Void

    /// How long a client may take to send its first bytes.
    static let firstBytesTimeout: TimeAmount = .seconds(30)

    private let slot: RoutingTableStore.Slot
    private let setUp: SetUp
    private let logger: Logger
    private var buffered: ByteBuffer?
    private var timeout: Scheduled<Void>?
    private var decided = false

    init(slot: RoutingTableStore.Slot, logger: Logger, setUp: @escaping SetUp) {
        self.slot = slot
        self.logger = logger
        self.setUp = setUp
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: Self.firstBytesTimeout) {
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
        let option: TLSRuntime.Option?
        switch ClientHello.peek(buffered!) {
        case .needMore:
            return
        case .notTLS:
            option = nil
        case .unreadable:
            option = slot.table.tls.options["default"]
        case .hello(let hello):
            switch slot.table.tls.decide(serverName: hello.serverName) {
            case .handshake(let chosen):
                option = chosen
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
            try setUp(context.channel, option)
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
