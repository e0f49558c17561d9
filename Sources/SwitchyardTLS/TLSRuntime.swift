import NIOCore
import NIOSSL
import SwitchyardConfig

/// The TLS side of one routing table: the certificates, one server context per TLS option, and which option each
/// host uses. Immutable; swapped with the table, so a new certificate serves the next handshake.
public final class TLSRuntime: Sendable {
    /// A compiled TLS option.
    public struct Option: Sendable {
        public let name: String
        public let context: NIOSSLContext
        /// `RequestClientCert` and `RequireAnyClientCert`: the client's certificate is asked for but not verified.
        public let acceptsAnyClientCertificate: Bool
        public let sniStrict: Bool
        /// `h2` is among the protocols ALPN offers.
        public let offersHTTP2: Bool
    }

    public enum Decision: Sendable {
        case handshake(Option)
        /// `sniStrict` and the client named no host or one no certificate is for.
        case refuse(String)
    }

    public let store: CertificateStore
    public let options: [String: Option]
    /// Lowercased host (from the `Host` matchers of TLS routers) → option name.
    public let hostOptions: [String: String]

    public init(store: CertificateStore, options: [String: Option], hostOptions: [String: String]) {
        self.store = store
        self.options = options
        self.hostOptions = hostOptions
    }

    /// How to answer a ClientHello: the option of the host it names (else `default`), and whether to refuse it.
    public func decide(serverName: String?) -> Decision {
        var name = serverName?.lowercased() ?? ""
        if name.hasSuffix(".") { name.removeLast() }
        let optionName = hostOptions[name] ?? "default"
        guard let option = options[optionName] ?? options["default"] else {
            return .refuse("no TLS option is available")
        }
        if option.sniStrict {
            guard !name.isEmpty else { return .refuse("sniStrict: the client sent no server name") }
            guard store.certificate(for: name) != nil else {
                return .refuse("sniStrict: no certificate for \(name)")
            }
        }
        return .handshake(option)
    }

    /// A runtime with the generated default certificate and the default option only.
    public static func fallback() -> TLSRuntime {
        let store = CertificateStore(certificates: [])
        // The built-in default option always builds.
        let option = try! TLSOptionsCompiler.option(named: "default", TLSOptions(), store: store)
        return TLSRuntime(store: store, options: ["default": option], hostOptions: [:])
    }
}

/// Builds `TLSRuntime.Option`s from Traefik's TLS options.
public enum TLSOptionsCompiler {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The option key at fault, e.g. `minVersion`.
        public var key: String
        public var message: String
        public var description: String { "\(key): \(message)" }
    }

    /// ALPN offered when an option lists none, as Traefik's default (less `acme-tls/1`, which only challenges use).
    public static let defaultALPN = ["h2", "http/1.1"]

    public static func option(named name: String, _ options: TLSOptions, store: CertificateStore) throws(Failure)
        -> TLSRuntime.Option
    {
        let fallback = store.defaultCertificate
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: fallback.chain.map { .certificate($0) }, privateKey: .privateKey(fallback.key))
        configuration.minimumTLSVersion = try version(options.minVersion, key: "minVersion") ?? .tlsv12
        configuration.maximumTLSVersion = try version(options.maxVersion, key: "maxVersion")
        try applyCipherSuites(options.cipherSuites, to: &configuration)
        if let curves = options.curvePreferences, !curves.isEmpty {
            var values: [NIOTLSCurve] = []
            for curve in curves {
                guard let code = curveCodes[curve.uppercased()] else {
                    throw Failure(key: "curvePreferences", message: "unknown curve '\(curve)'; use CurveP256, CurveP384, CurveP521 or X25519")
                }
                values.append(NIOTLSCurve(rawValue: code))
            }
            configuration.curves = values
        }
        let alpn = (options.alpnProtocols ?? defaultALPN).filter { $0 != "acme-tls/1" }
        for proto in alpn where !["h2", "http/1.1", "http/1.0"].contains(proto) {
            throw Failure(key: "alpnProtocols", message: "'\(proto)' is not served; use h2 and http/1.1")
        }
        configuration.applicationProtocols = alpn
        var acceptsAny = false
        if let auth = options.clientAuth {
            let caFiles = auth.caFiles ?? []
            let type = auth.clientAuthType ?? (caFiles.isEmpty ? "NoClientCert" : "VerifyClientCertIfGiven")
            var roots: [NIOSSLCertificate] = []
            for file in caFiles {
                do {
                    let pem = try ServingCertificate.content(of: file, what: "CA")
                    roots += try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
                } catch {
                    throw Failure(key: "clientAuth.caFiles", message: "\(error)")
                }
            }
            if !roots.isEmpty { configuration.trustRoots = .certificates(roots) }
            switch type {
            case "NoClientCert":
                configuration.certificateVerification = .none
            case "RequestClientCert":
                configuration.certificateVerification = .optionalVerification
                acceptsAny = true
            case "RequireAnyClientCert":
                configuration.certificateVerification = .noHostnameVerification
                acceptsAny = true
            case "VerifyClientCertIfGiven", "RequireAndVerifyClientCert":
                guard !roots.isEmpty else {
                    throw Failure(key: "clientAuth.caFiles", message: "\(type) needs caFiles to verify client certificates with")
                }
                configuration.certificateVerification = type == "VerifyClientCertIfGiven" ? .optionalVerification : .noHostnameVerification
                configuration.sendCANameList = true
            default:
                throw Failure(
                    key: "clientAuth.clientAuthType",
                    message: "unknown '\(type)'; use NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert")
            }
        }
        configuration.sslContextCallback = { values, promise in
            let certificate = store.certificate(for: values.serverHostname) ?? store.defaultCertificate
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = certificate.chain.map { .certificate($0) }
            override.privateKey = .privateKey(certificate.key)
            promise.succeed(override)
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw Failure(key: "", message: "the TLS library refused the option: \(error)")
        }
        return TLSRuntime.Option(
            name: name, context: context, acceptsAnyClientCertificate: acceptsAny, sniStrict: options.sniStrict ?? false,
            offersHTTP2: alpn.contains("h2"))
    }

    /// `cipherSuites` by Go's names (TLS 1.2 suites; TLS 1.3's are always on, as in Go).
    public static func applyCipherSuites(_ suites: [String]?, to configuration: inout NIOSSL.TLSConfiguration) throws(Failure) {
        guard let suites, !suites.isEmpty else { return }
        var values: [NIOTLSCipher] = []
        for suite in suites {
            guard let code = cipherCodes[suite.uppercased()] else {
                throw Failure(key: "cipherSuites", message: "unknown cipher suite '\(suite)'")
            }
            if let code { values.append(NIOTLSCipher(rawValue: code)) }
        }
        if !values.isEmpty { configuration.cipherSuiteValues = values }
    }

    public static func version(_ text: String?, key: String) throws(Failure) -> TLSVersion? {
        guard let text, !text.isEmpty else { return nil }
        switch text {
        case "VersionTLS10": return .tlsv1
        case "VersionTLS11": return .tlsv11
        case "VersionTLS12": return .tlsv12
        case "VersionTLS13": return .tlsv13
        default: throw Failure(key: key, message: "unknown TLS version '\(text)'; use VersionTLS10, VersionTLS11, VersionTLS12 or VersionTLS13")
        }
    }

    /// Go's cipher suite names (as Traefik takes them) → IANA codes; TLS 1.3 suites are not configurable (nil).
    static let cipherCodes: [String: UInt16?] = [
        "TLS_RSA_WITH_AES_128_CBC_SHA": 0x002F, "TLS_RSA_WITH_AES_256_CBC_SHA": 0x0035,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": 0x009C, "TLS_RSA_WITH_AES_256_GCM_SHA384": 0x009D,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": 0xC00A,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": 0xC013, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": 0xC014,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 0xC02C,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xC02F, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xC030,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA8,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA9,
        "TLS_AES_128_GCM_SHA256": nil, "TLS_AES_256_GCM_SHA384": nil, "TLS_CHACHA20_POLY1305_SHA256": nil,
    ]

    static let curveCodes: [String: UInt16] = [
        "CURVEP256": 0x17, "SECP256R1": 0x17, "P-256": 0x17, "CURVEP384": 0x18, "SECP384R1": 0x18, "P-384": 0x18,
        "CURVEP521": 0x19, "SECP521R1": 0x19, "P-521": 0x19, "X25519": 0x1D, "X25519MLKEM768": 0x11EC,
    ]
}
