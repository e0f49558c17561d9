import NIOCore
import NIOHTTP1
import SwitchyardRouting

extension ProxyHandler {
    /// Starts a streamed internal response (Server-Sent Events): the head goes out without a length, then each part
    /// as its source writes it, until the client leaves, cannot keep up, or the proxy shuts down. The connection is
    /// not reused afterwards.
    func startStream(_ response: InternalResponse, _ stream: any InternalStream, context: ChannelHandlerContext) {
        guard let request else { return }
        phase = .answeredLocally
        responseStarted = true
        keepAlive = false
        sentStatus = Int(response.status.code)
        var headers = response.headers
        headers.remove(name: "content-length")
        headers.replaceOrAdd(name: "connection", value: "close")
        send(.head(HTTPResponseHead(version: request.version, status: response.status, headers: headers)), context: context)
        send(.body(.byteBuffer(response.body)), context: context); flushClient(context)
        let loop = context.eventLoop
        let handler = NIOLoopBound(self, eventLoop: loop)
        let generation = self.generation
        let writer = InternalStreamWriter { buffer in
            loop.execute { handler.value.streamPart(buffer, generation: generation) }
        }
        streamWriter = writer
        stream.start(writer)
    }

    func streamPart(_ buffer: ByteBuffer, generation: Int) {
        guard generation == self.generation, let context, let writer = streamWriter, !writer.isClosed else { return }
        guard context.channel.isWritable else {
            // The client does not read: drop it rather than buffer without bound; an EventSource reconnects.
            writer.close()
            context.close(promise: nil)
            return
        }
        send(.body(.byteBuffer(buffer)), context: context); flushClient(context)
    }
}
