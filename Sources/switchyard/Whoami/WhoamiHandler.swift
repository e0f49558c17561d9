import NIOCore
import NIOHTTP1

/// Answers like Traefik users' `whoami`: who served the request and what it looked like. Also `/health`,
/// `/bench` (a fixed tiny body), `/data?size=N` (N bytes, streamed) and, for uploads, the number of body bytes.
final class WhoamiHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let name: String
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var streaming: (remaining: Int, keepAlive: Bool)?

    init(name: String) {
        self.name = name
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            bodyBytes = 0
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
        case .end:
            guard let head else { return }
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let (path, query) = Self.split(head.uri)
        switch path {
        case "/health":
            send("OK", to: head, context: context)
        case "/bench":
            send("1", to: head, context: context)
        case "/data":
            let size = Self.queryValue("size", in: query).flatMap(Int.init) ?? 1
            startStream(size: max(0, size), head: head, context: context)
        default:
            var text = "Hostname: \(name)\n"
            if let local = context.channel.localAddress?.ipAddress { text += "IP: \(local)\n" }
            if let remote = context.channel.remoteAddress {
                text += "RemoteAddr: \(remote.ipAddress ?? ""):\(remote.port ?? 0)\n"
            }
            text += "\(head.method.rawValue) \(head.uri) HTTP/\(head.version.major).\(head.version.minor)\n"
            for (name, value) in head.headers { text += "\(name): \(value)\n" }
            if bodyBytes > 0 { text += "Body-Bytes: \(bodyBytes)\n" }
            send(text, to: head, context: context)
        }
    }

    private func send(_ text: String, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        headers.add(name: "content-length", value: String(text.utf8.count))
        if !head.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        }
        end(keepAlive: head.isKeepAlive, context: context)
    }

    private func end(keepAlive: Bool, context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }

    private func startStream(size: Int, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/octet-stream")
        headers.add(name: "content-length", value: String(size))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        streaming = (head.method == .HEAD ? 0 : size, head.isKeepAlive)
        pump(context: context)
    }

    /// Writes chunks while the channel takes them; resumes on writability.
    private func pump(context: ChannelHandlerContext) {
        guard var state = streaming else { return }
        let chunk = 64 * 1024
        while state.remaining > 0 && context.channel.isWritable {
            let size = min(chunk, state.remaining)
            var buffer = context.channel.allocator.buffer(capacity: size)
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: size)
            state.remaining -= size
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        context.flush()
        if state.remaining == 0 {
            streaming = nil
            end(keepAlive: state.keepAlive, context: context)
        } else {
            streaming = state
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri[...], "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    static func queryValue(_ name: String, in query: Substring) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }
}

@available(*, unavailable)
extension WhoamiHandler: Sendable {}
