import SwitchyardConfig
import SwitchyardProviderKit

/// Turns the running containers into the provider's view, by Traefik's label grammar and rules of inference:
/// each container is read on its own (a broken label breaks only the resource it is on), then containers that
/// define the same service are merged into one service with a server per container.
public struct DockerConfigurationBuilder: Sendable {
    public static let providerName = "docker"
    public let options: DockerProviderOptions

    public init(options: DockerProviderOptions) {
        self.options = options
    }

    public func build(_ containers: [DockerContainer]) -> ProviderSnapshot {
        var byReference: [String: DockerContainer] = [:]
        for container in containers {
            byReference[container.id] = container
            byReference[container.name] = container
        }
        var merger = ContainerMerger()
        for container in containers.sorted(by: { $0.name < $1.name }) {
            var reader = ContainerReader(container: container, options: options, all: byReference)
            guard let result = reader.read() else {
                merger.issues += reader.issues
                continue
            }
            merger.add(result, issues: reader.issues)
        }
        return merger.snapshot(provider: Self.providerName)
    }
}

/// What one container contributes.
struct ContainerConfiguration {
    var container: String
    var configuration = DynamicConfiguration()
    var origins: [ResourceKey: SourceLocation] = [:]
    var rejected: [ResourceKey: ConfigurationIssue] = [:]
}

/// Reads one container's labels into its configuration.
struct ContainerReader {
    let container: DockerContainer
    let options: DockerProviderOptions
    let all: [String: DockerContainer]
    let labels: ContainerLabels
    var issues: [ConfigurationIssue] = []
    var result: ContainerConfiguration

    init(container: DockerContainer, options: DockerProviderOptions, all: [String: DockerContainer]) {
        self.container = container
        self.options = options
        self.all = all
        self.labels = ContainerLabels(container: container.name, labels: container.labels, traefikLabels: options.traefikLabels)
        self.result = ContainerConfiguration(container: container.name)
    }

    /// The name Traefik gives the container's default router and service: the compose service and project, or the
    /// container's name, normalized.
    var serviceName: String {
        if let service = container.labels["com.docker.compose.service"], let project = container.labels["com.docker.compose.project"] {
            return DefaultRuleTemplate.normalize("\(service)_\(project)")
        }
        return DefaultRuleTemplate.normalize(container.name)
    }

    /// Nil when the container is not served (switched off, filtered out, not running, not healthy).
    mutating func read() -> ContainerConfiguration? {
        let enabled: Bool
        let allowNonRunning: Bool
        do {
            enabled = try labels.flag("enable") ?? options.exposedByDefault
            allowNonRunning = try labels.flag("docker.allownonrunning") ?? false
        } catch {
            issues.append(error)
            return nil
        }
        guard enabled else { return nil }
        if let constraints = options.constraints, !constraints.matches(container.labels) { return nil }
        var withoutServers = false
        if container.state != "running" {
            guard allowNonRunning else { return nil }
            withoutServers = true
        }
        if container.health == "starting" || container.health == "unhealthy" {
            guard options.allowEmptyServices else { return nil }
            withoutServers = true
        }
        let tree = labels.configurationTree(issues: &issues)
        var section = LabelSections(tree: tree)
        decodeTCP(&section)
        decodeUDP(&section)
        let hasTCPOrUDP = !section.tcpRouters.isEmpty || !section.tcpServices.isEmpty
            || !section.udpRouters.isEmpty || !section.udpServices.isEmpty
        if hasTCPOrUDP {
            inferTCP(&section, withoutServers: withoutServers)
            inferUDP(&section, withoutServers: withoutServers)
        }
        decodeHTTP(&section)
        decodeTLS(tree)
        let hasHTTP = !section.httpRouters.isEmpty || !section.httpServices.isEmpty || !section.httpMiddlewares.isEmpty
        if !hasTCPOrUDP || hasHTTP {
            inferHTTP(&section, withoutServers: withoutServers)
        }
        section.store(into: &result)
        return result
    }

    // MARK: - Decoding

    func location(_ node: ConfigNode) -> SourceLocation { node.location }

    /// Decodes each resource of one kind on its own; one that fails is rejected with its error.
    mutating func decodeResources<T: Decodable>(
        _ node: ConfigNode?, kind: ResourceKey.Kind, as type: T.Type,
        prepare: (String, ConfigNode) -> ConfigNode = { $1 }
    ) -> [String: T] {
        var decoded: [String: T] = [:]
        guard let node else { return [:] }
        let path = kind.rawValue.split(separator: ".").map(String.init)
        guard case .mapping(let entries) = node.value else {
            issues.append(ConfigurationIssue(
                at: node.location, keyPath: kind.rawValue, message: "expected \(path[1]) by name, e.g. \(kind.rawValue).NAME.OPTION"))
            return [:]
        }
        for entry in entries {
            let name = entry.key
            let key = ResourceKey(kind, name)
            result.origins[key] = result.origins[key] ?? entry.keyLocation
            for field in entry.value.entries {
                result.origins[ResourceKey(kind, name, field: field.key.lowercased())] = field.keyLocation
            }
            if name.contains("@") {
                reject(key, ConfigurationIssue(
                    at: entry.keyLocation, keyPath: "\(kind.rawValue).\(name)",
                    message: "a resource name cannot contain '@' (it separates the name from the provider)"))
                continue
            }
            do {
                decoded[name] = try ConfigNodeDecoder.decode(
                    T.self, from: prepare(name, entry.value), keyPath: path + [name], commaSeparatedLists: true)
            } catch {
                reject(key, error)
            }
        }
        return decoded
    }

    mutating func reject(_ key: ResourceKey, _ issue: ConfigurationIssue) {
        issues.append(issue)
        result.rejected[key] = result.rejected[key] ?? issue
    }

    /// Checks the top level of a section (`http`, `tcp`, `udp`) for keys other than `allowed`.
    mutating func sectionEntries(_ tree: ConfigNode, _ section: String, allowed: [String]) -> [String: ConfigNode] {
        guard let entry = tree.entry(section) else { return [:] }
        var found: [String: ConfigNode] = [:]
        guard case .mapping(let entries) = entry.value.value else {
            issues.append(ConfigurationIssue(at: entry.keyLocation, keyPath: section, message: "expected \(section).routers, \(section).services, ..."))
            return [:]
        }
        for child in entries {
            if let known = allowed.first(where: { $0.lowercased() == child.key.lowercased() }) {
                found[known] = child.value
            } else if child.key.lowercased() == "serverstransports" {
                issues.append(ConfigurationIssue(
                    at: child.keyLocation, keyPath: "\(section).\(child.key)",
                    message: "servers transports cannot be set by labels; define it in a file and name it as NAME@file"))
            } else {
                var message = "unknown key '\(child.key)'; expected \(allowed.map { "\(section).\($0)" }.joined(separator: ", "))"
                if let suggestion = allowed.first(where: { editDistance($0.lowercased(), child.key.lowercased()) <= 2 }) {
                    message += "; did you mean '\(suggestion)'?"
                }
                issues.append(ConfigurationIssue(at: child.keyLocation, keyPath: "\(section).\(child.key)", message: message))
            }
        }
        return found
    }

    /// The service's `loadBalancer.server` labels, taken out of it (they describe this container's one server).
    static func splittingServer(_ node: ConfigNode, name: String, into servers: inout [String: ConfigNode]) -> ConfigNode {
        guard let balancer = node.entry("loadBalancer"), let server = balancer.value.entry("server") else { return node }
        servers[name] = server.value
        return ConfigNode(
            .mapping(node.removing("loadBalancer").entries + [ConfigNode.Entry(
                key: balancer.key, keyLocation: balancer.keyLocation, value: balancer.value.removing("server"))]),
            at: node.location)
    }

    /// Decodes the services of one kind, each with its `server` labels apart; a service whose server labels do not
    /// decode is rejected.
    mutating func decodeServices<Service: Decodable, Server: Decodable>(
        _ node: ConfigNode?, kind: ResourceKey.Kind, as type: Service.Type, servers serverType: Server.Type
    ) -> (services: [String: Service], servers: [String: Server]) {
        var serverNodes: [String: ConfigNode] = [:]
        var services = decodeResources(node, kind: kind, as: Service.self) { name, node in
            Self.splittingServer(node, name: name, into: &serverNodes)
        }
        var servers: [String: Server] = [:]
        let path = kind.rawValue.split(separator: ".").map(String.init)
        for (name, node) in serverNodes where services[name] != nil {
            do {
                servers[name] = try ConfigNodeDecoder.decode(
                    Server.self, from: node, keyPath: path + [name, "loadBalancer", "server"], commaSeparatedLists: true)
            } catch {
                services[name] = nil
                reject(ResourceKey(kind, name), error)
            }
        }
        return (services, servers)
    }

    mutating func decodeHTTP(_ section: inout LabelSections) {
        let nodes = sectionEntries(section.tree, "http", allowed: ["routers", "services", "middlewares"])
        section.httpRouters = decodeResources(nodes["routers"], kind: .httpRouter, as: Router.self)
        section.httpMiddlewares = decodeResources(nodes["middlewares"], kind: .httpMiddleware, as: Middleware.self)
        (section.httpServices, section.httpServers) = decodeServices(
            nodes["services"], kind: .httpService, as: HTTPService.self, servers: HTTPLabelServer.self)
        for (name, service) in section.httpServices {
            let kinds = service.configuredKinds.filter { $0 != "loadBalancer" }
            if !kinds.isEmpty {
                section.httpServices[name] = nil
                reject(ResourceKey(.httpService, name), ConfigurationIssue(
                    at: result.origins[ResourceKey(.httpService, name)] ?? labels.containerLocation,
                    keyPath: "http.services.\(name).\(kinds[0])",
                    message: "\(kinds[0]) services cannot be set by labels; define it in a file and name it as \(name)@file"))
            }
        }
        section.rejectedHTTPServices = Set(result.rejected.keys.filter { $0.kind == .httpService }.map(\.name))
        section.rejectedHTTPRouters = Set(result.rejected.keys.filter { $0.kind == .httpRouter }.map(\.name))
    }

    mutating func decodeTCP(_ section: inout LabelSections) {
        let nodes = sectionEntries(section.tree, "tcp", allowed: ["routers", "services", "middlewares"])
        section.tcpRouters = decodeResources(nodes["routers"], kind: .tcpRouter, as: TCPRouter.self)
        section.tcpMiddlewares = decodeResources(nodes["middlewares"], kind: .tcpMiddleware, as: TCPMiddleware.self)
        (section.tcpServices, section.tcpServers) = decodeServices(
            nodes["services"], kind: .tcpService, as: TCPService.self, servers: StreamLabelServer.self)
    }

    mutating func decodeUDP(_ section: inout LabelSections) {
        let nodes = sectionEntries(section.tree, "udp", allowed: ["routers", "services"])
        section.udpRouters = decodeResources(nodes["routers"], kind: .udpRouter, as: UDPRouter.self)
        (section.udpServices, section.udpServers) = decodeServices(
            nodes["services"], kind: .udpService, as: UDPService.self, servers: StreamLabelServer.self)
    }

    /// `tls.stores.default...` is the one TLS setting labels may carry, as in Traefik.
    mutating func decodeTLS(_ tree: ConfigNode) {
        guard let entry = tree.entry("tls") else { return }
        do {
            let tls = try ConfigNodeDecoder.decode(TLSConfiguration.self, from: entry.value, keyPath: ["tls"], commaSeparatedLists: true)
            if tls.certificates != nil || tls.options != nil || (tls.stores ?? [:]).keys.contains(where: { $0 != "default" }) {
                issues.append(ConfigurationIssue(
                    at: entry.keyLocation, keyPath: "tls",
                    message: "labels can set only tls.stores.default; define certificates and options in a file"))
                return
            }
            result.configuration.tls = tls
        } catch {
            issues.append(error)
        }
    }

    // MARK: - Inference

    mutating func inferHTTP(_ section: inout LabelSections, withoutServers: Bool) {
        let serviceName = serviceName
        let serviceCount = section.httpServices.count + section.rejectedHTTPServices.count
        if serviceCount == 0 {
            var service = HTTPService()
            service.loadBalancer = LoadBalancerService()
            section.httpServices[serviceName] = service
            result.origins[ResourceKey(.httpService, serviceName)] = labels.containerLocation
        }
        for (name, service) in section.httpServices {
            guard var balancer = service.loadBalancer else { continue }
            if withoutServers {
                balancer.servers = []
            } else if balancer.servers?.isEmpty ?? true {
                switch httpServer(service: name, section.httpServers[name]) {
                case .success(let server): balancer.servers = [server]
                case .failure(let issue):
                    section.httpServices[name] = nil
                    section.rejectedHTTPServices.insert(name)
                    reject(ResourceKey(.httpService, name), issue)
                    continue
                }
            }
            section.httpServices[name]?.loadBalancer = balancer
        }
        let allServices = Set(section.httpServices.keys).union(section.rejectedHTTPServices)
        if section.httpRouters.isEmpty && section.rejectedHTTPRouters.isEmpty {
            guard allServices.count <= 1 else {
                issues.append(ConfigurationIssue(
                    at: labels.containerLocation,
                    message: "could not create a router for the container: it has \(allServices.count) services "
                        + "(\(allServices.sorted().joined(separator: ", "))); add router labels that name one"))
                return
            }
            section.httpRouters[serviceName] = Router()
            result.origins[ResourceKey(.httpRouter, serviceName)] = labels.containerLocation
        }
        for (name, router) in section.httpRouters {
            var router = router
            if router.rule?.isEmpty ?? true {
                do {
                    router.rule = try options.defaultRule.render(.init(
                        name: serviceName, containerName: container.name, labels: container.labels))
                    result.origins[ResourceKey(.httpRouter, name, field: "rule")] = SourceLocation(
                        source: "container \(container.name) (defaultRule \(options.defaultRule.text))")
                } catch {
                    section.httpRouters[name] = nil
                    reject(ResourceKey(.httpRouter, name), ConfigurationIssue(
                        at: labels.containerLocation, keyPath: "http.routers.\(name).rule",
                        message: "the defaultRule template failed: \(error)"))
                    continue
                }
            }
            if router.service?.isEmpty ?? true {
                guard allServices.count == 1, let only = allServices.first else {
                    section.httpRouters[name] = nil
                    reject(ResourceKey(.httpRouter, name), ConfigurationIssue(
                        at: result.origins[ResourceKey(.httpRouter, name)] ?? labels.containerLocation,
                        keyPath: "http.routers.\(name).service",
                        message: "the router names no service and the container has \(allServices.count) services "
                            + "(\(allServices.sorted().joined(separator: ", "))); set ...routers.\(name).service"))
                    continue
                }
                router.service = only
            }
            section.httpRouters[name] = router
        }
    }

    mutating func inferTCP(_ section: inout LabelSections, withoutServers: Bool) {
        inferStream(
            "tcp", routers: &section.tcpRouters, services: &section.tcpServices, servers: section.tcpServers,
            kinds: (.tcpRouter, .tcpService), withoutServers: withoutServers,
            makeService: {
                var service = TCPService()
                service.loadBalancer = TCPLoadBalancerService()
                return service
            },
            setServers: { service, addresses in
                guard service.loadBalancer != nil else { return false }
                if let current = service.loadBalancer?.servers, !current.isEmpty, addresses != nil { return true }
                service.loadBalancer?.servers = (addresses ?? []).map { address, tls in
                    var server = TCPServer()
                    server.address = address
                    server.tls = tls
                    return server
                }
                return true
            })
    }

    mutating func inferUDP(_ section: inout LabelSections, withoutServers: Bool) {
        inferStream(
            "udp", routers: &section.udpRouters, services: &section.udpServices, servers: section.udpServers,
            kinds: (.udpRouter, .udpService), withoutServers: withoutServers,
            makeService: {
                var service = UDPService()
                service.loadBalancer = UDPLoadBalancerService()
                return service
            },
            setServers: { service, addresses in
                guard service.loadBalancer != nil else { return false }
                if let current = service.loadBalancer?.servers, !current.isEmpty, addresses != nil { return true }
                service.loadBalancer?.servers = (addresses ?? []).map { address, _ in
                    var server = UDPServer()
                    server.address = address
                    return server
                }
                return true
            })
    }

    /// TCP and UDP alike: a service named after the container when none is labelled, the container's address as the
    /// server of each load balancer that lists none, and the only service for routers that name none.
    /// `setServers` gets nil for "no servers" (a container kept while not serving) and answers whether the service
    /// is a load balancer.
    mutating func inferStream<Router: ServiceNaming, Service>(
        _ proto: String, routers: inout [String: Router], services: inout [String: Service],
        servers labelled: [String: StreamLabelServer], kinds: (router: ResourceKey.Kind, service: ResourceKey.Kind),
        withoutServers: Bool, makeService: () -> Service,
        setServers: (inout Service, [(address: String, tls: Bool?)]?) -> Bool
    ) {
        let rejectedServices = Set(result.rejected.keys.filter { $0.kind == kinds.service }.map(\.name))
        if services.isEmpty && rejectedServices.isEmpty {
            services[serviceName] = makeService()
            result.origins[ResourceKey(kinds.service, serviceName)] = labels.containerLocation
        }
        for name in services.keys.sorted() {
            guard var service = services[name] else { continue }
            if withoutServers {
                _ = setServers(&service, nil)
            } else {
                let label = labelled[name]
                let address: String
                if let given = label?.address {
                    address = given
                } else {
                    switch self.address(port: label?.port, portKey: "\(proto).services.\(name).loadbalancer.server.port", proto: proto) {
                    case .success(let found): address = found
                    case .failure(let issue):
                        services[name] = nil
                        reject(ResourceKey(kinds.service, name), issue)
                        continue
                    }
                }
                _ = setServers(&service, [(address, label?.tls)])
            }
            services[name] = service
        }
        let all = Set(services.keys).union(rejectedServices)
        for (name, router) in routers where router.service?.isEmpty ?? true {
            guard all.count == 1, let only = all.first else {
                routers[name] = nil
                reject(ResourceKey(kinds.router, name), ConfigurationIssue(
                    at: result.origins[ResourceKey(kinds.router, name)] ?? labels.containerLocation,
                    keyPath: "\(kinds.router.rawValue).\(name).service",
                    message: "the router names no service and the container has \(all.count) \(proto.uppercased()) services; set its service"))
                continue
            }
            routers[name]?.service = only
        }
    }

    /// The container's server for an HTTP service: the `server.url` label, or scheme, address and port.
    mutating func httpServer(service name: String, _ label: HTTPLabelServer?) -> Result<LoadBalancerServer, ConfigurationIssue> {
        var server = LoadBalancerServer()
        server.weight = label?.weight
        server.preservePath = label?.preservePath
        let prefix = "http.services.\(name).loadbalancer.server"
        if let url = label?.url {
            if label?.port != nil || label?.scheme != nil {
                return .failure(ConfigurationIssue(
                    at: labelLocation("\(prefix).url"), keyPath: "\(prefix).url",
                    message: "url cannot be combined with port or scheme; set one or the other"))
            }
            server.url = url
            return .success(server)
        }
        switch address(port: label?.port, portKey: "\(prefix).port", proto: "tcp") {
        case .success(let address):
            server.url = "\(label?.scheme ?? "http")://\(address)"
            return .success(server)
        case .failure(let issue):
            return .failure(issue)
        }
    }

    func labelLocation(_ key: String) -> SourceLocation {
        labels[key].map { labels.location(of: $0) } ?? labels.containerLocation
    }

    /// `host:port` of the container for a service: the port from its label or the container's exposed ports, the
    /// host from its network (or the published address with `useBindPortIP`).
    mutating func address(port label: Int?, portKey: String, proto: String) -> Result<String, ConfigurationIssue> {
        let port: Int
        if let label {
            guard (1...65535).contains(label) else {
                return .failure(ConfigurationIssue(
                    at: labelLocation(portKey), keyPath: portKey, message: "the port \(label) is not in 1...65535"))
            }
            port = label
        } else {
            let exposed = container.ports.filter { $0.proto == proto }.isEmpty ? container.ports : container.ports.filter { $0.proto == proto }
            guard let lowest = exposed.min() else {
                return .failure(ConfigurationIssue(
                    at: labels.containerLocation, keyPath: portKey,
                    message: "port is missing: the container exposes no port; set the label \(ContainerLabels.prefixes[0])\(portKey)"))
            }
            if exposed.count > 1 {
                issues.append(ConfigurationIssue(
                    .warning, at: labels.containerLocation, keyPath: portKey,
                    message: "the container exposes several ports (\(exposed.map { String($0.number) }.joined(separator: ", "))); "
                        + "using the lowest, \(lowest.number); set the label \(ContainerLabels.prefixes[0])\(portKey) to choose"))
            }
            port = lowest.number
        }
        if options.useBindPortIP, let binding = container.ports.first(where: { $0.number == port })?.bindings.first,
            !binding.hostIP.isEmpty, binding.hostIP != "0.0.0.0", binding.hostIP != "::", !binding.hostPort.isEmpty
        {
            return .success("\(Self.bracketed(binding.hostIP)):\(binding.hostPort)")
        }
        var visited: Set<String> = []
        switch host(of: container, visited: &visited) {
        case .success(let host): return .success("\(Self.bracketed(host)):\(port)")
        case .failure(let failure):
            return .failure(ConfigurationIssue(at: labels.containerLocation, keyPath: portKey, message: failure.message))
        }
    }

    static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// The address a container is reached at.
    mutating func host(of container: DockerContainer, visited: inout Set<String>) -> Result<String, AddressFailure> {
        if container.networkMode == "host" { return .success("127.0.0.1") }
        if container.networkMode.hasPrefix("container:") {
            let target = String(container.networkMode.dropFirst("container:".count))
            guard visited.insert(target).inserted, let other = all[target] else {
                return .failure(AddressFailure(message: "the container shares the network of container \(target), which is not running"))
            }
            return host(of: other, visited: &visited)
        }
        let labelNetwork = ContainerLabels(container: container.name, labels: container.labels, traefikLabels: options.traefikLabels)["docker.network"]
        if let wanted = labelNetwork?.value ?? options.network, !wanted.isEmpty {
            if let network = container.networks[wanted], let address = Self.address(network) { return .success(address) }
            issues.append(ConfigurationIssue(
                .warning,
                at: labelNetwork.map { labels.location(of: $0) } ?? SourceLocation(source: "providers.docker.network"),
                message: "container \(container.name) is not on network \"\(wanted)\" (it is on "
                    + "\(container.networks.keys.sorted().joined(separator: ", "))); maybe the compose project prefix is missing; using its first network"))
        }
        for name in container.networks.keys.sorted() {
            if let address = Self.address(container.networks[name]!) { return .success(address) }
        }
        return .failure(AddressFailure(message: "the container has no IP address on any network"))
    }

    static func address(_ network: DockerContainer.Network) -> String? {
        if !network.ipAddress.isEmpty { return network.ipAddress }
        if !network.globalIPv6Address.isEmpty { return network.globalIPv6Address }
        return nil
    }
}

struct AddressFailure: Error {
    var message: String
}

/// `...loadbalancer.server.*` of an HTTP service: in labels one server per container, singular.
struct HTTPLabelServer: Codable, ConfigModel {
    var url: String?
    var port: Int?
    var scheme: String?
    var weight: Int?
    var preservePath: Bool?
}

/// Routers that name their service.
protocol ServiceNaming {
    var service: String? { get set }
}

extension TCPRouter: ServiceNaming {}
extension UDPRouter: ServiceNaming {}

/// `...loadbalancer.server.*` of a TCP or UDP service.
struct StreamLabelServer: Codable, ConfigModel {
    var address: String?
    var port: Int?
    var tls: Bool?
}

/// A container's resources while they are read and completed.
struct LabelSections {
    let tree: ConfigNode
    var httpRouters: [String: Router] = [:]
    var httpServices: [String: HTTPService] = [:]
    var httpMiddlewares: [String: Middleware] = [:]
    var httpServers: [String: HTTPLabelServer] = [:]
    var rejectedHTTPServices: Set<String> = []
    var rejectedHTTPRouters: Set<String> = []
    var tcpRouters: [String: TCPRouter] = [:]
    var tcpServices: [String: TCPService] = [:]
    var tcpMiddlewares: [String: TCPMiddleware] = [:]
    var tcpServers: [String: StreamLabelServer] = [:]
    var udpRouters: [String: UDPRouter] = [:]
    var udpServices: [String: UDPService] = [:]
    var udpServers: [String: StreamLabelServer] = [:]

    init(tree: ConfigNode) {
        self.tree = tree
    }

    func store(into result: inout ContainerConfiguration) {
        func some<T>(_ dictionary: [String: T]) -> [String: T]? { dictionary.isEmpty ? nil : dictionary }
        if !httpRouters.isEmpty || !httpServices.isEmpty || !httpMiddlewares.isEmpty {
            var http = HTTPConfiguration()
            http.routers = some(httpRouters)
            http.services = some(httpServices)
            http.middlewares = some(httpMiddlewares)
            result.configuration.http = http
        }
        if !tcpRouters.isEmpty || !tcpServices.isEmpty || !tcpMiddlewares.isEmpty {
            var tcp = TCPConfiguration()
            tcp.routers = some(tcpRouters)
            tcp.services = some(tcpServices)
            tcp.middlewares = some(tcpMiddlewares)
            result.configuration.tcp = tcp
        }
        if !udpRouters.isEmpty || !udpServices.isEmpty {
            var udp = UDPConfiguration()
            udp.routers = some(udpRouters)
            udp.services = some(udpServices)
            result.configuration.udp = udp
        }
    }
}
