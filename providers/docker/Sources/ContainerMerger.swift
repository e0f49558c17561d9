import SwitchyardConfig
import SwitchyardProviderKit

/// Merges what each container defines, as Traefik does: load-balancer services defined alike by several containers
/// (the replicas of a compose service) become one service with all their servers; any other resource defined
/// differently by two containers is dropped with an error naming both.
struct ContainerMerger {
    private var http = HTTPConfiguration()
    private var tcp = TCPConfiguration()
    private var udp = UDPConfiguration()
    private var tls: TLSConfiguration?
    private var origins: [ResourceKey: SourceLocation] = [:]
    private var rejected: [ResourceKey: ConfigurationIssue] = [:]
    private var definedBy: [ResourceKey: String] = [:]
    private var conflicts: Set<ResourceKey> = []
    var issues: [ConfigurationIssue] = []

    mutating func add(_ result: ContainerConfiguration, issues: [ConfigurationIssue]) {
        self.issues += issues
        let configuration = result.configuration
        var http = self.http, tcp = self.tcp, udp = self.udp
        merge(configuration.http?.routers, into: &http.routers, .httpRouter, result)
        merge(configuration.http?.middlewares, into: &http.middlewares, .httpMiddleware, result)
        merge(configuration.http?.services, into: &http.services, .httpService, result) {
            Self.joined($0, $1, \.loadBalancer, \.servers, id: \.url)
        }
        merge(configuration.tcp?.routers, into: &tcp.routers, .tcpRouter, result)
        merge(configuration.tcp?.middlewares, into: &tcp.middlewares, .tcpMiddleware, result)
        merge(configuration.tcp?.services, into: &tcp.services, .tcpService, result) {
            Self.joined($0, $1, \.loadBalancer, \.servers, id: \.address)
        }
        merge(configuration.udp?.routers, into: &udp.routers, .udpRouter, result)
        merge(configuration.udp?.services, into: &udp.services, .udpService, result) {
            Self.joined($0, $1, \.loadBalancer, \.servers, id: \.address)
        }
        self.http = http
        self.tcp = tcp
        self.udp = udp
        if let incoming = configuration.tls {
            if let tls, tls != incoming {
                self.issues.append(ConfigurationIssue(
                    at: SourceLocation(source: "container \(result.container)"), keyPath: "tls.stores.default",
                    message: "the default TLS store is set differently by another container; keeping the first"))
            } else {
                tls = incoming
            }
        }
        for (key, issue) in result.rejected where rejected[key] == nil {
            rejected[key] = issue
        }
        for (key, location) in result.origins where origins[key] == nil {
            origins[key] = location
        }
    }

    /// Two definitions of a load-balancer service that agree on everything but their servers, as one service with
    /// the servers of both (each once); nil when they differ otherwise.
    private static func joined<Service: Equatable, Balancer, Server>(
        _ existing: Service, _ incoming: Service, _ balancer: WritableKeyPath<Service, Balancer?>,
        _ servers: WritableKeyPath<Balancer, [Server]?>, id: KeyPath<Server, String?>
    ) -> Service? {
        guard let left = existing[keyPath: balancer], let right = incoming[keyPath: balancer] else { return nil }
        var bareExisting = existing, bareIncoming = incoming
        bareExisting[keyPath: balancer]?[keyPath: servers] = nil
        bareIncoming[keyPath: balancer]?[keyPath: servers] = nil
        guard bareExisting == bareIncoming else { return nil }
        var union = left[keyPath: servers] ?? []
        for server in right[keyPath: servers] ?? [] where !union.contains(where: { $0[keyPath: id] == server[keyPath: id] }) {
            union.append(server)
        }
        var merged = existing
        merged[keyPath: balancer]?[keyPath: servers] = union
        return merged
    }

    private mutating func merge<T: Equatable>(
        _ incoming: [String: T]?, into existing: inout [String: T]?, _ kind: ResourceKey.Kind,
        _ result: ContainerConfiguration, combine: (T, T) -> T? = { $0 == $1 ? $0 : nil }
    ) {
        for (name, value) in incoming ?? [:] {
            let key = ResourceKey(kind, name)
            if conflicts.contains(key) { continue }
            guard let current = existing?[name] else {
                if existing == nil { existing = [:] }
                existing?[name] = value
                definedBy[key] = result.container
                continue
            }
            if let combined = combine(current, value) {
                existing?[name] = combined
                continue
            }
            existing?[name] = nil
            conflicts.insert(key)
            let issue = ConfigurationIssue(
                at: result.origins[key] ?? SourceLocation(source: "container \(result.container)"),
                keyPath: "\(kind.rawValue).\(name)",
                message: "defined differently by containers \(definedBy[key] ?? "?") and \(result.container); "
                    + "the \(kind.rawValue.split(separator: ".").last.map { String($0.dropLast()) } ?? "resource") is left out until they agree")
            issues.append(issue)
            rejected[key] = issue
        }
    }

    func snapshot(provider: String) -> ProviderSnapshot {
        var configuration = DynamicConfiguration()
        func some<T>(_ dictionary: [String: T]?) -> [String: T]? { (dictionary?.isEmpty ?? true) ? nil : dictionary }
        var http = self.http
        http.routers = some(http.routers)
        http.services = some(http.services)
        http.middlewares = some(http.middlewares)
        if http != HTTPConfiguration() { configuration.http = http }
        var tcp = self.tcp
        tcp.routers = some(tcp.routers)
        tcp.services = some(tcp.services)
        tcp.middlewares = some(tcp.middlewares)
        if tcp != TCPConfiguration() { configuration.tcp = tcp }
        var udp = self.udp
        udp.routers = some(udp.routers)
        udp.services = some(udp.services)
        if udp != UDPConfiguration() { configuration.udp = udp }
        configuration.tls = tls
        // A resource one container could not read stays rejected only if no other container defines it.
        let kept = rejected.filter { key, _ in !Self.defines(configuration, key) }
        return ProviderSnapshot(
            provider: provider, configuration: configuration, origins: origins, issues: issues, rejected: kept)
    }

    private static func defines(_ configuration: DynamicConfiguration, _ key: ResourceKey) -> Bool {
        switch key.kind {
        case .httpRouter: return configuration.http?.routers?[key.name] != nil
        case .httpService: return configuration.http?.services?[key.name] != nil
        case .httpMiddleware: return configuration.http?.middlewares?[key.name] != nil
        case .tcpRouter: return configuration.tcp?.routers?[key.name] != nil
        case .tcpService: return configuration.tcp?.services?[key.name] != nil
        case .tcpMiddleware: return configuration.tcp?.middlewares?[key.name] != nil
        case .udpRouter: return configuration.udp?.routers?[key.name] != nil
        case .udpService: return configuration.udp?.services?[key.name] != nil
        default: return false
        }
    }
}
