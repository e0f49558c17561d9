import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import SwitchyardRouting

/// Traefik's metric set under the `switchyard_` prefix, through swift-metrics into a Prometheus registry: requests,
/// durations and bytes per entry point, router and service (labels `code`, `method`, `protocol`, `entrypoint`,
/// `router`, `service`), retries, open connections, servers up, configuration reloads and certificate expiry.
///
/// On the request path: each event loop keeps its own map from label values to the metric handles (a
/// thread-specific cache, so no lock once a combination has been seen); the handles count with atomics.
public final class PrometheusMetrics: ExchangeObserver {
    public struct Options: Sendable {
        /// `addEntryPointsLabels` (true), `addRoutersLabels` (false), `addServicesLabels` (true).
        public var entryPoints = true
        public var routers = false
        public var services = true
        /// Request-duration histogram buckets, in seconds (Traefik's 0.1, 0.3, 1.2, 5).
        public var buckets: [Double] = [0.1, 0.3, 1.2, 5.0]

        public init() {}
    }

    public static let prefix = "switchyard_"

    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let options: Options
    private let handles = ThreadSpecificVariable<HandleCache>()
    private let reloads: CoreMetrics.Counter
    private let lastReloadSuccess: CoreMetrics.Gauge
    private let lastReloadFailure: CoreMetrics.Gauge
    private let certificateGauges = NIOLockedValueBox<[String: CoreMetrics.Gauge]>([:])

    public init(options: Options = Options()) {
        self.options = options
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = options.buckets.map { .nanoseconds(Int64($0 * 1e9)) }
        self.factory = factory
        reloads = CoreMetrics.Counter(label: Self.prefix + "config_reloads_total", dimensions: [], factory: factory)
        lastReloadSuccess = CoreMetrics.Gauge(label: Self.prefix + "config_last_reload_success", dimensions: [], factory: factory)
        lastReloadFailure = CoreMetrics.Gauge(label: Self.prefix + "config_last_reload_failure", dimensions: [], factory: factory)
    }

    // MARK: Exchanges

    struct Key: Hashable {
        var level: UInt8
        var name: String
        var service: String
        var code: Int
        var method: String
        var proto: String
    }

    struct Handles {
        var requests: CoreMetrics.Counter
        var duration: CoreMetrics.Timer
        var requestBytes: CoreMetrics.Counter
        var responseBytes: CoreMetrics.Counter
    }

    /// One event loop's handles: each thread has its own (a thread-specific variable) and only it touches them.
    final class HandleCache: @unchecked Sendable {
        var handles: [Key: Handles] = [:]
        var retries: [String: CoreMetrics.Counter] = [:]
    }

    /// Methods outside the standard set count as `EXTENSION_METHOD`, so clients cannot grow the label set.
    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]

    public func exchangeEnded(_ record: ExchangeRecord) {
        let cache: HandleCache
        if let existing = handles.currentValue {
            cache = existing
        } else {
            cache = HandleCache()
            handles.currentValue = cache
        }
        let method = Self.methods.contains(record.request.method.rawValue) ? record.request.method.rawValue : "EXTENSION_METHOD"
        func count(_ level: UInt8, _ name: String, service: String = "") {
            let key = Key(level: level, name: name, service: service, code: record.status, method: method, proto: record.protocol)
            let handles = cache.handles[key] ?? makeHandles(key)
            if cache.handles[key] == nil { cache.handles[key] = handles }
            handles.requests.increment()
            handles.duration.recordNanoseconds(record.duration)
            handles.requestBytes.increment(by: record.requestBytes)
            handles.responseBytes.increment(by: record.responseBytes)
        }
        if options.entryPoints { count(0, record.entryPoint) }
        if options.routers, let router = record.router, let service = record.service { count(1, router, service: service) }
        if options.services, let service = record.service {
            count(2, service)
            if record.retries > 0 {
                let counter = cache.retries[service] ?? CoreMetrics.Counter(
                    label: Self.prefix + "service_retries_total", dimensions: [("service", service)], factory: factory)
                cache.retries[service] = counter
                counter.increment(by: record.retries)
            }
        }
    }

    private func makeHandles(_ key: Key) -> Handles {
        let (scope, labels): (String, [(String, String)])
        let common = [("code", String(key.code)), ("method", key.method), ("protocol", key.proto)]
        switch key.level {
        case 0: (scope, labels) = ("entrypoint", common + [("entrypoint", key.name)])
        case 1: (scope, labels) = ("router", common + [("router", key.name), ("service", key.service)])
        default: (scope, labels) = ("service", common + [("service", key.name)])
        }
        let prefix = Self.prefix + scope
        return Handles(
            requests: CoreMetrics.Counter(label: prefix + "_requests_total", dimensions: labels, factory: factory),
            duration: CoreMetrics.Timer(label: prefix + "_request_duration_seconds", dimensions: labels, factory: factory),
            requestBytes: CoreMetrics.Counter(label: prefix + "_requests_bytes_total", dimensions: labels, factory: factory),
            responseBytes: CoreMetrics.Counter(label: prefix + "_responses_bytes_total", dimensions: labels, factory: factory))
    }

    // MARK: Configuration and state

    /// A table was published (`success`), or a configuration was refused whole.
    public func configurationReloaded(success: Bool) {
        reloads.increment()
        (success ? lastReloadSuccess : lastReloadFailure).record(Date().timeIntervalSince1970)
    }

    /// A gauge read when the exposition is asked for (its HELP line comes with the others).
    static func gauge(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: prefix + name, unitName: "", helpText: "")
    }

    /// The exposition text, with the gauges read now: open connections, servers up, certificate expiry.
    public func exposition(table: RoutingTable, connections: [(entryPoint: String, gauge: ConnectionGauge)]) -> [UInt8] {
        for (entryPoint, gauge) in connections {
            registry.makeGauge(descriptor: Self.gauge("open_connections"), labels: [("entrypoint", entryPoint), ("protocol", "TCP")])
                .set(to: Double(gauge.current))
        }
        for (name, target) in table.services {
            guard case .loadBalancer(let balancer) = target else { continue }
            for (index, server) in balancer.servers.enumerated() {
                let up = balancer.health?.isUp(index) ?? true
                registry.makeGauge(descriptor: Self.gauge("service_server_up"), labels: [("service", name), ("url", server.url)])
                    .set(to: up ? 1 : 0)
            }
        }
        let store = table.tls.store
        var live: Set<String> = []
        for certificate in [store.defaultCertificate] + store.certificates {
            let labels = [
                ("cn", certificate.subject), ("sans", certificate.names.joined(separator: ",")),
                ("serial", certificate.serial),
            ]
            let key = labels.map(\.1).joined(separator: "|")
            live.insert(key)
            let gauge = certificateGauges.withLockedValue { gauges in
                if let gauge = gauges[key] { return gauge }
                let gauge = CoreMetrics.Gauge(label: Self.prefix + "tls_certs_not_after", dimensions: labels, factory: factory)
                gauges[key] = gauge
                return gauge
            }
            gauge.record(certificate.notAfter.timeIntervalSince1970)
        }
        certificateGauges.withLockedValue { gauges in
            for (key, gauge) in gauges where !live.contains(key) {
                gauge.destroy()
                gauges[key] = nil
            }
        }
        return Self.withHelp(registry.emitToBuffer())
    }

    /// What each metric measures, as `# HELP` lines.
    static let help: [String: String] = [
        "config_reloads_total": "Config reloads",
        "config_last_reload_success": "Last config reload success",
        "config_last_reload_failure": "Last config reload failure",
        "open_connections": "How many open connections exist, by entry point and protocol",
        "tls_certs_not_after": "Certificate expiration timestamp",
        "entrypoint_requests_total": "How many HTTP requests processed on an entry point, partitioned by status code, protocol, and method.",
        "entrypoint_request_duration_seconds": "How long it took to process the request on an entry point, partitioned by status code, protocol, and method.",
        "entrypoint_requests_bytes_total": "The total size of requests in bytes handled by an entry point, partitioned by status code, protocol, and method.",
        "entrypoint_responses_bytes_total": "The total size of responses in bytes handled by an entry point, partitioned by status code, protocol, and method.",
        "router_requests_total": "How many HTTP requests are processed on a router, partitioned by service, status code, protocol, and method.",
        "router_request_duration_seconds": "How long it took to process the request on a router, partitioned by service, status code, protocol, and method.",
        "router_requests_bytes_total": "The total size of requests in bytes handled by a router, partitioned by service, status code, protocol, and method.",
        "router_responses_bytes_total": "The total size of responses in bytes handled by a router, partitioned by service, status code, protocol, and method.",
        "service_requests_total": "How many HTTP requests processed on a service, partitioned by status code, protocol, and method.",
        "service_request_duration_seconds": "How long it took to process the request on a service, partitioned by status code, protocol, and method.",
        "service_requests_bytes_total": "The total size of requests in bytes received by a service, partitioned by status code, protocol, and method.",
        "service_responses_bytes_total": "The total size of responses in bytes returned by a service, partitioned by status code, protocol, and method.",
        "service_retries_total": "How many request retries happened on a service.",
        "service_server_up": "service server is up, described by gauge value of 0 or 1.",
    ]

    /// Puts a `# HELP` line before each metric's `# TYPE` line (swift-metrics gives the registry no help texts).
    static func withHelp(_ exposition: [UInt8]) -> [UInt8] {
        var output = ""
        for line in String(decoding: exposition, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).split(separator: " ").first.map(String.init) ?? ""
                if let text = help[String(name.dropFirst(prefix.count))], name.hasPrefix(prefix) {
                    output += "# HELP \(name) \(text)\n"
                }
            }
            output += line + "\n"
        }
        return Array(output.dropLast().utf8)
    }
}

/// `/metrics` (`prometheus@internal`): the registry in Prometheus' text format.
public struct MetricsService: InternalService {
    private let metrics: PrometheusMetrics
    private let store: RoutingTableStore
    private let connections: [(entryPoint: String, gauge: ConnectionGauge)]

    public init(metrics: PrometheusMetrics, store: RoutingTableStore, connections: [(entryPoint: String, gauge: ConnectionGauge)]) {
        self.metrics = metrics
        self.store = store
        self.connections = connections
    }

    public func respond(to request: HTTPRequestHead, on eventLoop: any EventLoop) -> EventLoopFuture<InternalResponse> {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "text/plain; version=0.0.4; charset=utf-8")
        let text = metrics.exposition(table: store.current, connections: connections)
        return eventLoop.makeSucceededFuture(InternalResponse(status: .ok, headers: headers, body: ByteBuffer(bytes: text)))
    }
}
