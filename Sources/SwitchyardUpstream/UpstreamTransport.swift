import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SwitchyardConfig
import SwitchyardTLS

/// How the proxy reaches the servers of a load balancer (`serversTransport`): the TLS client settings for
/// `https://` servers. `h2c://` servers are spoken to in HTTP/2 with prior knowledge.
public final class UpstreamTransport: Sendable, Hashable {
    public let name: String
    /// Identity of the connections made with this transport (its name and definition): a changed definition does
    /// not reuse connections made with the old one.
    public let key: String
    /// Whether `https://` servers are offered `h2` first by ALPN (all but `disableHTTP2`).
    public let negotiatesHTTP2: Bool
    /// The TLS client settings the contexts are made from.
    private let configuration: NIOSSL.TLSConfiguration
    /// The contexts, made for the first `https://` server (the compiler asks for them, off the event loops): each
    /// one loads the trust roots (the system's bundle is about a megabyte in memory), which a proxy of `http://`
    /// servers never needs. A failure is kept too: it is not retried on every connection.
    private let contexts = NIOLockedValueBox<Result<Contexts, any Error>?>(nil)

    private struct Contexts {
        let http1: NIOSSLContext
        let negotiating: NIOSSLContext?
    }
    /// SNI and the name the server's certificate is checked against; nil for the server's host.
    public let serverName: String?
    /// The timeouts and idle-connection limit of a named transport; nil for the default transport, whose settings
    /// are the static `serversTransport`'s (the pool's).
    public let forwarding: Forwarding?

    /// `forwardingTimeouts` and `maxIdleConnsPerHost` of a named transport, unset ones at Traefik's defaults.
    public struct Forwarding: Sendable, Hashable {
        public var dialTimeout: TimeAmount
        /// nil: no limit on the wait for the response head.
        public var responseHeaderTimeout: TimeAmount?
        public var idleConnTimeout: TimeAmount
        public var maxIdleConnsPerHost: Int

        init(_ definition: ServersTransport) {
            let timeouts = definition.forwardingTimeouts
            dialTimeout = .nanoseconds(max(0, timeouts?.dialTimeout?.nanoseconds ?? 30_000_000_000))
            responseHeaderTimeout = timeouts?.responseHeaderTimeout.flatMap { $0.nanoseconds > 0 ? .nanoseconds($0.nanoseconds) : nil }
            idleConnTimeout = .nanoseconds(max(0, timeouts?.idleConnTimeout?.nanoseconds ?? 90_000_000_000))
            maxIdleConnsPerHost = definition.maxIdleConnsPerHost.map { $0 > 0 ? $0 : 200 } ?? 200
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var key: String
        public var message: String
        public var description: String { "\(key): \(message)" }
    }

    /// The transport of load balancers that name none: the system's trust roots, full verification.
    public static let standard: UpstreamTransport = {
        // The default client configuration always builds.
        try! UpstreamTransport(name: "default", definition: ServersTransport(), named: false)
    }()

    /// `named`: a transport of `http.serversTransports`, with its own forwarding settings; else the default one.
    public init(name: String, definition: ServersTransport, named: Bool) throws(Failure) {
        var configuration: NIOSSL.TLSConfiguration
        do {
            let client = definition.certificates?.first
            configuration = try ClientTLS.configuration(
                roots: definition.rootCAs ?? [], rootsKey: "rootCAs",
                certificate: client.map { ($0.certFile ?? "", $0.keyFile ?? "") }, certificateKey: "certificates[0]",
                insecureSkipVerify: definition.insecureSkipVerify == true)
        } catch {
            throw Failure(key: error.key, message: error.message)
        }
        configuration.applicationProtocols = ["http/1.1"]
        do {
            if let minimum = try TLSOptionsCompiler.version(definition.minVersion, key: "minVersion") {
                configuration.minimumTLSVersion = minimum
            }
            configuration.maximumTLSVersion = try TLSOptionsCompiler.version(definition.maxVersion, key: "maxVersion")
            try TLSOptionsCompiler.applyCipherSuites(definition.cipherSuites, to: &configuration)
        } catch {
            throw Failure(key: error.key, message: error.message)
        }
        // Checked now, so that a refused setting is an error of the configuration; the trust roots are left out
        // of the check (custom ones were read above; the system's load with the contexts, see `tlsContext`).
        var check = configuration
        check.trustRoots = .certificates([])
        check.additionalTrustRoots = []
        do {
            _ = try NIOSSLContext(configuration: check)
        } catch {
            throw Failure(key: "", message: "the TLS library refused the settings: \(error)")
        }
        self.configuration = configuration
        self.negotiatesHTTP2 = definition.disableHTTP2 != true
        self.name = name
        self.serverName = definition.serverName.flatMap { $0.isEmpty ? nil : $0 }
        self.forwarding = named ? Forwarding(definition) : nil
        self.key = "\(name)#\(definition.hashValue)"
    }

    /// The TLS client context for `https://` servers: spoken to in HTTP/1.1, or (`negotiating`) offered `h2`
    /// first by ALPN, for servers not yet known to answer either way. Made on first use; throws when the TLS
    /// library cannot make it (the trust roots do not load).
    public func tlsContext(negotiating: Bool = false) throws -> NIOSSLContext {
        let result = contexts.withLockedValue { contexts in
            if let contexts { return contexts }
            let made = Result { () throws -> Contexts in
                var configuration = self.configuration
                let http1 = try NIOSSLContext(configuration: configuration)
                configuration.applicationProtocols = ["h2", "http/1.1"]
                return Contexts(http1: http1, negotiating: negotiatesHTTP2 ? try NIOSSLContext(configuration: configuration) : nil)
            }
            contexts = made
            return made
        }
        let made = try result.get()
        return negotiating ? made.negotiating ?? made.http1 : made.http1
    }

    /// Whether the contexts have been made, or tried (for tests).
    var contextsMade: Bool { contexts.withLockedValue { $0 != nil } }

    public static func == (lhs: UpstreamTransport, rhs: UpstreamTransport) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }
}
