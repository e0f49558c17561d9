import SwitchyardConfig
import SwitchyardRouting
import Testing

@testable import SwitchyardUpstream

@Suite struct UpstreamTransportTests {
    @Test func tlsContextsAreMadeOnFirstUseAndKept() throws {
        let transport = try UpstreamTransport(name: "default", definition: ServersTransport(), named: false)
        #expect(!transport.contextsMade, "no trust roots are loaded for a proxy of http:// servers")
        #expect(transport.negotiatesHTTP2)
        let http1 = try transport.tlsContext()
        #expect(transport.contextsMade)
        #expect(try transport.tlsContext() === http1)
        let negotiating = try transport.tlsContext(negotiating: true)
        #expect(negotiating !== http1)
        #expect(try transport.tlsContext(negotiating: true) === negotiating)
    }

    @Test func withoutHTTP2OneContextServesBoth() throws {
        var definition = ServersTransport()
        definition.disableHTTP2 = true
        let transport = try UpstreamTransport(name: "h1", definition: definition, named: true)
        #expect(!transport.negotiatesHTTP2)
        #expect(try transport.tlsContext(negotiating: true) === transport.tlsContext())
    }

    @Test func settingsAreStillCheckedWhenTheTransportIsMade() {
        var definition = ServersTransport()
        definition.cipherSuites = ["TLS_NOT_A_SUITE"]
        #expect(throws: UpstreamTransport.Failure.self) {
            try UpstreamTransport(name: "bad", definition: definition, named: true)
        }
        definition.cipherSuites = nil
        definition.rootCAs = ["/nonexistent/ca.pem"]
        #expect(throws: UpstreamTransport.Failure.self) {
            try UpstreamTransport(name: "bad", definition: definition, named: true)
        }
    }

    static func configuration(serverURL: String) -> MergedConfiguration {
        var router = Router()
        router.rule = "Host(`a.test`)"
        router.service = "s@file"
        var balancer = LoadBalancerService()
        balancer.servers = [LoadBalancerServer(url: serverURL)]
        var service = HTTPService()
        service.loadBalancer = balancer
        var http = HTTPConfiguration()
        http.routers = ["r@file": router]
        http.services = ["s@file": service]
        var configuration = DynamicConfiguration()
        configuration.http = http
        return MergedConfiguration(configuration: configuration, providers: ["file"])
    }

    @Test func theCompilerMakesTheContextsOfATransportAnHTTPSServerUses() throws {
        let transport = try UpstreamTransport(name: "default", definition: ServersTransport(), named: false)
        var compiler = RoutingTableCompiler(entryPoints: ["web"])
        compiler.defaultTransport = transport
        let plain = compiler.compile(Self.configuration(serverURL: "http://127.0.0.1:9"), version: 1)
        #expect(plain.status.issues.isEmpty, "\(plain.status.issues)")
        #expect(!transport.contextsMade, "http:// servers only: no trust roots loaded")
        let secure = compiler.compile(Self.configuration(serverURL: "https://127.0.0.1:9"), version: 2)
        #expect(secure.status.issues.isEmpty, "\(secure.status.issues)")
        #expect(transport.contextsMade, "made while compiling, not on an event loop at the first connection")
    }
}
