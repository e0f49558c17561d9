import NIOCore
import NIOHTTP1

/// Reads HTTP/1.x responses from the bytes of an upstream connection, one part at a time, as strictly as NIO's
/// llhttp-based decoder (see `HTTP1Lines`). A response it refuses fails the connection, which is never reused.
///
/// Informational answers (1xx but 101) are read and dropped. A 101 ends the HTTP part of the connection: what
/// follows it belongs to the tunnel.
public struct HTTP1ResponseParser {
    private enum State {
        case head
        case body(HTTP1BodyReader)
        /// A 101's head went out; its end comes next, then the tunnel.
        case upgradeEnd
        case upgraded
        case failed
    }

    private var state = State.head
    /// Set when a HEAD request goes out: its response has no body whatever its headers say.
    public var answersHead = false
    /// The bytes of the head `next` just returned, as the server sent them; nil after any other part.
    public private(set) var headBytes: ByteBuffer?

    public init() {}

    /// True once a 101 has ended the HTTP exchange: the bytes left belong to the tunnel.
    public var isUpgraded: Bool {
        if case .upgraded = state { return true }
        return false
    }

    /// The next part in `buffer`, consuming its bytes; nil when more bytes are needed (or the connection was
    /// upgraded). Throws `HTTP1Malformed` on a malformed response; the parser then stays failed.
    public mutating func next(_ buffer: inout ByteBuffer) throws -> HTTPClientResponsePart? {
        headBytes = nil  // a slice of the connection's read buffer: kept no longer than the part it came with
        do {
            return try step(&buffer)
        } catch {
            state = .failed
            throw error
        }
    }

    /// The connection closed: the end of a body that runs until the close, or nil.
    public mutating func closed() -> HTTPClientResponsePart? {
        guard case .body(let reader) = state, case .untilClose = reader.state else { return nil }
        state = .head
        return .end(nil)
    }

    private mutating func step(_ buffer: inout ByteBuffer) throws -> HTTPClientResponsePart? {
        while true {
            switch state {
            case .head:
                let before = buffer
                guard let (head, framing) = try Self.readHead(&buffer) else { return nil }
                let code = Int(head.status.code)
                if (100..<200).contains(code) && code != 101 { continue }  // informational: for the proxy alone
                state = try bodyState(of: code, framing)
                // Only a status line with the space before its (maybe empty) reason goes on as it came.
                if before.getInteger(at: before.readerIndex + 12, as: UInt8.self) == UInt8(ascii: " ") {
                    headBytes = before.getSlice(at: before.readerIndex, length: buffer.readerIndex - before.readerIndex)
                }
                return .head(head)
            case .body(var reader):
                guard let part = try reader.next(&buffer) else {
                    state = .body(reader)
                    return nil
                }
                switch part {
                case .body(let bytes):
                    state = .body(reader)
                    return .body(bytes)
                case .end(let trailers):
                    state = .head
                    return .end(trailers)
                }
            case .upgradeEnd:
                state = .upgraded
                return .end(nil)
            case .upgraded, .failed:
                return nil
            }
        }
    }

    /// How the body of a response with status `code` is delimited (RFC 9112 §6.3).
    private mutating func bodyState(of code: Int, _ framing: HTTP1Framing) throws -> State {
        let wasHead = answersHead
        answersHead = false
        if code == 101 { return .upgradeEnd }
        try framing.checkUnambiguous()
        if wasHead || code == 204 || code == 304 { return .body(HTTP1BodyReader(state: .fixed(remaining: 0))) }
        if framing.chunked { return .body(HTTP1BodyReader(state: .chunkSize)) }
        if framing.codings > 0 { return .body(HTTP1BodyReader(state: .untilClose)) }
        if let length = framing.length { return .body(HTTP1BodyReader(state: .fixed(remaining: length))) }
        return .body(HTTP1BodyReader(state: .untilClose))
    }

    /// The status line and header section, once all of it is in `buffer`.
    static func readHead(_ buffer: inout ByteBuffer) throws -> (HTTPResponseHead, HTTP1Framing)? {
        let limit = HTTP1Lines.maximumHeadBytes
        guard let lineEnd = try HTTP1Lines.lineEnd(in: buffer, from: 0) else {
            if buffer.readableBytes > limit { throw HTTP1Malformed("a status line over \(limit) bytes") }
            return nil
        }
        // The fields first: nothing is consumed until the whole head is here.
        var rest = buffer
        rest.moveReaderIndex(forwardBy: lineEnd + 2)
        var framing = HTTP1Framing()
        guard let fields = try HTTP1Lines.readFields(&rest, limit: limit - lineEnd, framing: &framing) else {
            if buffer.readableBytes > limit { throw HTTP1Malformed("a header section over \(limit) bytes") }
            return nil
        }
        let (version, status) = try buffer.withUnsafeReadableBytes { bytes in
            try statusLine(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd]))
        }
        buffer = rest
        return (HTTPResponseHead(version: version, status: status, headers: HTTPHeaders(fields)), framing)
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`.
    private static func statusLine(_ line: UnsafeRawBufferPointer) throws -> (HTTPVersion, HTTPResponseStatus) {
        // "HTTP/1.1 200" is the shortest: 12 bytes.
        guard line.count >= 12, line[0] == UInt8(ascii: "H"), line[1] == UInt8(ascii: "T"), line[2] == UInt8(ascii: "T"),
            line[3] == UInt8(ascii: "P"), line[4] == UInt8(ascii: "/"), line[5] == UInt8(ascii: "1"),
            line[6] == UInt8(ascii: "."), HTTP1Lines.isDigit(line[7]), line[8] == UInt8(ascii: " "),
            HTTP1Lines.isDigit(line[9]), HTTP1Lines.isDigit(line[10]), HTTP1Lines.isDigit(line[11]),
            line.count == 12 || line[12] == UInt8(ascii: " ")
        else { throw HTTP1Malformed("a status line that is not HTTP/1.x") }
        for byte in line[12...] where HTTP1Lines.isControl(byte) && byte != 0x09 {
            throw HTTP1Malformed("a control byte in the status line")
        }
        let code = Int(line[9] - 48) * 100 + Int(line[10] - 48) * 10 + Int(line[11] - 48)
        guard code >= 100 else { throw HTTP1Malformed("status \(code)") }
        return (HTTPVersion(major: 1, minor: Int(line[7] - 48)), HTTPResponseStatus(statusCode: code))
    }
}
