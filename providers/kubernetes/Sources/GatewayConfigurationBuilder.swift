import Foundation
import SwitchyardConfig
import SwitchyardProviderKit

/// Turns Gateway API objects into the `kubernetesgateway` provider's configuration, and works out the status each
/// object should carry: GatewayClasses of this controller are accepted; a Gateway's listener serves on the entry
/// point listening on its port (HTTP, or HTTPS with its certificate Secrets); an HTTPRoute attached to a listener
/// (by parentRef and sectionName, allowed by the listener's allowedRoutes, with an overlapping hostname) becomes a
/// router per rule and listener, its filters middlewares, its backendRefs (weighted) load balancers; a backend in
/// another namespace needs a ReferenceGrant, else the route's `ResolvedRefs` is False with `RefNotPermitted`.
struct GatewayConfigurationBuilder {
    static let providerName = "kubernetesgateway"
    static let controller = "switchyard.dev/gateway-controller"
    static let traefikController = "traefik.io/gateway-controller"

    var classes: [GatewayClass]
    var gateways: [Gateway]
    var routes: [HTTPRoute]
    var grants: [ReferenceGrant]
    var servers: ServiceServers
    var secrets: [String: Secret]
    /// Entry point names by the port they listen on.
    var entryPointsByPort: [Int: [String]]

    private(set) var statuses: [StatusUpdate] = []
    private var configuration = DynamicConfiguration()
    private var origins: [ResourceKey: SourceLocation] = [:]
    private var issues: [ConfigurationIssue] = []

    init(
        classes: [GatewayClass], gateways: [Gateway], routes: [HTTPRoute], grants: [ReferenceGrant],
        servers: ServiceServers, secrets: [String: Secret], entryPointsByPort: [Int: [String]]
    ) {
        self.classes = classes
        self.gateways = gateways
        self.routes = routes
        self.grants = grants
        self.servers = servers
        self.secrets = secrets
        self.entryPointsByPort = entryPointsByPort
    }

    static func condition(_ type: String, _ ok: Bool, _ reason: String, _ message: String = "", generation: Int?) -> JSONValue {
        var fields: [String: JSONValue] = [
            "type": .string(type), "status": .string(ok ? "True" : "False"), "reason": .string(reason),
            "message": .string(message),
        ]
        if let generation { fields["observedGeneration"] = .number(Double(generation)) }
        return .object(fields)
    }

    /// A listener that took a route: its Gateway, entry points and TLS.
    struct Attachment {
        var gateway: Gateway
        var listener: Gateway.Listener
        var entryPoints: [String]
    }

    mutating func build() -> ProviderSnapshot {
        var http = HTTPConfiguration()
        http.routers = [:]
        http.services = [:]
        http.middlewares = [:]
        configuration.http = http
        let ours = classes.filter { [Self.controller, Self.traefikController].contains($0.spec?.controllerName ?? "") }
        for gatewayClass in ours.sorted(by: { $0.key < $1.key }) {
            statuses.append(StatusUpdate(
                reference: gatewayClass.reference,
                path: "/apis/gateway.networking.k8s.io/v1/gatewayclasses/\(gatewayClass.metadata.name)",
                status: .object(["conditions": .array([
                    Self.condition("Accepted", true, "Accepted", "handled by \(Self.controller)", generation: gatewayClass.metadata.generation),
                ])])))
        }
        let ourNames = Set(ours.map(\.metadata.name))
        let served = gateways.filter { ourNames.contains($0.spec?.gatewayClassName ?? "") }.sorted { $0.key < $1.key }
        var listenersByGateway: [String: [(Gateway.Listener, [String], [JSONValue])]] = [:]
        for gateway in served {
            var listeners: [(Gateway.Listener, [String], [JSONValue])] = []
            for (index, listener) in (gateway.spec?.listeners ?? []).enumerated() {
                let generation = gateway.metadata.generation
                let entryPoints = entryPointsByPort[listener.port] ?? []
                var conditions: [JSONValue] = []
                if !["HTTP", "HTTPS"].contains(listener.protocol) {
                    conditions = [Self.condition("Accepted", false, "UnsupportedProtocol", "only HTTP and HTTPS listeners are served", generation: generation)]
                } else if entryPoints.isEmpty {
                    conditions = [Self.condition("Accepted", false, "PortUnavailable", "no entry point listens on port \(listener.port)", generation: generation)]
                } else if listener.protocol == "HTTPS", !addCertificates(gateway, listener, index: index) {
                    conditions = [
                        Self.condition("Accepted", true, "Accepted", generation: generation),
                        Self.condition("ResolvedRefs", false, "InvalidCertificateRef", "a certificateRef names no TLS Secret", generation: generation),
                    ]
                } else {
                    conditions = [
                        Self.condition("Accepted", true, "Accepted", generation: generation),
                        Self.condition("ResolvedRefs", true, "ResolvedRefs", generation: generation),
                        Self.condition("Programmed", true, "Programmed", "on entry points \(entryPoints.joined(separator: ", "))", generation: generation),
                    ]
                }
                listeners.append((listener, entryPoints, conditions))
            }
            listenersByGateway[gateway.key] = listeners
        }
        var attached: [String: [String: Int]] = [:]
        for route in routes.sorted(by: { $0.key < $1.key }) {
            add(route, gateways: served, listeners: listenersByGateway, attached: &attached)
        }
        for gateway in served {
            let listeners = listenersByGateway[gateway.key] ?? []
            let programmed = listeners.contains { $0.2.contains(Self.condition("Programmed", true, "Programmed", "on entry points \($0.1.joined(separator: ", "))", generation: gateway.metadata.generation)) }
            statuses.append(StatusUpdate(
                reference: gateway.reference, path: gateway.path,
                status: .object([
                    "conditions": .array([
                        Self.condition("Accepted", true, "Accepted", generation: gateway.metadata.generation),
                        Self.condition("Programmed", programmed, programmed ? "Programmed" : "Invalid", generation: gateway.metadata.generation),
                    ]),
                    "listeners": .array(listeners.map { listener, _, conditions in
                        .object([
                            "name": .string(listener.name),
                            "attachedRoutes": .number(Double(attached[gateway.key]?[listener.name] ?? 0)),
                            "supportedKinds": .array([.object(["group": .string("gateway.networking.k8s.io"), "kind": .string("HTTPRoute")])]),
                            "conditions": .array(conditions),
                        ])
                    }),
                ])))
        }
        return ProviderSnapshot(provider: Self.providerName, configuration: configuration, origins: origins, issues: issues)
    }

    /// Serves an HTTPS listener's certificates; false when one is missing.
    private mutating func addCertificates(_ gateway: Gateway, _ listener: Gateway.Listener, index: Int) -> Bool {
        let namespace = gateway.metadata.namespace ?? "default"
        var complete = true
        for (position, reference) in (listener.tls?.certificateRefs ?? []).enumerated() {
            let secretNamespace = reference.namespace ?? namespace
            guard let secret = secrets["\(secretNamespace)/\(reference.name)"], let certificate = secret.value("tls.crt"),
                let key = secret.value("tls.key")
            else {
                issues.append(ConfigurationIssue(
                    at: SourceLocation(source: gateway.reference),
                    keyPath: "spec.listeners[\(index)].tls.certificateRefs[\(position)]",
                    message: "the Secret \(secretNamespace)/\(reference.name) does not exist or has no tls.crt and tls.key"))
                complete = false
                continue
            }
            var tls = configuration.tls ?? TLSConfiguration()
            var entry = TLSCertificateConfig()
            entry.certFile = certificate
            entry.keyFile = key
            if !(tls.certificates ?? []).contains(entry) { tls.certificates = (tls.certificates ?? []) + [entry] }
            configuration.tls = tls
        }
        return complete
    }

    private mutating func add(
        _ route: HTTPRoute, gateways: [Gateway], listeners: [String: [(Gateway.Listener, [String], [JSONValue])]],
        attached: inout [String: [String: Int]]
    ) {
        let namespace = route.metadata.namespace ?? "default"
        let generation = route.metadata.generation
        var parents: [JSONValue] = []
        for (parentIndex, parent) in (route.spec?.parentRefs ?? []).enumerated() {
            guard (parent.kind ?? "Gateway") == "Gateway" else { continue }
            let gatewayNamespace = parent.namespace ?? namespace
            guard let gateway = gateways.first(where: { $0.key == "\(gatewayNamespace)/\(parent.name)" }) else { continue }
            var matched: [(Gateway.Listener, [String])] = []
            var reason = "NoMatchingParent"
            for (listener, entryPoints, conditions) in listeners[gateway.key] ?? [] {
                guard parent.sectionName == nil || parent.sectionName == listener.name else { continue }
                guard conditions.contains(Self.condition("Accepted", true, "Accepted", generation: gateway.metadata.generation)) else { continue }
                let from = listener.allowedRoutes?.namespaces?.from ?? "Same"
                guard from == "All" || (from == "Same" && gatewayNamespace == namespace) else {
                    reason = "NotAllowedByListeners"
                    continue
                }
                guard hostnames(route.spec?.hostnames ?? [], listener.hostname) != nil else {
                    reason = "NoMatchingListenerHostname"
                    continue
                }
                matched.append((listener, entryPoints))
            }
            let parentReference = JSONValue.object([
                "group": .string("gateway.networking.k8s.io"), "kind": .string("Gateway"), "name": .string(parent.name),
                "namespace": .string(gatewayNamespace),
            ].merging(parent.sectionName.map { ["sectionName": JSONValue.string($0)] } ?? [:]) { first, _ in first })
            var conditions: [JSONValue] = []
            if matched.isEmpty {
                conditions.append(Self.condition("Accepted", false, reason, generation: generation))
            } else {
                conditions.append(Self.condition("Accepted", true, "Accepted", generation: generation))
                var unresolved: (reason: String, message: String)?
                for (ruleIndex, rule) in (route.spec?.rules ?? []).enumerated() {
                    let service = backends(route, rule, ruleIndex: ruleIndex, unresolved: &unresolved)
                    let middlewares = filters(route, rule, ruleIndex: ruleIndex)
                    for (listener, entryPoints) in matched {
                        attached[gateway.key, default: [:]][listener.name, default: 0] += ruleIndex == 0 ? 1 : 0
                        // A rule none of whose backends resolves answers 500, as the Gateway API asks.
                        let service = service ?? "invalid-backend@internal"
                        var router = Router()
                        router.rule = ruleText(rule, hosts: hostnames(route.spec?.hostnames ?? [], listener.hostname) ?? [])
                        router.entryPoints = entryPoints
                        router.service = service
                        if !middlewares.isEmpty { router.middlewares = middlewares }
                        if listener.protocol == "HTTPS" { router.tls = RouterTLS() }
                        let name = IngressConfigurationBuilder.name(
                            namespace, route.metadata.name, "r\(ruleIndex)", gateway.metadata.name, listener.name, "p\(parentIndex)")
                        configuration.http?.routers?[name] = router
                        origins[ResourceKey(.httpRouter, name)] = SourceLocation(source: route.reference)
                    }
                }
                conditions.append(unresolved.map { Self.condition("ResolvedRefs", false, $0.reason, $0.message, generation: generation) }
                    ?? Self.condition("ResolvedRefs", true, "ResolvedRefs", generation: generation))
            }
            parents.append(.object([
                "parentRef": parentReference, "controllerName": .string(Self.controller), "conditions": .array(conditions),
            ]))
        }
        if !parents.isEmpty {
            statuses.append(StatusUpdate(reference: route.reference, path: route.path, status: .object(["parents": .array(parents)])))
        }
    }

    /// The hostnames a route answers on a listener: the route's that the listener's hostname allows (all of the
    /// route's, or the listener's own, when one of them sets none); nil when they have none in common.
    func hostnames(_ route: [String], _ listener: String?) -> [String]? {
        guard let listener, !listener.isEmpty else { return route }
        guard !route.isEmpty else { return [listener] }
        func matches(_ host: String, _ pattern: String) -> Bool {
            if pattern.hasPrefix("*.") { return host.hasSuffix(String(pattern.dropFirst())) }
            return host == pattern
        }
        let common = route.compactMap { host -> String? in
            if matches(host, listener) { return host }
            if host.hasPrefix("*."), matches(listener, host) { return listener }
            return nil
        }
        return common.isEmpty ? nil : common
    }

    /// The rule of an HTTPRoute rule on a listener: its hosts, and any of its matches.
    func ruleText(_ rule: HTTPRoute.Rule, hosts: [String]) -> String {
        var parts: [String] = []
        if !hosts.isEmpty {
            let clauses = hosts.map { "Host(`\($0)`)" }
            parts.append(clauses.count == 1 ? clauses[0] : "(" + clauses.joined(separator: " || ") + ")")
        }
        let matches = (rule.matches ?? []).map(matchText)
        if matches.isEmpty || matches.contains("PathPrefix(`/`)") {
            if parts.isEmpty { parts.append("PathPrefix(`/`)") }
        } else {
            parts.append(matches.count == 1 ? matches[0] : "(" + matches.map { "(\($0))" }.joined(separator: " || ") + ")")
        }
        return parts.joined(separator: " && ")
    }

    func matchText(_ match: HTTPRoute.Match) -> String {
        var clauses: [String] = []
        let value = match.path?.value ?? "/"
        switch match.path?.type ?? "PathPrefix" {
        case "Exact": clauses.append("Path(`\(value)`)")
        case "RegularExpression": clauses.append("PathRegexp(`\(value)`)")
        default:
            // A prefix of whole path segments: /foo matches /foo and /foo/bar, not /foobar.
            let trimmed = value.hasSuffix("/") && value != "/" ? String(value.dropLast()) : value
            clauses.append(trimmed == "/" ? "PathPrefix(`/`)" : "(Path(`\(trimmed)`) || PathPrefix(`\(trimmed)/`))")
        }
        for header in match.headers ?? [] {
            clauses.append(header.type == "RegularExpression" ? "HeaderRegexp(`\(header.name)`, `\(header.value)`)" : "Header(`\(header.name)`, `\(header.value)`)")
        }
        for query in match.queryParams ?? [] {
            clauses.append(query.type == "RegularExpression" ? "QueryRegexp(`\(query.name)`, `\(query.value)`)" : "Query(`\(query.name)`, `\(query.value)`)")
        }
        if let method = match.method { clauses.append("Method(`\(method)`)") }
        return clauses.joined(separator: " && ")
    }

    /// The service for a rule's backendRefs (a load balancer, or weighted over several); nil when none resolves.
    private mutating func backends(
        _ route: HTTPRoute, _ rule: HTTPRoute.Rule, ruleIndex: Int, unresolved: inout (reason: String, message: String)?
    ) -> String? {
        let namespace = route.metadata.namespace ?? "default"
        var children: [(String, Int)] = []
        for (index, reference) in (rule.backendRefs ?? []).enumerated() {
            let field = "spec.rules[\(ruleIndex)].backendRefs[\(index)]"
            func refuse(_ reason: String, _ message: String) {
                unresolved = unresolved ?? (reason, message)
                issues.append(ConfigurationIssue(at: SourceLocation(source: route.reference), keyPath: field, message: message))
            }
            guard (reference.group ?? "").isEmpty, (reference.kind ?? "Service") == "Service" else {
                refuse("InvalidKind", "only Service backends are supported")
                continue
            }
            let target = reference.namespace ?? namespace
            if target != namespace, !granted(from: namespace, to: target, service: reference.name) {
                refuse("RefNotPermitted", "no ReferenceGrant in namespace \(target) lets HTTPRoutes of \(namespace) use the Service \(reference.name)")
                continue
            }
            guard let port = reference.port else {
                refuse("UnsupportedValue", "the backendRef has no port")
                continue
            }
            let found: (servers: [LoadBalancerServer], portLabel: String)
            do {
                found = try servers.servers(namespace: target, name: reference.name, port: .int(port))
            } catch {
                refuse("BackendNotFound", error.message)
                continue
            }
            let name = IngressConfigurationBuilder.name(target, reference.name, found.portLabel)
            var balancer = LoadBalancerService()
            balancer.servers = found.servers
            var definition = HTTPService()
            definition.loadBalancer = balancer
            configuration.http?.services?[name] = definition
            children.append((name, reference.weight ?? 1))
        }
        guard !children.isEmpty else { return nil }
        if children.count == 1 { return children[0].0 }
        let name = IngressConfigurationBuilder.name(namespace, route.metadata.name, "r\(ruleIndex)", "weighted")
        var weighted = WeightedService()
        weighted.services = children.map { child, weight in
            var entry = WeightedServiceRef()
            entry.name = child
            entry.weight = weight
            return entry
        }
        var definition = HTTPService()
        definition.weighted = weighted
        configuration.http?.services?[name] = definition
        return name
    }

    /// Whether a ReferenceGrant in `target` lets HTTPRoutes of `namespace` use the Service `service`.
    func granted(from namespace: String, to target: String, service: String) -> Bool {
        grants.contains { grant in
            grant.metadata.namespace == target
                && (grant.spec?.from ?? []).contains { $0.group == "gateway.networking.k8s.io" && $0.kind == "HTTPRoute" && $0.namespace == namespace }
                && (grant.spec?.to ?? []).contains { $0.group.isEmpty && $0.kind == "Service" && ($0.name == nil || $0.name == service) }
        }
    }

    /// The middlewares for a rule's filters, named `<namespace>-<route>-r<rule>-f<filter>`.
    private mutating func filters(_ route: HTTPRoute, _ rule: HTTPRoute.Rule, ruleIndex: Int) -> [String] {
        let namespace = route.metadata.namespace ?? "default"
        var names: [String] = []
        for (index, filter) in (rule.filters ?? []).enumerated() {
            var middleware = Middleware()
            func headers(_ modifier: HTTPRoute.Filter.HeaderModifier?) -> [String: String] {
                var values: [String: String] = [:]
                for header in (modifier?.add ?? []) + (modifier?.set ?? []) { values[header.name] = header.value }
                for name in modifier?.remove ?? [] { values[name] = "" }
                return values
            }
            switch filter.type {
            case "RequestHeaderModifier":
                var options = HeadersMiddleware()
                options.customRequestHeaders = headers(filter.requestHeaderModifier)
                middleware.headers = options
            case "ResponseHeaderModifier":
                var options = HeadersMiddleware()
                options.customResponseHeaders = headers(filter.responseHeaderModifier)
                middleware.headers = options
            case "RequestRedirect":
                let redirect = filter.requestRedirect
                var options = RedirectRegexMiddleware()
                options.regex = "^([a-z]+)://([^/:]+)(:[0-9]+)?(/[^?]*)?(\\?.*)?$"
                let scheme = redirect?.scheme ?? "${1}"
                let port = redirect?.port.map { ":\($0)" } ?? (redirect?.scheme == nil ? "${3}" : "")
                var path = "${4}"
                if let modifier = redirect?.path, modifier.type == "ReplaceFullPath" { path = modifier.replaceFullPath ?? "/" }
                options.replacement = "\(scheme)://\(redirect?.hostname ?? "${2}")\(port)\(path)${5}"
                options.permanent = redirect?.statusCode == 301
                middleware.redirectRegex = options
            case "URLRewrite":
                let rewrite = filter.urlRewrite
                if let modifier = rewrite?.path {
                    if modifier.type == "ReplaceFullPath" {
                        var options = ReplacePathMiddleware()
                        options.path = modifier.replaceFullPath ?? "/"
                        middleware.replacePath = options
                    } else if modifier.type == "ReplacePrefixMatch", let prefix = (rule.matches ?? []).first?.path?.value {
                        var options = ReplacePathRegexMiddleware()
                        let escaped = NSRegularExpression.escapedPattern(for: prefix.hasSuffix("/") && prefix != "/" ? String(prefix.dropLast()) : prefix)
                        options.regex = "^\(escaped)(/.*)?$"
                        let replacement = modifier.replacePrefixMatch ?? "/"
                        options.replacement = (replacement == "/" ? "" : replacement) + "$1"
                        middleware.replacePathRegex = options
                    }
                }
                if let hostname = rewrite?.hostname {
                    var options = HeadersMiddleware()
                    options.customRequestHeaders = ["Host": hostname]
                    if middleware.replacePath == nil && middleware.replacePathRegex == nil {
                        middleware.headers = options
                    } else {
                        let extra = IngressConfigurationBuilder.name(namespace, route.metadata.name, "r\(ruleIndex)", "f\(index)", "host")
                        var hostMiddleware = Middleware()
                        hostMiddleware.headers = options
                        configuration.http?.middlewares?[extra] = hostMiddleware
                        names.append(extra)
                    }
                }
            default:
                issues.append(ConfigurationIssue(
                    at: SourceLocation(source: route.reference), keyPath: "spec.rules[\(ruleIndex)].filters[\(index)].type",
                    message: "the filter \(filter.type) is not supported"))
                continue
            }
            let name = IngressConfigurationBuilder.name(namespace, route.metadata.name, "r\(ruleIndex)", "f\(index)")
            configuration.http?.middlewares?[name] = middleware
            names.insert(name, at: names.count)
        }
        return names
    }
}

/// A status to write: the object's path and its desired `status` (without transition times).
struct StatusUpdate: Hashable, Sendable {
    var reference: String
    var path: String
    var status: JSONValue
}
