import NIOCore
import NIOHTTP1
import SwitchyardHTTP1

/// A client connection's HTTP/1.x codec: request parts from its bytes (`HTTP1RequestParser`), its response parts
/// as bytes (`HTTP1ResponseWriter`), in one handler where NIO's take three (a ByteToMessageHandler, llhttp's
/// decoder, the response encoder). A request it refuses reaches the handlers after it as an `HTTP1Malformed` error.
///
/// After a request that switches protocols, the bytes that follow it wait here; when the codec leaves the pipeline
/// for a tunnel they go on to the handler after it.
final class HTTP1ServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = ByteBuffer

    private var parser = HTTP1RequestParser()
    private var writer = HTTP1ResponseWriter()
    private var input = HTTP1Input()
    /// The methods of the requests read and not yet answered, oldest first (a response to HEAD has no body).
    private var methods = CircularBuffer<HTTPMethod>(initialCapacity: 4)
    private var removed = false
    private var failed = false
    private var context: ChannelHandlerContext?
    /// The proxy handler right after this codec, called directly (see `ProxyHandler.codec`).
    var proxy: ProxyHandler?
    /// Told of every read: a sign of life of the request being read (nil without idle and read timeouts).
    private let clock: RequestClock?

    init(clock: RequestClock? = nil) {
        self.clock = clock
    }

    /// The channel's allocator, kept: `context.channel` is an existential copied and retained on every use.
    private var allocator = ByteBufferAllocator()

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        proxy?.codec = nil
        proxy = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        clock?.bytesArrived(on: context.eventLoop)
        input.append(unwrapInboundIn(data))
        while !removed, !failed {
            let part: HTTPServerRequestPart?
            do {
                part = try input.next(&parser)
            } catch {
                failed = true
                context.fireErrorCaught(error)
                return
            }
            guard let part else { return }
            if case .head(let head) = part { methods.append(head.method) }
            if let proxy, let proxyContext = proxy.context {
                proxy.received(part, context: proxyContext)
            } else {
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    /// The end of a read goes straight to the proxy handler (the pipeline's tail after it does nothing with it).
    func channelReadComplete(context: ChannelHandlerContext) {
        if let proxy, let proxyContext = proxy.context {
            proxy.readComplete(context: proxyContext)
        } else {
            context.fireChannelReadComplete()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        send(unwrapOutboundIn(data), promise: promise)
    }

    /// Writes a response part as bytes.
    func send(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch part {
        case .head(let head):
            let code = head.status.code
            let informational = (100..<200).contains(code) && code != 101
            let method = informational ? nil : methods.popFirst()
            context.write(wrapOutboundOut(writer.head(head, answering: method, allocator: allocator)), promise: promise)
        case .body(let data):
            if writer.suppressesBody {
                promise?.fail(HTTP1Malformed.bodyNotAllowed)
            } else {
                HTTP1Output.write(writer.body(data, allocator: allocator), context: context, promise: promise)
            }
        case .end(let trailers):
            HTTP1Output.write(writer.end(trailers, allocator: allocator).map(IOData.byteBuffer), context: context, promise: promise)
        }
    }

    /// Writes a response head as the server's own `bytes` of it, when the writer finds them framed as it would
    /// frame `head`; false when `head` must be written instead.
    func passHead(_ head: HTTPResponseHead, bytes: ByteBuffer) -> Bool {
        // No request waiting for its answer (one was refused and answered already): the usual path decides.
        guard let context, let method = methods.first, writer.passHead(head, answering: method) else { return false }
        methods.removeFirst()
        context.write(wrapOutboundOut(bytes), promise: nil)
        return true
    }

    /// Flushes from this codec's place in the pipeline (the proxy handler's flushes skip a hop).
    func flush() { context?.flush() }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        removed = true
        proxy?.codec = nil
        proxy = nil
        if let leftover = input.takeLeftover() {
            context.fireChannelRead(NIOAny(leftover))
            context.fireChannelReadComplete()  // a tunnel flushes what it got to its partner then
        }
        context.leavePipeline(removalToken: removalToken)
    }
}

@available(*, unavailable)
extension HTTP1ServerCodec: Sendable {}
