import NIOCore
import NIOHTTP1

/// Whether a message may carry a body, as NIO's encoders decide it from the method or status.
enum HTTP1BodyExpectation {
    case no, yes, unlikely
}

/// The body framing both writers share: chunked or not, and the chunks and the end as bytes.
struct HTTP1BodyWriter {
    /// True while the message being written has a chunked body.
    private(set) var isChunked = false

    /// NIO's framing rule: a message with no body loses its framing fields; a `content-length` wins over a
    /// `transfer-encoding`; one that must carry a body and has neither gets `transfer-encoding: chunked` on
    /// HTTP/1.1. Sets `isChunked`.
    mutating func frame(_ expectation: HTTP1BodyExpectation, version: HTTPVersion, headers: inout HTTPHeaders) {
        let hasLength = headers.contains(name: "content-length")
        let modern = version.major == 1 && version.minor >= 1
        switch expectation {
        case .no:
            if hasLength { headers.remove(name: "content-length") }
            if headers.contains(name: "transfer-encoding") { headers.remove(name: "transfer-encoding") }
            isChunked = false
        case _ where hasLength:
            if headers.contains(name: "transfer-encoding") { headers.remove(name: "transfer-encoding") }
            isChunked = false
        case .yes:
            if modern { headers.replaceOrAdd(name: "transfer-encoding", value: "chunked") }
            isChunked = modern
        case .unlikely:
            isChunked = modern && headers.first(name: "transfer-encoding") == "chunked"
        }
    }

    mutating func suppressBody() { isChunked = false }

    /// A body part: as it is, or as one chunk. An empty part writes nothing under chunked framing (an empty chunk
    /// would end the body).
    func body(_ data: IOData, allocator: ByteBufferAllocator) -> IOData? {
        guard isChunked else { return data }
        guard data.readableBytes > 0 else { return nil }
        guard case .byteBuffer(var part) = data else { return data }  // file regions are not chunked here
        var chunk = allocator.buffer(capacity: part.readableBytes + 12)
        chunk.writeString(String(part.readableBytes, radix: 16))
        chunk.writeStaticString("\r\n")
        chunk.writeBuffer(&part)
        chunk.writeStaticString("\r\n")
        return .byteBuffer(chunk)
    }

    /// The end of the body: the last chunk and trailers, or nothing.
    mutating func end(_ trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        defer { isChunked = false }
        guard isChunked else { return nil }
        var buffer = allocator.buffer(capacity: 5)
        buffer.writeStaticString("0\r\n")
        HTTP1BodyWriter.write(trailers ?? HTTPHeaders(), to: &buffer)
        return buffer
    }

    /// `name: value` lines and the empty line that ends them.
    static func write(_ headers: HTTPHeaders, to buffer: inout ByteBuffer) {
        let size = HeadBytes.size(of: headers)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            HeadBytes.copy(headers, to: out, at: 0)
        }
    }

    static func versionText(_ version: HTTPVersion) -> String {
        if version == .http1_1 { return "HTTP/1.1" }
        if version == .http1_0 { return "HTTP/1.0" }
        return "HTTP/\(version.major).\(version.minor)"
    }
}

/// A message head is sized first and then copied into its buffer in one pass: a buffer write per piece costs a
/// capacity check and an exclusivity check each, and a field line has four pieces.
enum HeadBytes {
    /// The bytes of the field lines and the empty line after them.
    static func size(of headers: HTTPHeaders) -> Int {
        var size = 2
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        return size
    }

    /// Copies `name: value` lines and the empty line; returns where they end.
    static func copy(_ headers: HTTPHeaders, to out: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var at = start
        for (name, value) in headers {
            at = copy(name, to: out, at: at)
            at = copy(UInt8(ascii: ":"), UInt8(ascii: " "), to: out, at: at)
            at = copy(value, to: out, at: at)
            at = copy(UInt8(ascii: "\r"), UInt8(ascii: "\n"), to: out, at: at)
        }
        return copy(UInt8(ascii: "\r"), UInt8(ascii: "\n"), to: out, at: at)
    }

    @inline(__always)
    static func copy(_ text: String, to out: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        var text = text
        return text.withUTF8 { bytes in
            guard let source = bytes.baseAddress, let target = out.baseAddress else { return at }
            (target + at).copyMemory(from: source, byteCount: bytes.count)
            return at + bytes.count
        }
    }

    @inline(__always)
    static func copy(_ first: UInt8, _ second: UInt8, to out: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        out[at] = first
        out[at + 1] = second
        return at + 2
    }
}

/// The buffer of a connection's last head, used again for its next one: once the last head has been written out its
/// memory is reused, two allocations fewer per message. One still queued for the socket is shared, so `clear` gives
/// the next head a buffer of its own.
struct HeadBuffer {
    private var kept: ByteBuffer?
    /// A larger head's buffer is not kept (an idle connection holds this much at most).
    static let largestKept = 2048

    mutating func take(capacity: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        guard var buffer = kept else { return allocator.buffer(capacity: max(capacity, 256)) }
        kept = nil
        buffer.clear(minimumCapacity: capacity)
        return buffer
    }

    mutating func keep(_ buffer: ByteBuffer) {
        if buffer.capacity <= Self.largestKept { kept = buffer }
    }

    /// A head in one copy: its start line (`startLine` bytes, copied by `copyStartLine`, which returns where it
    /// ends), then `headers` and the empty line.
    mutating func write(
        startLine: Int, headers: HTTPHeaders, allocator: ByteBufferAllocator,
        copyStartLine: (UnsafeMutableRawBufferPointer) -> Int
    ) -> ByteBuffer {
        let size = startLine + HeadBytes.size(of: headers)
        var buffer = take(capacity: size, allocator: allocator)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            HeadBytes.copy(headers, to: out, at: copyStartLine(out))
        }
        keep(buffer)
        return buffer
    }
}

/// Writes request parts to an upstream connection's bytes, framed as NIO's request encoder frames them: a method
/// that carries a body gets `transfer-encoding: chunked` when it has no `content-length`, TRACE carries none.
public struct HTTP1RequestWriter {
    private var body = HTTP1BodyWriter()
    private var headBuffer = HeadBuffer()

    public init() {}

    /// The head, as bytes; `head.headers` is copied only when its framing headers need changing.
    public mutating func head(_ head: HTTPRequestHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        var headers = head.headers
        let expectation: HTTP1BodyExpectation
        switch head.method {
        case .TRACE: expectation = .no
        case .POST, .PUT, .PATCH: expectation = .yes
        default: expectation = .unlikely
        }
        body.frame(expectation, version: head.version, headers: &headers)
        let method = head.method.rawValue
        let version = HTTP1BodyWriter.versionText(head.version)
        let startLine = method.utf8.count + head.uri.utf8.count + version.utf8.count + 4
        return headBuffer.write(startLine: startLine, headers: headers, allocator: allocator) { out in
            var at = HeadBytes.copy(method, to: out, at: 0)
            out[at] = UInt8(ascii: " ")
            at = HeadBytes.copy(head.uri, to: out, at: at + 1)
            out[at] = UInt8(ascii: " ")
            at = HeadBytes.copy(version, to: out, at: at + 1)
            return HeadBytes.copy(UInt8(ascii: "\r"), UInt8(ascii: "\n"), to: out, at: at)
        }
    }

    public func body(_ data: IOData, allocator: ByteBufferAllocator) -> IOData? { body.body(data, allocator: allocator) }

    public mutating func end(_ trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        body.end(trailers, allocator: allocator)
    }
}

/// Writes response parts to a client connection's bytes, framed as NIO's response encoder frames them: a status
/// with no body loses its framing fields, one without a length goes chunked on HTTP/1.1, and the answer to a
/// HEAD (or CONNECT) request keeps its fields but sends no body.
public struct HTTP1ResponseWriter {
    private var body = HTTP1BodyWriter()
    private var headBuffer = HeadBuffer()
    /// The response being written answers a HEAD or CONNECT request.
    public private(set) var suppressesBody = false

    public init() {}

    /// The head, as bytes. `answering` is the method of the request it answers (nil: not known).
    public mutating func head(_ head: HTTPResponseHead, answering method: HTTPMethod?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var headers = head.headers
        suppressesBody = method == .HEAD || method == .CONNECT
        let expectation: HTTP1BodyExpectation = method == .CONNECT || !head.status.mayHaveResponseBody ? .no : .yes
        body.frame(expectation, version: head.version, headers: &headers)
        if suppressesBody { body.suppressBody() }
        let version = HTTP1BodyWriter.versionText(head.version)
        let code = Int(head.status.code)
        // Three digits, as every status on the wire has; anything else is written as its number.
        let digits = (100..<1000).contains(code) ? nil : String(code)
        let reason = head.status.reasonPhrase
        let startLine = version.utf8.count + (digits?.utf8.count ?? 3) + reason.utf8.count + 4
        return headBuffer.write(startLine: startLine, headers: headers, allocator: allocator) { out in
            var at = HeadBytes.copy(version, to: out, at: 0)
            out[at] = UInt8(ascii: " ")
            if let digits {
                at = HeadBytes.copy(digits, to: out, at: at + 1)
            } else {
                out[at + 1] = UInt8(48 + code / 100)
                out[at + 2] = UInt8(48 + code / 10 % 10)
                out[at + 3] = UInt8(48 + code % 10)
                at += 4
            }
            out[at] = UInt8(ascii: " ")
            at = HeadBytes.copy(reason, to: out, at: at + 1)
            return HeadBytes.copy(UInt8(ascii: "\r"), UInt8(ascii: "\n"), to: out, at: at)
        }
    }

    /// Takes `head` to go out as the server's bytes of it, when they are what `head` would be written as: HTTP/1.1,
    /// a status with a body, framed by Content-Length alone. False: write `head` instead.
    public mutating func passHead(_ head: HTTPResponseHead, answering method: HTTPMethod?) -> Bool {
        guard head.version == .http1_1, method != .CONNECT, head.status.mayHaveResponseBody,
            head.headers.contains(name: "content-length"), !head.headers.contains(name: "transfer-encoding")
        else { return false }
        suppressesBody = method == .HEAD
        body.suppressBody()
        return true
    }

    public func body(_ data: IOData, allocator: ByteBufferAllocator) -> IOData? { body.body(data, allocator: allocator) }

    public mutating func end(_ trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        suppressesBody = false
        return body.end(trailers, allocator: allocator)
    }
}
