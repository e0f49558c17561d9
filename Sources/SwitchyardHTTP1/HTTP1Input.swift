import NIOCore

/// A parser that makes message parts of an HTTP/1 connection's bytes.
public protocol HTTP1PartParser {
    associatedtype Part
    /// The next part in `buffer`, consuming its bytes; nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Part?
}

extension HTTP1RequestParser: HTTP1PartParser {}
extension HTTP1ResponseParser: HTTP1PartParser {}

/// The bytes a connection's handler read and its parser has not consumed yet. A handler hands each part on before
/// asking for the next, so whoever takes the connection over meanwhile (a tunnel) finds the rest here.
public struct HTTP1Input {
    @usableFromInline var unread: ByteBuffer?

    public init() {}

    /// Bytes just read, after those kept.
    @inlinable
    public mutating func append(_ bytes: ByteBuffer) {
        guard var kept = unread else {
            unread = bytes
            return
        }
        unread = nil  // one reference left: the append below does not copy what was kept
        var bytes = bytes
        kept.writeBuffer(&bytes)
        unread = kept
    }

    /// The next part `parser` makes of the bytes kept; nil when it needs more.
    @inlinable
    public mutating func next<Parser: HTTP1PartParser>(_ parser: inout Parser) throws -> Parser.Part? {
        guard unread != nil else { return nil }
        do {
            if let part = try parser.next(&unread!) { return part }
        } catch {
            unread = nil
            throw error
        }
        if unread!.readableBytes == 0 { unread = nil }
        return nil
    }

    /// What is left, handed over once.
    public mutating func takeLeftover() -> ByteBuffer? {
        defer { unread = nil }
        guard let unread, unread.readableBytes > 0 else { return nil }
        return unread
    }
}

/// Writing what the HTTP/1 writers make.
public enum HTTP1Output {
    /// Writes `bytes`; with nothing to write, a promise still completes in order with the writes before it (an
    /// empty write).
    public static func write(_ bytes: IOData?, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let bytes {
            context.write(NIOAny(bytes), promise: promise)
        } else if let promise {
            context.write(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        }
    }
}
