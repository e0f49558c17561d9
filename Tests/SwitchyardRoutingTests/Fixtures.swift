import NIOHTTP1
import SwitchyardConfig
import SwitchyardProviderKit

@testable import SwitchyardRouting

enum Fixtures {
    static func router(_ rule: String, service: String = "s", priority: Int? = nil, entryPoints: [String]? = nil) -> Router {
        var router = Router()
        router.rule = rule
        router.service = service
        router.priority = priority
        router.entryPoints = entryPoints
        return router
    }

    static func service(_ urls: [String], weights: [Int]? = nil) -> HTTPService {
        var balancer = LoadBalancerService()
        balancer.servers = urls.enumerated().map { index, url in
            LoadBalancerServer(url: url, weight: weights?[index])
        }
        var service = HTTPService()
        service.loadBalancer = balancer
        return service
    }

    static func snapshot(
        provider: String = "file", routers: [String: Router] = [:], services: [String: HTTPService] = [:],
        middlewares: [String: Middleware] = [:]
    ) -> ProviderSnapshot {
        var http = HTTPConfiguration()
        http.routers = routers
        http.services = services
        http.middlewares = middlewares
        var configuration = DynamicConfiguration()
        configuration.http = http
        var origins: [ResourceKey: SourceLocation] = [:]
        for (index, name) in routers.keys.sorted().enumerated() {
            origins[ResourceKey(.httpRouter, name)] = SourceLocation(source: "dyn.yml", line: index + 3, column: 5)
        }
        return ProviderSnapshot(provider: provider, configuration: configuration, origins: origins)
    }

    static func table(_ snapshots: [ProviderSnapshot], entryPoints: [String] = ["web"]) -> RoutingTable {
        RoutingTableCompiler(entryPoints: entryPoints).compile(ConfigurationMerger.merge(snapshots), version: 7)
    }

    static func request(
        _ uri: String, host: String? = "a.test", method: HTTPMethod = .GET, headers: [(String, String)] = [],
        client: [UInt8] = [127, 0, 0, 1]
    ) -> RoutingRequest {
        var all = HTTPHeaders(headers)
        if let host { all.add(name: "host", value: host) }
        return RoutingRequest(head: HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: all), clientAddress: client)
    }

    /// What resolving a route's service for one request gives: the leaf, and what was collected on the way.
    struct Resolution {
        var leaf: ServiceTarget?
        var mirrors: [MirroringServices.Mirror] = []
        var setCookies: [String] = []
        var statusFallback: StatusFallback?

        var balancer: LoadBalancer? {
            if case .loadBalancer(let balancer)? = leaf { return balancer }
            return nil
        }
    }

    static func resolve(_ route: Route, headers: HTTPHeaders = [:]) -> Resolution {
        var resolution = Resolution()
        resolution.leaf = route.service.resolved(
            client: [], headers: headers, mirrors: &resolution.mirrors, setCookies: &resolution.setCookies,
            statusFallback: &resolution.statusFallback)
        return resolution
    }
}
