import NIOConcurrencyHelpers
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
    static func channel(flushesPerTurn: Bool = true) throws -> (EmbeddedChannel, FlushCounter) {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(FlushCoalescer(flushesPerTurn: flushesPerTurn))
        return (channel, counter)
    }

    static func sent(_ channel: EmbeddedChannel) throws -> [String] {
        var sent: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { sent.append(String(buffer: buffer)) }
        return sent
    }

    @Test func writesBeforeAFlushLeaveAsOne() throws {
        let (channel, counter) = try Self.channel(flushesPerTurn: false)
        let completed = NIOLockedValueBox(0)
        for text in ["head ", "body ", "end"] {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenSuccess { completed.withLockedValue { $0 += 1 } }
            channel.write(ByteBuffer(string: text), promise: promise)
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.flush()
        #expect(counter.flushes == 1)
        #expect(try Self.sent(channel) == ["head body end"])
        #expect(completed.withLockedValue { $0 } == 3)
    }

    @Test func aLargeWriteGoesAsItIsAfterWhatWasMerged() throws {
        let (channel, _) = try Self.channel(flushesPerTurn: false)
        let large = String(repeating: "x", count: FlushCoalescer.mergeLimit)
        channel.write(ByteBuffer(string: "small"), promise: nil)
        channel.write(ByteBuffer(string: large), promise: nil)
        channel.write(ByteBuffer(string: "tail"), promise: nil)
        channel.flush()
        #expect(try Self.sent(channel) == ["small", large, "tail"])
    }

    @Test func mergedWritesLeaveBeforeAClose() throws {
        let (channel, _) = try Self.channel(flushesPerTurn: true)
        channel.write(ByteBuffer(string: "last "), promise: nil)
        channel.write(ByteBuffer(string: "words"), promise: nil)
        channel.flush()
        let closed = channel.close()
        #expect(try Self.sent(channel) == ["last words"])
        channel.embeddedEventLoop.run()
        try closed.wait()
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
        #expect(try Self.sent(channel) == ["onetwothree"])

        // the next turn flushes again
        channel.write(ByteBuffer(string: "four"), promise: nil)
        channel.flush()
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 2)
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "four")
    }

    @Test func responsesOfOneTurnLeaveInOneWrite() throws {
        let (channel, counter) = try Self.channel(flushesPerTurn: true)
        for stream in 1...3 {
            channel.write(ByteBuffer(string: "headers\(stream) "), promise: nil)
            channel.write(ByteBuffer(string: "data\(stream) "), promise: nil)
            channel.flush()
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.embeddedEventLoop.run()
        #expect(counter.flushes == 1)
        #expect(try Self.sent(channel) == ["headers1 data1 headers2 data2 headers3 data3 "])
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
