import NIOCore

/// Sits between an HTTP/2 connection's socket (or TLS) handler and its HTTP/2 handler, and turns the flushes of one
/// event-loop turn into one. Every stream that ends its response flushes the connection: without this, each of them
/// is a TLS record and a socket write of its own, where one write can carry the responses of every stream that ended
/// in the same turn. The flush goes out once the turn's I/O has been handled (an `execute` task runs before the loop
/// waits again), and before any close, so a GOAWAY written just before a close still leaves.
final class FlushCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = Any
    typealias OutboundOut = Any

    private var flushScheduled = false
    private var flushPending = false
    private var removed = false

    func flush(context: ChannelHandlerContext) {
        flushPending = true
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            flushNow(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        flushNow(context: context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    private func flushNow(context: ChannelHandlerContext) {
        guard flushPending, !removed else { return }
        flushPending = false
        context.flush()
    }
}

@available(*, unavailable)
extension FlushCoalescer: Sendable {}
