import Foundation
import NIOHTTP1
import SwitchyardHTTP1
import SwitchyardMiddleware
import SwitchyardRouting
import SwitchyardUpstream

/// Builds the request head that goes to the upstream server from the one the client sent, and the response head
/// that goes back. Runs once per request: one pass over the headers, comparing names without allocating.
enum ForwardedRequest {
    /// What the proxy does with a header of a given name: headers that describe one connection are never forwarded
    /// (RFC 9110 §7.6.1); requests also lose `Expect` (the proxy answers `100-continue` itself) and
    /// `HTTP2-Settings`, and keep `Transfer-Encoding` (the encoder re-frames the body from it); responses lose
    /// `Transfer-Encoding` (the encoder frames the body for the client's HTTP version). What a client sends under
    /// the names the proxy sets is replaced (clients are not trusted).
    struct FieldRole: OptionSet {
        let rawValue: UInt8
        static let droppedFromRequests = FieldRole(rawValue: 1)
        static let droppedFromResponses = FieldRole(rawValue: 2)
        static let setByProxy = FieldRole(rawValue: 4)
        static let host = FieldRole(rawValue: 8)
        static let hopByHop: FieldRole = [.droppedFromRequests, .droppedFromResponses]

        init(rawValue: UInt8) { self.rawValue = rawValue }

        /// By the name's length first, then its bytes compared without case: one or two comparisons a header.
        init(_ name: String) {
            self = name.utf8.withContiguousStorageIfAvailable { FieldRole(bytes: UnsafeRawBufferPointer($0)) }
                ?? Array(name.utf8).withUnsafeBytes { FieldRole(bytes: $0) }
        }

        private init(bytes name: UnsafeRawBufferPointer) {
            func isName(_ lowercase: StaticString) -> Bool { HTTP1Lines.equalsLowercased(name, lowercase) }
            switch name.count {
            case 2 where isName("te"): self = .hopByHop
            case 4 where isName("host"): self = .host
            case 6 where isName("expect"): self = .droppedFromRequests
            case 7 where isName("trailer") || isName("upgrade"): self = .hopByHop
            case 9 where isName("x-real-ip"): self = .setByProxy
            case 10 where isName("connection") || isName("keep-alive"): self = .hopByHop
            case 14 where isName("http2-settings"): self = .droppedFromRequests
            case 15 where isName("x-forwarded-for"): self = .setByProxy
            case 16 where isName("proxy-connection"): self = .hopByHop
            case 16 where isName("x-forwarded-host") || isName("x-forwarded-port"): self = .setByProxy
            case 17 where isName("x-forwarded-proto"): self = .setByProxy
            case 17 where isName("transfer-encoding"): self = .droppedFromResponses
            case 18 where isName("x-forwarded-server"): self = .setByProxy
            case 18 where isName("proxy-authenticate"): self = .hopByHop
            case 19 where isName("proxy-authorization"): self = .hopByHop
            default: self = []
            }
        }
    }

    /// Whether the client asks to switch protocols (WebSocket): `Connection: upgrade` with an `Upgrade` header.
    /// An upgrade to HTTP/2 (`h2c`) is not one: it would hand the client a raw connection to the server, past
    /// routing and middlewares; such a request goes on as a plain HTTP/1.1 request.
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard let upgrade = head.headers.first(name: "upgrade"), !upgradesToHTTP2(upgrade) else { return false }
        return head.headers[canonicalForm: "connection"].contains { equalsLowercased($0, "upgrade") }
    }

    /// `Upgrade: h2c` (or `h2`): the HTTP/2 upgrade, never passed on.
    static func upgradesToHTTP2(_ value: String) -> Bool {
        value.split(separator: ",").contains { token in
            let name = token.trimmingCharacters(in: .whitespaces).lowercased()
            return name == "h2c" || name == "h2"
        }
    }

    static func make(
        from head: HTTPRequestHead,
        server: UpstreamServer,
        passHostHeader: Bool,
        clientIP: String,
        scheme: String,
        proxyHostname: String,
        trusted: Bool = false
    ) -> HTTPRequestHead {
        let incoming = head.headers
        let named = ConnectionHeader(incoming)
        // Built as a list and wrapped once: `HTTPHeaders.add` checks each name is ASCII and whether it is
        // `Connection`, which the parser and these literals already guarantee.
        var headers: [(String, String)] = []
        headers.reserveCapacity(incoming.count + 8)
        var originalHost: String?
        for (name, value) in incoming {
            let role = FieldRole(name)
            if !role.isDisjoint(with: [.droppedFromRequests, .setByProxy]) || named.lists(name) { continue }
            if originalHost == nil, role == .host {
                originalHost = value
                if !passHostHeader { continue }
            }
            headers.append((name, value))
        }
        // gRPC asks for trailers with `TE: trailers`; an HTTP/2 server (h2c, or https that picks h2) needs to see it
        // (it is the one TE value HTTP/2 allows, and harmless to HTTP/1.1 servers).
        if server.scheme != .http, incoming[canonicalForm: "te"].contains(where: { equalsLowercased($0, "trailers") }) {
            headers.append(("te", "trailers"))
        }
        if named.upgrade, let upgradeProtocol = incoming.first(name: "upgrade"), !upgradesToHTTP2(upgradeProtocol) {
            headers.append(("Connection", "Upgrade"))
            headers.append(("Upgrade", upgradeProtocol))
        }
        let forwardedHost = originalHost ?? hostFromTarget(head.uri) ?? ""
        if trusted {
            // A client in forwardedHeaders.trustedIPs (another proxy): what it says is kept, and it joins the chain.
            let chain = incoming[canonicalForm: "x-forwarded-for"].joined(separator: ", ")
            headers.append(("X-Forwarded-For", chain.isEmpty ? clientIP : chain + ", " + clientIP))
            let host = incoming.first(name: "x-forwarded-host") ?? forwardedHost
            headers.append(("X-Forwarded-Host", host))
            let proto = incoming.first(name: "x-forwarded-proto") ?? scheme
            headers.append(("X-Forwarded-Port", incoming.first(name: "x-forwarded-port") ?? forwardedPort(host: host, scheme: proto)))
            headers.append(("X-Forwarded-Proto", proto))
            headers.append(("X-Forwarded-Server", proxyHostname))
            headers.append(("X-Real-Ip", incoming.first(name: "x-real-ip") ?? clientIP))
        } else {
            headers.append(("X-Forwarded-For", clientIP))
            headers.append(("X-Forwarded-Host", forwardedHost))
            headers.append(("X-Forwarded-Port", forwardedPort(host: forwardedHost, scheme: scheme)))
            headers.append(("X-Forwarded-Proto", scheme))
            headers.append(("X-Forwarded-Server", proxyHostname))
            headers.append(("X-Real-Ip", clientIP))
        }
        if !passHostHeader || originalHost == nil {
            headers.append(("Host", server.hostHeader))
        }
        var target = originForm(head.uri)
        if !server.pathPrefix.isEmpty {
            let prefix = server.pathPrefix.hasSuffix("/") ? String(server.pathPrefix.dropLast()) : server.pathPrefix
            target = prefix + target
        }
        // The head's method, target and version sit in a shared box: it is copied only when one of them changes.
        var forwarded = head
        if forwarded.version != .http1_1 { forwarded.version = .http1_1 }
        if forwarded.uri != target { forwarded.uri = target }
        forwarded.headers = HTTPHeaders(headers)
        return forwarded
    }

    /// Prepares an upstream response head for the client: hop-by-hop headers removed, the client's HTTP version.
    static func clientResponse(from head: HTTPResponseHead, version: HTTPVersion, keepAlive: Bool) -> HTTPResponseHead {
        let incoming = head.headers
        let switching = head.status == .switchingProtocols
        if keepAlive, !switching, version == .http1_1, head.version == version,
            !incoming.contains(where: { FieldRole($0.name).contains(.droppedFromResponses) })
        {
            return head  // nothing to take out or add (no `Connection`, so it names no other header)
        }
        let named = ConnectionHeader(incoming)
        var headers: [(String, String)] = []  // wrapped once, as in `make`
        headers.reserveCapacity(incoming.count + 2)
        for (name, value) in incoming where !FieldRole(name).contains(.droppedFromResponses) && !named.lists(name) {
            headers.append((name, value))
        }
        if switching {
            headers.append(("Connection", "Upgrade"))
            if let upgradeProtocol = incoming.first(name: "upgrade") { headers.append(("Upgrade", upgradeProtocol)) }
        } else if !keepAlive {
            headers.append(("Connection", "close"))
        } else if version == .http1_0 {
            headers.append(("Connection", "keep-alive"))
        }
        var response = head  // status and version sit in a shared box, copied only when the version changes
        if response.version != version { response.version = version }
        response.headers = HTTPHeaders(headers)
        return response
    }

    /// `http://host/p?q` → `/p?q`; other targets unchanged.
    static func originForm(_ uri: String) -> String {
        if uri.utf8.first == UInt8(ascii: "/") { return uri }
        return RequestTarget(uri).uri
    }

    static func hostFromTarget(_ uri: String) -> String? {
        if uri.utf8.first == UInt8(ascii: "/") { return nil }
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        let rest = uri[schemeEnd.upperBound...]
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }

    static func forwardedPort(host: String, scheme: String) -> String {
        let named = host.utf8.withContiguousStorageIfAvailable { bytes -> String? in
            guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")), bytes.last != UInt8(ascii: "]") else { return nil }
            let port = bytes[(colon + 1)...]
            guard !port.isEmpty, port.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: port), as: UTF8.self)
        }
        if let named { return named ?? (scheme == "https" ? "443" : "80") }
        return forwardedPort(host: String(decoding: Array(host.utf8), as: UTF8.self), scheme: scheme)  // made contiguous
    }

    /// ASCII case-insensitive comparison with a lowercase name, without allocating.
    @inline(__always)
    static func equalsLowercased<S: StringProtocol>(_ name: S, _ lowercase: String) -> Bool {
        let a = name.utf8, b = lowercase.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in (x >= 0x41 && x <= 0x5A ? x | 0x20 : x) == y }
    }

    /// What a `Connection` header says: whether it asks for an upgrade, and which further headers it names as
    /// hop-by-hop (`Connection: keep-alive, X-Secret`).
    struct ConnectionHeader {
        var upgrade = false
        private var named: [Substring] = []

        init(_ headers: HTTPHeaders) {
            for (name, value) in headers where equalsLowercased(name, "connection") {
                for token in value.split(separator: ",") {
                    let trimmed = token.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
                    let name = Substring(String(trimmed.reversed()))
                    if equalsLowercased(name, "upgrade") { upgrade = true }
                    else if !equalsLowercased(name, "close") && !equalsLowercased(name, "keep-alive") && !equalsLowercased(name, "host") {
                        named.append(name)
                    }
                }
            }
        }

        func lists(_ name: String) -> Bool {
            named.contains { $0.utf8.count == name.utf8.count && equalsLowercased(name, $0.lowercased()) }
        }
    }
}
