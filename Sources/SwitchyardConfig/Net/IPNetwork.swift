/// An IPv4 or IPv6 network (an address and a prefix length), as used by `ClientIP` rules and
/// IP allow-lists. A bare address is a single-host network (/32 or /128).
///
/// Parsing follows Go's `net.ParseIP`/`net.ParseCIDR`, which Traefik uses: dotted-quad IPv4
/// without leading zeros, IPv6 with at most one `::` and an optional trailing dotted-quad, no
/// zones (`%eth0`). Host bits after the prefix are zeroed (`10.1.2.3/8` is `10.0.0.0/8`).
///
/// Matching also follows Go (`IPNet.Contains`): IPv4 and IPv4-mapped IPv6 (`::ffff:a.b.c.d`)
/// addresses are the same thing, so a mapped address matches IPv4 networks, and IPv4 addresses
/// match networks written in mapped form (`::ffff:0:0/96`, `::ffff:10.0.0.0/104`). Other IPv6
/// networks, `::/0` included, never contain IPv4 addresses.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6 (network address, host bits zeroed).
    public let address: [UInt8]
    public let prefixLength: Int

    /// Parses "10.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32", "::ffff:1.2.3.4". nil when invalid.
    public init?(_ text: String) {
        let text = Substring(text)
        let addressText: Substring
        var prefix: Int?
        if let slash = text.firstIndex(of: "/") {
            addressText = text[..<slash]
            guard let length = Self.parsePrefixLength(text[text.index(after: slash)...]) else { return nil }
            prefix = length
        } else {
            addressText = text
        }
        guard let bytes = Self.parseAddress(addressText) else { return nil }
        let bits = bytes.count * 8
        let length = prefix ?? bits
        guard length <= bits else { return nil }
        self.address = Self.masked(bytes, to: length)
        self.prefixLength = length
    }

    /// Parses a bare IP address (no prefix) into 4 or 16 bytes; nil when invalid.
    /// An address's text: dotted for 4 bytes, colon-separated hexadecimal groups (uncompressed) for 16.
    public static func text(of bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: bytes.count - 1, by: 2)
            .map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    public static func parseAddress(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        if utf8.contains(UInt8(ascii: ":")) {
            return parseIPv6(utf8[...])
        }
        return parseIPv4(utf8[...])
    }

    /// True when `address` (4 or 16 bytes) lies in this network. An IPv4-mapped IPv6 address (::ffff:a.b.c.d)
    /// matches IPv4 networks, and an IPv4 address matches ::ffff:0:0/96-style networks.
    public func contains(_ address: [UInt8]) -> Bool {
        let candidateV4: ArraySlice<UInt8>?
        if address.count == 4 {
            candidateV4 = address[...]
        } else if address.count == 16 {
            candidateV4 = Self.isIPv4Mapped(address) ? address[12...] : nil
        } else {
            return false
        }

        if self.address.count == 4 {
            guard let candidate = candidateV4 else { return false }
            return Self.prefixMatches(self.address[...], candidate, bits: prefixLength)
        }
        guard self.address.count == 16 else { return false }
        if Self.isIPv4Mapped(self.address) {
            // A mapped network address implies prefixLength >= 96 (a shorter prefix would have zeroed the ffff).
            guard let candidate = candidateV4 else { return false }
            return Self.prefixMatches(self.address[12...], candidate, bits: max(0, prefixLength - 96))
        }
        guard candidateV4 == nil else { return false }
        return Self.prefixMatches(self.address[...], address[...], bits: prefixLength)
    }

    /// "10.0.0.0/8", "2001:db8::/32", "::ffff:1.2.3.4/128" (always with the prefix length).
    public var description: String {
        "\(Self.format(address))/\(prefixLength)"
    }

    // MARK: - Parsing

    private static func parsePrefixLength(_ text: Substring) -> Int? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 3 else { return nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(4)
        var index = text.startIndex
        while true {
            var value = 0
            var digits = 0
            let fieldStart = index
            while index < text.endIndex, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
                value = value * 10 + Int(text[index] - UInt8(ascii: "0"))
                digits += 1
                index += 1
                if digits > 3 { return nil }
            }
            guard digits > 0, value <= 255 else { return nil }
            // Go rejects leading zeros ("010" is ambiguous: octal or decimal).
            if digits > 1, text[fieldStart] == UInt8(ascii: "0") { return nil }
            result.append(UInt8(value))
            if result.count == 4 {
                return index == text.endIndex ? result : nil
            }
            guard index < text.endIndex, text[index] == UInt8(ascii: ".") else { return nil }
            index += 1
        }
    }

    private static func parseIPv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var ellipsis: Int?
        var index = text.startIndex
        let end = text.endIndex
        guard index < end else { return nil }

        if text[index] == UInt8(ascii: ":") {
            guard index + 1 < end, text[index + 1] == UInt8(ascii: ":") else { return nil }
            ellipsis = 0
            index += 2
        }
        while index < end {
            // One group of 1-4 hex digits, or a trailing dotted-quad.
            var value = 0
            var digits = 0
            var scan = index
            while scan < end, digits <= 4, let digit = hexValue(text[scan]) {
                value = value * 16 + digit
                digits += 1
                scan += 1
            }
            if scan < end, text[scan] == UInt8(ascii: ".") {
                guard groups.count <= 6, let v4 = parseIPv4(text[index..<end]) else { return nil }
                groups.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                groups.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                index = end
                break
            }
            guard digits > 0, digits <= 4 else { return nil }
            groups.append(UInt16(value))
            index = scan
            if index == end { break }
            guard text[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if index < end, text[index] == UInt8(ascii: ":") {
                guard ellipsis == nil else { return nil }
                ellipsis = groups.count
                index += 1
            } else if index == end {
                return nil  // trailing single ':'
            }
            if groups.count >= 8 { return nil }
        }

        if let ellipsis {
            // "::" must stand for at least one group of zeros.
            guard groups.count < 8 else { return nil }
            let zeros = [UInt16](repeating: 0, count: 8 - groups.count)
            groups.insert(contentsOf: zeros, at: ellipsis)
        }
        guard groups.count == 8 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for group in groups {
            bytes.append(UInt8(group >> 8))
            bytes.append(UInt8(group & 0xFF))
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    // MARK: - Bits

    private static func isIPv4Mapped(_ bytes: [UInt8]) -> Bool {
        bytes.count == 16 && bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    private static func masked(_ bytes: [UInt8], to bits: Int) -> [UInt8] {
        var result = bytes
        for i in result.indices {
            let bitsInByte = min(max(bits - i * 8, 0), 8)
            let mask: UInt8 = bitsInByte == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsInByte))
            result[i] &= mask
        }
        return result
    }

    private static func prefixMatches(_ network: ArraySlice<UInt8>, _ candidate: ArraySlice<UInt8>, bits: Int) -> Bool {
        guard network.count == candidate.count, bits >= 0, bits <= network.count * 8 else { return false }
        var n = network.startIndex
        var c = candidate.startIndex
        var remaining = bits
        while remaining >= 8 {
            if network[n] != candidate[c] { return false }
            n += 1
            c += 1
            remaining -= 8
        }
        if remaining > 0 {
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - remaining))
            return network[n] & mask == candidate[c] & mask
        }
        return true
    }

    // MARK: - Formatting

    private static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 {
            return bytes.map { String($0) }.joined(separator: ".")
        }
        guard bytes.count == 16 else { return "invalid" }
        if isIPv4Mapped(bytes) {
            return "::ffff:" + bytes[12...].map { String($0) }.joined(separator: ".")
        }
        let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        // RFC 5952: compress the longest run (first on ties) of two or more zero groups.
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength {
                    bestStart = runStart
                    bestLength = i - runStart
                }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestLength >= 2 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
