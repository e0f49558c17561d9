import Crypto
import _CryptoExtras
import Foundation
import Logging
import NIOConcurrencyHelpers
import SwiftASN1
import SwitchyardConfig
import SwitchyardProviderKit
import SwitchyardStore
import SwitchyardTLS
import X509

/// `certificatesResolvers.<name>.acme` in the static configuration.
public struct ACMEResolverOptions: Sendable, Hashable {
    public enum KeyType: String, Sendable, Hashable, CaseIterable {
        case ec256 = "EC256"
        case ec384 = "EC384"
        case rsa2048 = "RSA2048"
        case rsa3072 = "RSA3072"
        case rsa4096 = "RSA4096"
        case rsa8192 = "RSA8192"

        /// The modulus size of an RSA key type; nil for EC.
        var rsaBits: Int? {
            switch self {
            case .ec256, .ec384: return nil
            case .rsa2048: return 2048
            case .rsa3072: return 3072
            case .rsa4096: return 4096
            case .rsa8192: return 8192
            }
        }
    }

    public var name: String
    public var email: String
    public var caServer: String
    /// PEM files of CAs to trust for the CA's own HTTPS endpoint (and `LEGO_CA_CERTIFICATES`).
    public var caCertificates: [String]
    public var keyType: KeyType
    /// The entry point that answers HTTP-01 challenges (it must listen on port 80 as the CA sees it).
    public var httpChallengeEntryPoint: String?
    /// Answer TLS-ALPN-01 challenges (on port 443 as the CA sees it).
    public var tlsChallenge: Bool
    /// Traefik's `acme.json`: its certificates for this resolver are imported on start when the store has none.
    public var storage: String?

    public static let letsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

    public init(
        name: String, email: String = "", caServer: String = letsEncrypt, caCertificates: [String] = [],
        keyType: KeyType = .ec256, httpChallengeEntryPoint: String? = nil, tlsChallenge: Bool = false
    ) {
        self.name = name
        self.email = email
        self.caServer = caServer
        self.caCertificates = caCertificates
        self.keyType = keyType
        self.httpChallengeEntryPoint = httpChallengeEntryPoint
        self.tlsChallenge = tlsChallenge
    }
}

/// Obtains and renews certificates from ACME CAs for the hosts of routers that name a certificate resolver, keeps
/// them (and the accounts) in the store, and offers them to the routing tables as the `acme` provider's
/// `tls.certificates`. A certificate is renewed when a third of its lifetime is left; a failure is retried after a
/// back-off that doubles from one minute to a day, and shows in `/api/rawdata` meanwhile.
public final class ACMEManager: Provider {
    public let name = "acme"
    public let resolvers: [String: ACMEResolverOptions]
    let store: SwitchyardStore
    let challenges: ACMEChallenges
    let logger: Logger
    private let wanted = NIOLockedValueBox<[String: [[String]]]>([:])
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    /// The first retry after a failure; doubles each time up to `maximumBackoff`.
    static let firstBackoff: Duration = .seconds(60)
    static let maximumBackoff: Duration = .seconds(86_400)

    /// A certificate event: obtained, renewed or failed, with its resolver, domains and expiry or error.
    public struct CertificateEvent: Sendable, Encodable {
        public var event: String
        public var resolver: String
        public var domains: [String]
        public var notAfter: String?
        public var error: String?
    }

    /// Told of every certificate obtained, renewed or failed (the API's events).
    public let onCertificate: @Sendable (CertificateEvent) -> Void

    public init(
        resolvers: [ACMEResolverOptions], store: SwitchyardStore, challenges: ACMEChallenges, logger: Logger,
        onCertificate: @escaping @Sendable (CertificateEvent) -> Void = { _ in }
    ) {
        self.onCertificate = onCertificate
        self.resolvers = Dictionary(resolvers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.challenges = challenges
        self.logger = logger
        (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The domain sets the routers of a new configuration need, by resolver; the manager obtains what is missing.
    public func want(_ sets: [String: [[String]]]) {
        let changed = wanted.withLockedValue { current in
            defer { current = sets }
            return current != sets
        }
        if changed { wake.yield() }
    }

    public func run(sending updates: ProviderUpdates) async throws {
        var state = State()
        for resolver in resolvers.values.sorted(by: { $0.name < $1.name }) {
            if let storage = resolver.storage { importTraefikStorage(storage, resolver: resolver.name) }
        }
        await updates.send(snapshot(state))
        wake.yield()
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        for await _ in wakes {
            if Task.isCancelled { break }
            let desired = wanted.withLockedValue { $0 }
            var changed = false
            for (resolverName, sets) in desired.sorted(by: { $0.key < $1.key }) {
                for domains in sets {
                    if Task.isCancelled { return }
                    guard let resolver = resolvers[resolverName] else { continue }
                    changed = await obtainIfNeeded(domains, resolver: resolver, state: &state) || changed
                }
            }
            if changed { await updates.send(snapshot(state)) }
            timer?.cancel()
            let delay = nextWake(state, desired: desired)
            let wake = self.wake
            timer = Task {
                do { try await Task.sleep(for: delay) } catch { return }
                wake.yield()
            }
        }
    }

    struct State {
        struct Failure {
            var attempts: Int
            var retryAt: ContinuousClock.Instant
            var message: String
        }

        var failures: [String: Failure] = [:]
    }

    static func key(_ resolver: String, _ domains: [String]) -> String { resolver + "|" + domains.joined(separator: ",") }

    /// The stored certificate that covers `domains`, if any.
    func stored(_ domains: [String], resolver: String) -> SwitchyardStore.StoredCertificate? {
        let wanted = Set(domains)
        return (try? store.certificates())?.first { $0.resolver == resolver && wanted.isSubset(of: Set($0.domains)) }
    }

    /// When a certificate is due: a third of its lifetime before it ends.
    static func renewalDate(of certificate: SwitchyardStore.StoredCertificate) -> Date {
        guard let parsed = try? ServingCertificate(certificate: certificate.certificatePEM, key: certificate.keyPEM) else {
            return .distantPast
        }
        let lifetime = parsed.notAfter.timeIntervalSince(parsed.notBefore)
        return parsed.notAfter - lifetime / 3
    }

    /// Obtains a certificate for `domains` unless a valid one is stored or the last failure is too recent.
    /// Returns whether the stored certificates or the failures changed.
    func obtainIfNeeded(_ domains: [String], resolver: ACMEResolverOptions, state: inout State) async -> Bool {
        let key = Self.key(resolver.name, domains)
        let existing = stored(domains, resolver: resolver.name)
        if let existing, Self.renewalDate(of: existing) > Date() { return false }
        if let failure = state.failures[key], failure.retryAt > .now { return false }
        let renewing = existing != nil
        logger.info(
            renewing ? "renewing a certificate" : "obtaining a certificate",
            metadata: ["resolver": "\(resolver.name)", "domains": "\(domains.joined(separator: ","))"])
        do {
            let certificate = try await obtain(domains, resolver: resolver)
            try store.save(certificate)
            state.failures[key] = nil
            onCertificate(CertificateEvent(
                event: renewing ? "renewed" : "obtained", resolver: resolver.name, domains: domains,
                notAfter: InternetTime.rfc3339(certificate.notAfter.timeIntervalSince1970), error: nil))
            logger.info(
                "certificate obtained",
                metadata: ["resolver": "\(resolver.name)", "domains": "\(domains.joined(separator: ","))",
                           "notAfter": "\(certificate.notAfter)"])
        } catch {
            let attempts = (state.failures[key]?.attempts ?? 0) + 1
            var backoff = Self.firstBackoff
            for _ in 1..<attempts where backoff < Self.maximumBackoff { backoff = min(backoff * 2, Self.maximumBackoff) }
            let message = "certificate resolver \(resolver.name): cannot obtain a certificate for \(domains.joined(separator: ", ")): \(error); next try in \(backoff.components.seconds)s"
            state.failures[key] = State.Failure(attempts: attempts, retryAt: .now + backoff, message: message)
            onCertificate(CertificateEvent(event: "failed", resolver: resolver.name, domains: domains, notAfter: nil, error: message))
            logger.error("\(message)")
        }
        return true
    }

    func nextWake(_ state: State, desired: [String: [[String]]]) -> Duration {
        var earliest = Date() + 86_400
        for (resolver, sets) in desired {
            for domains in sets {
                if let existing = stored(domains, resolver: resolver) { earliest = min(earliest, Self.renewalDate(of: existing)) }
            }
        }
        var delay = Duration.seconds(max(1, earliest.timeIntervalSinceNow))
        for failure in state.failures.values {
            delay = min(delay, max(.seconds(1), failure.retryAt - .now))
        }
        return delay
    }

    /// The stored certificates as the `acme` provider's configuration, with the current failures as errors.
    func snapshot(_ state: State) -> ProviderSnapshot {
        var configuration = DynamicConfiguration()
        let certificates = ((try? store.certificates()) ?? []).filter { $0.notAfter > Date() }
        if !certificates.isEmpty {
            var tls = TLSConfiguration()
            tls.certificates = certificates.map { stored in
                var entry = TLSCertificateConfig()
                entry.certFile = stored.certificatePEM
                entry.keyFile = stored.keyPEM
                return entry
            }
            configuration.tls = tls
        }
        var issues = state.failures.values.map {
            ConfigurationIssue(at: SourceLocation(source: "certificatesResolvers"), message: $0.message)
        }.sorted { $0.message < $1.message }
        if let problem = store.problem { issues.append(ConfigurationIssue(at: SourceLocation(source: store.path), message: problem)) }
        return ProviderSnapshot(provider: name, configuration: configuration, issues: issues)
    }

    /// Imports the certificates Traefik kept for `resolver` in its acme.json (certificate and key as base64 PEM),
    /// once: only while the store holds none for the resolver. The account is not imported (a new one is made).
    func importTraefikStorage(_ path: String, resolver: String) {
        struct Resolver: Decodable { var Certificates: [Stored]? }
        struct Stored: Decodable {
            struct Domain: Decodable { var main: String; var sans: [String]? }
            var domain: Domain
            var certificate: String
            var key: String
        }
        guard let data = FileManager.default.contents(atPath: path) else { return }
        guard ((try? store.certificates()) ?? []).allSatisfy({ $0.resolver != resolver }) else { return }
        do {
            let file = try JSONDecoder().decode([String: Resolver].self, from: data)
            var imported = 0
            for stored in file[resolver]?.Certificates ?? [] {
                guard let certificate = Data(base64Encoded: stored.certificate).map({ String(decoding: $0, as: UTF8.self) }),
                    let key = Data(base64Encoded: stored.key).map({ String(decoding: $0, as: UTF8.self) })
                else { continue }
                let parsed = try ServingCertificate(certificate: certificate, key: key, source: path)
                try store.save(SwitchyardStore.StoredCertificate(
                    resolver: resolver, domains: [stored.domain.main] + (stored.domain.sans ?? []), certificatePEM: certificate,
                    keyPEM: key, notAfter: parsed.notAfter))
                imported += 1
            }
            logger.notice("imported certificates from Traefik's storage", metadata: ["file": "\(path)", "resolver": "\(resolver)", "certificates": "\(imported)"])
        } catch {
            logger.error("cannot import \(path): \(error)", metadata: ["resolver": "\(resolver)"])
        }
    }

    // MARK: - One order

    func obtain(_ domains: [String], resolver: ACMEResolverOptions) async throws -> SwitchyardStore.StoredCertificate {
        let client = try ACMEClient(directoryURL: resolver.caServer, trust: resolver.caCertificates)
        do {
            let certificate = try await order(domains, resolver: resolver, client: client)
            await client.shutdown()
            return certificate
        } catch {
            await client.shutdown()
            throw error
        }
    }

    private func order(_ domains: [String], resolver: ACMEResolverOptions, client: ACMEClient) async throws
        -> SwitchyardStore.StoredCertificate
    {
        let directory = try await client.directory()
        let accountKey: AccountKey
        let kid: String
        if let account = try store.account(resolver: resolver.name, caServer: resolver.caServer) {
            accountKey = try AccountKey(pem: account.keyPEM)
            kid = account.url
        } else {
            accountKey = AccountKey()
            kid = try await client.account(accountKey, directory: directory, email: resolver.email)
            try store.save(SwitchyardStore.StoredAccount(
                resolver: resolver.name, caServer: resolver.caServer, email: resolver.email, keyPEM: accountKey.pem, url: kid))
        }
        var (order, orderURL) = try await client.newOrder(domains, key: accountKey, kid: kid, directory: directory)
        for authorizationURL in order.authorizations {
            try await authorize(authorizationURL, resolver: resolver, client: client, key: accountKey, kid: kid, directory: directory)
        }
        let (csr, keyPEM) = try Self.signingRequest(domains, keyType: resolver.keyType)
        order = try await client.finalize(order.finalize, csr: csr, key: accountKey, kid: kid, directory: directory)
        for _ in 0..<120 where order.status != "valid" {
            if order.status == "invalid" {
                throw ACMEError(type: order.error?.type, detail: order.error?.detail ?? "the CA refused the order", status: nil)
            }
            try await Task.sleep(for: .milliseconds(500))
            order = try await client.order(orderURL, key: accountKey, kid: kid, directory: directory)
        }
        guard order.status == "valid", let certificateURL = order.certificate else {
            throw ACMEError(type: nil, detail: "the order did not become valid (status \(order.status))", status: nil)
        }
        let chain = try await client.download(certificateURL, key: accountKey, kid: kid, directory: directory)
        let parsed = try ServingCertificate(certificate: chain, key: keyPEM, source: "ACME \(resolver.name)")
        return SwitchyardStore.StoredCertificate(
            resolver: resolver.name, domains: domains, certificatePEM: chain, keyPEM: keyPEM, notAfter: parsed.notAfter)
    }

    /// Answers one authorization with the challenge the resolver is set up for, and waits for the CA's verdict.
    private func authorize(
        _ url: String, resolver: ACMEResolverOptions, client: ACMEClient, key: AccountKey, kid: String,
        directory: ACMEClient.Directory
    ) async throws {
        var authorization = try await client.authorization(url, key: key, kid: kid, directory: directory)
        if authorization.status == "valid" { return }
        let domain = authorization.identifier.value
        let wantedTypes = (resolver.tlsChallenge ? ["tls-alpn-01"] : []) + (resolver.httpChallengeEntryPoint != nil ? ["http-01"] : [])
        guard let challenge = wantedTypes.lazy.compactMap({ type in authorization.challenges.first { $0.type == type } }).first,
            let token = challenge.token
        else {
            throw ACMEError(
                type: nil,
                detail: "the CA offers no challenge this resolver answers (it offers \(authorization.challenges.map(\.type).joined(separator: ", ")); set httpChallenge.entryPoint or tlsChallenge)",
                status: nil)
        }
        let keyAuthorization = key.keyAuthorization(for: token)
        if challenge.type == "http-01" {
            challenges.publishHTTP(token: token, keyAuthorization: keyAuthorization)
        } else {
            try challenges.publishTLSALPN(domain: domain, keyAuthorization: keyAuthorization)
        }
        defer {
            if challenge.type == "http-01" {
                challenges.withdrawHTTP(token: token)
            } else {
                challenges.withdrawTLSALPN(domain: domain)
            }
        }
        try await client.respond(to: challenge.url, key: key, kid: kid, directory: directory)
        for _ in 0..<120 {
            authorization = try await client.authorization(url, key: key, kid: kid, directory: directory)
            if authorization.status == "valid" { return }
            if authorization.status == "invalid" {
                let failed = authorization.challenges.first { $0.type == challenge.type }?.error
                throw ACMEError(
                    type: failed?.type, detail: "the \(challenge.type) challenge for \(domain) failed: \(failed?.detail ?? "no detail")",
                    status: nil)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw ACMEError(type: nil, detail: "the CA did not decide the \(challenge.type) challenge for \(domain) in 60 s", status: nil)
    }

    /// A new private key and a CSR for the domains (the first is the subject's common name).
    static func signingRequest(_ domains: [String], keyType: ACMEResolverOptions.KeyType) throws -> ([UInt8], String) {
        let privateKey: Certificate.PrivateKey
        let pem: String
        let signatureAlgorithm: Certificate.SignatureAlgorithm
        switch keyType {
        case .ec256:
            let key = P256.Signing.PrivateKey()
            privateKey = .init(key)
            pem = key.pemRepresentation
            signatureAlgorithm = .ecdsaWithSHA256
        case .ec384:
            let key = P384.Signing.PrivateKey()
            privateKey = .init(key)
            pem = key.pemRepresentation
            signatureAlgorithm = .ecdsaWithSHA384
        case .rsa2048, .rsa3072, .rsa4096, .rsa8192:
            let key = try _RSA.Signing.PrivateKey(keySize: .init(bitCount: keyType.rsaBits ?? 2048))
            privateKey = .init(key)
            pem = key.pemRepresentation
            signatureAlgorithm = .sha256WithRSAEncryption
        }
        let subject = try DistinguishedName { CommonName(domains[0]) }
        let extensions = try Certificate.Extensions { SubjectAlternativeNames(domains.map { .dnsName($0) }) }
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: privateKey,
            attributes: CertificateSigningRequest.Attributes([try .init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: signatureAlgorithm)
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        return (serializer.serializedBytes, pem)
    }

    /// The domain sets routers need, by resolver: each router's `tls.domains` (main and SANs), or else the hosts of
    /// its rule's `Host` matchers. `entryPointResolvers` gives the resolver of entry points whose `http.tls` names
    /// one, for routers that have no `tls` of their own.
    public static func domainSets(
        in configuration: DynamicConfiguration, entryPointResolvers: [String: String], defaultEntryPoints: [String]
    ) -> [String: [[String]]] {
        var sets: [String: Set<[String]>] = [:]
        for (_, router) in configuration.http?.routers ?? [:] {
            var resolver = router.tls?.certResolver
            if router.tls == nil {
                resolver = (router.entryPoints ?? defaultEntryPoints).lazy.compactMap { entryPointResolvers[$0] }.first
            }
            guard let resolver, !resolver.isEmpty else { continue }
            if let domains = router.tls?.domains, !domains.isEmpty {
                for domain in domains {
                    let names = ([domain.main].compactMap { $0 } + (domain.sans ?? [])).map { $0.lowercased() }
                    if !names.isEmpty { sets[resolver, default: []].insert(names) }
                }
                continue
            }
            guard let rule = router.rule, let expression = try? RuleParser.parse(rule) else { continue }
            var seen = Set<String>()
            let hosts = expression.hosts.filter { !$0.contains("*") && seen.insert($0).inserted }
            if !hosts.isEmpty { sets[resolver, default: []].insert(hosts) }
        }
        return sets.mapValues { $0.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") } }
    }
}
