import NIOCore
import NIOHTTP1

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
    let poolKey: String
    var idleSince: NIODeadline?
    /// True when the pool lent this connection after an earlier exchange: the server may have closed it meanwhile.
    public internal(set) var wasReused = false
    /// An HTTP/2 stream (of an `h2c://` server's connection): used once, never pooled.
    let isStream: Bool
    /// The transport's `maxIdleConnsPerHost` and `idleConnTimeout`; nil for the pool's.
    let maxIdle: Int?
    let idleTimeout: TimeAmount?

    init(
        channel: any Channel, handler: UpstreamHandler, poolKey: String, isStream: Bool = false, maxIdle: Int? = nil,
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

    public var isActive: Bool { channel.isActive }
    public var isWritable: Bool { channel.isWritable }

    public func write(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        channel.write(part, promise: promise)
    }

    public func writeAndFlush(_ part: HTTPClientRequestPart, promise: EventLoopPromise<Void>? = nil) {
        channel.writeAndFlush(part, promise: promise)
    }

    public func flush() { channel.flush() }

    /// Stops reading the response (the client cannot take more yet); `resumeReading` starts again.
    public func pauseReading() { handler.readingPaused = true }
    public func resumeReading() { handler.resumeReading() }

    /// Hands the channel over to `handler` after a protocol switch: the HTTP handlers leave the pipeline and bytes the
    /// server sent right after its 101 answer reach `handler`. The pool never sees this connection again.
    public func becomeTunnel(with handler: some ChannelHandler) throws {
        let pipeline = channel.pipeline.syncOperations
        self.handler.delegate = nil
        self.handler.onClose = nil
        try pipeline.addHandler(handler)
        pipeline.removeHandler(self.handler, promise: nil)
        if let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self) {
            pipeline.removeHandler(decoder, promise: nil)
        }
        if let encoder = try? pipeline.handler(type: HTTPRequestEncoder.self) {
            pipeline.removeHandler(encoder, promise: nil)
        }
        if let validator = try? pipeline.handler(type: NIOHTTPRequestHeadersValidator.self) {
            pipeline.removeHandler(validator, promise: nil)
        }
    }

    public func close() {
        handler.delegate = nil
        channel.close(promise: nil)
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}

/// Sits at the end of an upstream channel: hands response parts to the current delegate and holds reads while
/// the client side is not writable.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    weak var delegate: (any UpstreamConnectionDelegate)?
    var onClose: (() -> Void)?
    var readingPaused = false
    private var heldRead = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if let delegate {
            delegate.upstreamReceived(part)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
        context.fireChannelReadComplete()
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
