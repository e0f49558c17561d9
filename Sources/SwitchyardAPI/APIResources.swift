import Foundation
import NIOHTTP1
import SwitchyardConfig
import SwitchyardRouting

/// The filters and page of a list request, as Traefik's API takes them: `search` (a case-insensitive part of the
/// name, or of a router's rule), `status` (`enabled`, `disabled`, `warning`), `provider`, `serviceName`,
/// `middlewareName`, `page` (from 1) and `per_page` (100 by default).
struct ListQuery {
    var search: String?
    var status: String?
    var provider: String?
    var serviceName: String?
    var middlewareName: String?
    var page = 1
    var perPage = 100

    struct Invalid: Error {
        var message: String
    }

    init(items: [URLQueryItem]) throws(Invalid) {
        for item in items {
            guard let value = item.value, !value.isEmpty else { continue }
            switch item.name {
            case "search": search = value.lowercased()
            case "status": status = value.lowercased()
            case "provider": provider = value.lowercased()
            case "serviceName": serviceName = value
            case "middlewareName": middlewareName = value
            case "page":
                guard let page = Int(value), page >= 1 else { throw Invalid(message: "page: '\(value)' is not a page number (1, 2, ...)") }
                self.page = page
            case "per_page":
                guard let perPage = Int(value), perPage >= 1 else { throw Invalid(message: "per_page: '\(value)' is not a positive number") }
                self.perPage = perPage
            default: continue
            }
        }
    }

    func accepts(name: String, provider: String, status: ResourceStatus, searchIn extra: [String] = []) -> Bool {
        if let wanted = self.status, wanted != status.rawValue { return false }
        if let wanted = self.provider, wanted != provider.lowercased() { return false }
        if let search, !([name] + extra).contains(where: { $0.lowercased().contains(search) }) { return false }
        return true
    }

    /// One page of the sorted items, and the number of the next page (1 after the last, as Traefik's
    /// `X-Next-Page`); nil when the page starts past the end.
    func page<Item>(of items: [Item]) -> (items: ArraySlice<Item>, next: Int)? {
        let start = (page - 1).multipliedReportingOverflow(by: perPage)
        guard !start.overflow, start.partialValue <= items.count, page == 1 || start.partialValue < items.count else {
            return nil
        }
        let end = min(items.count, start.partialValue + perPage)
        return (items[start.partialValue..<end], end < items.count ? page + 1 : 1)
    }
}

/// A resource of the table in force as the list and detail endpoints show it.
protocol ListedResource: Encodable {
    var listedName: String { get }
    var listedProvider: String { get }
    var listedStatus: ResourceStatus { get }
    /// More text `search` looks into beside the name.
    var searchable: [String] { get }
    func uses(service: String) -> Bool
    func uses(middleware: String) -> Bool
}

extension ListedResource {
    var searchable: [String] { [] }
    func uses(service: String) -> Bool { true }
    func uses(middleware: String) -> Bool { true }
}

extension RouterInfo: ListedResource {
    var listedName: String { name }
    var listedProvider: String { provider }
    var listedStatus: ResourceStatus { status }
    var searchable: [String] { [router.rule ?? ""] }
    func uses(service: String) -> Bool { router.service.map { ResourceName.qualify($0, in: provider) == service } ?? false }
    func uses(middleware: String) -> Bool {
        (router.middlewares ?? []).contains { ResourceName.qualify($0, in: provider) == middleware }
    }
}

/// A service with its type and live server status.
struct ServiceEntry: ListedResource {
    var info: ServiceInfo
    var type: String

    var listedName: String { info.name }
    var listedProvider: String { info.provider }
    var listedStatus: ResourceStatus { info.status }

    enum CodingKeys: String, CodingKey { case type }

    func encode(to encoder: any Encoder) throws {
        try info.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
    }
}

extension MiddlewareInfo: ListedResource {
    var listedName: String { name }
    var listedProvider: String { provider }
    var listedStatus: ResourceStatus { status }
}

/// A TCP or UDP resource: configuration only, since this version serves HTTP alone; each says so.
struct StreamResource<Definition: Encodable>: ListedResource {
    var name: String
    var definition: Definition

    var listedName: String { name }
    var listedProvider: String { ResourceName.provider(of: name) ?? "" }
    var listedStatus: ResourceStatus { .disabled }

    enum CodingKeys: String, CodingKey { case name, provider, status, error }

    func encode(to encoder: any Encoder) throws {
        try definition.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(listedProvider, forKey: .provider)
        try container.encode(listedStatus, forKey: .status)
        try container.encode(["TCP and UDP routing are not served by this version of Switchyard"], forKey: .error)
    }
}

/// The resources of one table, by kind, as the API lists them.
struct TableResources {
    let table: RoutingTable

    var routers: [RouterInfo] { table.status.routers.values.sorted { $0.name < $1.name } }

    var services: [ServiceEntry] {
        Self.liveServices(table).values.sorted { $0.name < $1.name }.map { ServiceEntry(info: $0, type: Self.type(of: $0.service)) }
    }

    var middlewares: [MiddlewareInfo] { table.status.middlewares.values.sorted { $0.name < $1.name } }

    var tcpRouters: [StreamResource<TCPRouter>] { Self.stream(table.configuration.configuration.tcp?.routers) }
    var tcpServices: [StreamResource<TCPService>] { Self.stream(table.configuration.configuration.tcp?.services) }
    var tcpMiddlewares: [StreamResource<TCPMiddleware>] { Self.stream(table.configuration.configuration.tcp?.middlewares) }
    var udpRouters: [StreamResource<UDPRouter>] { Self.stream(table.configuration.configuration.udp?.routers) }
    var udpServices: [StreamResource<UDPService>] { Self.stream(table.configuration.configuration.udp?.services) }

    static func stream<Definition>(_ map: [String: Definition]?) -> [StreamResource<Definition>] {
        (map ?? [:]).sorted { $0.key < $1.key }.map { StreamResource(name: $0.key, definition: $0.value) }
    }

    /// The services with their servers' status as the health checks see them now, not when the table was built.
    static func liveServices(_ table: RoutingTable) -> [String: ServiceInfo] {
        var services = table.status.services
        for (name, target) in table.services {
            guard case .loadBalancer(let balancer) = target, let health = balancer.health else { continue }
            for (index, server) in balancer.servers.enumerated() {
                services[name]?.serverStatus[server.url] = health.isUp(index) ? "UP" : "DOWN"
            }
        }
        return services
    }

    /// Traefik's service `type`: `loadbalancer`, `weighted`, `mirroring`, `failover`, `highestrandomweight`.
    static func type(of service: HTTPService) -> String {
        service.configuredKinds.first?.lowercased() ?? ""
    }

    /// The list endpoint `/api/<protocol>/<kind>` answers from, nil for an unknown one.
    func list(_ protocolName: String, _ kind: String) -> [any ListedResource]? {
        switch (protocolName, kind) {
        case ("http", "routers"): routers
        case ("http", "services"): services
        case ("http", "middlewares"): middlewares
        case ("tcp", "routers"): tcpRouters
        case ("tcp", "services"): tcpServices
        case ("tcp", "middlewares"): tcpMiddlewares
        case ("udp", "routers"): udpRouters
        case ("udp", "services"): udpServices
        default: nil
        }
    }
}

/// `/api/overview`: counts by kind and status, the providers, the features on, and the version in force.
struct Overview: Encodable {
    struct Counts: Encodable {
        var total = 0
        var warnings = 0
        var errors = 0

        init(_ resources: [any ListedResource]) {
            total = resources.count
            warnings = resources.count { $0.listedStatus == .warning }
            errors = resources.count { $0.listedStatus == .disabled }
        }
    }

    struct Features: Encodable {
        var tracing = ""
        var metrics: String
        var accessLog: Bool
    }

    struct Issues: Encodable {
        var errors: Int
        var warnings: Int
    }

    var http: [String: Counts]
    var tcp: [String: Counts]
    var udp: [String: Counts]
    var features: Features
    var providers: [String]
    var version: UInt64
    /// When the version in force was compiled (ISO 8601).
    var versionCreated: String
    var issues: Issues

    init(table: RoutingTable, features: Features) {
        let resources = TableResources(table: table)
        http = ["routers": Counts(resources.routers), "services": Counts(resources.services), "middlewares": Counts(resources.middlewares)]
        tcp = ["routers": Counts(resources.tcpRouters), "services": Counts(resources.tcpServices), "middlewares": Counts(resources.tcpMiddlewares)]
        udp = ["routers": Counts(resources.udpRouters), "services": Counts(resources.udpServices)]
        self.features = features
        providers = table.configuration.providers.map { $0.prefix(1).uppercased() + $0.dropFirst() }
        version = table.version
        versionCreated = InternetTime.rfc3339(table.createdAt)
        issues = Issues(
            errors: table.status.issues.count { $0.severity == .error },
            warnings: table.status.issues.count { $0.severity == .warning })
    }
}

/// An entry point of the static configuration, as `/api/entrypoints` shows it: its options and its name.
public struct EntryPointDocument: Sendable {
    public var name: String
    /// The entry point's static options, encoded as JSON (an object).
    public var options: Data

    public init(name: String, options: Data) {
        self.name = name
        self.options = options
    }

    func object() -> [String: Any] {
        var object = (try? JSONSerialization.jsonObject(with: options)) as? [String: Any] ?? [:]
        object["name"] = name
        return object
    }
}
