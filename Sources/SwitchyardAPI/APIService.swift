import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import SwitchyardConfig
import SwitchyardDashboard
import SwitchyardRouting
import SwitchyardStore
import SwitchyardTLS

/// The API and the dashboard (`api@internal`): Traefik's endpoints (`/api/rawdata`, `/api/overview`,
/// `/api/entrypoints`, `/api/http|tcp|udp/...`, `/api/version`) and Switchyard's own (history, TLS certificates),
/// read from the table in force; the dashboard's files under `/dashboard/`.
public struct APIService: InternalService {
    public struct Version: Sendable, Encodable {
        public var Version: String
        public var Codename: String
        public var startDate: String
    }

    /// What the API says about the process beside the table: version, entry points, features, where history is.
    public struct Settings: Sendable {
        public var version: String
        public var startDate = Date()
        public var entryPoints: [EntryPointDocument] = []
        /// `/dashboard/` is served (`--api.dashboard`, on by default).
        public var dashboard = true
        /// The metrics exporter's name when one is on (`prometheus`), else empty.
        public var metrics = ""
        public var accessLog = false
        /// The routers' and services' traffic (`/api/traffic`), when counted.
        public var traffic: TrafficRegistry?
        /// The events hub (`/api/events`).
        public var events: EventHub?

        public init(version: String) {
            self.version = version
        }
    }

    private let store: RoutingTableStore
    private let settings: Settings
    private let version: Version
    /// The recorded table versions (`/api/history`), when the store is open.
    private let history: SwitchyardStore?

    public init(store: RoutingTableStore, settings: Settings, history: SwitchyardStore? = nil) {
        self.store = store
        self.settings = settings
        self.history = history
        self.version = Version(
            Version: settings.version, Codename: "switchyard", startDate: InternetTime.rfc3339(settings.startDate.timeIntervalSince1970))
    }

    public func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        let components = URLComponents(string: request.uri)
        let path = components?.percentEncodedPath ?? request.uri
        guard request.method == .GET || request.method == .HEAD else {
            return eventLoop.makeSucceededFuture(Self.text(.methodNotAllowed, "method not allowed\n"))
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map { $0.removingPercentEncoding ?? String($0) }
        if parts.first == "dashboard" || path == "/" {
            return eventLoop.makeSucceededFuture(dashboard(path: path, parts: parts.dropFirst()))
        }
        guard parts.first == "api" else { return eventLoop.makeSucceededFuture(Self.notFound) }
        let table = store.current
        let response: InternalResponse
        switch Array(parts.dropFirst()) {
        case ["rawdata"]:
            response = Self.json(RawData(table: table))
        case ["version"]:
            response = Self.json(version)
        case ["overview"]:
            response = Self.json(Overview(
                table: table, features: .init(metrics: settings.metrics, accessLog: settings.accessLog)))
        case ["entrypoints"]:
            response = (try? HistoryAnswer.json(settings.entryPoints.map { $0.object() })) ?? Self.notFound
        case let parts where parts.count == 2 && parts[0] == "entrypoints":
            response = settings.entryPoints.first { $0.name == parts[1] }.flatMap { try? HistoryAnswer.json($0.object()) }
                ?? Self.text(.notFound, "entry point not found\n")
        case let parts where (parts.count == 2 || parts.count == 3) && ["http", "tcp", "udp"].contains(parts[0]):
            guard let resources = TableResources(table: table).list(parts[0], parts[1]) else {
                response = Self.notFound
                break
            }
            if parts.count == 3 {
                response = resources.first { $0.listedName == parts[2] }.map { Self.json($0) }
                    ?? Self.text(.notFound, "\(parts[1].dropLast()) not found\n")
            } else {
                response = Self.list(resources, query: components?.queryItems ?? [])
            }
        case ["events"]:
            guard let events = settings.events else { return eventLoop.makeSucceededFuture(Self.notFound) }
            response = events.response(version: table.version)
        case ["traffic"]:
            guard let traffic = settings.traffic else { return eventLoop.makeSucceededFuture(Self.notFound) }
            let (routers, services) = traffic.summaries()
            response = Self.json(TrafficAnswer(interval: 1, routers: routers, services: services))
        case ["explain"]:
            response = ExplainAnswer.answer(
                table: table, query: components?.queryItems ?? [], entryPoints: settings.entryPoints.map(\.name))
        case ["tls", "certificates"]:
            response = Self.json(CertificateInventory(table: table))
        case let parts where parts.first == "history":
            // The database is read off the event loop.
            guard let history else { return eventLoop.makeSucceededFuture(Self.text(.notFound, "no history store\n")) }
            let rest = Array(parts.dropFirst())
            return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                if rest.count == 2, rest[1] == "diff" { return try HistoryAnswer.diff(history, version: rest[0]) }
                guard rest.count <= 1 else { return APIService.notFound }
                return try HistoryAnswer.answer(history, version: rest.first)
            }.recover { error in Self.text(.internalServerError, "cannot read the history: \(error)\n") }
        default:
            response = Self.notFound
        }
        return eventLoop.makeSucceededFuture(response)
    }

    /// A filtered, paged list, with the next page in `X-Next-Page` (1 after the last page) as Traefik sends it.
    static func list(_ resources: [any ListedResource], query: [URLQueryItem]) -> InternalResponse {
        let criteria: ListQuery
        do {
            criteria = try ListQuery(items: query)
        } catch {
            return text(.badRequest, "invalid request: \(error.message)\n")
        }
        let selected = resources.filter { resource in
            criteria.accepts(
                name: resource.listedName, provider: resource.listedProvider, status: resource.listedStatus,
                searchIn: resource.searchable)
                && criteria.serviceName.map { resource.uses(service: $0) } ?? true
                && criteria.middlewareName.map { resource.uses(middleware: $0) } ?? true
        }
        guard let page = criteria.page(of: selected) else {
            return text(.badRequest, "invalid request: page: \(criteria.page), per_page: \(criteria.perPage)\n")
        }
        var response = json(page.items.map(AnyEncodable.init))
        response.headers.replaceOrAdd(name: "X-Next-Page", value: String(page.next))
        response.headers.replaceOrAdd(name: "X-Total-Count", value: String(selected.count))
        return response
    }

    /// `/dashboard/...`: the embedded files; `/dashboard` and `/` lead to `/dashboard/`.
    func dashboard(path: String, parts: ArraySlice<String>) -> InternalResponse {
        guard settings.dashboard else { return Self.notFound }
        if path == "/" || path == "/dashboard" {
            var headers = HTTPHeaders()
            headers.add(name: "location", value: "/dashboard/")
            return InternalResponse(status: .found, headers: headers, body: ByteBuffer())
        }
        let file = parts.isEmpty ? "index.html" : parts.joined(separator: "/")
        guard let found = Dashboard.file(file) else { return Self.notFound }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: found.contentType)
        headers.add(name: "cache-control", value: "no-cache")
        return InternalResponse(status: .ok, headers: headers, body: ByteBuffer(data: found.bytes))
    }

    static var notFound: InternalResponse { text(.notFound, "404 page not found\n") }

    static func json(_ value: some Encodable) -> InternalResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            let data = try encoder.encode(value)
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            return InternalResponse(status: .ok, headers: headers, body: ByteBuffer(data: data))
        } catch {
            return text(.internalServerError, "cannot encode the answer: \(error)\n")
        }
    }

    static func text(_ status: HTTPResponseStatus, _ body: String) -> InternalResponse {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; charset=utf-8")
        return InternalResponse(status: status, headers: headers, body: ByteBuffer(string: body))
    }
}

/// `/api/traffic`: the last minute of every router and service that had traffic.
struct TrafficAnswer: Encodable {
    var interval: Int
    var routers: [String: TrafficRegistry.Summary]
    var services: [String: TrafficRegistry.Summary]
}

/// Encodes any encodable value (for lists of mixed resource types).
struct AnyEncodable: Encodable {
    let value: any Encodable

    init(_ value: any Encodable) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }
}

/// `/api/rawdata`: every router, service and middleware with its status and errors, as Traefik shows them, plus
/// the table version and the configuration errors that belong to no single resource.
struct RawData: Encodable {
    var version: UInt64
    var routers: [String: RouterInfo]
    var services: [String: ServiceInfo]
    var middlewares: [String: MiddlewareInfo]
    var tcpRouters: [String: TCPRouter]
    var tcpServices: [String: TCPService]
    var tcpMiddlewares: [String: TCPMiddleware]
    var udpRouters: [String: UDPRouter]
    var udpServices: [String: UDPService]
    /// Every error and warning of this version, each naming its source.
    var errors: [ConfigurationIssue]

    init(table: RoutingTable) {
        version = table.version
        routers = table.status.routers
        services = TableResources.liveServices(table)
        middlewares = table.status.middlewares
        let configuration = table.configuration.configuration
        tcpRouters = configuration.tcp?.routers ?? [:]
        tcpServices = configuration.tcp?.services ?? [:]
        tcpMiddlewares = configuration.tcp?.middlewares ?? [:]
        udpRouters = configuration.udp?.routers ?? [:]
        udpServices = configuration.udp?.services ?? [:]
        errors = table.status.issues
    }
}

/// `/ping`: 200 `OK` while serving, 503 once shutting down.
public final class PingService: InternalService {
    private let terminating = ManagedFlag()

    public init() {}

    public func startTerminating() { terminating.set() }

    public func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        let response = terminating.isSet
            ? APIService.text(.serviceUnavailable, "Service Unavailable")
            : APIService.text(.ok, "OK")
        return eventLoop.makeSucceededFuture(response)
    }
}

/// `/api/tls/certificates`: the certificates the table in force serves, the store's default first.
struct CertificateInventory: Encodable {
    struct Entry: Encodable {
        var names: [String]
        var subject: String
        var issuer: String
        var notBefore: String
        var notAfter: String
        var daysLeft: Int
        /// A file, `inline`, `ACME <resolver>` or `generated`.
        var source: String
        var isDefault: Bool
    }

    var version: UInt64
    var certificates: [Entry]

    init(table: RoutingTable) {
        let store = table.tls.store
        func entry(_ certificate: ServingCertificate, isDefault: Bool) -> Entry {
            Entry(
                names: certificate.names, subject: certificate.subject, issuer: certificate.issuer,
                notBefore: InternetTime.rfc3339(certificate.notBefore.timeIntervalSince1970),
                notAfter: InternetTime.rfc3339(certificate.notAfter.timeIntervalSince1970),
                daysLeft: Int(certificate.notAfter.timeIntervalSinceNow / 86_400), source: certificate.source,
                isDefault: isDefault)
        }
        version = table.version
        certificates = [entry(store.defaultCertificate, isDefault: true)] + store.certificates.map { entry($0, isDefault: false) }
    }
}

