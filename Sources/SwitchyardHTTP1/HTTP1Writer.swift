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
        for (name, value) in headers {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
    }

    static func write(_ version: HTTPVersion, to buffer: inout ByteBuffer) {
        if version == .http1_1 {
            buffer.writeStaticString("HTTP/1.1")
        } else if version == .http1_0 {
            buffer.writeStaticString("HTTP/1.0")
        } else {
            buffer.writeString("HTTP/\(version.major).\(version.minor)")
        }
    }
}

/// Writes request parts to an upstream connection's bytes, framed as NIO's request encoder frames them: a method
/// that carries a body gets `transfer-encoding: chunked` when it has no `content-length`, TRACE carries none.
public struct HTTP1RequestWriter {
    private var body = HTTP1BodyWriter()

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
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeString(head.method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(head.uri)
        buffer.writeInteger(UInt8(ascii: " "))
        HTTP1BodyWriter.write(head.version, to: &buffer)
        buffer.writeStaticString("\r\n")
        HTTP1BodyWriter.write(headers, to: &buffer)
        return buffer
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
        var buffer = allocator.buffer(capacity: 256)
        HTTP1BodyWriter.write(head.version, to: &buffer)
        let code = Int(head.status.code)
        buffer.writeInteger(UInt8(ascii: " "))
        if (100..<1000).contains(code) {
            buffer.writeInteger(UInt8(48 + code / 100))
            buffer.writeInteger(UInt8(48 + code / 10 % 10))
            buffer.writeInteger(UInt8(48 + code % 10))
        } else {
            buffer.writeString(String(code))
        }
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(head.status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        HTTP1BodyWriter.write(headers, to: &buffer)
        return buffer
    }

    public func body(_ data: IOData, allocator: ByteBufferAllocator) -> IOData? { body.body(data, allocator: allocator) }

    public mutating func end(_ trailers: HTTPHeaders?, allocator: ByteBufferAllocator) -> ByteBuffer? {
        suppressesBody = false
        return body.end(trailers, allocator: allocator)
    }
}
