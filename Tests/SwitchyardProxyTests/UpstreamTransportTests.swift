import SwitchyardConfig
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
}
