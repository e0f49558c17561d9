import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import SwitchyardConfig
import SwitchyardRouting
import SwitchyardStore
import SwitchyardTLS

/// The API (`api@internal`): Traefik's `/api/rawdata` and `/api/version`, read from the table in force.
public struct APIService: InternalService {
    public struct Version: Sendable, Encodable {
        public var Version: String
        public var Codename: String
        public var startDate: String
    }

    private let store: RoutingTableStore
    private let version: Version
    /// The recorded table versions (`/api/history`), when the store is open.
    private let history: SwitchyardStore?

    public init(store: RoutingTableStore, version: String, startDate: Date = Date(), history: SwitchyardStore? = nil) {
        self.store = store
        self.history = history
        let formatter = ISO8601DateFormatter()
        self.version = Version(Version: version, Codename: "switchyard", startDate: formatter.string(from: startDate))
    }

    public func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        guard request.method == .GET || request.method == .HEAD else {
            return eventLoop.makeSucceededFuture(Self.text(.methodNotAllowed, "method not allowed\n"))
        }
        let response: InternalResponse
        switch path {
        case "/api/rawdata", "/api/rawdata/":
            response = Self.json(RawData(table: store.current))
        case "/api/version", "/api/version/":
            response = Self.json(version)
        case "/api/tls/certificates", "/api/tls/certificates/":
            response = Self.json(CertificateInventory(table: store.current))
        case let path where path == "/api/history" || path.hasPrefix("/api/history/"):
            // The database is read off the event loop.
            guard let history else { return eventLoop.makeSucceededFuture(Self.text(.notFound, "no history store\n")) }
            let parts = path.split(separator: "/").dropFirst(2).map(String.init)
            return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                if parts.count == 2, parts[1] == "diff" { return try HistoryAnswer.diff(history, version: parts[0]) }
                guard parts.count <= 1 else { return APIService.text(.notFound, "404 page not found\n") }
                return try HistoryAnswer.answer(history, version: parts.first)
            }.recover { error in Self.text(.internalServerError, "cannot read the history: \(error)\n") }
        default:
            response = Self.text(.notFound, "404 page not found\n")
        }
        return eventLoop.makeSucceededFuture(response)
    }

    static func json(_ value: some Encodable) -> InternalResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
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
        services = table.status.services
        // Server status is live: what the health checks say now, not when the table was built.
        for (name, target) in table.services {
            guard case .loadBalancer(let balancer) = target, let health = balancer.health else { continue }
            for (index, server) in balancer.servers.enumerated() {
                services[name]?.serverStatus[server.url] = health.isUp(index) ? "UP" : "DOWN"
            }
        }
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
        let formatter = ISO8601DateFormatter()
        let store = table.tls.store
        func entry(_ certificate: ServingCertificate, isDefault: Bool) -> Entry {
            Entry(
                names: certificate.names, subject: certificate.subject, issuer: certificate.issuer,
                notBefore: formatter.string(from: certificate.notBefore), notAfter: formatter.string(from: certificate.notAfter),
                daysLeft: Int(certificate.notAfter.timeIntervalSinceNow / 86_400), source: certificate.source,
                isDefault: isDefault)
        }
        version = table.version
        certificates = [entry(store.defaultCertificate, isDefault: true)] + store.certificates.map { entry($0, isDefault: false) }
    }
}

/// `/api/history` (the newest versions, without their configuration) and `/api/history/{version}` (one, whole).
enum HistoryAnswer {
    static func answer(_ history: SwitchyardStore, version: String?) throws -> InternalResponse {
        let formatter = ISO8601DateFormatter()
        func summary(_ entry: SwitchyardStore.Version) -> [String: Any] {
            ["version": entry.number, "created": formatter.string(from: entry.created), "changed": entry.changed,
             "routers": entry.routers, "errors": entry.errors]
        }
        let object: Any
        if let version {
            guard let number = Int64(version), let entry = try history.version(number) else {
                return APIService.text(.notFound, "no version \(version) in the history\n")
            }
            var whole = summary(entry)
            whole["configuration"] = try JSONSerialization.jsonObject(with: entry.configuration)
            whole["issues"] = try JSONSerialization.jsonObject(with: entry.issues)
            object = whole
        } else {
            object = try history.versions(limit: 500).map(summary)
        }
        return try json(object)
    }

    static func json(_ object: Any) throws -> InternalResponse {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        return InternalResponse(status: .ok, headers: headers, body: ByteBuffer(data: data))
    }

    /// The resources a section of the configuration holds, by dotted section name.
    static let sections = [
        "http.routers", "http.services", "http.middlewares", "http.serversTransports", "tcp.routers", "tcp.services",
        "tcp.middlewares", "udp.routers", "udp.services", "tls.options", "tls.stores",
    ]

    /// `/api/history/{version}/diff`: what changed from the version kept before it, resource by resource: added,
    /// removed, or changed with the dotted paths of the options that differ.
    static func diff(_ history: SwitchyardStore, version: String) throws -> InternalResponse {
        guard let number = Int64(version), let entry = try history.version(number) else {
            return APIService.text(.notFound, "no version \(version) in the history\n")
        }
        let previous = try history.version(before: number)
        let new = try JSONSerialization.jsonObject(with: entry.configuration) as? [String: Any] ?? [:]
        let old = try previous.map { try JSONSerialization.jsonObject(with: $0.configuration) as? [String: Any] ?? [:] } ?? [:]
        var changes: [[String: Any]] = []
        for section in sections {
            let path = section.split(separator: ".").map(String.init)
            let before = lookup(old, path) as? [String: Any] ?? [:]
            let after = lookup(new, path) as? [String: Any] ?? [:]
            for name in Set(before.keys).union(after.keys).sorted() {
                switch (before[name], after[name]) {
                case (nil, _?): changes.append(["kind": section, "name": name, "change": "added"])
                case (_?, nil): changes.append(["kind": section, "name": name, "change": "removed"])
                case (let was?, let now?):
                    var fields: [String] = []
                    differences(was, now, path: "", into: &fields)
                    if !fields.isEmpty { changes.append(["kind": section, "name": name, "change": "changed", "fields": fields]) }
                default: break
                }
            }
        }
        let certificatesBefore = (lookup(old, ["tls", "certificates"]) as? [Any])?.count ?? 0
        let certificatesAfter = (lookup(new, ["tls", "certificates"]) as? [Any])?.count ?? 0
        var object: [String: Any] = [
            "version": number, "changed": entry.changed, "changes": changes,
            "certificates": ["before": certificatesBefore, "after": certificatesAfter],
        ]
        if let previous { object["previous"] = previous.number }
        return try json(object)
    }

    static func lookup(_ object: [String: Any], _ path: [String]) -> Any? {
        var current: Any? = object
        for key in path { current = (current as? [String: Any])?[key] }
        return current
    }

    /// The dotted paths where two decoded JSON values differ (lists compared whole).
    static func differences(_ a: Any, _ b: Any, path: String, into fields: inout [String]) {
        if let left = a as? [String: Any], let right = b as? [String: Any] {
            for key in Set(left.keys).union(right.keys).sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                switch (left[key], right[key]) {
                case (let x?, let y?): differences(x, y, path: child, into: &fields)
                case (nil, nil): break
                default: fields.append(child)
                }
            }
            return
        }
        let same = (try? JSONSerialization.data(withJSONObject: [a], options: [.sortedKeys]))
            == (try? JSONSerialization.data(withJSONObject: [b], options: [.sortedKeys]))
        if !same { fields.append(path) }
    }
}
