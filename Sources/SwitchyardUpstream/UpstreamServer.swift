/// One server behind a load balancer, parsed once from its URL when the table is compiled. A class: a request holds
/// its server for the whole exchange, and a copy of a struct of eight strings is eight retains.
public final class UpstreamServer: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case http
        case https
        case h2c
    }

    public let url: String
    public let scheme: Scheme
    /// Host as written in the URL, without brackets for IPv6.
    public let host: String
    public let port: Int
    /// The URL's path, used when `preservePath` is set; empty otherwise.
    public let pathPrefix: String
    public let weight: Int
    /// `host[:port]` as it goes in a `Host` header when the client's host is not passed on.
    public let hostHeader: String
    /// Identity of the connection pool for this server (its address and transport).
    public let poolKey: String
    /// The same, with its hash computed once (the idle pool is looked up twice per request).
    let idleKey: PoolKey
    /// How it is reached (TLS settings for `https://`).
    public let transport: UpstreamTransport

    public var description: String { url }

    public enum ParseError: Error, Sendable, CustomStringConvertible {
        case invalid(String, reason: String)
        public var description: String {
            switch self {
            case .invalid(let url, let reason): return "invalid server URL '\(url)': \(reason)"
            }
        }
    }

    public static func == (lhs: UpstreamServer, rhs: UpstreamServer) -> Bool {
        lhs === rhs
            || (lhs.url == rhs.url && lhs.weight == rhs.weight && lhs.pathPrefix == rhs.pathPrefix
                && lhs.poolKey == rhs.poolKey && lhs.transport == rhs.transport)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(url)
        hasher.combine(poolKey)
    }

    private init(_ server: UpstreamServer, transport: UpstreamTransport) {
        (url, scheme, host, port) = (server.url, server.scheme, server.host, server.port)
        (pathPrefix, weight, hostHeader) = (server.pathPrefix, server.weight, server.hostHeader)
        self.transport = transport
        self.poolKey = "\(server.scheme.rawValue)://\(server.hostHeader)@\(transport.key)"
        self.idleKey = PoolKey(poolKey)
    }

    public init(url: String, weight: Int = 1, preservePath: Bool = false) throws(ParseError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw .invalid(url, reason: "expected scheme://host[:port], e.g. http://127.0.0.1:8080")
        }
        guard let scheme = Scheme(rawValue: url[..<schemeEnd.lowerBound].lowercased()) else {
            throw .invalid(url, reason: "the scheme must be http, https or h2c")
        }
        var rest = url[schemeEnd.upperBound...]
        var path = ""
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        guard !rest.isEmpty else { throw .invalid(url, reason: "the host is missing") }
        if rest.contains("@") { throw .invalid(url, reason: "user information in server URLs is not supported") }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalid(url, reason: "unclosed '[' in the host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw .invalid(url, reason: "unexpected '\(after)' after the host")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .invalid(url, reason: "the host is missing") }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw .invalid(url, reason: "the port must be a number from 1 to 65535")
            }
            port = value
        } else {
            port = scheme == .https ? 443 : 80
        }
        guard weight >= 0 else { throw .invalid(url, reason: "the weight must not be negative") }
        self.url = url
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.weight = weight
        self.pathPrefix = preservePath && path != "/" ? path : ""
        let bracketed = host.contains(":") ? "[\(host)]" : String(host)
        self.hostHeader = portText == nil ? bracketed : "\(bracketed):\(port)"
        self.poolKey = "\(scheme.rawValue)://\(bracketed):\(port)"
        self.idleKey = PoolKey(poolKey)
        self.transport = .standard
    }

    /// The same server reached with `transport`.
    public func using(_ transport: UpstreamTransport) -> UpstreamServer {
        UpstreamServer(self, transport: transport)
    }

    /// The name sent in TLS SNI: the transport's `serverName`, else the host when it is a name (not an address).
    public var tlsServerName: String? {
        if let name = transport.serverName { return name }
        let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        return isAddress ? nil : host
    }
}

/// A pool key whose hash is computed once, when its server is parsed: hashing the text again on every lookup
/// costs more than the lookup.
struct PoolKey: Hashable, Sendable {
    let text: String
    private let hash: Int

    init(_ text: String) {
        self.text = text
        self.hash = text.hashValue
    }

    static func == (lhs: PoolKey, rhs: PoolKey) -> Bool { lhs.hash == rhs.hash && lhs.text == rhs.text }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
