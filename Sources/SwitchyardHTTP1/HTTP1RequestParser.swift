#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOHTTP1

/// Reads HTTP/1.x requests from a client connection's bytes, one part at a time, as strictly as NIO's llhttp-based
/// decoder (see `HTTP1Lines`), and with one framing or none: Content-Length with Transfer-Encoding, conflicting
/// lengths, a transfer coding list not ending in chunked, or chunked on HTTP/1.0 are refused (RFC 9112 §6.1, §6.3).
///
/// After a request that asks to switch protocols (`Connection: upgrade` with `Upgrade`), or CONNECT, parsing
/// stops: what follows is not HTTP, and is left in the buffer for whoever takes the connection over.
public struct HTTP1RequestParser {
    private enum State {
        case head
        case body(HTTP1BodyReader, upgrades: Bool)
        case upgraded
        case failed
    }

    private var state = State.head

    public init() {}

    /// True once a protocol switch was asked for: the bytes left belong to what comes after HTTP.
    public var isUpgraded: Bool {
        if case .upgraded = state { return true }
        return false
    }

    /// The next part in `buffer`, consuming its bytes; nil when more bytes are needed (or parsing stopped).
    /// Throws `HTTP1Malformed`; the parser then stays failed.
    public mutating func next(_ buffer: inout ByteBuffer) throws -> HTTPServerRequestPart? {
        do {
            return try step(&buffer)
        } catch {
            state = .failed
            throw error
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws -> HTTPServerRequestPart? {
        switch state {
        case .head:
            guard let (head, framing) = try Self.readHead(&buffer) else { return nil }
            try framing.checkUnambiguous()
            let upgrades = head.method == .CONNECT || (framing.connectionUpgrade && framing.hasUpgrade)
            let reader: HTTP1BodyReader
            if framing.codings > 0 {
                guard framing.chunked else { throw HTTP1Malformed("a transfer coding list that does not end in chunked") }
                guard head.version.minor >= 1 else { throw HTTP1Malformed("chunked on HTTP/1.0") }
                reader = HTTP1BodyReader(state: .chunkSize)
            } else {
                reader = HTTP1BodyReader(state: .fixed(remaining: framing.length ?? 0))
            }
            state = .body(reader, upgrades: upgrades)
            return .head(head)
        case .body(var reader, let upgrades):
            guard let part = try reader.next(&buffer) else {
                state = .body(reader, upgrades: upgrades)
                return nil
            }
            switch part {
            case .body(let bytes):
                state = .body(reader, upgrades: upgrades)
                return .body(bytes)
            case .end(let trailers):
                state = upgrades ? .upgraded : .head
                return .end(trailers)
            }
        case .upgraded, .failed:
            return nil
        }
    }

    /// The request line and header section, once all of it is in `buffer`; empty lines before the request line
    /// are skipped (RFC 9112 §2.2).
    static func readHead(_ buffer: inout ByteBuffer) throws -> (HTTPRequestHead, HTTP1Framing)? {
        let limit = HTTP1Lines.maximumHeadBytes
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
        }
        guard let lineEnd = try HTTP1Lines.lineEnd(in: buffer, from: 0) else {
            if buffer.readableBytes > limit { throw HTTP1Malformed("a request line over \(limit) bytes", status: .uriTooLong) }
            return nil
        }
        if lineEnd > limit { throw HTTP1Malformed("a request line over \(limit) bytes", status: .uriTooLong) }
        var rest = buffer
        rest.moveReaderIndex(forwardBy: lineEnd + 2)
        var framing = HTTP1Framing()
        guard let fields = try HTTP1Lines.readFields(
            &rest, limit: limit - lineEnd, framing: &framing, status: .requestHeaderFieldsTooLarge)
        else {
            if buffer.readableBytes > limit {
                throw HTTP1Malformed("a header section over \(limit) bytes", status: .requestHeaderFieldsTooLarge)
            }
            return nil
        }
        let (method, target, version) = try buffer.withUnsafeReadableBytes { bytes in
            try requestLine(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd]))
        }
        buffer = rest
        return (HTTPRequestHead(version: version, method: method, uri: target, headers: HTTPHeaders(fields)), framing)
    }

    /// The usual methods straight from their bytes; the others by name, as NIO knows them.
    private static func method(_ bytes: UnsafeRawBufferPointer) -> HTTPMethod {
        func bytesAre(_ name: StaticString) -> Bool {
            name.utf8CodeUnitCount == bytes.count && memcmp(bytes.baseAddress!, name.utf8Start, bytes.count) == 0
        }
        if bytesAre("GET") { return .GET }
        if bytesAre("POST") { return .POST }
        if bytesAre("HEAD") { return .HEAD }
        if bytesAre("PUT") { return .PUT }
        if bytesAre("DELETE") { return .DELETE }
        return HTTPMethod(rawValue: String(decoding: bytes, as: UTF8.self))
    }

    /// `method SP request-target SP HTTP/1.x`.
    private static func requestLine(_ line: UnsafeRawBufferPointer) throws -> (HTTPMethod, String, HTTPVersion) {
        var methodEnd = 0
        while methodEnd < line.count, line[methodEnd] != 0x20 {
            guard HTTP1Lines.isToken(line[methodEnd]) else { throw HTTP1Malformed("a method with a byte not allowed") }
            methodEnd += 1
        }
        guard methodEnd > 0, methodEnd < line.count else { throw HTTP1Malformed("a request line without a method") }
        let targetStart = methodEnd + 1
        var targetEnd = targetStart
        while targetEnd < line.count, line[targetEnd] != 0x20 {
            guard line[targetEnd] > 0x20, line[targetEnd] != 0x7F else { throw HTTP1Malformed("a request target with a byte not allowed") }
            targetEnd += 1
        }
        let version = line.count - targetEnd - 1
        guard targetEnd > targetStart, version == 8, line[targetEnd + 1] == UInt8(ascii: "H"), line[targetEnd + 2] == UInt8(ascii: "T"),
            line[targetEnd + 3] == UInt8(ascii: "T"), line[targetEnd + 4] == UInt8(ascii: "P"), line[targetEnd + 5] == UInt8(ascii: "/"),
            line[targetEnd + 6] == UInt8(ascii: "1"), line[targetEnd + 7] == UInt8(ascii: "."), HTTP1Lines.isDigit(line[targetEnd + 8])
        else { throw HTTP1Malformed("a request line that is not `method target HTTP/1.x`") }
        let method = Self.method(UnsafeRawBufferPointer(rebasing: line[0..<methodEnd]))
        let target = String(decoding: UnsafeRawBufferPointer(rebasing: line[targetStart..<targetEnd]), as: UTF8.self)
        return (method, target, HTTPVersion(major: 1, minor: Int(line[targetEnd + 8] - 48)))
    }
}
