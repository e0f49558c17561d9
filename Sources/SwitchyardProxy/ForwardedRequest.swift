import NIOHTTP1
import SwitchyardRouting
import SwitchyardUpstream

/// Builds the request head that goes to the upstream server from the one the client sent.
enum ForwardedRequest {
    /// Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). `Transfer-Encoding` stays: the
    /// encoder re-frames the body from it.
    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "upgrade",
    ]

    static let forwardedHeaders: [String] = [
        "x-forwarded-for", "x-forwarded-host", "x-forwarded-port", "x-forwarded-proto", "x-forwarded-server",
        "x-real-ip",
    ]

    /// Whether the client asks to switch protocols (WebSocket): `Connection: upgrade` with an `Upgrade` header.
    static func isUpgrade(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "upgrade")
            && head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        // Headers named in Connection are hop-by-hop too.
        for name in headers[canonicalForm: "connection"] where !["close", "keep-alive", "upgrade"].contains(name.lowercased()) {
            let lower = name.lowercased()
            if lower != "host" { headers.remove(name: String(name)) }
        }
        for name in hopByHop { headers.remove(name: name) }
    }

    static func make(
        from head: HTTPRequestHead,
        server: UpstreamServer,
        passHostHeader: Bool,
        clientIP: String,
        scheme: String,
        proxyHostname: String
    ) -> HTTPRequestHead {
        var headers = head.headers
        let upgrade = isUpgrade(head)
        let upgradeProtocol = headers.first(name: "upgrade")
        removeHopByHop(&headers)
        headers.remove(name: "expect")
        if upgrade, let upgradeProtocol {
            headers.add(name: "connection", value: "Upgrade")
            headers.add(name: "upgrade", value: upgradeProtocol)
        }
        let originalHost = headers.first(name: "host") ?? hostFromTarget(head.uri) ?? ""
        // Clients are not trusted: their X-Forwarded-* values are replaced, as Traefik does by default.
        for name in forwardedHeaders { headers.remove(name: name) }
        headers.add(name: "X-Forwarded-For", value: clientIP)
        headers.add(name: "X-Forwarded-Host", value: originalHost)
        headers.add(name: "X-Forwarded-Port", value: forwardedPort(host: originalHost, scheme: scheme))
        headers.add(name: "X-Forwarded-Proto", value: scheme)
        headers.add(name: "X-Forwarded-Server", value: proxyHostname)
        headers.add(name: "X-Real-Ip", value: clientIP)
        if !passHostHeader || !headers.contains(name: "host") {
            headers.replaceOrAdd(name: "host", value: server.hostHeader)
        }
        var target = originForm(head.uri)
        if !server.pathPrefix.isEmpty {
            let prefix = server.pathPrefix.hasSuffix("/") ? String(server.pathPrefix.dropLast()) : server.pathPrefix
            target = prefix + target
        }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: target, headers: headers)
    }

    /// `http://host/p?q` → `/p?q`; other targets unchanged.
    static func originForm(_ uri: String) -> String {
        guard let schemeEnd = uri.firstRange(of: "://") else { return uri.isEmpty ? "/" : uri }
        let rest = uri[schemeEnd.upperBound...]
        guard let start = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let target = String(rest[start...])
        return target.hasPrefix("?") ? "/" + target : target
    }

    static func hostFromTarget(_ uri: String) -> String? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        let rest = uri[schemeEnd.upperBound...]
        return String(rest.prefix { $0 != "/" && $0 != "?" })
    }

    static func forwardedPort(host: String, scheme: String) -> String {
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
            let port = host[host.index(after: colon)...]
            if !port.isEmpty, port.allSatisfy(\.isNumber) { return String(port) }
        }
        return scheme == "https" ? "443" : "80"
    }

    /// Prepares an upstream response head for the client: hop-by-hop headers removed, the client's HTTP version.
    static func clientResponse(from head: HTTPResponseHead, version: HTTPVersion, keepAlive: Bool) -> HTTPResponseHead {
        var headers = head.headers
        let switching = head.status == .switchingProtocols
        let upgradeProtocol = headers.first(name: "upgrade")
        removeHopByHop(&headers)
        if switching {
            headers.add(name: "connection", value: "Upgrade")
            if let upgradeProtocol { headers.add(name: "upgrade", value: upgradeProtocol) }
        } else {
            // The encoder frames the body for the client's HTTP version.
            headers.remove(name: "transfer-encoding")
            if !keepAlive { headers.add(name: "connection", value: "close") }
            else if version == .http1_0 { headers.add(name: "connection", value: "keep-alive") }
        }
        return HTTPResponseHead(version: version, status: head.status, headers: headers)
    }
}
