import NIOCore

/// Sits between a client connection's socket or TLS handler and its HTTP handlers, and makes fewer, larger writes:
/// - the small writes before a flush are copied into one buffer (up to one TLS record, 16 KiB), so
///   under TLS a response goes out as one record instead of one per part (head, body, each HTTP/2 frame), each
///   sealed and framed on its own, and without TLS the socket gets one buffer instead of one per HTTP/2 frame;
/// - `flushesPerTurn` (HTTP/2): the flushes of one event-loop turn become one. Every stream that ends its response
///   flushes the connection; without this each of them is a socket write of its own, where one can carry the
///   responses of every stream that ended in the same turn. The flush goes out once the turn's I/O has been handled
///   (an `execute` task runs before the loop waits again).
/// Whatever waits goes out before a close, so a GOAWAY written just before a close still leaves.
final class FlushCoalescer: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The largest merged write: one full TLS record.
    static let mergeLimit = 16 * 1024

    private let flushesPerTurn: Bool
    private var merged: ByteBuffer?
    /// The last merged buffer, written out: its storage is written into again once the write has let go of it (no
    /// allocation per flush). An HTTP/1.1 connection keeps one of at most 4 KiB (many of them may sit idle); an
    /// HTTP/2 connection, whose turns carry many responses, one up to the merge limit.
    private var spare: ByteBuffer?
    private var spareLimit: Int { flushesPerTurn ? Self.mergeLimit : 4096 }
    private var mergedPromises: [EventLoopPromise<Void>] = []
    private var flushScheduled = false
    private var flushPending = false
    private var removed = false

    init(flushesPerTurn: Bool) {
        self.flushesPerTurn = flushesPerTurn
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data),
            buffer.readableBytes + (merged?.readableBytes ?? 0) <= Self.mergeLimit
        else {
            writeMerged(context: context)
            return context.write(data, promise: promise)
        }
        if merged == nil {
            if var reused = spare {
                spare = nil
                reused.clear()
                merged = reused
            } else {
                merged = context.channel.allocator.buffer(capacity: max(1024, buffer.readableBytes))
            }
        }
        merged!.writeBuffer(&buffer)
        if let promise { mergedPromises.append(promise) }
    }

    func flush(context: ChannelHandlerContext) {
        guard flushesPerTurn else {
            writeMerged(context: context)
            return context.flush()
        }
        // What is merged waits for the turn's flush too: the responses of all the streams that end in this turn
        // leave as one record.
        flushPending = true
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute { [self] in
            flushScheduled = false
            guard flushPending, !removed else { return }
            flushPending = false
            writeMerged(context: context)
            context.flush()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writeMerged(context: context)
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    /// The pipeline is going (the channel closed): what was merged and never flushed goes nowhere, as any write
    /// not flushed.
    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        merged = nil
        spare = nil
        for promise in mergedPromises { promise.fail(ChannelError.ioOnClosedChannel) }
        mergedPromises.removeAll()
    }

    /// Sends what was merged so far as one write, completing the merged writes' promises with it.
    private func writeMerged(context: ChannelHandlerContext) {
        guard let buffer = merged else { return }
        merged = nil
        if buffer.capacity <= spareLimit { spare = buffer }
        var promise: EventLoopPromise<Void>?
        switch mergedPromises.count {
        case 0:
            break
        case 1:
            promise = mergedPromises.removeLast()
        default:
            let waiting = mergedPromises
            mergedPromises.removeAll(keepingCapacity: true)
            let all = context.eventLoop.makePromise(of: Void.self)
            all.futureResult.whenComplete { result in for each in waiting { each.completeWith(result) } }
            promise = all
        }
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }
}

@available(*, unavailable)
extension FlushCoalescer: Sendable {}
