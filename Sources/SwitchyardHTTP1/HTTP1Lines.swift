#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOHTTP1

/// A message the HTTP/1 parsers refuse, and the status a request refused so is answered with.
public struct HTTP1Malformed: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public let status: HTTPResponseStatus

    init(_ reason: String, status: HTTPResponseStatus = .badRequest) {
        self.reason = reason
        self.status = status
    }

    public var description: String { "malformed HTTP/1 message: \(reason)" }

    /// A body written for the response to a HEAD or CONNECT request, which has none.
    public static let bodyNotAllowed = HTTP1Malformed("a body in the response to a HEAD or CONNECT request", status: .internalServerError)
}

/// Reading the lines both kinds of HTTP/1 message share (RFC 9112): header and trailer fields, chunk-size lines.
/// Strict as llhttp is by default: CRLF line ends only (a bare CR or LF stays in its line, where it is a control
/// byte), no folded lines, token names with the colon right after them, no control bytes but tab in values.
public enum HTTP1Lines {
    /// The largest start line plus header section (and the largest trailer section), as NIO's decoder allows.
    static let maximumHeadBytes = 80 * 1024
    /// The largest chunk-size line (with its extensions).
    static let maximumChunkLineBytes = 4 * 1024

    static func lineEnd(in buffer: ByteBuffer, from start: Int) throws -> Int? {
        try buffer.withUnsafeReadableBytes { try lineEnd(in: $0, from: start) }
    }

    /// The offset of the CR of the next CRLF at or after `start`; nil when no line ends there yet. A LF without its
    /// CR is refused at once: a line it would end for one reader and not for another is how requests are smuggled.
    static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) throws -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
            let found = memchr(base + start, 0x0A, bytes.count - start)
        else { return nil }
        let index = base.distance(to: UnsafeRawPointer(found))
        guard index > start, bytes[index - 1] == 0x0D else { throw HTTP1Malformed("a line ended by LF alone") }
        return index - 1
    }

    /// Header (or trailer) lines up to and including the empty line that ends them; nil if that line is not in
    /// `buffer` yet, in which case nothing is consumed. `framing` learns what the framing fields say.
    static func readFields(
        _ buffer: inout ByteBuffer, limit: Int, framing: inout HTTP1Framing, status: HTTPResponseStatus = .badRequest
    ) throws -> [(String, String)]? {
        let result: (fields: [(String, String)], consumed: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            var fields: [(String, String)] = []
            var start = 0
            while true {
                guard let end = try lineEnd(in: bytes, from: start) else {
                    if bytes.count > limit { throw HTTP1Malformed("a header section over \(limit) bytes", status: status) }
                    return nil
                }
                if end > limit { throw HTTP1Malformed("a header section over \(limit) bytes", status: status) }
                if end == start { return (fields, end + 2) }
                if fields.isEmpty { fields.reserveCapacity(8) }  // one allocation for a usual head, not one per doubling
                fields.append(try field(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), framing: &framing))
                start = end + 2
            }
        }
        guard let result else { return nil }
        buffer.moveReaderIndex(forwardBy: result.consumed)
        return result.fields
    }

    /// `name ":" OWS value OWS`; a line that starts with white space (obsolete folding) is refused.
    private static func field(_ line: UnsafeRawBufferPointer, framing: inout HTTP1Framing) throws -> (String, String) {
        var colon = 0
        while colon < line.count, line[colon] != UInt8(ascii: ":") {
            guard isToken(line[colon]) else {
                throw HTTP1Malformed(
                    line[colon] == 0x20 || line[colon] == 0x09 ? "a folded or spaced header line" : "a header name with a byte not allowed")
            }
            colon += 1
        }
        guard colon > 0, colon < line.count else { throw HTTP1Malformed("a header line without a name or colon") }
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        for index in start..<end where isControl(line[index]) && line[index] != 0x09 {
            throw HTTP1Malformed("a control byte in a header value")
        }
        let name = UnsafeRawBufferPointer(rebasing: line[0..<colon])
        let value = UnsafeRawBufferPointer(rebasing: line[start..<end])
        if colon == 14, equalsLowercased(name, "content-length") {
            try framing.addLength(value)
        } else if colon == 17, equalsLowercased(name, "transfer-encoding") {
            try framing.addCodings(value)
        } else if colon == 10, equalsLowercased(name, "connection") {
            framing.addConnection(value)
        } else if colon == 7, equalsLowercased(name, "upgrade") {
            framing.hasUpgrade = true
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// `1*HEXDIG [BWS ";" extensions] CRLF`, consumed once the whole line is in `buffer`.
    static func readChunkSize(_ buffer: inout ByteBuffer) throws -> Int? {
        let read: (size: Int, consumed: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            guard let end = try lineEnd(in: bytes, from: 0) else {
                if bytes.count > maximumChunkLineBytes { throw HTTP1Malformed("a chunk-size line over \(maximumChunkLineBytes) bytes") }
                return nil
            }
            var size = 0
            var index = 0
            while index < end, let digit = hexValue(bytes[index]) {
                guard size <= (Int.max >> 4) - 16 else { throw HTTP1Malformed("a chunk size too large") }
                size = size << 4 | digit
                index += 1
            }
            guard index > 0 else { throw HTTP1Malformed("a chunk without a hexadecimal size") }
            while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            if index < end {
                guard bytes[index] == UInt8(ascii: ";") else { throw HTTP1Malformed("a chunk size followed by \(bytes[index])") }
                for byte in bytes[index..<end] where isControl(byte) && byte != 0x09 {
                    throw HTTP1Malformed("a control byte in a chunk extension")
                }
            }
            return (size, end + 2)
        }
        guard let read else { return nil }
        buffer.moveReaderIndex(forwardBy: read.consumed)
        return read.size
    }

    /// True when `bytes` are `lowercase` in any case.
    public static func equalsLowercased(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        var expected = lowercase.utf8Start
        for byte in bytes {
            let folded = byte &- 65 < 26 ? byte | 0x20 : byte
            guard folded == expected.pointee else { return false }
            expected += 1
        }
        return true
    }

    /// Calls `body` with each element of a comma-separated field value, the white space around it trimmed.
    static func forEachElement(of value: UnsafeRawBufferPointer, _ body: (Slice<UnsafeRawBufferPointer>) throws -> Void) rethrows {
        var start = 0
        while true {
            var end = start
            while end < value.count, value[end] != UInt8(ascii: ",") { end += 1 }
            var first = start
            var last = end
            while first < last, value[first] == 0x20 || value[first] == 0x09 { first += 1 }
            while last > first, value[last - 1] == 0x20 || value[last - 1] == 0x09 { last -= 1 }
            try body(value[first..<last])
            guard end < value.count else { return }
            start = end + 1
        }
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 48 < 10 }
    @inline(__always) static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }

    /// RFC 9110 `tchar`.
    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}

/// What the framing header fields of a head say, gathered as its lines are read.
struct HTTP1Framing {
    var length: Int?
    var codings = 0
    var chunked = false
    /// `Connection` names `upgrade`, and an `Upgrade` field is present.
    var connectionUpgrade = false
    var hasUpgrade = false

    /// A `Content-Length` value: one decimal number, or a list of the same one.
    mutating func addLength(_ value: UnsafeRawBufferPointer) throws {
        try HTTP1Lines.forEachElement(of: value) { element in
            guard !element.isEmpty, element.count <= 18, element.allSatisfy(HTTP1Lines.isDigit) else {
                throw HTTP1Malformed("Content-Length \(String(decoding: value, as: UTF8.self))")
            }
            let number = element.reduce(0) { $0 * 10 + Int($1 - 48) }
            if let length, length != number { throw HTTP1Malformed("conflicting Content-Length values") }
            length = number
        }
    }

    /// A `Transfer-Encoding` value: chunked may only come last.
    mutating func addCodings(_ value: UnsafeRawBufferPointer) throws {
        try HTTP1Lines.forEachElement(of: value) { element in
            guard !element.isEmpty else { throw HTTP1Malformed("an empty Transfer-Encoding coding") }
            guard !chunked else { throw HTTP1Malformed("chunked is not the last Transfer-Encoding") }
            codings += 1
            chunked = HTTP1Lines.equalsLowercased(UnsafeRawBufferPointer(rebasing: element), "chunked")
        }
    }

    mutating func addConnection(_ value: UnsafeRawBufferPointer) {
        HTTP1Lines.forEachElement(of: value) { element in
            if HTTP1Lines.equalsLowercased(UnsafeRawBufferPointer(rebasing: element), "upgrade") { connectionUpgrade = true }
        }
    }

    /// Content-Length and Transfer-Encoding together: ambiguous (RFC 9112 §6.3), refused.
    func checkUnambiguous() throws {
        if codings > 0 && length != nil { throw HTTP1Malformed("both Content-Length and Transfer-Encoding") }
    }
}

/// The body of one message after its head: a known length, chunks (then trailers), or up to the connection's close.
struct HTTP1BodyReader {
    enum State {
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    var state: State

    enum Part {
        case body(ByteBuffer)
        case end(HTTPHeaders?)
    }

    /// The next part in `buffer`, consuming its bytes; nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Part? {
        while true {
            switch state {
            case .fixed(let remaining):
                if remaining == 0 { return .end(nil) }
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = .fixed(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try HTTP1Lines.readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw HTTP1Malformed("a chunk does not end with CRLF") }
                state = .chunkSize
            case .trailers:
                var ignored = HTTP1Framing()
                guard let fields = try HTTP1Lines.readFields(&buffer, limit: HTTP1Lines.maximumHeadBytes, framing: &ignored) else {
                    return nil
                }
                return .end(fields.isEmpty ? nil : HTTPHeaders(fields))
            }
        }
    }
}
