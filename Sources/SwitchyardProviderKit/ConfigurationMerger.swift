import SwitchyardConfig

/// Merges provider snapshots as Traefik does: names become `name@provider`; an unqualified reference resolves in
/// the referrer's provider, `x@other` names another provider.
public enum ConfigurationMerger {
    public static func qualify(_ name: String, in provider: String) -> String {
        ResourceName.qualify(name, in: provider)
    }

    public static func merge(_ snapshots: [ProviderSnapshot]) -> MergedConfiguration {
        var merged = MergedConfiguration()
        var http = HTTPConfiguration()
        var tcp = TCPConfiguration()
        var udp = UDPConfiguration()
        var tls = TLSConfiguration()
        for snapshot in snapshots.sorted(by: { $0.provider < $1.provider }) {
            let provider = snapshot.provider
            let q = { (name: String) in qualify(name, in: provider) }
            merged.providers.append(provider)
            merged.issues.append(contentsOf: snapshot.issues)
            for (key, location) in snapshot.origins {
                merged.origins[ResourceKey(key.kind, q(key.name), field: key.field)] = location
            }
            for (key, issue) in snapshot.rejected {
                merged.rejected[ResourceKey(key.kind, q(key.name), field: key.field)] = issue
            }
            let configuration = snapshot.configuration
            if let section = configuration.http {
                for (name, router) in section.routers ?? [:] {
                    var router = router
                    router.service = router.service.map(q)
                    router.middlewares = router.middlewares?.map(q)
                    if let options = router.tls?.options, options != "default" { router.tls?.options = q(options) }
                    put(&http.routers, q(name), router)
                }
                for (name, service) in section.services ?? [:] {
                    put(&http.services, q(name), qualifyReferences(of: service, with: q))
                }
                for (name, middleware) in section.middlewares ?? [:] {
                    var middleware = middleware
                    if let chained = middleware.chain?.middlewares { middleware.chain?.middlewares = chained.map(q) }
                    if let errorService = middleware.errors?.service { middleware.errors?.service = q(errorService) }
                    put(&http.middlewares, q(name), middleware)
                }
                for (name, transport) in section.serversTransports ?? [:] {
                    put(&http.serversTransports, q(name), transport)
                }
            }
            if let section = configuration.tcp {
                for (name, router) in section.routers ?? [:] {
                    var router = router
                    router.service = router.service.map(q)
                    router.middlewares = router.middlewares?.map(q)
                    put(&tcp.routers, q(name), router)
                }
                for (name, service) in section.services ?? [:] { put(&tcp.services, q(name), service) }
                for (name, middleware) in section.middlewares ?? [:] {
                    put(&tcp.middlewares, q(name), middleware)
                }
                for (name, transport) in section.serversTransports ?? [:] {
                    put(&tcp.serversTransports, q(name), transport)
                }
            }
            if let section = configuration.udp {
                for (name, router) in section.routers ?? [:] {
                    var router = router
                    router.service = router.service.map(q)
                    put(&udp.routers, q(name), router)
                }
                for (name, service) in section.services ?? [:] { put(&udp.services, q(name), service) }
            }
            if let section = configuration.tls {
                tls.certificates = (tls.certificates ?? []) + (section.certificates ?? [])
                merged.certificateProviders += (section.certificates ?? []).map { _ in provider }
                for (name, options) in section.options ?? [:] {
                    put(&tls.options, name == "default" ? name : q(name), options)
                }
                for (name, store) in section.stores ?? [:] { put(&tls.stores, name, store) }
            }
        }
        if http != HTTPConfiguration() { merged.configuration.http = http }
        if tcp != TCPConfiguration() { merged.configuration.tcp = tcp }
        if udp != UDPConfiguration() { merged.configuration.udp = udp }
        if tls != TLSConfiguration() { merged.configuration.tls = tls }
        return merged
    }

    private static func put<Value>(_ dictionary: inout [String: Value]?, _ key: String, _ value: Value) {
        if dictionary == nil { dictionary = [:] }
        dictionary?[key] = value
    }

    private static func qualifyReferences(of service: HTTPService, with q: (String) -> String) -> HTTPService {
        var service = service
        service.middlewares = service.middlewares?.map(q)
        if var weighted = service.weighted {
            weighted.services = weighted.services?.map { var ref = $0; ref.name = ref.name.map(q); return ref }
            service.weighted = weighted
        }
        if var hrw = service.highestRandomWeight {
            hrw.services = hrw.services?.map { var ref = $0; ref.name = ref.name.map(q); return ref }
            service.highestRandomWeight = hrw
        }
        if var mirroring = service.mirroring {
            mirroring.service = mirroring.service.map(q)
            mirroring.mirrors = mirroring.mirrors?.map { var ref = $0; ref.name = ref.name.map(q); return ref }
            service.mirroring = mirroring
        }
        if var failover = service.failover {
            failover.service = failover.service.map(q)
            failover.fallback = failover.fallback.map(q)
            service.failover = failover
        }
        return service
    }
}
