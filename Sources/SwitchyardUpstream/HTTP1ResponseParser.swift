import NIOCore
import NIOHTTP1

/// Reads HTTP/1.x responses from the bytes of an upstream connection, one part at a time, without a pipeline hop
/// per part. As strict as NIO's llhttp-based decoder it replaces: CRLF line ends only, no folded header lines, token
/// header names, no control bytes in values, one unambiguous body framing. A response it refuses fails the
/// connection, which is never reused.
///
/// Informational answers (1xx but 101) are read and dropped. A 101 ends the HTTP part of the connection: what
/// follows it belongs to the tunnel (`leftover`).
struct HTTP1ResponseParser {
    typealias Part = HTTPClientResponsePart

    struct Malformed: Error, CustomStringConvertible, Equatable {
        let reason: String
        var description: String { "malformed response from the server: \(reason)" }
    }

    /// The largest status line plus header section (and trailer section) read, as NIO's decoder allows.
    static let maximumHeadBytes = 80 * 1024
    /// The largest chunk-size line (with its extensions).
    static let maximumChunkLineBytes = 4 * 1024

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        /// A 101's head went out; its end comes next, then the tunnel.
        case upgradeEnd
        case upgraded
        case failed
    }

    private var state = State.head
    /// Set when a HEAD request goes out: its response has no body whatever its headers say.
    var answersHead = false

    /// True once a 101 has ended the HTTP exchange: the bytes left belong to the tunnel.
    var isUpgraded: Bool {
        if case .upgraded = state { return true }
        return false
    }

    /// The next part in `buffer`, consuming its bytes; nil when more bytes are needed (or the connection was
    /// upgraded). Throws on a malformed response; the parser then stays failed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Part? {
        do {
            return try step(&buffer)
        } catch {
            state = .failed
            throw error
        }
    }

    /// The connection closed: the end of a body that runs until the close, or nil.
    mutating func closed() -> Part? {
        guard case .untilClose = state else { return nil }
        state = .head
        return .end(nil)
    }

    /// True when the connection closing now cuts a response short.
    var isMidResponse: Bool {
        switch state {
        case .head, .upgraded, .untilClose: return false
        default: return true
        }
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws -> Part? {
        while true {
            switch state {
            case .head:
                guard let head = try Self.readHead(&buffer) else { return nil }
                let code = Int(head.status.code)
                if (100..<200).contains(code) && code != 101 { continue }  // informational: for the proxy alone
                state = try framing(of: head)
                return .head(head)
            case .upgradeEnd:
                state = .upgraded
                return .end(nil)
            case .upgraded, .failed:
                return nil
            case .fixed(let remaining):
                if remaining == 0 {
                    state = .head
                    return .end(nil)
                }
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let part = buffer.readSlice(length: count)!
                state = .fixed(remaining: remaining - count)
                return .body(part)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkSize:
                guard let size = try Self.readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return nil }
                let count = min(remaining, buffer.readableBytes)
                let part = buffer.readSlice(length: count)!
                state = count == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(part)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return nil }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Malformed(reason: "a chunk does not end with CRLF") }
                state = .chunkSize
            case .trailers:
                guard let fields = try Self.readFields(&buffer, limit: Self.maximumHeadBytes) else { return nil }
                state = .head
                return .end(fields.isEmpty ? nil : HTTPHeaders(fields))
            }
        }
    }

    /// How the body of `head` is delimited (RFC 9112 §6.3).
    private mutating func framing(of head: HTTPResponseHead) throws -> State {
        let code = Int(head.status.code)
        let wasHead = answersHead
        answersHead = false
        if code == 101 { return .upgradeEnd }
        var length: Int?
        var codings = 0
        var chunked = false
        for (name, value) in head.headers {
            if Self.named(name, "content-length") {
                try Self.forEachElement(of: value) { text in
                    guard let number = Self.decimal(text) else { throw Malformed(reason: "Content-Length \(value)") }
                    if let length, length != number { throw Malformed(reason: "conflicting Content-Length values") }
                    length = number
                }
            } else if Self.named(name, "transfer-encoding") {
                try Self.forEachElement(of: value) { coding in
                    guard !coding.isEmpty else { throw Malformed(reason: "an empty Transfer-Encoding coding") }
                    guard !chunked else { throw Malformed(reason: "chunked is not the last Transfer-Encoding") }
                    codings += 1
                    chunked = coding.lowercased() == "chunked"
                }
            }
        }
        if codings > 0 && length != nil { throw Malformed(reason: "both Content-Length and Transfer-Encoding") }
        if wasHead || code == 204 || code == 304 { return .fixed(remaining: 0) }
        if chunked { return .chunkSize }
        if codings > 0 { return .untilClose }
        if let length { return .fixed(remaining: length) }
        return .untilClose
    }

    // MARK: - Reading lines

    /// The status line and header section, once all of it is in `buffer`.
    static func readHead(_ buffer: inout ByteBuffer) throws -> HTTPResponseHead? {
        guard let lineEnd = lineEnd(in: buffer, from: 0) else {
            if buffer.readableBytes > maximumHeadBytes { throw Malformed(reason: "a status line over \(maximumHeadBytes) bytes") }
            return nil
        }
        // Parse the fields first: nothing is consumed until the whole head is here.
        var rest = buffer
        rest.moveReaderIndex(forwardBy: lineEnd + 2)
        guard let fields = try readFields(&rest, limit: maximumHeadBytes - lineEnd) else {
            if buffer.readableBytes > maximumHeadBytes { throw Malformed(reason: "a header section over \(maximumHeadBytes) bytes") }
            return nil
        }
        let (version, status) = try buffer.withUnsafeReadableBytes { bytes in
            try statusLine(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd]))
        }
        buffer = rest
        return HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(fields))
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`.
    private static func statusLine(_ line: UnsafeRawBufferPointer) throws -> (HTTPVersion, HTTPResponseStatus) {
        // "HTTP/1.1 200" is the shortest: 12 bytes.
        guard line.count >= 12, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
            line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/"), line[5] == UInt8(ascii: "1"),
            line[6] == UInt8(ascii: "."), isDigit(line[7]), line[8] == UInt8(ascii: " "),
            isDigit(line[9]), isDigit(line[10]), isDigit(line[11]), line.count == 12 || line[12] == UInt8(ascii: " ")
        else { throw Malformed(reason: "a status line that is not HTTP/1.x") }
        for byte in line[12...] where isControl(byte) && byte != 0x09 {
            throw Malformed(reason: "a control byte in the status line")
        }
        let code = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        guard code >= 100 else { throw Malformed(reason: "status \(code)") }
        return (HTTPVersion(major: 1, minor: Int(line[7] - 48)), HTTPResponseStatus(statusCode: code))
    }

    /// Header (or trailer) lines up to and including the empty line that ends them; nil if that line is not in
    /// `buffer` yet, in which case nothing is consumed.
    static func readFields(_ buffer: inout ByteBuffer, limit: Int) throws -> [(String, String)]? {
        let result: (fields: [(String, String)], consumed: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            var fields: [(String, String)] = []
            var start = 0
            while true {
                guard let end = lineEnd(in: bytes, from: start) else {
                    if bytes.count > limit { throw Malformed(reason: "a header section over \(limit) bytes") }
                    return nil
                }
                if end > limit { throw Malformed(reason: "a header section over \(limit) bytes") }
                if end == start { return (fields, end + 2) }
                if fields.isEmpty { fields.reserveCapacity(8) }  // one allocation for a usual head, not one per doubling
                fields.append(try field(UnsafeRawBufferPointer(rebasing: bytes[start..<end])))
                start = end + 2
            }
        }
        guard let result else { return nil }
        buffer.moveReaderIndex(forwardBy: result.consumed)
        return result.fields
    }

    /// `name ":" OWS value OWS`; a line that starts with white space (obsolete folding) is refused.
    private static func field(_ line: UnsafeRawBufferPointer) throws -> (String, String) {
        var colon = 0
        while colon < line.count, line[colon] != UInt8(ascii: ":") {
            guard isToken(line[colon]) else {
                throw Malformed(reason: line[colon] == 0x20 || line[colon] == 0x09 ? "a folded or spaced header line" : "a header name with a byte not allowed")
            }
            colon += 1
        }
        guard colon > 0, colon < line.count else { throw Malformed(reason: "a header line without a name or colon") }
        var start = colon + 1
        var end = line.count
        while start < end, line[start] == 0x20 || line[start] == 0x09 { start += 1 }
        while end > start, line[end - 1] == 0x20 || line[end - 1] == 0x09 { end -= 1 }
        for index in start..<end where isControl(line[index]) && line[index] != 0x09 {
            throw Malformed(reason: "a control byte in a header value")
        }
        return (
            String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<colon]), as: UTF8.self),
            String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<end]), as: UTF8.self)
        )
    }

    /// `1*HEXDIG [BWS ";" extensions] CRLF`, consumed once the whole line is in `buffer`.
    private static func readChunkSize(_ buffer: inout ByteBuffer) throws -> Int? {
        let read: (size: Int, consumed: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            guard let end = lineEnd(in: bytes, from: 0) else {
                if bytes.count > maximumChunkLineBytes { throw Malformed(reason: "a chunk-size line over \(maximumChunkLineBytes) bytes") }
                return nil
            }
            var size = 0
            var index = 0
            while index < end, let digit = hexValue(bytes[index]) {
                guard size <= (Int.max >> 4) - 16 else { throw Malformed(reason: "a chunk size too large") }
                size = size << 4 | digit
                index += 1
            }
            guard index > 0 else { throw Malformed(reason: "a chunk without a hexadecimal size") }
            while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            if index < end {
                guard bytes[index] == UInt8(ascii: ";") else { throw Malformed(reason: "a chunk size followed by \(bytes[index])") }
                for byte in bytes[index..<end] where isControl(byte) && byte != 0x09 {
                    throw Malformed(reason: "a control byte in a chunk extension")
                }
            }
            return (size, end + 2)
        }
        guard let read else { return nil }
        buffer.moveReaderIndex(forwardBy: read.consumed)
        return read.size
    }

    private static func lineEnd(in buffer: ByteBuffer, from start: Int) -> Int? {
        buffer.withUnsafeReadableBytes { lineEnd(in: $0, from: start) }
    }

    /// The offset of the next CRLF at or after `start`. A bare LF is refused where the line is read: it stays in
    /// the line, where it is a control byte.
    private static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }

    /// True when `name` is `lowercase` in any case, compared without making a string.
    static func named(_ name: String, _ lowercase: StaticString) -> Bool {
        guard name.utf8.count == lowercase.utf8CodeUnitCount else { return false }
        var expected = lowercase.utf8Start
        for byte in name.utf8 {
            let folded = byte &- 65 < 26 ? byte | 0x20 : byte
            guard folded == expected.pointee else { return false }
            expected += 1
        }
        return true
    }

    private static func decimal(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18 else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        return value
    }

    @inline(__always) private static func isDigit(_ byte: UInt8) -> Bool { byte &- 48 < 10 }
    @inline(__always) private static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        case 97...102: return Int(byte - 87)
        default: return nil
        }
    }

    /// RFC 9110 `tchar`.
    private static func isToken(_ byte: UInt8) -> Bool {
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

extension HTTP1ResponseParser {
    /// Calls `body` with each element of a comma-separated field value, the white space around it trimmed.
    static func forEachElement(of value: String, _ body: (Substring) throws -> Void) rethrows {
        var rest = value[...]
        while true {
            let comma = rest.firstIndex(of: ",")
            var element = rest[..<(comma ?? rest.endIndex)]
            while let first = element.first, first == " " || first == "\t" { element.removeFirst() }
            while let last = element.last, last == " " || last == "\t" { element.removeLast() }
            try body(element)
            guard let comma else { return }
            rest = rest[rest.index(after: comma)...]
        }
    }
}
