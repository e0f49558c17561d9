import NIOCore
import SwitchyardConfig
import SwitchyardProviderKit
import SwitchyardRouting
import SwitchyardTLS
import Testing

/// A TLS record holding a ClientHello with the given server name and ALPN protocols.
private func clientHello(serverName: String?, alpn: [String] = [], splitRecordAt split: Int? = nil) -> [UInt8] {
    func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
    var extensions: [UInt8] = []
    if let serverName {
        let name = Array(serverName.utf8)
        let entry: [UInt8] = [0] + u16(name.count) + name
        let list = u16(entry.count) + entry
        extensions += u16(0) + u16(list.count) + list
    }
    if !alpn.isEmpty {
        var protocols: [UInt8] = []
        for proto in alpn { protocols += [UInt8(proto.utf8.count)] + Array(proto.utf8) }
        let list = u16(protocols.count) + protocols
        extensions += u16(16) + u16(list.count) + list
    }
    extensions += u16(10) + u16(4) + u16(2) + u16(0x1D)  // supported_groups: x25519, skipped by the parser
    var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32)
    body += [0]  // session id
    body += u16(2) + u16(0x1301)  // cipher suites
    body += [1, 0]  // compression
    body += u16(extensions.count) + extensions
    let handshake: [UInt8] = [1, 0] + u16(body.count) + body
    guard let split else { return [0x16, 3, 1] + u16(handshake.count) + handshake }
    let first = Array(handshake[..<split]), second = Array(handshake[split...])
    return [0x16, 3, 1] + u16(first.count) + first + [0x16, 3, 1] + u16(second.count) + second
}

@Suite struct ClientHelloTests {
    @Test func readsServerNameAndALPN() {
        let bytes = clientHello(serverName: "app.example.com", alpn: ["h2", "http/1.1"])
        #expect(ClientHello.peek(ByteBuffer(bytes: bytes)) == .hello(ClientHello(serverName: "app.example.com", alpn: ["h2", "http/1.1"])))
        #expect(ClientHello.peek(ByteBuffer(bytes: clientHello(serverName: nil))) == .hello(ClientHello(serverName: nil, alpn: [])))
    }

    @Test func waitsForTheWholeHelloEvenAcrossRecords() {
        let bytes = clientHello(serverName: "split.example.com", splitRecordAt: 20)
        for cut in [1, 4, 5, 30, bytes.count - 1] {
            #expect(ClientHello.peek(ByteBuffer(bytes: bytes.prefix(cut))) == .needMore, "cut at \(cut)")
        }
        #expect(ClientHello.peek(ByteBuffer(bytes: bytes)) == .hello(ClientHello(serverName: "split.example.com", alpn: [])))
    }

    @Test func plainHTTPAndGarbage() {
        #expect(ClientHello.peek(ByteBuffer(string: "GET / HTTP/1.1\r\n")) == .notTLS)
        #expect(ClientHello.peek(ByteBuffer()) == .needMore)
        #expect(ClientHello.peek(ByteBuffer(bytes: [0x16, 3, 1, 0, 4, 2, 0, 0, 0])) == .unreadable)  // ServerHello
        var truncated = clientHello(serverName: "x.test")
        truncated[54] = 0xFF  // the server_name extension's length, now past the end
        #expect(ClientHello.peek(ByteBuffer(bytes: truncated)) == .unreadable)
    }
}

@Suite struct TLSOptionTests {
    @Test func badOptionsNameTheKey() {
        let store = CertificateStore(certificates: [])
        func failure(_ yaml: TLSOptions) -> String? {
            do {
                _ = try TLSOptionsCompiler.option(named: "x", yaml, store: store)
                return nil
            } catch {
                return error.key
            }
        }
        var options = TLSOptions()
        options.minVersion = "TLS1.2"
        #expect(failure(options) == "minVersion")
        options = TLSOptions()
        options.cipherSuites = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_MADE_UP"]
        #expect(failure(options) == "cipherSuites")
        options = TLSOptions()
        options.curvePreferences = ["CurveP256", "P-999"]
        #expect(failure(options) == "curvePreferences")
        options = TLSOptions()
        var auth = TLSClientAuth()
        auth.clientAuthType = "RequireAndVerifyClientCert"
        options.clientAuth = auth
        #expect(failure(options) == "clientAuth.caFiles")
        options = TLSOptions()
        options.minVersion = "VersionTLS13"
        options.cipherSuites = ["TLS_AES_128_GCM_SHA256"]
        options.curvePreferences = ["X25519", "CurveP384"]
        #expect(failure(options) == nil)
    }

    @Test func sniStrictRefusesUnknownNames() throws {
        var options = TLSOptions()
        options.sniStrict = true
        let store = CertificateStore(certificates: [])
        let runtime = TLSRuntime(
            store: store, options: ["default": try TLSOptionsCompiler.option(named: "default", options, store: store)],
            hostOptions: [:])
        guard case .refuse = runtime.decide(serverName: nil) else { Issue.record("no name accepted"); return }
        guard case .refuse = runtime.decide(serverName: "unknown.test") else { Issue.record("unknown name accepted"); return }
        guard case .handshake = TLSRuntime.fallback().decide(serverName: "unknown.test") else {
            Issue.record("without sniStrict the default certificate answers")
            return
        }
    }

    @Test func theGeneratedDefaultCertificate() {
        let certificate = ServingCertificate.generatedDefault()
        #expect(certificate.subject.contains("SWITCHYARD DEFAULT CERT"))
        #expect(certificate.notAfter > certificate.notBefore)
        let store = CertificateStore(certificates: [certificate])
        #expect(store.certificate(for: "switchyard.default")?.source == "generated")
        #expect(store.certificate(for: "SWITCHYARD.default.")?.source == "generated")
        #expect(store.certificate(for: "other.test") == nil)
    }
}

@Suite struct TLSRoutingTests {
    private func compile(_ yaml: String) throws -> RoutingTable {
        let node = try ConfigDocument.parse(yaml, source: "tls.yml", format: .yaml)
        let configuration = try ConfigNodeDecoder.decode(DynamicConfiguration.self, from: node)
        let merged = ConfigurationMerger.merge([ProviderSnapshot(provider: "file", configuration: configuration)])
        return RoutingTableCompiler(entryPoints: ["web"]).compile(merged, version: 2)
    }

    @Test func tlsRoutersAnswerOnlyTLSAndUseTheirHostsOption() throws {
        let table = try compile("""
            http:
              routers:
                secure: {rule: "Host(`a.test`) || Host(`B.test`)", service: s, tls: {options: modern}}
                plain: {rule: "Host(`a.test`)", service: s}
                broken: {rule: "Host(`c.test`)", service: s, tls: {options: missing}}
                clash: {rule: "Host(`b.test`)", service: s, tls: {}}
              services:
                s: {loadBalancer: {servers: [{url: "http://127.0.0.1:9"}]}}
            tls:
              options:
                modern: {minVersion: VersionTLS13}
            """)
        #expect(table.secureEntryPoints["web"]?.routes.map(\.name).sorted() == ["clash@file", "secure@file"])
        #expect(table.entryPoints["web"]?.routes.map(\.name) == ["plain@file"])
        #expect(table.status.routers["broken@file"]?.status == .disabled)
        #expect(table.status.routers["broken@file"]?.errors.first?.contains("\"missing@file\" does not exist") == true)
        #expect(table.tls.hostOptions == ["a.test": "modern@file"])
        #expect(table.status.issues.contains { $0.severity == .warning && $0.message.contains("b.test") })
    }
}
