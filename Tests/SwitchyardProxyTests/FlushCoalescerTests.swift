import NIOCore
import NIOEmbedded
import Testing

@testable import SwitchyardProxy

/// Counts the flushes that reach it from the handlers after it.
final class FlushCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var flushes = 0

    func flush(context: ChannelHandlerContext) {
        flushes += 1
        context.flush()
    }
}

@Suite struct FlushCoalescerTests {
    static func channel() throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(FlushCoalescer())
        return (channel, counter)
    }

    @Test func flushesOfOneTurnLeaveAsOne() throws {
        let (channel, counter) = try Self.channel()
        for text in ["one", "two", "three"] {
            channel.write(ByteBuffer(string: text), promise: nil)
            channel.flush()
        }
        #expect(counter.flushes == 0)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 1)
        var sent: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { sent.append(String(buffer: buffer)) }
        #expect(sent == ["one", "two", "three"])

        // the next turn flushes again
        channel.write(ByteBuffer(string: "four"), promise: nil)
        channel.flush()
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 2)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "four")
    }

    @Test func aCloseFlushesWhatWaits() throws {
        let (channel, counter) = try Self.channel()
        channel.write(ByteBuffer(string: "goaway"), promise: nil)
        channel.flush()
        let closed = channel.close()
        #expect(counter.flushes == 1)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "goaway")
        channel.embeddedEventLoop.run()
        try closed.wait()
        #expect(counter.flushes == 1)
    }

    @Test func noFlushWithoutOneAsked() throws {
        let (channel, counter) = try Self.channel()
        channel.write(ByteBuffer(string: "held"), promise: nil)
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 0)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try? channel.finish()
    }
}
