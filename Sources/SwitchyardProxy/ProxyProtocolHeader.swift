import NIOCore
import SwitchyardConfig

/// The PROXY protocol header (v1 text or v2 binary) a load balancer in front of the proxy sends before the client's
/// bytes: who the client really is. Read only from the addresses `entryPoints.<name>.proxyProtocol` trusts.
enum ProxyProtocolHeader {
    enum Peek: Equatable {
        case needMore
        /// No header: the connection starts with the client's own bytes.
        case absent
        case invalid(String)
        /// The header's length, and the client address it names (nil for LOCAL/UNKNOWN: keep the connection's own).
        case header(length: Int, client: SocketAddress?)
    }

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix = Array("PROXY ".utf8)

    static func peek(_ buffer: ByteBuffer) -> Peek {
        let bytes = Array(buffer.readableBytesView.prefix(536))
        if bytes.starts(with: v2Signature) || v2Signature.starts(with: bytes) {
            guard bytes.count >= 16 else { return .needMore }
            return parseV2(bytes)
        }
        if bytes.starts(with: v1Prefix) || v1Prefix.starts(with: bytes) {
            guard bytes.count >= v1Prefix.count else { return .needMore }
            return parseV1(bytes)
        }
        return .absent
    }

    /// `PROXY TCP4 src dst sport dport\r\n` (at most 107 bytes).
    static func parseV1(_ bytes: [UInt8]) -> Peek {
        guard let end = bytes.firstIndex(of: 0x0A) else {
            return bytes.count >= 107 ? .invalid("a PROXY v1 line longer than 107 bytes") : .needMore
        }
        guard end > 0, bytes[end - 1] == 0x0D, end < 107 else { return .invalid("a PROXY v1 line without CRLF") }
        let line = String(decoding: bytes[..<(end - 1)], as: UTF8.self)
        let parts = line.split(separator: " ").map(String.init)
        guard parts.count >= 2 else { return .invalid("an empty PROXY v1 line") }
        if parts[1] == "UNKNOWN" { return .header(length: end + 1, client: nil) }
        guard parts.count == 6, parts[1] == "TCP4" || parts[1] == "TCP6", let port = Int(parts[4]), (0...65535).contains(port),
            let address = try? SocketAddress(ipAddress: parts[2], port: port)
        else { return .invalid("a PROXY v1 line that names no TCP4/TCP6 source: \(line.prefix(80))") }
        return .header(length: end + 1, client: address)
    }

    static func parseV2(_ bytes: [UInt8]) -> Peek {
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid("PROXY v2 with version \(versionCommand >> 4)") }
        let length = 16 + (Int(bytes[14]) << 8 | Int(bytes[15]))
        guard length <= 536 else { return .invalid("a PROXY v2 header longer than 536 bytes") }
        guard bytes.count >= length else { return .needMore }
        let command = versionCommand & 0x0F
        guard command == 1 else { return .header(length: length, client: nil) }  // LOCAL: the balancer's own check
        let family = bytes[13] >> 4
        switch family {
        case 1:  // IPv4: src(4) dst(4) sport(2) dport(2)
            guard length >= 16 + 12 else { return .invalid("a PROXY v2 IPv4 header too short") }
            let source = IPNetwork.text(of: Array(bytes[16..<20]))
            let port = Int(bytes[24]) << 8 | Int(bytes[25])
            return .header(length: length, client: try? SocketAddress(ipAddress: source, port: port))
        case 2:  // IPv6: src(16) dst(16) sport(2) dport(2)
            guard length >= 16 + 36 else { return .invalid("a PROXY v2 IPv6 header too short") }
            let port = Int(bytes[48]) << 8 | Int(bytes[49])
            return .header(length: length, client: try? SocketAddress(ipAddress: IPNetwork.text(of: Array(bytes[16..<32])), port: port))
        default:
            return .header(length: length, client: nil)  // UNSPEC or unix sockets: keep the connection's address
        }
    }
}
