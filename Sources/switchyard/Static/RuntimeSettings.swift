import Foundation
import Logging
import NIOCore
import SwitchyardACME
import SwitchyardAPI
import SwitchyardConfig
import SwitchyardDockerProvider
import SwitchyardFileProvider
import SwitchyardKubernetesProvider
import SwitchyardObservability
import SwitchyardProxy
import SwitchyardRouting
import SwitchyardUpstream

/// The static configuration checked and resolved into what the process runs with: Traefik's defaults applied,
/// addresses parsed, every bad value reported with the key it came from.
struct RuntimeSettings {
    struct EntryPoint {
        var name: String
        var host: String
        var port: Int
        var model: RoutingTableCompiler.EntryPointModel?
        var forwardedHeaders = TrustedAddresses()
        var proxyProtocol: TrustedAddresses?
        var maxConcurrentStreams = 250
        var readTimeout: TimeAmount? = .seconds(60)
        var idleTimeout: TimeAmount? = .seconds(180)
        var writeTimeout: TimeAmount?
        /// `transport.lifeCycle`: how long requests in flight may finish at shutdown, and how long the entry point
        /// keeps accepting requests after the signal first.
        var graceTimeout: TimeAmount = .seconds(10)
        var requestAcceptGraceTimeout: TimeAmount?
        /// `http.sanitizePath`, `http.encodedCharacters`, `http.maxHeaderCount`.
        var sanitizePath = true
        var encodedCharacters = RequestPath.EncodedCharacters()
        var maxHeaderCount = 256
    }

    var entryPoints: [EntryPoint]
    var defaultEntryPoints: [String]
    var fileProvider: FileProviderOptions?
    var dockerProvider: DockerProviderOptions?
    var kubernetesIngress: KubernetesIngressOptions?
    var kubernetesCRD: KubernetesCRDOptions?
    var kubernetesGateway: KubernetesGatewayOptions?
    var throttle: Duration
    var apiInsecure: Bool
    var pingEntryPoint: String?
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var graceTimeout: TimeAmount
    var dialTimeout: TimeAmount
    var responseHeaderTimeout: TimeAmount?
    var idleConnTimeout: TimeAmount
    var maxIdlePerServer: Int
    /// The static `serversTransport`: TLS to `https://` servers of load balancers that name no transport.
    var defaultTransport: UpstreamTransport
    var certificateResolvers: [ACMEResolverOptions] = []
    /// The SQLite store (`history.path`, default `switchyard.db` beside the static configuration).
    var storePath: String = "switchyard.db"
    /// `history.keep`: table versions kept (500).
    var historyKeep = 500
    /// `api`: the service `api@internal` exists (routers may name it); `api.insecure` also routes `/api` and
    /// `/dashboard` to it on the `traefik` entry point.
    var apiEnabled = false
    /// `api.dashboard` (true): `/dashboard/` is served by `api@internal`.
    var apiDashboard = true
    /// Each entry point's static options as the API shows them (`/api/entrypoints`).
    var entryPointDocuments: [EntryPointDocument] = []
    /// `metrics.prometheus`: the metrics, the entry point `/metrics` is routed on, and whether users route it.
    var metrics: PrometheusMetrics.Options?
    var metricsEntryPoint = "traefik"
    var metricsManualRouting = false
    /// `accessLog`.
    var accessLog: AccessLog.Options?

    enum LogFormat: String {
        case common
        case json
    }

    static func resolve(_ loaded: StaticConfigurationLoader.Loaded) throws(ConfigurationIssue) -> RuntimeSettings {
        let configuration = loaded.configuration
        func issue(_ key: String, _ message: String) -> ConfigurationIssue {
            ConfigurationIssue(at: loaded.location(of: key), keyPath: key, message: message)
        }
        // Entry points; with none configured, Traefik listens on :80 as `http`.
        var options = configuration.entryPoints ?? [:]
        if options.isEmpty { options["http"] = EntryPointOptions(address: ":80") }
        let apiInsecure = configuration.api?.insecure ?? false
        let pingEntryPoint = configuration.ping.map { $0.entryPoint ?? "traefik" }
        let prometheus = configuration.metrics?.prometheus
        let metricsOnTraefik = prometheus.map { ($0.entryPoint ?? "traefik") == "traefik" && $0.manualRouting != true } ?? false
        var implicit: Set<String> = []
        if (apiInsecure || pingEntryPoint == "traefik" || metricsOnTraefik) && options["traefik"] == nil {
            options["traefik"] = EntryPointOptions(address: ":8080")
            implicit.insert("traefik")
        }
        var entryPoints: [EntryPoint] = []
        for (name, entryPoint) in options.sorted(by: { $0.key < $1.key }) {
            guard let address = entryPoint.address, !address.isEmpty else {
                throw issue("entryPoints.\(name).address", "the entry point has no address (e.g. \":8000\")")
            }
            let key = "entryPoints.\(name).address"
            let (host, port) = try parseAddress(address, key: key, at: loaded.location(of: key))
            entryPoints.append(EntryPoint(name: name, host: host, port: port))
        }
        for index in entryPoints.indices {
            let name = entryPoints[index].name
            guard let entryPoint = options[name] else { continue }
            entryPoints[index].model = try entryPointModel(name, entryPoint, all: entryPoints, issue: issue)
            if let timeouts = entryPoint.transport?.respondingTimeouts {
                func amount(_ value: ConfigDuration?, _ key: String, _ fallback: TimeAmount?) throws(ConfigurationIssue) -> TimeAmount? {
                    guard let value else { return fallback }
                    guard value.nanoseconds >= 0 else {
                        throw issue("entryPoints.\(name).transport.respondingTimeouts.\(key)", "the duration must not be negative")
                    }
                    return value.nanoseconds == 0 ? nil : .nanoseconds(value.nanoseconds)
                }
                entryPoints[index].readTimeout = try amount(timeouts.readTimeout, "readTimeout", .seconds(60))
                entryPoints[index].idleTimeout = try amount(timeouts.idleTimeout, "idleTimeout", .seconds(180))
                entryPoints[index].writeTimeout = try amount(timeouts.writeTimeout, "writeTimeout", nil)
            }
            let lifeCycle = entryPoint.transport?.lifeCycle
            for (key, value) in [
                ("graceTimeOut", lifeCycle?.graceTimeOut), ("requestAcceptGraceTimeout", lifeCycle?.requestAcceptGraceTimeout),
            ] where (value?.nanoseconds ?? 0) < 0 {
                throw issue("entryPoints.\(name).transport.lifeCycle.\(key)", "the duration must not be negative")
            }
            if let grace = lifeCycle?.graceTimeOut ?? configuration.lifeCycle?.graceTimeOut {
                entryPoints[index].graceTimeout = .nanoseconds(grace.nanoseconds)
            }
            if let accept = lifeCycle?.requestAcceptGraceTimeout ?? configuration.lifeCycle?.requestAcceptGraceTimeout,
                accept.nanoseconds > 0
            {
                entryPoints[index].requestAcceptGraceTimeout = .nanoseconds(accept.nanoseconds)
            }
            if let http = entryPoint.http {
                entryPoints[index].sanitizePath = http.sanitizePath ?? true
                entryPoints[index].encodedCharacters = RequestPath.EncodedCharacters(http.encodedCharacters)
                if let count = http.maxHeaderCount {
                    guard count > 0 else { throw issue("entryPoints.\(name).http.maxHeaderCount", "must be at least 1") }
                    entryPoints[index].maxHeaderCount = count
                }
            }
            if let streams = entryPoint.http2?.maxConcurrentStreams {
                guard streams > 0 else {
                    throw issue("entryPoints.\(name).http2.maxConcurrentStreams", "must be at least 1")
                }
                entryPoints[index].maxConcurrentStreams = streams
            }
            if let forwarded = entryPoint.forwardedHeaders {
                entryPoints[index].forwardedHeaders = try trustedAddresses(forwarded, key: "entryPoints.\(name).forwardedHeaders", issue: issue)
            }
            if let proxyProtocol = entryPoint.proxyProtocol {
                entryPoints[index].proxyProtocol = try trustedAddresses(proxyProtocol, key: "entryPoints.\(name).proxyProtocol", issue: issue)
            }
        }
        if let ping = pingEntryPoint, options[ping] == nil {
            throw issue("ping.entryPoint", "entryPoint \"\(ping)\" doesn't exist")
        }
        let marked = options.filter { $0.value.asDefault == true }.map(\.key).sorted()
        // Routers without entryPoints attach to every configured entry point (or those marked asDefault), not to
        // the `traefik` entry point made only for the API and ping.
        let defaults = marked.isEmpty ? entryPoints.map(\.name).filter { !implicit.contains($0) } : marked

        var fileProvider: FileProviderOptions?
        if let file = configuration.providers?.file {
            if file.directory != nil && file.filename != nil {
                throw issue("providers.file", "set either directory or filename, not both")
            }
            guard file.directory != nil || file.filename != nil else {
                throw issue("providers.file", "set directory or filename")
            }
            fileProvider = FileProviderOptions(directory: file.directory, filename: file.filename, watch: file.watch ?? true)
        }
        let dockerProvider = try configuration.providers?.docker.map { options throws(ConfigurationIssue) in
            try resolveDocker(options, issue: issue)
        }
        let throttle = configuration.providers?.providersThrottleDuration ?? .seconds(2)
        guard throttle.nanoseconds >= 0 else {
            throw issue("providers.providersThrottleDuration", "the duration must not be negative")
        }
        let level: Logger.Level
        switch (configuration.log?.level ?? "ERROR").uppercased() {
        case "TRACE": level = .trace
        case "DEBUG": level = .debug
        case "INFO": level = .info
        case "WARN", "WARNING": level = .warning
        case "ERROR": level = .error
        case "FATAL", "PANIC": level = .critical
        case let other: throw issue("log.level", "'\(other)' is not a log level; use TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC")
        }
        guard let format = LogFormat(rawValue: (configuration.log?.format ?? "common").lowercased()) else {
            throw issue("log.format", "'\(configuration.log?.format ?? "")' is not a log format; use common or json")
        }
        var grace = configuration.lifeCycle?.graceTimeOut ?? .seconds(10)
        for entryPoint in options.values {
            if let value = entryPoint.transport?.lifeCycle?.graceTimeOut, value.nanoseconds > grace.nanoseconds { grace = value }
        }
        var transportDefinition = ServersTransport()
        transportDefinition.insecureSkipVerify = configuration.serversTransport?.insecureSkipVerify
        transportDefinition.rootCAs = configuration.serversTransport?.rootCAs
        let defaultTransport: UpstreamTransport
        do {
            defaultTransport = try UpstreamTransport(name: "default", definition: transportDefinition, named: false)
        } catch {
            throw issue("serversTransport" + (error.key.isEmpty ? "" : ".\(error.key)"), error.message)
        }
        let timeouts = configuration.serversTransport?.forwardingTimeouts
        let responseHeader = timeouts?.responseHeaderTimeout.flatMap { $0.nanoseconds > 0 ? TimeAmount.nanoseconds($0.nanoseconds) : nil }
        var resolvers: [ACMEResolverOptions] = []
        for (name, resolver) in (configuration.certificatesResolvers ?? [:]).sorted(by: { $0.key < $1.key }) {
            resolvers.append(try resolveACME(name, resolver, entryPoints: entryPoints, environment: ProcessInfo.processInfo.environment, issue: issue))
        }
        let storePath = configuration.history?.path ?? (loaded.baseDirectory as NSString).appendingPathComponent("switchyard.db")
        var settings = RuntimeSettings(
            entryPoints: entryPoints,
            defaultEntryPoints: defaults,
            fileProvider: fileProvider,
            dockerProvider: dockerProvider,
            throttle: .nanoseconds(throttle.nanoseconds),
            apiInsecure: apiInsecure,
            pingEntryPoint: pingEntryPoint,
            logLevel: level,
            logFormat: format,
            graceTimeout: .nanoseconds(max(0, grace.nanoseconds)),
            dialTimeout: .nanoseconds((timeouts?.dialTimeout ?? .seconds(30)).nanoseconds),
            responseHeaderTimeout: responseHeader,
            idleConnTimeout: .nanoseconds((timeouts?.idleConnTimeout ?? .seconds(90)).nanoseconds),
            maxIdlePerServer: configuration.serversTransport?.maxIdleConnsPerHost.map { $0 > 0 ? $0 : 200 } ?? 200,
            defaultTransport: defaultTransport)
        settings.certificateResolvers = resolvers
        settings.storePath = storePath
        if let prometheus {
            settings.metrics = try resolveMetrics(prometheus, issue: issue)
            settings.metricsEntryPoint = prometheus.entryPoint ?? "traefik"
            settings.metricsManualRouting = prometheus.manualRouting ?? false
            if !settings.metricsManualRouting, options[settings.metricsEntryPoint] == nil {
                throw issue("metrics.prometheus.entryPoint", "entryPoint \"\(settings.metricsEntryPoint)\" doesn't exist")
            }
        }
        if let accessLog = configuration.accessLog {
            settings.accessLog = try resolveAccessLog(accessLog, issue: issue)
        }
        if let ingress = configuration.providers?.kubernetesIngress {
            var options = KubernetesIngressOptions(scope: try kubernetesScope(
                "providers.kubernetesIngress", endpoint: ingress.endpoint, token: ingress.token,
                certAuthFilePath: ingress.certAuthFilePath, namespaces: ingress.namespaces,
                labelSelector: ingress.labelSelector, throttle: ingress.throttleDuration, issue: issue))
            options.ingressClass = ingress.ingressClass.flatMap { $0.isEmpty ? nil : $0 }
            options.endpointIP = ingress.ingressEndpoint?.ip.flatMap { $0.isEmpty ? nil : $0 }
            options.endpointHostname = ingress.ingressEndpoint?.hostname.flatMap { $0.isEmpty ? nil : $0 }
            settings.kubernetesIngress = options
        }
        if let crd = configuration.providers?.kubernetesCRD {
            var options = KubernetesCRDOptions(scope: try kubernetesScope(
                "providers.kubernetesCRD", endpoint: crd.endpoint, token: crd.token, certAuthFilePath: crd.certAuthFilePath,
                namespaces: crd.namespaces, labelSelector: crd.labelSelector, throttle: crd.throttleDuration, issue: issue))
            options.allowCrossNamespace = crd.allowCrossNamespace ?? false
            settings.kubernetesCRD = options
        }
        if let gateway = configuration.providers?.kubernetesGateway {
            var options = KubernetesGatewayOptions(scope: try kubernetesScope(
                "providers.kubernetesGateway", endpoint: gateway.endpoint, token: gateway.token,
                certAuthFilePath: gateway.certAuthFilePath, namespaces: gateway.namespaces,
                labelSelector: gateway.labelSelector, throttle: gateway.throttleDuration, issue: issue))
            for entryPoint in entryPoints { options.entryPointsByPort[entryPoint.port, default: []].append(entryPoint.name) }
            settings.kubernetesGateway = options
        }
        settings.apiEnabled = configuration.api != nil
        settings.apiDashboard = configuration.api?.dashboard ?? true
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        settings.entryPointDocuments = options.sorted { $0.key < $1.key }.map { name, entryPoint in
            EntryPointDocument(name: name, options: (try? encoder.encode(entryPoint)) ?? Data("{}".utf8))
        }
        if let keep = configuration.history?.keep {
            guard keep >= 1 else { throw issue("history.keep", "keep at least 1 version") }
            settings.historyKeep = keep
        }
        return settings
    }

    /// What the three Kubernetes providers share: the connection, namespaces, label selector, throttle.
    static func kubernetesScope(
        _ key: String, endpoint: String?, token: String?, certAuthFilePath: String?, namespaces: [String]?,
        labelSelector: String?, throttle: ConfigDuration?, issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> KubernetesWatchScope {
        var scope = KubernetesWatchScope(connection: try KubernetesConnection.resolve(
            endpoint: endpoint, token: token, certAuthFilePath: certAuthFilePath,
            environment: ProcessInfo.processInfo.environment, optionsKey: key))
        scope.namespaces = namespaces ?? []
        scope.labelSelector = labelSelector
        if let throttle {
            guard throttle.nanoseconds >= 0 else { throw issue(key + ".throttleDuration", "the duration must not be negative") }
            scope.throttle = .nanoseconds(throttle.nanoseconds)
        }
        return scope
    }

    static func resolveMetrics(
        _ options: PrometheusOptions, issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> PrometheusMetrics.Options {
        var metrics = PrometheusMetrics.Options()
        if let buckets = options.buckets {
            guard !buckets.isEmpty, buckets.allSatisfy({ $0 > 0 }), buckets == buckets.sorted() else {
                throw issue("metrics.prometheus.buckets", "give increasing positive durations in seconds, e.g. 0.1,0.3,1.2,5")
            }
            metrics.buckets = buckets
        }
        metrics.entryPoints = options.addEntryPointsLabels ?? true
        metrics.routers = options.addRoutersLabels ?? false
        metrics.services = options.addServicesLabels ?? true
        return metrics
    }

    /// Traefik's access-log field names, for `fields.names` given in any letter case.
    static let accessLogFields = [
        "ClientAddr", "ClientHost", "ClientPort", "ClientUsername", "DownstreamContentSize", "DownstreamStatus",
        "Duration", "OriginStatus", "RequestAddr", "RequestContentSize", "RequestCount", "RequestHost", "RequestMethod",
        "RequestPath", "RequestPort", "RequestProtocol", "RequestScheme", "RetryAttempts", "RouterName", "ServiceAddr",
        "ServiceName", "ServiceURL", "StartLocal", "StartUTC", "entryPointName", "TableVersion",
    ]

    static func resolveAccessLog(
        _ options: AccessLogOptions, issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> AccessLog.Options {
        var log = AccessLog.Options()
        log.filePath = options.filePath.flatMap { $0.isEmpty ? nil : $0 }
        if let format = options.format {
            guard let known = AccessLog.Format(rawValue: format.lowercased()) else {
                throw issue("accessLog.format", "unknown format \"\(format)\" (common or json)")
            }
            log.format = known
        }
        if let size = options.bufferingSize, size > 0 { log.bufferingSize = size }
        for (index, text) in (options.filters?.statusCodes ?? []).enumerated() {
            let parts = text.split(separator: "-", maxSplits: 1).map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard let low = parts.first ?? nil, let high = parts.count == 2 ? parts[1] : low, low <= high else {
                throw issue("accessLog.filters.statusCodes[\(index)]", "\"\(text)\" is neither a status nor a range like 500-599")
            }
            log.statusCodes.append(low...high)
        }
        log.retryAttempts = options.filters?.retryAttempts ?? false
        if let duration = options.filters?.minDuration {
            guard duration.nanoseconds >= 0 else { throw issue("accessLog.filters.minDuration", "the duration must not be negative") }
            log.minDuration = duration.nanoseconds
        }
        func mode(_ text: String, _ key: String, allowRedact: Bool) throws(ConfigurationIssue) -> AccessLog.FieldMode {
            guard let mode = AccessLog.FieldMode(rawValue: text.lowercased()), allowRedact || mode != .redact else {
                throw issue(key, "unknown mode \"\(text)\" (keep, drop\(allowRedact ? " or redact" : ""))")
            }
            return mode
        }
        if let text = options.fields?.defaultMode { log.fieldsDefaultMode = try mode(text, "accessLog.fields.defaultMode", allowRedact: false) }
        for (name, text) in options.fields?.names ?? [:] {
            let key = "accessLog.fields.names.\(name)"
            guard let field = accessLogFields.first(where: { $0.lowercased() == name.lowercased() }) else {
                throw issue(key, "unknown field \"\(name)\"")
            }
            log.fieldNames[field] = try mode(text, key, allowRedact: false)
        }
        if let text = options.fields?.headers?.defaultMode {
            log.headersDefaultMode = try mode(text, "accessLog.fields.headers.defaultMode", allowRedact: true)
        }
        for (name, text) in options.fields?.headers?.names ?? [:] {
            log.headerNames[name] = try mode(text, "accessLog.fields.headers.names.\(name)", allowRedact: true)
        }
        return log
    }

    /// `trustedIPs` (addresses or CIDR ranges) and `insecure`.
    static func trustedAddresses(
        _ options: ForwardedHeadersOptions, key: String, issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> TrustedAddresses {
        var trusted: [IPNetwork] = []
        for (position, text) in (options.trustedIPs ?? []).enumerated() {
            guard let network = IPNetwork(text) else {
                throw issue("\(key).trustedIPs[\(position)]", "'\(text)' is not an IP address or CIDR range")
            }
            trusted.append(network)
        }
        return TrustedAddresses(insecure: options.insecure ?? false, trustedIPs: trusted)
    }

    /// `entryPoints.<name>.http`: TLS and middlewares for its routers, and a redirection to another entry point.
    static func entryPointModel(
        _ name: String, _ options: EntryPointOptions, all: [EntryPoint], issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> RoutingTableCompiler.EntryPointModel? {
        guard let http = options.http else { return nil }
        var model = RoutingTableCompiler.EntryPointModel(middlewares: http.middlewares ?? [], tls: http.tls)
        if let redirection = http.redirections?.entryPoint {
            let key = "entryPoints.\(name).http.redirections.entryPoint"
            guard let target = redirection.to, !target.isEmpty else { throw issue("\(key).to", "name the entry point (or :port) to redirect to") }
            let scheme = redirection.scheme ?? "https"
            let port: Int
            if let entryPoint = all.first(where: { $0.name == target }) {
                port = entryPoint.port
            } else if target.hasPrefix(":"), let number = Int(target.dropFirst()), (1...65535).contains(number) {
                port = number
            } else {
                throw issue("\(key).to", "'\(target)' is neither an entry point (\(all.map(\.name).joined(separator: ", "))) nor a :port")
            }
            let defaultPort = scheme == "https" ? 443 : 80
            model.redirect = .init(
                scheme: scheme, port: port == defaultPort ? nil : String(port), permanent: redirection.permanent ?? true,
                priority: redirection.priority ?? (Int.max - 1), target: target.hasPrefix(":") ? String(target.dropFirst()) : target)
        }
        return model
    }

    /// `certificatesResolvers.<name>.acme`.
    static func resolveACME(
        _ name: String, _ options: CertificatesResolverOptions, entryPoints: [EntryPoint], environment: [String: String],
        issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> ACMEResolverOptions {
        let key = "certificatesResolvers.\(name).acme"
        guard let acme = options.acme else {
            throw issue("certificatesResolvers.\(name)", "only acme resolvers exist; set \(key).*")
        }
        var resolver = ACMEResolverOptions(name: name, email: acme.email ?? "")
        if let server = acme.caServer, !server.isEmpty { resolver.caServer = server }
        // LEGO_CA_CERTIFICATES, as Traefik honours it: PEM files separated by commas or colons.
        let fromEnvironment = (environment["LEGO_CA_CERTIFICATES"] ?? "").split(whereSeparator: { $0 == "," || $0 == ":" }).map(String.init)
        resolver.caCertificates = (acme.caCertificates ?? []) + fromEnvironment
        for file in resolver.caCertificates where !FileManager.default.fileExists(atPath: file) {
            throw issue("\(key).caCertificates", "cannot read \(file)")
        }
        if let type = acme.keyType {
            guard let keyType = ACMEResolverOptions.KeyType(rawValue: type.uppercased()) else {
                throw issue(
                    "\(key).keyType",
                    "'\(type)' is not a key type; use one of \(ACMEResolverOptions.KeyType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            resolver.keyType = keyType
        }
        if let entryPoint = acme.httpChallenge?.entryPoint {
            guard entryPoints.contains(where: { $0.name == entryPoint }) else {
                throw issue("\(key).httpChallenge.entryPoint", "entryPoint \"\(entryPoint)\" doesn't exist")
            }
            resolver.httpChallengeEntryPoint = entryPoint
        } else if acme.httpChallenge != nil {
            throw issue("\(key).httpChallenge.entryPoint", "name the entry point that answers HTTP-01 challenges")
        }
        resolver.tlsChallenge = acme.tlsChallenge != nil
        resolver.storage = acme.storage
        guard resolver.tlsChallenge || resolver.httpChallengeEntryPoint != nil else {
            throw issue(key, "set httpChallenge.entryPoint or tlsChallenge (DNS-01 is not supported)")
        }
        return resolver
    }

    /// `providers.docker`: Traefik's defaults, the default rule and constraints parsed, the endpoint checked.
    static func resolveDocker(
        _ options: DockerProviderStaticOptions, issue: (String, String) -> ConfigurationIssue
    ) throws(ConfigurationIssue) -> DockerProviderOptions {
        var docker = DockerProviderOptions()
        if let endpoint = options.endpoint { docker.endpoint = endpoint }
        if let tls = options.tls { docker.tls = .init(ca: tls.ca, cert: tls.cert, key: tls.key) }
        docker.exposedByDefault = options.exposedByDefault ?? true
        docker.network = options.network.flatMap { $0.isEmpty ? nil : $0 }
        docker.useBindPortIP = options.useBindPortIP ?? false
        docker.watch = options.watch ?? true
        docker.allowEmptyServices = options.allowEmptyServices ?? false
        docker.traefikLabels = options.traefikLabels ?? true
        if let rule = options.defaultRule {
            do {
                docker.defaultRule = try DefaultRuleTemplate(rule)
            } catch {
                throw issue("providers.docker.defaultRule", "the template does not parse: \(error)")
            }
        }
        if let constraints = options.constraints, !constraints.isEmpty {
            do {
                docker.constraints = try LabelConstraint(constraints)
            } catch {
                throw issue("providers.docker.constraints", "\(error)")
            }
        }
        if let poll = options.pollInterval {
            guard poll.nanoseconds > 0 else { throw issue("providers.docker.pollInterval", "the interval must be positive") }
            docker.pollInterval = .nanoseconds(poll.nanoseconds)
        }
        if let timeout = options.httpClientTimeout {
            docker.httpClientTimeout = timeout.nanoseconds > 0 ? .nanoseconds(timeout.nanoseconds) : nil
        }
        do {
            try DockerProvider.validate(docker)
        } catch {
            throw issue(error.keyPath ?? "providers.docker", error.message)
        }
        return docker
    }

    /// `:8000`, `127.0.0.1:8000`, `[::1]:8000`, optionally with `/tcp`.
    static func parseAddress(
        _ address: String, key: String, at location: SourceLocation = SourceLocation(source: "static configuration")
    ) throws(ConfigurationIssue) -> (String, Int) {
        func fail(_ message: String) -> ConfigurationIssue {
            ConfigurationIssue(at: location, keyPath: key, message: message)
        }
        var text = Substring(address)
        if let slash = text.lastIndex(of: "/") {
            let network = text[text.index(after: slash)...].lowercased()
            guard network == "tcp" else {
                throw fail("'\(address)': only TCP entry points are supported yet (got /\(network))")
            }
            text = text[..<slash]
        }
        guard let colon = text.lastIndex(of: ":") else {
            throw fail("'\(address)' is not an address; use :PORT, HOST:PORT or [IPv6]:PORT")
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw fail("'\(address)': the port must be a number from 0 to 65535")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        else if host.contains(":") || host.contains("[") || host.contains("]") {
            throw fail("'\(address)': write IPv6 addresses in brackets, e.g. [::1]:8000")
        }
        if host.isEmpty { host = "::" }
        return (host, port)
    }
}
