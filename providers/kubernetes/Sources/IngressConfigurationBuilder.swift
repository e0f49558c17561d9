import Foundation
import SwitchyardConfig
import SwitchyardProviderKit

/// Turns Ingresses, their Services, EndpointSlices and TLS Secrets into the `kubernetes` provider's configuration,
/// as Traefik's Kubernetes Ingress provider does: one router per rule host and path, one load balancer per Service
/// port with the ready endpoints as servers. Errors name the object and the field.
struct IngressConfigurationBuilder {
    static let providerName = "kubernetes"
    static let controller = "switchyard.dev/ingress-controller"
    /// Traefik's controller name, so Traefik's IngressClass works too.
    static let traefikController = "traefik.io/ingress-controller"
    static let annotationPrefixes = ["switchyard.ingress.kubernetes.io/", "traefik.ingress.kubernetes.io/"]

    var ingressClass: String?
    var ingresses: [Ingress]
    var classes: [IngressClass]
    var services: [String: Service]
    var slices: [EndpointSlice]
    var secrets: [String: Secret]

    private var configuration = DynamicConfiguration()
    private var origins: [ResourceKey: SourceLocation] = [:]
    private var issues: [ConfigurationIssue] = []
    private var rejected: [ResourceKey: ConfigurationIssue] = [:]

    init(
        ingressClass: String?, ingresses: [Ingress], classes: [IngressClass], services: [String: Service],
        slices: [EndpointSlice], secrets: [String: Secret]
    ) {
        self.ingressClass = ingressClass
        self.ingresses = ingresses
        self.classes = classes
        self.services = services
        self.slices = slices
        self.secrets = secrets
    }

    mutating func build() -> ProviderSnapshot {
        configuration.http = HTTPConfiguration()
        configuration.http?.routers = [:]
        configuration.http?.services = [:]
        for ingress in ingresses.sorted(by: { $0.key < $1.key }) where serves(ingress) {
            add(ingress)
        }
        return ProviderSnapshot(
            provider: Self.providerName, configuration: configuration, origins: origins, issues: issues, rejected: rejected)
    }

    /// Whether this controller serves the Ingress, by `ingressClassName` or the legacy `kubernetes.io/ingress.class`
    /// annotation: with `ingressClass` set, only Ingresses of that class; without it, Ingresses with no class and
    /// those whose IngressClass names this controller (or Traefik's).
    func serves(_ ingress: Ingress) -> Bool {
        let annotated = ingress.metadata.annotations?["kubernetes.io/ingress.class"]
        let className = ingress.spec?.ingressClassName ?? annotated
        let ours = Set(classes.filter { [Self.controller, Self.traefikController].contains($0.spec?.controller ?? "") }.map(\.metadata.name))
        if let ingressClass {
            return className == ingressClass
        }
        guard let className else { return true }
        return ours.contains(className) || (annotated != nil && ["switchyard", "traefik"].contains(className))
    }

    private func annotation(_ ingress: Ingress, _ key: String) -> String? {
        for prefix in Self.annotationPrefixes {
            if let value = ingress.metadata.annotations?[prefix + key] { return value }
        }
        return nil
    }

    private mutating func fail(_ ingress: Ingress, _ field: String, _ message: String) {
        issues.append(ConfigurationIssue(at: SourceLocation(source: ingress.reference), keyPath: field, message: message))
    }

    private mutating func add(_ ingress: Ingress) {
        let namespace = ingress.metadata.namespace ?? "default"
        var template = Router()
        if let entryPoints = annotation(ingress, "router.entrypoints") {
            template.entryPoints = entryPoints.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let middlewares = annotation(ingress, "router.middlewares") {
            template.middlewares = middlewares.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let priority = annotation(ingress, "router.priority") {
            guard let value = Int(priority) else {
                return fail(ingress, "metadata.annotations[router.priority]", "'\(priority)' is not a number")
            }
            template.priority = value
        }
        var tls: RouterTLS?
        if annotation(ingress, "router.tls") == "true" || !(ingress.spec?.tls ?? []).isEmpty {
            tls = RouterTLS()
            tls?.certResolver = annotation(ingress, "router.tls.certresolver")
            tls?.options = annotation(ingress, "router.tls.options")
        }
        template.tls = tls
        for (index, entry) in (ingress.spec?.tls ?? []).enumerated() {
            guard let name = entry.secretName, !name.isEmpty else { continue }
            let field = "spec.tls[\(index)].secretName"
            guard let secret = secrets["\(namespace)/\(name)"] else {
                fail(ingress, field, "the Secret \(namespace)/\(name) does not exist")
                continue
            }
            guard let certificate = secret.value("tls.crt"), let key = secret.value("tls.key") else {
                fail(ingress, field, "the Secret \(namespace)/\(name) has no tls.crt and tls.key")
                continue
            }
            var tlsConfiguration = configuration.tls ?? TLSConfiguration()
            var entry = TLSCertificateConfig()
            entry.certFile = certificate
            entry.keyFile = key
            if !(tlsConfiguration.certificates ?? []).contains(entry) { tlsConfiguration.certificates = (tlsConfiguration.certificates ?? []) + [entry] }
            configuration.tls = tlsConfiguration
        }
        if let backend = ingress.spec?.defaultBackend {
            if let service = loadBalancer(ingress, backend, field: "spec.defaultBackend") {
                var router = template
                router.rule = "PathPrefix(`/`)"
                router.priority = template.priority ?? 1
                router.service = service
                addRouter(Self.name(namespace, ingress.metadata.name, "default-backend"), router, ingress)
            }
        }
        for (ruleIndex, rule) in (ingress.spec?.rules ?? []).enumerated() {
            for (pathIndex, path) in (rule.http?.paths ?? []).enumerated() {
                let field = "spec.rules[\(ruleIndex)].http.paths[\(pathIndex)]"
                guard let service = loadBalancer(ingress, path.backend, field: field + ".backend") else { continue }
                var clauses: [String] = []
                if let host = rule.host, !host.isEmpty { clauses.append("Host(`\(host)`)") }
                let value = path.path.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
                switch path.pathType ?? "ImplementationSpecific" {
                case "Exact": clauses.append("Path(`\(value)`)")
                case "Prefix", "ImplementationSpecific":
                    if value != "/" || clauses.isEmpty { clauses.append("PathPrefix(`\(value)`)") }
                case let other:
                    fail(ingress, field + ".pathType", "unknown pathType \"\(other)\" (Exact, Prefix or ImplementationSpecific)")
                    continue
                }
                var router = template
                router.rule = clauses.joined(separator: " && ")
                router.service = service
                addRouter(Self.name(namespace, ingress.metadata.name, rule.host ?? "", value), router, ingress)
            }
        }
    }

    private mutating func addRouter(_ name: String, _ router: Router, _ ingress: Ingress) {
        if configuration.http?.routers?[name] == nil { configuration.http?.routers?[name] = router }
        origins[ResourceKey(.httpRouter, name)] = SourceLocation(source: ingress.reference)
    }

    /// The load balancer for a backend, named `namespace-service-port`; nil (with an error) when it cannot be made.
    private mutating func loadBalancer(_ ingress: Ingress, _ backend: Ingress.Backend, field: String) -> String? {
        let namespace = ingress.metadata.namespace ?? "default"
        guard let reference = backend.service else {
            fail(ingress, field, "only service backends are supported")
            return nil
        }
        let port: IntOrString? = reference.port?.number.map { .int($0) } ?? reference.port?.name.map { .string($0) }
        let found: (servers: [LoadBalancerServer], portLabel: String)
        do {
            found = try ServiceServers(services: services, slices: slices).servers(
                namespace: namespace, name: reference.name, port: port)
        } catch {
            fail(ingress, field + ".service." + error.field, error.message)
            return nil
        }
        let name = Self.name(namespace, reference.name, found.portLabel)
        if configuration.http?.services?[name] != nil { return name }
        var balancer = LoadBalancerService()
        balancer.servers = found.servers
        var definition = HTTPService()
        definition.loadBalancer = balancer
        configuration.http?.services?[name] = definition
        if let service = services["\(namespace)/\(reference.name)"] {
            origins[ResourceKey(.httpService, name)] = SourceLocation(source: service.reference)
        }
        return name
    }

    /// A resource name from its parts: letters, digits and `-` only.
    static func name(_ parts: String...) -> String {
        let joined = parts.filter { !$0.isEmpty }.joined(separator: "-")
        var name = ""
        for character in joined {
            name.append(character.isLetter || character.isNumber ? character : "-")
        }
        while name.contains("--") { name = name.replacingOccurrences(of: "--", with: "-") }
        return name.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}
