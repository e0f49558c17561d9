import NIOCore
import NIOHTTP1

/// Writes request parts to an upstream connection's bytes, framed as NIO's request encoder frames them: a method
/// that carries a body gets `transfer-encoding: chunked` when it has no `content-length`, TRACE carries none, and
/// a `content-length` wins over a `transfer-encoding`.
struct HTTP1RequestWriter {
    /// True while the request being written has a chunked body.
    private(set) var isChunked = false

    /// The head, as bytes; `head.headers` is copied only when its framing headers need changing.
    mutating func head(_ head: HTTPRequestHead, allocator: ByteBufferAllocator) -> ByteBuffer {
        var headers = head.headers
        isChunked = Self.frame(method: head.method, version: head.version, headers: &headers)
        var buffer = allocator.buffer(capacity: 256)
        buffer.writeString(head.method.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(head.uri)
        if head.version == .http1_1 {
            buffer.writeStaticString(" HTTP/1.1\r\n")
        } else {
            buffer.writeString(" HTTP/\(head.version.major).\(head.version.minor)\r\n")
        }
        Self.write(headers, to: &buffer)
        return buffer
    }

    /// A body part: as it is, or as one chunk. An empty part writes nothing under chunked framing (an empty chunk
    /// would end the body).
    func body(_ data: IOData, allocator: ByteBufferAllocator) -> IOData? {
        guard isChunked else { return data }
        guard data.readableBytes > 0 else { return nil }
        guard case .byteBuffer(var part) = data else { return nil }  // file regions are never sent chunked here
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
        Self.write(trailers ?? HTTPHeaders(), to: &buffer)
        return buffer
    }

    /// NIO's framing rule for request heads; true when the body goes chunked.
    static func frame(method: HTTPMethod, version: HTTPVersion, headers: inout HTTPHeaders) -> Bool {
        let hasLength = headers.contains(name: "content-length")
        switch method {
        case .TRACE:
            if hasLength { headers.remove(name: "content-length") }
            if headers.contains(name: "transfer-encoding") { headers.remove(name: "transfer-encoding") }
            return false
        case .POST, .PUT, .PATCH:
            if hasLength {
                if headers.contains(name: "transfer-encoding") { headers.remove(name: "transfer-encoding") }
                return false
            }
            guard version.major == 1 && version.minor >= 1 else { return false }
            headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
            return true
        default:
            if hasLength {
                if headers.contains(name: "transfer-encoding") { headers.remove(name: "transfer-encoding") }
                return false
            }
            guard version.major == 1 && version.minor >= 1 else { return false }
            return headers.first(name: "transfer-encoding") == "chunked"
        }
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
}
