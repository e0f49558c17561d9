import NIOHTTP1

/// The parts of a request that rules match on, extracted once per request.
public struct RoutingRequest {
    /// Lowercased host without port or trailing dot; empty when the request names none.
    public var host: String
    /// The path of the request target, without the query.
    public var path: Substring
    /// The raw query string (after `?`), nil when there is none.
    public var query: Substring?
    public var method: HTTPMethod
    public var headers: HTTPHeaders
    /// The client's address as 4 or 16 bytes; empty when unknown.
    public var clientAddress: [UInt8]

    public init(head: HTTPRequestHead, clientAddress: [UInt8]) {
        let target = head.uri[...]
        var pathAndQuery = target
        var hostFromTarget: Substring?
        // Absolute form: http://host[:port]/path
        if target.utf8.first != UInt8(ascii: "/"), let schemeEnd = target.firstRange(of: "://") {
            let afterScheme = target[schemeEnd.upperBound...]
            let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
            hostFromTarget = afterScheme[..<authorityEnd]
            pathAndQuery = afterScheme[authorityEnd...]
        }
        if let mark = pathAndQuery.utf8.firstIndex(of: UInt8(ascii: "?")) {
            self.path = pathAndQuery[..<mark]
            self.query = pathAndQuery[pathAndQuery.utf8.index(after: mark)...]
        } else {
            self.path = pathAndQuery
            self.query = nil
        }
        if self.path.isEmpty { self.path = "/" }
        self.host = RoutingRequest.normalizedHost(hostFromTarget ?? head.headers.first(name: "host")?[...] ?? "")
        self.method = head.method
        self.headers = head.headers
        self.clientAddress = clientAddress
    }

    /// Lowercases, strips the port and a trailing dot: `Example.COM.:8080` → `example.com`. Works on the UTF-8 bytes
    /// (no grapheme breaking), and copies nothing when the host is already in that form.
    static func normalizedHost(_ authority: Substring) -> String {
        let bytes = authority.utf8
        // One pass over the bytes: where the host ends, and whether it needs lowercasing.
        let scan: (length: Int, plain: Bool)? = bytes.withContiguousStorageIfAvailable { raw in
            var length = raw.count
            if raw.first == UInt8(ascii: "[") {
                if let close = raw.firstIndex(of: UInt8(ascii: "]")) { length = close + 1 }
            } else if let colon = raw.lastIndex(of: UInt8(ascii: ":")) {
                length = colon
            }
            if length > 0, raw[length - 1] == UInt8(ascii: ".") { length -= 1 }
            var plain = true
            for byte in raw[..<length] where byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") || byte >= 0x80 {
                plain = false
                break
            }
            return (length, plain)
        }
        guard let scan else { return normalizedHost(Substring(String(authority))) }  // made contiguous
        let host = authority[..<bytes.index(bytes.startIndex, offsetBy: scan.length)]
        return scan.plain ? String(host) : host.lowercased()
    }

    /// Values of the query parameter `name` (percent-decoding `+` and `%XX`).
    func queryValues(_ name: String) -> [String] {
        guard let query else { return [] }
        var values: [String] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if RoutingRequest.percentDecoded(parts[0]) == name {
                values.append(parts.count > 1 ? RoutingRequest.percentDecoded(parts[1]) : "")
            }
        }
        return values
    }

    static func percentDecoded(_ text: Substring) -> String {
        guard text.contains(where: { $0 == "%" || $0 == "+" }) else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
