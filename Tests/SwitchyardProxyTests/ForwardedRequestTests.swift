import NIOHTTP1
import SwitchyardUpstream
import Testing

@testable import SwitchyardProxy

@Suite struct ForwardedRequestTests {
    static let server = try! UpstreamServer(url: "http://10.0.0.5:8080")

    static func forward(_ headers: [(String, String)], uri: String = "/p?q=1", passHost: Bool = true) -> HTTPRequestHead {
        let head = HTTPRequestHead(version: .http1_0, method: .GET, uri: uri, headers: HTTPHeaders(headers))
        return ForwardedRequest.make(
            from: head, server: server, passHostHeader: passHost, clientIP: "192.0.2.7", scheme: "http",
            proxyHostname: "proxy1")
    }

    @Test func setsForwardedHeadersAndReplacesClientValues() {
        let head = Self.forward([("Host", "app.test:8000"), ("X-Forwarded-For", "6.6.6.6"), ("X-Real-Ip", "6.6.6.6")])
        #expect(head.headers["X-Forwarded-For"] == ["192.0.2.7"])
        #expect(head.headers["X-Real-Ip"] == ["192.0.2.7"])
        #expect(head.headers["X-Forwarded-Host"] == ["app.test:8000"])
        #expect(head.headers["X-Forwarded-Port"] == ["8000"])
        #expect(head.headers["X-Forwarded-Proto"] == ["http"])
        #expect(head.headers["X-Forwarded-Server"] == ["proxy1"])
        #expect(head.headers["Host"] == ["app.test:8000"])
        #expect(head.version == .http1_1)
        #expect(head.uri == "/p?q=1")
    }

    @Test func removesHopByHopHeadersAndThoseNamedInConnection() {
        let head = Self.forward([
            ("Host", "a"), ("Connection", "keep-alive, X-Secret"), ("X-Secret", "1"), ("Keep-Alive", "timeout=5"),
            ("TE", "trailers"), ("Proxy-Connection", "keep-alive"), ("Expect", "100-continue"), ("X-Kept", "yes"),
        ])
        for name in ["connection", "x-secret", "keep-alive", "te", "proxy-connection", "expect"] {
            #expect(!head.headers.contains(name: name), "\(name)")
        }
        #expect(head.headers["X-Kept"] == ["yes"])
    }

    @Test func keepsUpgradeForWebSockets() {
        let head = Self.forward([("Host", "a"), ("Connection", "Upgrade"), ("Upgrade", "websocket")])
        #expect(head.headers["connection"] == ["Upgrade"])
        #expect(head.headers["upgrade"] == ["websocket"])
    }

    @Test func passHostHeaderFalseSendsTheServersHost() {
        #expect(Self.forward([("Host", "app.test")], passHost: false).headers["Host"] == ["10.0.0.5:8080"])
    }

    @Test func absoluteFormBecomesOriginForm() {
        #expect(ForwardedRequest.originForm("http://a.test:81/x/y?z") == "/x/y?z")
        #expect(ForwardedRequest.originForm("http://a.test") == "/")
        #expect(ForwardedRequest.originForm("http://a.test?q") == "/?q")
        #expect(Self.forward([], uri: "http://a.test/x").headers["X-Forwarded-Host"] == ["a.test"])
    }

    @Test func responseHeadsLoseHopByHopAndGetTheClientsVersion() {
        var headers = HTTPHeaders([("Connection", "keep-alive, X-Internal"), ("X-Internal", "1"), ("Transfer-Encoding", "chunked")])
        headers.add(name: "X-App", value: "1")
        let response = ForwardedRequest.clientResponse(
            from: HTTPResponseHead(version: .http1_1, status: .ok, headers: headers), version: .http1_0, keepAlive: false)
        #expect(response.version == .http1_0)
        #expect(!response.headers.contains(name: "x-internal"))
        #expect(!response.headers.contains(name: "transfer-encoding"))
        #expect(response.headers["connection"] == ["close"])
        #expect(response.headers["X-App"] == ["1"])
    }

    @Test func aResponseWithNothingHopByHopGoesOnAsItIs() {
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Length": "2", "X-App": "1"])
        #expect(ForwardedRequest.clientResponse(from: head, version: .http1_1, keepAlive: true) == head)
        let closing = ForwardedRequest.clientResponse(from: head, version: .http1_1, keepAlive: false)
        #expect(closing.headers["connection"] == ["close"])
        let old = ForwardedRequest.clientResponse(from: head, version: .http1_0, keepAlive: true)
        #expect(old.version == .http1_0)
        #expect(old.headers["connection"] == ["keep-alive"])
        let named = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Keep-Alive": "timeout=5", "X-App": "1"])
        #expect(ForwardedRequest.clientResponse(from: named, version: .http1_1, keepAlive: true).headers.map(\.name) == ["X-App"])
    }

    @Test func theForwardedPortIsTheHostsOrTheSchemes() {
        #expect(ForwardedRequest.forwardedPort(host: "a.test:8443", scheme: "http") == "8443")
        #expect(ForwardedRequest.forwardedPort(host: "a.test", scheme: "http") == "80")
        #expect(ForwardedRequest.forwardedPort(host: "a.test", scheme: "https") == "443")
        #expect(ForwardedRequest.forwardedPort(host: "[::1]", scheme: "http") == "80")
        #expect(ForwardedRequest.forwardedPort(host: "[::1]:81", scheme: "http") == "81")
        #expect(ForwardedRequest.forwardedPort(host: "a.test:x1", scheme: "https") == "443")
        #expect(ForwardedRequest.forwardedPort(host: "a.test:", scheme: "http") == "80")
    }

    @Test func headerNamesAreSortedByWhatTheProxyDoesWithThem() {
        typealias Role = ForwardedRequest.FieldRole
        let hopByHop = ["Connection", "keep-alive", "Proxy-Connection", "proxy-authenticate", "Proxy-Authorization", "TE", "Trailer", "UPGRADE"]
        for name in hopByHop { #expect(Role(name) == .hopByHop, "\(name)") }
        for name in ["Expect", "HTTP2-Settings"] { #expect(Role(name) == .droppedFromRequests, "\(name)") }
        #expect(Role("Transfer-Encoding") == .droppedFromResponses)
        let set = ["X-Forwarded-For", "x-forwarded-host", "X-Forwarded-Port", "X-Forwarded-Proto", "X-Forwarded-Server", "X-Real-Ip"]
        for name in set { #expect(Role(name) == .setByProxy, "\(name)") }
        #expect(Role("HOST") == .host)
        for name in ["", "T", "Hosts", "X-Forwarded-Prefix", "Content-Length", "X-Real-IP2", "te2"] { #expect(Role(name) == [], "\(name)") }
    }
}
