import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import Testing

@testable import SwitchyardProxy

/// Gives the codec a context to write from; the frames it writes are read back from the channel.
final class ContextKeeper: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var context: ChannelHandlerContext?
    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
}

@Suite struct HTTP2StreamCodecTests {
    static func block(_ fields: [(String, String)]) -> HPACKHeaders { HPACKHeaders(fields) }

    @Test func requestHeadTakesHostFromAuthorityAndKeepsTheFieldsInOrder() throws {
        let head = try HTTP2StreamCodec.requestHead(
            Self.block([(":method", "GET"), (":scheme", "https"), (":authority", "a.test"), (":path", "/x?y=1"),
                        ("accept", "*/*"), ("cookie", "a=1")]),
            endStream: true)
        #expect(head.method == .GET)
        #expect(head.uri == "/x?y=1")
        #expect(head.version == .http2)
        #expect(head.headers.map { "\($0.name)=\($0.value)" } == ["host=a.test", "accept=*/*", "cookie=a=1"])
    }

    @Test func aHostFieldWinsOverTheAuthority() throws {
        let head = try HTTP2StreamCodec.requestHead(
            Self.block([(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "b.test")]), endStream: true)
        #expect(head.headers.map { "\($0.name)=\($0.value)" } == ["host=b.test"])
    }

    @Test func aBodyIsFramedForMethodsThatCarryOne() throws {
        let base: [(String, String)] = [(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/")]
        let ended = try HTTP2StreamCodec.requestHead(Self.block(base), endStream: true)
        #expect(ended.headers["content-length"] == ["0"])
        let streaming = try HTTP2StreamCodec.requestHead(Self.block(base), endStream: false)
        #expect(streaming.headers["transfer-encoding"] == ["chunked"])
        let sized = try HTTP2StreamCodec.requestHead(Self.block(base + [("content-length", "5")]), endStream: false)
        #expect(sized.headers["content-length"] == ["5"] && !sized.headers.contains(name: "transfer-encoding"))
        let get = try HTTP2StreamCodec.requestHead(
            Self.block([(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]), endStream: false)
        #expect(!get.headers.contains(name: "transfer-encoding") && !get.headers.contains(name: "content-length"))
    }

    @Test func missingOrRepeatedPseudoHeadersAreRefusedByName() {
        #expect(throws: HTTP2StreamCodec.Failure.missingPseudoHeader(":path")) {
            try HTTP2StreamCodec.requestHead(Self.block([(":method", "GET"), (":scheme", "http"), (":authority", "a")]), endStream: true)
        }
        #expect(throws: HTTP2StreamCodec.Failure.missingPseudoHeader(":authority")) {
            try HTTP2StreamCodec.requestHead(Self.block([(":method", "GET"), (":scheme", "http"), (":path", "/")]), endStream: true)
        }
        #expect(throws: HTTP2StreamCodec.Failure.duplicatePseudoHeader(":path")) {
            try HTTP2StreamCodec.requestHead(
                Self.block([(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/"), (":path", "/b")]),
                endStream: true)
        }
    }

    @Test func framesBecomeRequestParts() throws {
        var codec = HTTP2StreamCodec()
        let headers = Self.block([(":method", "POST"), (":scheme", "http"), (":authority", "a"), (":path", "/")])
        let (head, none) = try codec.decode(.headers(.init(headers: headers)))
        guard case .head = head, none == nil else { Issue.record("expected a head alone"); return }
        let (body, end) = try codec.decode(.data(.init(data: .byteBuffer(ByteBuffer(string: "hi")), endStream: true)))
        guard case .body(let buffer) = body, case .end(nil) = end else { Issue.record("expected a body, then the end"); return }
        #expect(String(buffer: buffer) == "hi")
        // A second HEADERS frame is the trailers.
        var other = HTTP2StreamCodec()
        _ = try other.decode(.headers(.init(headers: headers)))
        let (trailers, _) = try other.decode(.headers(.init(headers: Self.block([("grpc-status", "0")]), endStream: true)))
        guard case .end(let fields?) = trailers else { Issue.record("expected trailers"); return }
        #expect(fields["grpc-status"] == ["0"])
    }

    @Test func responseFieldsAreLowercasedWithoutConnectionSpecificOnes() {
        let head = HTTPResponseHead(
            version: .http1_1, status: .ok,
            headers: ["Content-Type": "text/plain", "Connection": "close, X-Hop", "Keep-Alive": "timeout=5", "x-hop": "1",
                      "Transfer-Encoding": "chunked", "Upgrade": "h2c", "Proxy-Connection": "x", "X-Kept": "yes"])
        let block = HTTP2StreamCodec.responseBlock(head)
        #expect(block.map { "\($0.name)=\($0.value)" } == [":status=200", "content-type=text/plain", "x-kept=yes"])
    }

    /// What the codec wrote, as `HEADERS` / `DATA` with `+end` when END_STREAM is set.
    static func frames(_ channel: EmbeddedChannel) throws -> [String] {
        var frames: [String] = []
        while let payload = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
            switch payload {
            case .headers(let headers): frames.append("HEADERS" + (headers.endStream ? "+end" : ""))
            case .data(let data): frames.append("DATA(\(data.data.readableBytes))" + (data.endStream ? "+end" : ""))
            default: frames.append("other")
            }
        }
        return frames
    }

    @Test func theEndRidesOnTheLastFrame() throws {
        let keeper = ContextKeeper()
        let channel = EmbeddedChannel(handler: keeper)
        defer { _ = try? channel.finish() }
        let context = try #require(keeper.context)
        let ok = HTTPResponseHead(version: .http1_1, status: .ok)

        var codec = HTTP2StreamCodec()
        codec.write(.head(ok), promise: nil, context: context)
        codec.write(.body(.byteBuffer(ByteBuffer(string: "abc"))), promise: nil, context: context)
        let ended = channel.eventLoop.makePromise(of: Void.self)
        codec.write(.end(nil), promise: ended, context: context)
        channel.flush()
        #expect(try Self.frames(channel) == ["HEADERS", "DATA(3)+end"])
        #expect(throws: Never.self) { try ended.futureResult.wait() }

        var bodiless = HTTP2StreamCodec()
        bodiless.write(.head(HTTPResponseHead(version: .http1_1, status: .noContent)), promise: nil, context: context)
        bodiless.write(.end(nil), promise: nil, context: context)
        channel.flush()
        #expect(try Self.frames(channel) == ["HEADERS+end"])

        var trailed = HTTP2StreamCodec()
        trailed.write(.head(ok), promise: nil, context: context)
        trailed.write(.body(.byteBuffer(ByteBuffer(string: "x"))), promise: nil, context: context)
        trailed.write(.end(["grpc-status": "0"]), promise: nil, context: context)
        channel.flush()
        #expect(try Self.frames(channel) == ["HEADERS", "DATA(1)", "HEADERS+end"])
    }

    @Test func aFlushPassesOnWhatWaits() throws {
        let keeper = ContextKeeper()
        let channel = EmbeddedChannel(handler: keeper)
        defer { _ = try? channel.finish() }
        let context = try #require(keeper.context)
        var codec = HTTP2StreamCodec()
        codec.write(.head(HTTPResponseHead(version: .http1_1, status: .ok)), promise: nil, context: context)
        #expect(try Self.frames(channel) == [], "the head waits for what follows it")
        codec.writeHeld(context: context)
        channel.flush()
        #expect(try Self.frames(channel) == ["HEADERS"])
        codec.write(.body(.byteBuffer(ByteBuffer(string: "event"))), promise: nil, context: context)
        codec.writeHeld(context: context)
        codec.write(.end(nil), promise: nil, context: context)
        channel.flush()
        #expect(try Self.frames(channel) == ["DATA(5)", "DATA(0)+end"])
    }
}
