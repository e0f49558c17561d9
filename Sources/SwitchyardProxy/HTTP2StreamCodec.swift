import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// An HTTP/2 stream's request as HTTP/1-shaped parts, and the proxy handler's response parts as the stream's frames.
/// The proxy handler keeps it and calls it, so a stream's pipeline holds that one handler (NIO's
/// `HTTP2FramePayloadToHTTP1ServerCodec` is a handler of its own: a context made and torn down per stream, and
/// every part a pipeline trip in a type-erased box).
///
/// The conversion is NIO's, in one pass over the header block instead of a scan per pseudo-header. NIOHTTP2's
/// connection handler has already validated the block (pseudo-headers, names, no CR, LF or NUL in values, no
/// connection-specific fields), as before.
///
/// One thing differs on the wire: a response's last part goes out with END_STREAM set on it. The latest head or
/// body part waits here until the next part (or a flush) comes, so a response's end rides on its last DATA frame
/// (or on its HEADERS when it has no body) instead of an empty DATA frame of its own.
struct HTTP2StreamCodec {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case missingPseudoHeader(String)
        case duplicatePseudoHeader(String)

        var description: String {
            switch self {
            case .missingPseudoHeader(let name): return "the request has no \(name) pseudo-header"
            case .duplicatePseudoHeader(let name): return "the request has more than one \(name) pseudo-header"
            }
        }
    }

    private var headReceived = false
    /// A head or body part written by the proxy handler and not yet passed on (see above).
    private var held: (payload: HTTP2Frame.FramePayload, promise: EventLoopPromise<Void>?)?

    // MARK: Client → proxy

    /// The request parts a frame of the stream carries (none for frames other than HEADERS and DATA).
    mutating func decode(
        _ payload: HTTP2Frame.FramePayload
    ) throws -> (first: HTTPServerRequestPart?, second: HTTPServerRequestPart?) {
        switch payload {
        case .headers(let content):
            guard !headReceived else {
                // Trailers: NIOHTTP2 has checked they end the stream and carry no pseudo-header.
                return (.end(HTTPHeaders(content.headers.map { ($0.name, $0.value) })), nil)
            }
            headReceived = true
            let head = try Self.requestHead(content.headers, endStream: content.endStream)
            return (.head(head), content.endStream ? .end(nil) : nil)
        case .data(let content):
            guard case .byteBuffer(let buffer) = content.data else { return (nil, nil) }  // the network gives buffers
            guard content.endStream else { return (.body(buffer), nil) }
            return buffer.readableBytes == 0 ? (.end(nil), nil) : (.body(buffer), .end(nil))
        default:
            return (nil, nil)
        }
    }

    /// The HTTP/1-shaped head of a request's header block: `Host` from `:authority` when the block has none, and a
    /// body's framing stated for methods that carry one (`Content-Length: 0` when the stream already ended,
    /// chunked otherwise), as NIO's codec makes it.
    static func requestHead(_ block: HPACKHeaders, endStream: Bool) throws -> HTTPRequestHead {
        var method: String?
        var path: String?
        var scheme: String?
        var authority: String?
        var hasHost = false
        var hasContentLength = false
        var fields: [(String, String)] = []
        fields.reserveCapacity(block.count + 1)
        fields.append(("", ""))  // room for Host, first, as NIO puts it
        for (name, value, _) in block {
            if name.utf8.first == UInt8(ascii: ":") {
                switch name {
                case ":method": try set(&method, value, name)
                case ":path": try set(&path, value, name)
                case ":scheme": try set(&scheme, value, name)
                case ":authority": try set(&authority, value, name)
                default: break  // NIOHTTP2 refuses any other
                }
                continue
            }
            switch name.utf8.count {
            case 4 where name == "host": hasHost = true
            case 14 where name == "content-length": hasContentLength = true
            default: break
            }
            fields.append((name, value))
        }
        guard let method else { throw Failure.missingPseudoHeader(":method") }
        guard let path else { throw Failure.missingPseudoHeader(":path") }
        guard scheme != nil else { throw Failure.missingPseudoHeader(":scheme") }
        if hasHost {
            fields.removeFirst()
        } else if let authority {
            fields[0] = ("host", authority)
        } else {
            throw Failure.missingPseudoHeader(":authority")
        }
        let httpMethod = HTTPMethod(rawValue: method)
        switch httpMethod {
        case .GET, .HEAD, .DELETE, .CONNECT, .TRACE:
            break
        default:
            if !hasContentLength {
                fields.append(endStream ? ("content-length", "0") : ("transfer-encoding", "chunked"))
            }
        }
        return HTTPRequestHead(version: .http2, method: httpMethod, uri: path, headers: HTTPHeaders(fields))
    }

    private static func set(_ slot: inout String?, _ value: String, _ name: String) throws {
        guard slot == nil else { throw Failure.duplicatePseudoHeader(name) }
        slot = value
    }

    // MARK: Proxy → client

    /// Writes a response part as the stream's frames (a head or body part waits for the next part or a flush).
    mutating func write(_ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            writeHeld(context: context)
            held = (.headers(.init(headers: Self.responseBlock(head))), promise)
        case .body(let data):
            writeHeld(context: context)
            held = (.data(.init(data: data)), promise)
        case .end(let trailers):
            if let trailers {
                writeHeld(context: context)
                let block = Self.normalized(trailers, first: nil)
                context.write(NIOAny(HTTP2Frame.FramePayload.headers(.init(headers: block, endStream: true))), promise: promise)
                return
            }
            guard let (payload, heldPromise) = held else {
                let empty = context.channel.allocator.buffer(capacity: 0)
                context.write(NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(empty), endStream: true))), promise: promise)
                return
            }
            held = nil
            var last = payload
            switch last {
            case .headers(var headers):
                headers.endStream = true
                last = .headers(headers)
            case .data(var data):
                data.endStream = true
                last = .data(data)
            default:
                break
            }
            if let heldPromise, let promise { heldPromise.futureResult.cascade(to: promise) }
            context.write(NIOAny(last), promise: heldPromise ?? promise)
        }
    }

    /// Passes on the part that waits, before a flush (and before any other part).
    mutating func writeHeld(context: ChannelHandlerContext) {
        guard let (payload, promise) = held else { return }
        held = nil
        context.write(NIOAny(payload), promise: promise)
    }

    /// Fails the part that waits: the stream is closing.
    mutating func dropHeld() {
        guard let (_, promise) = held else { return }
        held = nil
        promise?.fail(ChannelError.ioOnClosedChannel)
    }

    /// A response head's header block: `:status`, then its fields as HTTP/2 has them (see `normalized`).
    static func responseBlock(_ head: HTTPResponseHead) -> HPACKHeaders {
        normalized(head.headers, first: (":status", String(head.status.code)))
    }

    /// Fields as HTTP/2 carries them, as NIO's `HPACKHeaders(httpHeaders:normalizeHTTPHeaders: true)` makes them:
    /// names in lower case, without the connection-specific fields (RFC 9113 §8.2.2: `Connection`, those it names
    /// as HTTP/1 responses lose them (`ForwardedRequest.ConnectionHeader`), `Keep-Alive`, `Proxy-Connection`,
    /// `Transfer-Encoding`, `Upgrade`).
    static func normalized(_ fields: HTTPHeaders, first: (String, String)?) -> HPACKHeaders {
        var block = HPACKHeaders()
        block.reserveCapacity(fields.count + 1)
        if let (name, value) = first { block.add(name: name, value: value) }
        let named = ForwardedRequest.ConnectionHeader(fields)
        for (name, value) in fields {
            let lower = lowercasedASCII(name)
            switch lower {
            case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade": continue
            default: if named.lists(name) { continue }
            }
            block.add(name: lower, value: value)
        }
        return block
    }

    /// `name` in lower case, without a copy when it already is.
    private static func lowercasedASCII(_ name: String) -> String {
        name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? name.lowercased() : name
    }
}

/// Lends NIO's typed unwrapping of a stream channel's reads to the proxy handler; never added to a pipeline.
enum HTTP2StreamReads {
    final class Reader: ChannelInboundHandler {
        typealias InboundIn = HTTP2Frame.FramePayload
    }

    static func payload(_ data: NIOAny) -> HTTP2Frame.FramePayload { Reader.unwrapInboundIn(data) }
}
