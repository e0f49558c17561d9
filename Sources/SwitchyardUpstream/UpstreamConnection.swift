import NIOCore
import NIOHTTP1
import SwitchyardHTTP1

/// Receives what happens on an upstream connection while it serves one request.
public protocol UpstreamConnectionDelegate: AnyObject {
    func upstreamReceived(_ part: HTTPClientResponsePart)
    /// The parts of one read from the server have all been handed over: the time to flush what they made.
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed or failed before the response ended.
    func upstreamClosed(error: (any Error)?)
}

extension UpstreamConnectionDelegate {
    public func upstreamReadComplete() {}
}

/// An HTTP/1.1 connection to one server, lent by the pool to one request at a time. Lives on one event loop.
public final class UpstreamConnection {
    public let channel: any Channel
    let handler: UpstreamHandler
    let poolKey: PoolKey
    var idleSince: NIODeadline?
    /// True when the pool lent this connection after an earlier exchange: the server may have closed it meanwhile.
    public internal(set) var wasReused = false
    /// An HTTP/2 stream (of an `h2c://` server's connection): used once, never pooled.
    let isStream: Bool
    /// The transport's `maxIdleConnsPerHost` and `idleConnTimeout`; nil for the pool's.
    let maxIdle: Int?
    let idleTimeout: TimeAmount?

    init(
        channel: any Channel, handler: UpstreamHandler, poolKey: PoolKey, isStream: Bool = false, maxIdle: Int? = nil,
        idleTimeout: TimeAmount? = nil
    ) {
        self.channel = channel
        self.handler = handler
        self.poolKey = poolKey
        self.isStream = isStream
        self.maxIdle = maxIdle
        self.idleTimeout = idleTimeout
    }

    public var delegate: (any UpstreamConnectionDelegate)? {
        get { handler.delegate }
        set { handler.delegate = newValue }
    }

    /// The bytes of the response head just handed to the delegate, as the server sent them (HTTP/1 only).
    public var headBytes: ByteBuffer? { handler.headBytes }

    public var isActive: Bool { channel.isActive }
    public var isWritable: Bool { channel.isWritable }

    public func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        handler.send(part, promise: promise)
    }

    public func writeAndFlush(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        handler.send(part, promise: promise)
        flush()
    }

    /// Flushes from the handler's place in the pipeline (before it: the socket, or the stream's codec), one hop
    /// shorter than from the pipeline's end.
    public func flush() {
        if let context = handler.context { context.flush() } else { channel.flush() }
    }

    /// Stops reading the response (the client cannot take more yet); `resumeReading` starts again.
    public func pauseReading() { handler.readingPaused = true }
    public func resumeReading() { handler.resumeReading() }

    /// Hands the channel over to `handler` after a protocol switch: the HTTP handler leaves the pipeline and bytes
    /// the server sent right after its 101 answer reach `handler`. The pool never sees this connection again.
    public func becomeTunnel(with handler: some ChannelHandler) throws {
        let pipeline = channel.pipeline.syncOperations
        self.handler.delegate = nil
        self.handler.onClose = nil
        try pipeline.addHandler(handler)
        pipeline.removeHandler(self.handler, promise: nil)
    }

    public func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}

/// Sits at the end of an upstream channel: hands response parts to the current delegate and holds reads while
/// the client side is not writable. `HTTP1UpstreamHandler` speaks HTTP/1 on the connection's bytes;
/// `StreamUpstreamHandler` takes the parts of an HTTP/2 stream.
class UpstreamHandler: RemovableChannelHandler {
    /// Held strongly, and let go of by whoever ends the exchange (the pool taking the connection back, `close`,
    /// the connection closing, a tunnel taking over): a weakly referenced object keeps its reference counts in a
    /// side table, which makes every retain and release of it on the hot path slower.
    var delegate: (any UpstreamConnectionDelegate)?
    /// Called once when the channel closes; what it holds is let go of then.
    var onClose: (() -> Void)?
    var readingPaused = false
    private var heldRead = false
    var context: ChannelHandlerContext?

    /// The channel's allocator, kept: `context.channel` is an existential copied and retained on every use.
    var allocator = ByteBufferAllocator()

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
    }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        context.leavePipeline(removalToken: removalToken)
    }

    var headBytes: ByteBuffer? { nil }

    /// Writes a request part (without flushing).
    func send(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?) {
        fatalError("subclasses send")
    }

    /// Not passed on: this handler is the pipeline's last but its tail, which does nothing with it.
    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let delegate = self.delegate
        self.delegate = nil
        onClose?()
        onClose = nil
        delegate?.upstreamClosed(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamClosed(error: error)
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if readingPaused {
            heldRead = true
        } else {
            context.read()
        }
    }

    func resumeReading() {
        readingPaused = false
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }
}

@available(*, unavailable)
extension UpstreamHandler: Sendable {}

/// An HTTP/1.1 connection's handler: parses the responses and writes the requests itself, so a part costs a call
/// rather than a trip through the pipeline and its type-erased box.
final class HTTP1UpstreamHandler: UpstreamHandler, ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = NIOAny
    typealias OutboundOut = ByteBuffer

    private var parser = HTTP1ResponseParser()
    private var writer = HTTP1RequestWriter()
    private var input = HTTP1Input()
    private var removed = false

    override var headBytes: ByteBuffer? { parser.headBytes }

    override func send(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch part {
        case .head(let head):
            parser.answersHead = head.method == .HEAD
            context.write(wrapOutboundOut(writer.head(head, allocator: allocator)), promise: promise)
        case .body(let data):
            HTTP1Output.write(writer.body(data, allocator: allocator), context: context, promise: promise)
        case .end(let trailers):
            HTTP1Output.write(writer.end(trailers, allocator: allocator).map(IOData.byteBuffer), context: context, promise: promise)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        input.append(unwrapInboundIn(data))
        while !removed {
            let part: HTTPClientResponsePart?
            do {
                part = try input.next(&parser)
            } catch {
                return errorCaught(context: context, error: error)
            }
            guard let part else { return }
            // The delegate may end the exchange here, hand the connection to the next request or to a tunnel.
            delegate?.upstreamReceived(part)
        }
    }

    override func channelInactive(context: ChannelHandlerContext) {
        if let end = parser.closed() { delegate?.upstreamReceived(end) }
        super.channelInactive(context: context)
    }

    /// Leaving for a tunnel: what the server sent after its 101 goes on to the handler after this one.
    override func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        removed = true
        if let leftover = input.takeLeftover() {
            context.fireChannelRead(wrapInboundOut(leftover))
            context.fireChannelReadComplete()  // a tunnel flushes what it got to its partner then
        }
        context.leavePipeline(removalToken: removalToken)
    }
}

/// An HTTP/2 stream's handler: the stream's codec makes the parts.
final class StreamUpstreamHandler: UpstreamHandler, ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = NIOAny
    typealias OutboundOut = HTTPClientRequestPart

    override func send(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(wrapOutboundOut(part), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        delegate?.upstreamReceived(unwrapInboundIn(data))
    }
}
