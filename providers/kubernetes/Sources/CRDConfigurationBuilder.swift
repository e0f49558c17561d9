import Foundation
import SwitchyardConfig
import SwitchyardProviderKit

/// Turns IngressRoutes, Middlewares and TraefikServices (group `switchyard.dev/v1alpha1`, or Traefik's
/// `traefik.io/v1alpha1`) into the `kubernetescrd` provider's configuration, with Traefik's shapes and names:
/// resources are named `<namespace>-<name>`; references to another namespace need `allowCrossNamespace`.
struct CRDConfigurationBuilder {
    static let providerName = "kubernetescrd"

    var allowCrossNamespace = false
    var routes: [IngressRoute]
    var middlewares: [MiddlewareObject]
    var traefikServices: [TraefikServiceObject]
    var tlsOptions: [TLSOptionObject] = []
    var serversTransports: [ServersTransportObject] = []
    var servers: ServiceServers
    var secrets: [String: Secret]

    private var configuration = DynamicConfiguration()
    private var origins: [ResourceKey: SourceLocation] = [:]
    private var issues: [ConfigurationIssue] = []
    private var rejected: [ResourceKey: ConfigurationIssue] = [:]

    init(
        allowCrossNamespace: Bool, routes: [IngressRoute], middlewares: [MiddlewareObject],
        traefikServices: [TraefikServiceObject], servers: ServiceServers, secrets: [String: Secret]
    ) {
        self.allowCrossNamespace = allowCrossNamespace
        self.routes = routes
        self.middlewares = middlewares
        self.traefikServices = traefikServices
        self.servers = servers
        self.secrets = secrets
    }

    mutating func build() -> ProviderSnapshot {
        var http = HTTPConfiguration()
        http.routers = [:]
        http.services = [:]
        http.middlewares = [:]
        configuration.http = http
        for middleware in middlewares.sorted(by: { $0.key < $1.key }) { add(middleware) }
        for service in traefikServices.sorted(by: { $0.key < $1.key }) { add(service) }
        for option in tlsOptions.sorted(by: { $0.key < $1.key }) { add(option) }
        for transport in serversTransports.sorted(by: { $0.key < $1.key }) { add(transport) }
        for route in routes.sorted(by: { $0.key < $1.key }) { add(route) }
        return ProviderSnapshot(
            provider: Self.providerName, configuration: configuration, origins: origins, issues: issues, rejected: rejected)
    }

    static func name(_ namespace: String, _ name: String) -> String {
        IngressConfigurationBuilder.name(namespace, name)
    }

    private mutating func fail(_ object: some KubernetesObject, _ field: String, _ message: String) {
        issues.append(ConfigurationIssue(at: SourceLocation(source: object.reference), keyPath: field, message: message))
    }

    /// The namespace a reference points into, or nil (with an error) when it crosses namespaces without leave.
    private mutating func namespace(of reference: String?, from object: some KubernetesObject, field: String) -> String? {
        let home = object.metadata.namespace ?? "default"
        guard let namespace = reference, !namespace.isEmpty, namespace != home else { return home }
        guard allowCrossNamespace else {
            fail(object, field, "the reference to namespace \(namespace) is refused: allowCrossNamespace is off")
            return nil
        }
        return namespace
    }

    // MARK: Middlewares

    private mutating func add(_ object: MiddlewareObject) {
        let home = object.metadata.namespace ?? "default"
        let name = Self.name(home, object.metadata.name)
        let source = SourceLocation(source: object.reference)
        origins[ResourceKey(.httpMiddleware, name)] = source
        guard var spec = object.spec, case .object(var fields) = spec else {
            return reject(object, name, ConfigurationIssue(at: source, keyPath: "spec", message: "the Middleware has no spec"))
        }
        // Traefik's CRD shapes that differ from the file provider's.
        if case .object(var chain)? = fields["chain"], case .array(let names)? = chain["middlewares"] {
            // `chain.middlewares` are references ({name, namespace}) to Middlewares.
            var qualified: [JSONValue] = []
            for (index, entry) in names.enumerated() {
                guard case .string(let target)? = entry["name"] else { continue }
                if target.contains("@") {
                    qualified.append(.string(target))
                    continue
                }
                guard case let ns? = self.namespace(of: entry["namespace"].flatMap { if case .string(let s) = $0 { s } else { nil } },
                                                from: object, field: "spec.chain.middlewares[\(index)].namespace")
                else { continue }
                qualified.append(.string(Self.name(ns, target)))
            }
            chain["middlewares"] = .array(qualified)
            fields["chain"] = .object(chain)
        }
        for kind in ["basicAuth", "digestAuth"] {
            // `basicAuth.secret` / `digestAuth.secret`: a Secret whose `users` (htpasswd lines) are the users.
            guard case .object(var auth)? = fields[kind], case .string(let secretName)? = auth["secret"] else { continue }
            auth["secret"] = nil
            guard let users = secrets["\(home)/\(secretName)"]?.value("users") else {
                return reject(object, name, ConfigurationIssue(
                    at: source, keyPath: "spec.\(kind).secret", message: "the Secret \(home)/\(secretName) has no users"))
            }
            auth["users"] = .array(users.split(whereSeparator: \.isNewline).map { .string(String($0)) })
            fields[kind] = .object(auth)
        }
        if case .object(var errors)? = fields["errors"], case .object = errors["service"] {
            // `errors.service` names a Service port (or a TraefikService), as an IngressRoute's services do.
            guard let data = try? JSONEncoder().encode(errors["service"]),
                let reference = try? JSONDecoder().decode(BackendReference.self, from: data)
            else {
                return reject(object, name, ConfigurationIssue(
                    at: source, keyPath: "spec.errors.service", message: "expected {name, namespace, port, kind}"))
            }
            guard let service = service(reference, from: object, field: "spec.errors.service") else { return }
            errors["service"] = .string(service)
            fields["errors"] = .object(errors)
        }
        spec = .object(fields)
        do {
            configuration.http?.middlewares?[name] = try Self.decode(Middleware.self, spec, object)
        } catch {
            reject(object, name, error)
        }
    }

    /// Decodes a CRD's spec as the file provider's options of the same name, with the object as the source.
    static func decode<T: Decodable>(_ type: T.Type, _ spec: JSONValue, _ object: some KubernetesObject) throws(ConfigurationIssue) -> T {
        let source = SourceLocation(source: object.reference)
        do {
            let text = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
            let node = try ConfigDocument.parse(text, source: object.reference, format: .json)
            return try ConfigNodeDecoder.decode(T.self, from: node, keyPath: ["spec"])
        } catch let issue as ConfigurationIssue {
            throw ConfigurationIssue(at: source, keyPath: issue.keyPath, message: issue.message)
        } catch {
            throw ConfigurationIssue(at: source, keyPath: "spec", message: "\(error)")
        }
    }

    /// The PEM of a CA Secret (`tls.ca` or `ca.crt`), or nil.
    func caCertificate(_ namespace: String, _ name: String) -> String? {
        secrets["\(namespace)/\(name)"].flatMap { $0.value("tls.ca") ?? $0.value("ca.crt") }
    }

    // MARK: TLSOption and ServersTransport

    /// `tls.options.<namespace>-<name>`: the file provider's TLS options; `clientAuth.secretNames` are CA Secrets.
    private mutating func add(_ object: TLSOptionObject) {
        let namespace = object.metadata.namespace ?? "default"
        let name = Self.name(namespace, object.metadata.name)
        guard case .object(var fields)? = object.spec else {
            return fail(object, "spec", "the TLSOption has no spec")
        }
        if case .object(var auth)? = fields["clientAuth"], case .array(let names)? = auth["secretNames"] {
            var files: [JSONValue] = []
            for (index, entry) in names.enumerated() {
                guard case .string(let secret) = entry, let pem = caCertificate(namespace, secret) else {
                    return fail(object, "spec.clientAuth.secretNames[\(index)]", "the Secret names no CA (tls.ca or ca.crt)")
                }
                files.append(.string(pem))
            }
            auth["secretNames"] = nil
            auth["caFiles"] = .array(files)
            fields["clientAuth"] = .object(auth)
        }
        do {
            let options = try Self.decode(TLSOptions.self, .object(fields), object)
            var tls = configuration.tls ?? TLSConfiguration()
            tls.options = (tls.options ?? [:]).merging([name: options]) { first, _ in first }
            configuration.tls = tls
        } catch {
            issues.append(error)
        }
    }

    /// `http.serversTransports.<namespace>-<name>`: the file provider's options; `rootCAsSecrets` (or `rootCAs`
    /// entries `{secret: name}`) name CA Secrets, `certificatesSecrets` client certificates.
    private mutating func add(_ object: ServersTransportObject) {
        let namespace = object.metadata.namespace ?? "default"
        let name = Self.name(namespace, object.metadata.name)
        guard case .object(var fields)? = object.spec else {
            return fail(object, "spec", "the ServersTransport has no spec")
        }
        var roots: [JSONValue] = []
        var secretNames: [(String, String)] = []
        if case .array(let names)? = fields["rootCAsSecrets"] {
            for (index, entry) in names.enumerated() { if case .string(let secret) = entry { secretNames.append((secret, "spec.rootCAsSecrets[\(index)]")) } }
        }
        if case .array(let entries)? = fields["rootCAs"] {
            for (index, entry) in entries.enumerated() {
                if case .string(let secret)? = entry["secret"] { secretNames.append((secret, "spec.rootCAs[\(index)].secret")) }
            }
        }
        for (secret, field) in secretNames {
            guard let pem = caCertificate(namespace, secret) else {
                return fail(object, field, "the Secret \(namespace)/\(secret) holds no CA (tls.ca or ca.crt)")
            }
            roots.append(.string(pem))
        }
        fields["rootCAsSecrets"] = nil
        fields["rootCAs"] = roots.isEmpty ? nil : .array(roots)
        if case .array(let names)? = fields["certificatesSecrets"] {
            var certificates: [JSONValue] = []
            for (index, entry) in names.enumerated() {
                guard case .string(let secret) = entry, let found = secrets["\(namespace)/\(secret)"],
                    let certificate = found.value("tls.crt"), let key = found.value("tls.key")
                else {
                    return fail(object, "spec.certificatesSecrets[\(index)]", "the Secret has no tls.crt and tls.key")
                }
                certificates.append(.object(["certFile": .string(certificate), "keyFile": .string(key)]))
            }
            fields["certificatesSecrets"] = nil
            fields["certificates"] = .array(certificates)
        }
        do {
            let transport = try Self.decode(ServersTransport.self, .object(fields), object)
            var transports = configuration.http?.serversTransports ?? [:]
            if transports[name] == nil { transports[name] = transport }
            configuration.http?.serversTransports = transports
            origins[ResourceKey(.httpServersTransport, name)] = SourceLocation(source: object.reference)
        } catch {
            issues.append(error)
        }
    }

    private mutating func reject(_ object: MiddlewareObject, _ name: String, _ issue: ConfigurationIssue) {
        issues.append(issue)
        rejected[ResourceKey(.httpMiddleware, name)] = issue
    }

    // MARK: Services

    /// The service for a backend: a TraefikService by its name, or a load balancer over a Service port named
    /// `<namespace>-<service>-<port>`; nil (with an error) when it cannot be made.
    private mutating func service(_ backend: BackendReference, from object: some KubernetesObject, field: String) -> String? {
        guard let namespace = namespace(of: backend.namespace, from: object, field: field + ".namespace") else { return nil }
        if backend.kind == "TraefikService" {
            if backend.name.contains("@") { return backend.name }
            return Self.name(namespace, backend.name)
        }
        guard backend.kind == nil || backend.kind == "Service" else {
            fail(object, field + ".kind", "unknown kind \"\(backend.kind ?? "")\" (Service or TraefikService)")
            return nil
        }
        let found: (servers: [LoadBalancerServer], portLabel: String)
        do {
            found = try servers.servers(namespace: namespace, name: backend.name, port: backend.port, scheme: backend.scheme)
        } catch {
            fail(object, field + "." + error.field, error.message)
            return nil
        }
        var balancer = LoadBalancerService()
        balancer.servers = found.servers
        balancer.passHostHeader = backend.passHostHeader
        balancer.serversTransport = backend.serversTransport.map { $0.contains("@") ? $0 : Self.name(namespace, $0) }
        balancer.strategy = backend.strategy
        var definition = HTTPService()
        definition.loadBalancer = balancer
        let name = IngressConfigurationBuilder.name(namespace, backend.name, found.portLabel)
        if let existing = configuration.http?.services?[name], existing != definition {
            // The same Service port with other options: a name of its own.
            let variant = "\(name)-\(Self.hash("\(definition)"))"
            configuration.http?.services?[variant] = definition
            return variant
        }
        configuration.http?.services?[name] = definition
        return name
    }

    /// A weighted service over backends, named `name`.
    private mutating func weighted(
        _ name: String, _ backends: [BackendReference], from object: some KubernetesObject, field: String,
        options: TraefikServiceObject.Spec.Weighted? = nil
    ) -> String? {
        var children: [WeightedServiceRef] = []
        for (index, backend) in backends.enumerated() {
            guard let child = service(backend, from: object, field: "\(field)[\(index)]") else { return nil }
            var entry = WeightedServiceRef()
            entry.name = child
            entry.weight = backend.weight ?? 1
            children.append(entry)
        }
        var weighted = WeightedService()
        weighted.services = children
        weighted.sticky = options?.sticky
        weighted.healthCheck = options?.healthCheck
        var definition = HTTPService()
        definition.weighted = weighted
        configuration.http?.services?[name] = definition
        return name
    }

    private mutating func add(_ object: TraefikServiceObject) {
        let namespace = object.metadata.namespace ?? "default"
        let name = Self.name(namespace, object.metadata.name)
        origins[ResourceKey(.httpService, name)] = SourceLocation(source: object.reference)
        if let weighted = object.spec?.weighted {
            _ = self.weighted(name, weighted.services ?? [], from: object, field: "spec.weighted.services", options: weighted)
        } else if let mirroring = object.spec?.mirroring {
            let main = BackendReference(name: mirroring.name, namespace: mirroring.namespace, kind: mirroring.kind, port: mirroring.port)
            guard let mainService = service(main, from: object, field: "spec.mirroring") else { return }
            var mirrors: [MirrorRef] = []
            for (index, mirror) in (mirroring.mirrors ?? []).enumerated() {
                let reference = BackendReference(name: mirror.name, namespace: mirror.namespace, kind: mirror.kind, port: mirror.port)
                guard let target = service(reference, from: object, field: "spec.mirroring.mirrors[\(index)]") else { return }
                var entry = MirrorRef()
                entry.name = target
                entry.percent = mirror.percent ?? 0
                mirrors.append(entry)
            }
            var definition = HTTPService()
            var spec = MirroringService()
            spec.service = mainService
            spec.mirrors = mirrors
            spec.mirrorBody = mirroring.mirrorBody
            spec.maxBodySize = mirroring.maxBodySize
            spec.healthCheck = mirroring.healthCheck
            definition.mirroring = spec
            configuration.http?.services?[name] = definition
        } else {
            fail(object, "spec", "the TraefikService has neither weighted nor mirroring")
        }
    }

    // MARK: IngressRoutes

    private mutating func add(_ object: IngressRoute) {
        let namespace = object.metadata.namespace ?? "default"
        for (index, route) in (object.spec?.routes ?? []).enumerated() {
            let field = "spec.routes[\(index)]"
            guard let match = route.match, !match.isEmpty else {
                fail(object, field + ".match", "the route has no match rule")
                continue
            }
            if let kind = route.kind, kind != "Rule" {
                fail(object, field + ".kind", "unknown kind \"\(kind)\" (Rule)")
                continue
            }
            let name = "\(Self.name(namespace, object.metadata.name))-\(Self.hash(match))"
            var router = Router()
            router.rule = match
            router.priority = route.priority
            router.entryPoints = object.spec?.entryPoints
            var middlewareNames: [String] = []
            for (position, reference) in (route.middlewares ?? []).enumerated() {
                if reference.name.contains("@") {
                    middlewareNames.append(reference.name)
                    continue
                }
                guard let ns = self.namespace(of: reference.namespace, from: object, field: "\(field).middlewares[\(position)].namespace")
                else { continue }
                middlewareNames.append(Self.name(ns, reference.name))
            }
            if !middlewareNames.isEmpty { router.middlewares = middlewareNames }
            let backends = route.services ?? []
            guard !backends.isEmpty else {
                fail(object, field + ".services", "the route has no service")
                continue
            }
            let serviceName = backends.count == 1 && backends[0].weight == nil
                ? service(backends[0], from: object, field: field + ".services[0]")
                : weighted(name, backends, from: object, field: field + ".services")
            guard let serviceName else { continue }
            router.service = serviceName
            if let tls = object.spec?.tls {
                var routerTLS = RouterTLS()
                routerTLS.certResolver = tls.certResolver
                if let options = tls.options, let ns = self.namespace(of: options.namespace, from: object, field: "spec.tls.options.namespace") {
                    routerTLS.options = options.name.contains("@") ? options.name : Self.name(ns, options.name)
                }
                if let domains = tls.domains {
                    routerTLS.domains = domains.map { domain in
                        var entry = TLSDomain()
                        entry.main = domain.main
                        entry.sans = domain.sans
                        return entry
                    }
                }
                router.tls = routerTLS
            }
            configuration.http?.routers?[name] = router
            origins[ResourceKey(.httpRouter, name)] = SourceLocation(source: object.reference)
        }
        if let secretName = object.spec?.tls?.secretName {
            guard let secret = secrets["\(namespace)/\(secretName)"], let certificate = secret.value("tls.crt"),
                let key = secret.value("tls.key")
            else {
                return fail(object, "spec.tls.secretName", "the Secret \(namespace)/\(secretName) does not exist or has no tls.crt and tls.key")
            }
            var tls = configuration.tls ?? TLSConfiguration()
            var entry = TLSCertificateConfig()
            entry.certFile = certificate
            entry.keyFile = key
            if !(tls.certificates ?? []).contains(entry) { tls.certificates = (tls.certificates ?? []) + [entry] }
            configuration.tls = tls
        }
    }

    /// A short stable hash (FNV-1a, hex) for names made from content.
    static func hash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(String(hash, radix: 16).prefix(10))
    }
}
