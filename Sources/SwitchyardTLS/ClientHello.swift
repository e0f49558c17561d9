import NIOCore

/// What the proxy needs from a TLS ClientHello before it chooses how to answer it: the server name (SNI) and the
/// protocols the client offers (ALPN). Read from the bytes the client sent first, before any TLS library sees them,
/// so that the TLS options of the host can be chosen.
public struct ClientHello: Sendable, Hashable {
    public var serverName: String?
    public var alpn: [String]

    public init(serverName: String?, alpn: [String]) {
        self.serverName = serverName
        self.alpn = alpn
    }

    public enum Peek: Sendable, Hashable {
        /// Not enough bytes yet.
        case needMore
        /// The first byte is not a TLS handshake record: plain HTTP (or anything else).
        case notTLS
        /// TLS, but not a ClientHello this parser understands; the TLS library will answer it.
        case unreadable
        case hello(ClientHello)
    }

    /// The most bytes read to find the ClientHello (records of up to 16 KiB, a hello may span several).
    public static let maximumLength = 64 * 1024

    /// Reads the ClientHello from the start of a connection's bytes (not consumed).
    public static func peek(_ buffer: ByteBuffer) -> Peek {
        let bytes = buffer.readableBytesView
        guard let first = bytes.first else { return .needMore }
        guard first == 0x16 else { return .notTLS }
        // Join the payloads of the handshake records until the handshake message is complete.
        var handshake: [UInt8] = []
        var index = bytes.startIndex
        while true {
            guard bytes.endIndex - index >= 5 else { return bytes.count >= maximumLength ? .unreadable : .needMore }
            guard bytes[index] == 0x16 else { return .unreadable }
            let length = Int(bytes[index + 3]) << 8 | Int(bytes[index + 4])
            guard length > 0, length <= 16_384 + 2048 else { return .unreadable }
            guard bytes.endIndex - index - 5 >= length else {
                return bytes.count >= maximumLength ? .unreadable : .needMore
            }
            handshake.append(contentsOf: bytes[(index + 5)..<(index + 5 + length)])
            index += 5 + length
            if handshake.count >= 4 {
                guard handshake[0] == 0x01 else { return .unreadable }  // ClientHello
                let messageLength = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
                guard messageLength <= maximumLength else { return .unreadable }
                if handshake.count >= 4 + messageLength {
                    return parse(handshake[4..<(4 + messageLength)]).map { .hello($0) } ?? .unreadable
                }
            }
        }
    }

    /// The body of a ClientHello message.
    static func parse(_ body: ArraySlice<UInt8>) -> ClientHello? {
        var reader = Reader(bytes: body)
        guard reader.skip(2 + 32),  // version, random
            let sessionID = reader.readLength(1), reader.skip(sessionID),
            let suites = reader.readLength(2), reader.skip(suites),
            let compression = reader.readLength(1), reader.skip(compression)
        else { return nil }
        var hello = ClientHello(serverName: nil, alpn: [])
        guard let extensionsLength = reader.readLength(2) else { return hello }  // no extensions
        guard var extensions = reader.sub(extensionsLength) else { return nil }
        while !extensions.isEmpty {
            guard let type = extensions.readLength(2), let length = extensions.readLength(2),
                var data = extensions.sub(length)
            else { return nil }
            switch type {
            case 0:  // server_name
                guard let listLength = data.readLength(2), var list = data.sub(listLength) else { return nil }
                while !list.isEmpty {
                    guard let nameType = list.readLength(1), let nameLength = list.readLength(2),
                        let name = list.sub(nameLength)
                    else { return nil }
                    if nameType == 0, hello.serverName == nil {
                        hello.serverName = String(decoding: name.bytes, as: UTF8.self)
                    }
                }
            case 16:  // application_layer_protocol_negotiation
                guard let listLength = data.readLength(2), var list = data.sub(listLength) else { return nil }
                while !list.isEmpty {
                    guard let protocolLength = list.readLength(1), let name = list.sub(protocolLength) else { return nil }
                    hello.alpn.append(String(decoding: name.bytes, as: UTF8.self))
                }
            default:
                break
            }
        }
        return hello
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        var isEmpty: Bool { bytes.isEmpty }

        mutating func skip(_ count: Int) -> Bool {
            guard bytes.count >= count else { return false }
            bytes = bytes.dropFirst(count)
            return true
        }

        /// A big-endian length of `size` bytes.
        mutating func readLength(_ size: Int) -> Int? {
            guard bytes.count >= size else { return nil }
            var value = 0
            for byte in bytes.prefix(size) { value = value << 8 | Int(byte) }
            bytes = bytes.dropFirst(size)
            return value
        }

        mutating func sub(_ count: Int) -> Reader? {
            guard bytes.count >= count else { return nil }
            defer { bytes = bytes.dropFirst(count) }
            return Reader(bytes: bytes.prefix(count))
        }
    }
}
