import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import SwitchyardHTTP1
@testable import SwitchyardProxy
@testable import SwitchyardUpstream

/// The HTTP/1 parsers and writers, and the handlers that use them on client and upstream connections.
@Suite struct HTTP1CodecTests {
    /// The descriptions of the parts `parser` makes of `text` fed in pieces of `step` bytes (body parts joined),
    /// and the parser after it.
    static func feed<Parser: HTTP1PartParser>(
        _ text: String, step: Int, to parser: Parser, _ describe: (Parser.Part) -> String
    ) throws -> ([String], Parser) {
        var parser = parser
        var input = HTTP1Input()
        var parts: [String] = []
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + max(1, min(step, bytes.count)))
            input.append(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
            while let part = try input.next(&parser) {
                let text = describe(part)
                if text.hasPrefix("body "), let last = parts.last, last.hasPrefix("body ") {
                    parts[parts.count - 1] = last + text.dropFirst(5)
                } else {
                    parts.append(text)
                }
            }
        }
        return (parts, parser)
    }

    /// Every part the responses in `text` parse to, the end of a body that runs until the close included.
    static func parse(_ text: String, step: Int = .max, answersHead: Bool = false) throws -> [String] {
        var parser = HTTP1ResponseParser()
        parser.answersHead = answersHead
        var (parts, after) = try feed(text, step: step, to: parser, describe)
        if let end = after.closed() { parts.append(describe(end)) }
        return parts
    }

    static func describe(_ part: HTTPServerRequestPart) -> String {
        switch part {
        case .head(let head):
            let fields = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            return "head \(head.method.rawValue) \(head.uri) \(head.version.major).\(head.version.minor) [\(fields)]"
        case .body(let body): return "body " + String(buffer: body)
        case .end(let trailers): return "end" + (trailers.map { " " + $0.map { "\($0.name)=\($0.value)" }.joined(separator: ",") } ?? "")
        }
    }

    static func describe(_ part: HTTPClientResponsePart) -> String {
        switch part {
        case .head(let head):
            let fields = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
            return "head \(head.version.major).\(head.version.minor) \(head.status.code) [\(fields)]"
        case .body(let body): return "body " + String(buffer: body)
        case .end(let trailers): return "end" + (trailers.map { " " + $0.map { "\($0.name)=\($0.value)" }.joined(separator: ",") } ?? "")
        }
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func fixedLengthAndChunkedResponsesParseTheSameInAnyPieces(step: Int) throws {
        let fixed = "HTTP/1.1 200 OK\r\nContent-Type:  text/plain \r\nContent-Length: 5\r\n\r\nhello"
        #expect(try Self.parse(fixed + fixed, step: step) == [
            "head 1.1 200 [Content-Type=text/plain,Content-Length=5]", "body hello", "end",
            "head 1.1 200 [Content-Type=text/plain,Content-Length=5]", "body hello", "end",
        ])
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5;name=value\r\nhello\r\nA \r\n, world!!!\r\n0\r\nX-Sum: 1\r\n\r\n"
        #expect(try Self.parse(chunked, step: step) == [
            "head 1.1 200 [Transfer-Encoding=gzip, Chunked]", "body hello, world!!!", "end X-Sum=1",
        ])
    }

    @Test func responsesWithoutABody() throws {
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", answersHead: true) == [
            "head 1.1 200 [Content-Length=9]", "end", "head 1.1 204 []", "end",
        ])
        #expect(try Self.parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n") == ["head 1.1 304 [Content-Length=9]", "end"])
        #expect(try Self.parse("HTTP/1.1 200\r\nContent-Length: 0, 0\r\n\r\n") == ["head 1.1 200 [Content-Length=0, 0]", "end"])
    }

    @Test func informationalAnswersAreDropped() throws {
        #expect(try Self.parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == [
            "head 1.1 200 [Content-Length=2]", "body ok", "end",
        ])
    }

    @Test func aBodyWithoutLengthRunsUntilTheClose() throws {
        #expect(try Self.parse("HTTP/1.0 200 OK\r\n\r\nall of it", step: 4) == ["head 1.0 200 []", "body all of it", "end"])
        #expect(try Self.parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz") == ["head 1.1 200 [Transfer-Encoding=gzip]", "body zz", "end"])
    }

    @Test func switchingProtocolsLeavesTheRestUnread() throws {
        var parser = HTTP1ResponseParser()
        var unread = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u{81}\u{2}hi")
        #expect(try parser.next(&unread).map { Self.describe($0) } == "head 1.1 101 [Upgrade=websocket]")
        #expect(try parser.next(&unread).map { Self.describe($0) } == "end")
        #expect(try parser.next(&unread) == nil)
        #expect(parser.isUpgraded)
        #expect(String(buffer: unread) == "\u{81}\u{2}hi")
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX(A): 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 x\r\nab\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 099 Early\r\n\r\n",
    ])
    func malformedResponsesAreRefused(_ text: String) {
        #expect(throws: HTTP1Malformed.self) { try Self.parse(text) }
    }

    @Test func aHeadSectionOverTheLimitIsRefusedBeforeItEnds() {
        let long = "HTTP/1.1 200 OK\r\nX-Long: " + String(repeating: "a", count: HTTP1Lines.maximumHeadBytes)
        #expect(throws: HTTP1Malformed.self) { try Self.parse(long) }
        #expect(throws: HTTP1Malformed.self) { try Self.parse(String(repeating: "H", count: HTTP1Lines.maximumHeadBytes + 1)) }
    }

    // MARK: - Reading requests

    static func requests(_ text: String, step: Int = .max) throws -> [String] {
        try feed(text, step: step, to: HTTP1RequestParser(), describe).0
    }

    @Test(arguments: [1, 2, 5, 1000])
    func pipelinedRequestsParseTheSameInAnyPieces(step: Int) throws {
        let text = "\r\nGET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "PUT /ch HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
            + "PURGE * HTTP/1.0\r\n\r\n"
        #expect(try Self.requests(text, step: step) == [
            "head GET /a?b=c 1.1 [Host=x]", "end",
            "head POST /up 1.1 [Host=x,Content-Length=5]", "body hello", "end",
            "head PUT /ch 1.1 [Transfer-Encoding=gzip, chunked]", "body abc", "end X-T=1",
            "head PURGE * 1.0 []", "end",
        ])
    }

    @Test func parsingStopsAfterARequestThatSwitchesProtocols() throws {
        var parser = HTTP1RequestParser()
        var unread = ByteBuffer(string: "GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\n\r\n")
        #expect(try parser.next(&unread).map(Self.describe) == "head GET /ws 1.1 [Connection=keep-alive, Upgrade,Upgrade=websocket]")
        #expect(try parser.next(&unread).map(Self.describe) == "end")
        #expect(try parser.next(&unread) == nil)
        #expect(parser.isUpgraded)
        #expect(String(buffer: unread) == "GET /next HTTP/1.1\r\n\r\n")
    }

    @Test(arguments: [
        ("POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: 4, 5\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nContent-Length: +4\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\u{1}\r\nhello\r\n0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX-A: a\nX-B: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\nHost: x\n\n", 400),
        ("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX-\u{0}A: b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", 400),
        ("GET /a b HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 400),
        ("GET / HTTP/1.1 \r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400),
        ("GET /\u{7f} HTTP/1.1\r\n\r\n", 400),
        ("GET /" + String(repeating: "a", count: 90_000) + " HTTP/1.1\r\n\r\n", 414),
        ("GET / HTTP/1.1\r\nX-Big: " + String(repeating: "b", count: 90_000) + "\r\n\r\n", 431),
    ])
    func malformedRequestsAreRefusedWithTheirStatus(_ text: String, status: Int) {
        let error = #expect(throws: HTTP1Malformed.self) { try Self.requests(text) }
        #expect(error?.status.code == UInt(status))
    }

    // MARK: - Writing responses

    static func response(_ head: HTTPResponseHead, answering method: HTTPMethod?, body: [String] = []) -> String {
        var writer = HTTP1ResponseWriter()
        let allocator = ByteBufferAllocator()
        var out = writer.head(head, answering: method, allocator: allocator)
        for part in body where !writer.suppressesBody {
            if case .byteBuffer(var framed)? = writer.body(.byteBuffer(ByteBuffer(string: part)), allocator: allocator) {
                out.writeBuffer(&framed)
            }
        }
        if var last = writer.end(nil, allocator: allocator) { out.writeBuffer(&last) }
        return String(buffer: out)
    }

    @Test func responsesAreFramedAsNIOFramesThem() {
        let ok = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2"])
        #expect(Self.response(ok, answering: .GET, body: ["ok"]) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        let streamed = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["X-A": "1"])
        #expect(Self.response(streamed, answering: .GET, body: ["ab", "c"])
            == "HTTP/1.1 200 OK\r\nX-A: 1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n")
        #expect(Self.response(streamed, answering: .HEAD, body: ["ab"]) == "HTTP/1.1 200 OK\r\nX-A: 1\r\ntransfer-encoding: chunked\r\n\r\n")
        let old = HTTPResponseHead(version: .http1_0, status: .ok, headers: [:])
        #expect(Self.response(old, answering: .GET, body: ["all"]) == "HTTP/1.0 200 OK\r\n\r\nall")
        let empty = HTTPResponseHead(version: .http1_1, status: .noContent, headers: ["Content-Length": "0", "Transfer-Encoding": "chunked"])
        #expect(Self.response(empty, answering: .GET) == "HTTP/1.1 204 No Content\r\n\r\n")
        let custom = HTTPResponseHead(version: .http1_1, status: .custom(code: 599, reasonPhrase: "Odd"), headers: ["Content-Length": "0"])
        #expect(Self.response(custom, answering: nil) == "HTTP/1.1 599 Odd\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func theServersBytesOfAHeadPassWhenTheirFramingStays() throws {
        var parser = HTTP1ResponseParser()
        var bytes = ByteBuffer(string: "HTTP/1.1 200 Fine\r\nContent-Length:2\r\nX-A: 1 \r\n\r\nok")
        guard case .head(let head)? = try parser.next(&bytes) else { Issue.record("no head"); return }
        #expect(parser.headBytes.map { String(buffer: $0) } == "HTTP/1.1 200 Fine\r\nContent-Length:2\r\nX-A: 1 \r\n\r\n")
        _ = try parser.next(&bytes)
        #expect(parser.headBytes == nil)  // kept no longer than its part
        var bare = ByteBuffer(string: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")
        _ = try parser.next(&bare)
        #expect(parser.headBytes == nil)  // no space after the code: written anew, with one
        var writer = HTTP1ResponseWriter()
        let forGet = writer.passHead(head, answering: .GET)
        #expect(forGet && !writer.suppressesBody)
        let forHead = writer.passHead(head, answering: .HEAD)
        #expect(forHead && writer.suppressesBody)
        let forConnect = writer.passHead(head, answering: .CONNECT)
        #expect(!forConnect)
        let refused: [HTTPResponseHead] = [
            HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Transfer-Encoding": "chunked"]),
            HTTPResponseHead(version: .http1_1, status: .ok, headers: [:]),
            HTTPResponseHead(version: .http1_1, status: .noContent, headers: ["Content-Length": "0"]),
            HTTPResponseHead(version: .http1_0, status: .ok, headers: ["Content-Length": "2"]),
        ]
        for head in refused {
            let passed = writer.passHead(head, answering: .GET)
            #expect(!passed, "\(head)")
        }
    }

    @Test func aHeadWithNoRequestWaitingForItIsNotPassedOn() throws {
        let channel = EmbeddedChannel()
        let codec = HTTP1ServerCodec()
        try channel.pipeline.syncOperations.addHandler(codec)
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"])
        let bytes = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(!codec.passHead(head, bytes: bytes))
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(codec.passHead(head, bytes: bytes))
        #expect(!codec.passHead(head, bytes: bytes))  // that request has its answer
        channel.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        _ = try? channel.finish()
    }

    @Test func aHeadStillQueuedIsNotOverwrittenByTheNext() {
        var writer = HTTP1ResponseWriter()
        let allocator = ByteBufferAllocator()
        let first = writer.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "0"]), answering: .GET, allocator: allocator)
        _ = writer.end(nil, allocator: allocator)
        // `first` is still held (queued for the socket): the next head gets a buffer of its own.
        let second = writer.head(HTTPResponseHead(version: .http1_1, status: .notFound, headers: ["Content-Length": "0"]), answering: .GET, allocator: allocator)
        _ = writer.end(nil, allocator: allocator)
        #expect(String(buffer: first) == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        #expect(String(buffer: second) == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        // Written out and let go: the next head reuses its memory, and carries nothing of the one before.
        var lines: [String] = []
        for status in [HTTPResponseStatus.accepted, .ok, .notModified] {
            lines.append(String(buffer: writer.head(HTTPResponseHead(version: .http1_1, status: status), answering: .GET, allocator: allocator)))
            _ = writer.end(nil, allocator: allocator)
        }
        #expect(lines == [
            "HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\n\r\n",
        ])
    }

    @Test func theServerCodecAnswersAHeadRequestWithoutABodyAndHandsLeftoverBytesOn() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTP1ServerCodec())
        try channel.writeInbound(ByteBuffer(string: "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nframe"))
        var received: [String] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) { received.append(Self.describe(part)) }
        #expect(received == ["head HEAD / 1.1 [Host=x]", "end", "head GET /ws 1.1 [Connection=upgrade,Upgrade=websocket]", "end"])
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "9"])))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")
        let sink = Sink()
        try channel.pipeline.syncOperations.addHandler(sink)
        let codec = try channel.pipeline.syncOperations.handler(type: HTTP1ServerCodec.self)
        channel.pipeline.syncOperations.removeHandler(codec, promise: nil)
        #expect(sink.received == "frame")
        #expect(sink.atReadComplete == ["frame"])
        _ = try? channel.finish()
    }

    // MARK: - Writing requests

    static func written(_ head: HTTPRequestHead, body: [String] = [], trailers: HTTPHeaders? = nil) -> String {
        var writer = HTTP1RequestWriter()
        let allocator = ByteBufferAllocator()
        var out = writer.head(head, allocator: allocator)
        for part in body {
            if case .byteBuffer(var framed)? = writer.body(.byteBuffer(ByteBuffer(string: part)), allocator: allocator) {
                out.writeBuffer(&framed)
            }
        }
        if var last = writer.end(trailers, allocator: allocator) { out.writeBuffer(&last) }
        return String(buffer: out)
    }

    @Test func headsLargerThanTheKeptBufferAreSizedAndWrittenWhole() {
        var writer = HTTP1RequestWriter()
        let allocator = ByteBufferAllocator()
        let small = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "x"])
        #expect(String(buffer: writer.head(small, allocator: allocator)) == "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        // Heads larger than the buffer kept from the one before (up to 2 KiB is kept), one field alone larger.
        for sizes in [[1000, 30], [700, 700, 700], [5000]] {
            var headers = HTTPHeaders([("Host", "x")])
            for (index, size) in sizes.enumerated() { headers.add(name: "X-Field-\(index)", value: String(repeating: "v", count: size)) }
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/big", headers: headers)
            let expected = "GET /big HTTP/1.1\r\nHost: x\r\n"
                + sizes.enumerated().map { "X-Field-\($0.offset): " + String(repeating: "v", count: $0.element) + "\r\n" }.joined()
                + "\r\n"
            #expect(String(buffer: writer.head(head, allocator: allocator)) == expected)
        }
        #expect(String(buffer: writer.head(small, allocator: allocator)) == "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    }

    @Test func requestsAreFramedAsNIOFramesThem() {
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/a?b", headers: ["Host": "x"])
        #expect(Self.written(get) == "GET /a?b HTTP/1.1\r\nHost: x\r\n\r\n")
        let post = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["Host": "x"])
        #expect(Self.written(post, body: ["hello", "", "world!"], trailers: ["X-Sum": "1"])
            == "POST / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\nworld!\r\n0\r\nX-Sum: 1\r\n\r\n")
        let sized = HTTPRequestHead(version: .http1_1, method: .PUT, uri: "/", headers: ["Content-Length": "2", "Transfer-Encoding": "chunked"])
        #expect(Self.written(sized, body: ["ok"]) == "PUT / HTTP/1.1\r\nContent-Length: 2\r\n\r\nok")
        let trace = HTTPRequestHead(version: .http1_1, method: .TRACE, uri: "/", headers: ["Content-Length": "2"])
        #expect(Self.written(trace) == "TRACE / HTTP/1.1\r\n\r\n")
        let old = HTTPRequestHead(version: .http1_0, method: .POST, uri: "/", headers: ["Host": "x"])
        #expect(Self.written(old, body: ["ab"]) == "POST / HTTP/1.0\r\nHost: x\r\n\r\nab")
        let custom = HTTPRequestHead(version: .http1_1, method: .RAW(value: "PURGE"), uri: "*", headers: [:])
        #expect(Self.written(custom) == "PURGE * HTTP/1.1\r\n\r\n")
    }

    // MARK: - The handler

    /// Receives the parts the handler hands over.
    final class Recorder: UpstreamConnectionDelegate {
        var parts: [String] = []
        var closed = false
        func upstreamReceived(_ part: HTTPClientResponsePart) { parts.append(HTTP1CodecTests.describe(part)) }
        func upstreamWritabilityChanged(isWritable: Bool) {}
        func upstreamClosed(error: (any Error)?) { closed = true }
    }

    /// Collects what reaches the end of the pipeline.
    final class Sink: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var received = ""
        /// What had been received at each end of a read (a tunnel flushes to its partner then).
        var atReadComplete: [String] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { received += String(buffer: unwrapInboundIn(data)) }
        func channelReadComplete(context: ChannelHandlerContext) { atReadComplete.append(received) }
    }

    /// An upstream connection over an embedded channel, its parts recorded.
    static func connection() throws -> (EmbeddedChannel, UpstreamConnection, Recorder) {
        let channel = EmbeddedChannel()
        let handler = HTTP1UpstreamHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        let connection = UpstreamConnection(channel: channel, handler: handler, poolKey: PoolKey("k"))
        let recorder = Recorder()
        connection.delegate = recorder
        return (channel, connection, recorder)
    }

    @Test func aTunnelGetsWhatFollowedTheSwitch() throws {
        let (channel, connection, recorder) = try Self.connection()
        let sink = Sink()
        final class Switcher: UpstreamConnectionDelegate {
            let connection: UpstreamConnection, sink: Sink, recorder: Recorder
            init(_ connection: UpstreamConnection, _ sink: Sink, _ recorder: Recorder) { (self.connection, self.sink, self.recorder) = (connection, sink, recorder) }
            func upstreamReceived(_ part: HTTPClientResponsePart) {
                recorder.upstreamReceived(part)
                if case .end = part { try? connection.becomeTunnel(with: sink) }
            }
            func upstreamWritabilityChanged(isWritable: Bool) {}
            func upstreamClosed(error: (any Error)?) {}
        }
        let switcher = Switcher(connection, sink, recorder)
        connection.delegate = switcher
        connection.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws", headers: ["Upgrade": "websocket"])))
        connection.flush()
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n")
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\n\r\nframe"))
        #expect(recorder.parts == ["head 1.1 101 []", "end"])
        #expect(sink.received == "frame")
        #expect(sink.atReadComplete.first == "frame")
        try channel.writeInbound(ByteBuffer(string: " more"))
        #expect(sink.received == "frame more")
        _ = try? channel.finish()
    }

    @Test func aMalformedResponseFailsTheExchangeAndClosesTheConnection() throws {
        let (channel, _, recorder) = try Self.connection()
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"))
        #expect(recorder.closed)
        #expect(recorder.parts.isEmpty)
        #expect(!channel.isActive)
    }
}
