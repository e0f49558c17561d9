import SwitchyardConfig
import SwitchyardMiddleware
import SwitchyardUpstream

/// Compiling services: load balancers, then the composite services that name others.
extension RoutingTableBuild {
    mutating func compileServices() {
        for (name, issue) in rejected(.httpService) where http.services?[name] == nil {
            status.services[name] = ServiceInfo(
                name: name, provider: Self.provider(of: name), service: HTTPService(), status: .disabled,
                errors: [issue.description], usedBy: [], serverStatus: [:])
        }
        for (name, service) in (http.services ?? [:]).sorted(by: { $0.key < $1.key }) {
            if Self.composite.contains(service.configuredKinds) {
                status.services[name] = ServiceInfo(
                    name: name, provider: Self.provider(of: name), service: service, status: .enabled, errors: [],
                    usedBy: [], serverStatus: [:])
                continue  // built below, once the services it names are
            }
            var info = ServiceInfo(
                name: name, provider: Self.provider(of: name), service: service, status: .enabled, errors: [],
                usedBy: [], serverStatus: [:])
            switch compileService(name, service) {
            case .success(let target):
                services[name] = target
                if case .loadBalancer(let balancer) = target {
                    for server in balancer.servers { info.serverStatus[server.url] = "UP" }
                }
            case .failure(let failure):
                info.status = .disabled
                info.errors.append(report(.httpService, name, key: failure.key, failure.message))
            }
            status.services[name] = info
        }
        for (name, service) in (http.services ?? [:]).sorted(by: { $0.key < $1.key })
        where Self.composite.contains(service.configuredKinds) {
            var visiting: [String] = []
            _ = compileComposite(name, visiting: &visiting)
        }
        for (name, service) in compiler.internalServices {
            services[name] = .internal(service)
            status.services[name] = ServiceInfo(
                name: name, provider: "internal", service: HTTPService(), status: .enabled, errors: [], usedBy: [],
                serverStatus: [:])
        }
    }

    /// `http.serversTransports`: the TLS client settings load balancers name.
    mutating func compileTransports() {
        for (name, definition) in (http.serversTransports ?? [:]).sorted(by: { $0.key < $1.key }) {
            let unsupported = [
                ("spiffe", definition.spiffe != nil), ("peerCertURI", definition.peerCertURI != nil),
                ("peerCertSANs", definition.peerCertSANs != nil),
            ].first { $0.1 }
            if let (key, _) = unsupported {
                let message = "'\(key)' is not supported yet"
                issues.append(ConfigurationIssue(
                    at: merged.origins[ResourceKey(.httpServersTransport, name)] ?? SourceLocation(source: Self.provider(of: name)),
                    keyPath: "http.serversTransports.\(ResourceName.bare(name)).\(key)", message: message))
                transportErrors[name] = message
                continue
            }
            do {
                transports[name] = try UpstreamTransport(name: name, definition: definition, named: true)
            } catch {
                issues.append(ConfigurationIssue(
                    at: merged.origins[ResourceKey(.httpServersTransport, name)] ?? SourceLocation(source: Self.provider(of: name)),
                    keyPath: "http.serversTransports.\(ResourceName.bare(name))" + (error.key.isEmpty ? "" : ".\(error.key)"),
                    message: error.message))
                transportErrors[name] = error.description
            }
        }
    }

    /// Service kinds that name other services, built after the load balancers.
    static let composite: [[String]] = [["weighted"], ["failover"], ["highestRandomWeight"], ["mirroring"]]

    /// Builds the weighted or failover service `name` from the services it names (composite ones included); a
    /// missing or disabled child or a loop disables it.
    mutating func compileComposite(_ name: String, visiting: inout [String]) -> ServiceTarget? {
        if let built = services[name] { return built }
        guard let service = http.services?[name], status.services[name]?.status != .disabled else { return nil }
        func fail(_ key: String, _ message: String) -> ServiceTarget? {
            let error = report(.httpService, name, key: key, message)
            status.services[name]?.status = .disabled
            status.services[name]?.errors.append(error)
            return nil
        }
        guard !visiting.contains(name) else {
            return fail(service.configuredKinds.first ?? "", "the service includes itself: \((visiting + [name]).joined(separator: " -> "))")
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        /// A child service by name: built, or built now.
        func child(_ reference: String?, key: String, visiting: inout [String]) -> Result<ServiceTarget, Failure> {
            guard let reference, !reference.isEmpty else { return .failure(Failure(key: key, message: "no service named")) }
            status.services[reference]?.usedBy.append(name)
            if let middlewares = http.services?[reference]?.middlewares, !middlewares.isEmpty {
                return .failure(Failure(
                    key: key,
                    message: "the service \"\(reference)\" has middlewares, which apply only when a router names it "
                        + "(not yet through \(service.configuredKinds.first ?? "another") services)"))
            }
            if let target = services[reference] ?? compileComposite(reference, visiting: &visiting) { return .success(target) }
            if let existing = status.services[reference] {
                return .failure(Failure(key: key, message: "the service \"\(reference)\" is disabled: \(existing.errors.first ?? "")"))
            }
            return .failure(Failure(key: key, message: "the service \"\(reference)\" does not exist"))
        }
        if let failover = service.failover {
            // `healthCheck: {}`: the failover service is available while its main or fallback service is (always the
            // case).
            var onStatus: FailoverOnStatus?
            if let errors = failover.errors {
                let statuses: [ClosedRange<Int>]
                switch StatusRanges.parse(errors.status ?? []) {
                case .success(let ranges): statuses = ranges
                case .failure(let invalid): return fail("failover.errors.status", invalid.message)
                }
                guard !statuses.isEmpty else { return fail("failover.errors.status", "name at least one status or range") }
                let limit = errors.maxRequestBodyBytes ?? -1
                guard limit >= -1 else { return fail("failover.errors.maxRequestBodyBytes", "must be -1 or more") }
                onStatus = FailoverOnStatus(statuses: statuses, maxBodyBytes: limit)
            }
            let main: ServiceTarget, fallback: ServiceTarget
            switch child(failover.service, key: "failover.service", visiting: &visiting) {
            case .success(let target): main = target
            case .failure(let failure): return fail(failure.key ?? "failover", failure.message)
            }
            switch child(failover.fallback, key: "failover.fallback", visiting: &visiting) {
            case .success(let target): fallback = target
            case .failure(let failure): return fail(failure.key ?? "failover", failure.message)
            }
            let target = ServiceTarget.failover(main: main, fallback: fallback, errors: onStatus)
            services[name] = target
            return target
        }
        /// The services a weighted or rendezvous service names, with their weights (at least one above 0).
        func weightedChildren(_ references: [WeightedServiceRef]?, key: String, visiting: inout [String])
            -> Result<[(name: String, target: ServiceTarget, weight: Int)], Failure>
        {
            let references = references ?? []
            guard !references.isEmpty else { return .failure(Failure(key: key, message: "the service names no service")) }
            var children: [(name: String, target: ServiceTarget, weight: Int)] = []
            for (index, reference) in references.enumerated() {
                let entry = "\(key)[\(index)]"
                let weight = reference.weight ?? 1
                guard weight >= 0 else { return .failure(Failure(key: entry, message: "the weight must not be negative")) }
                switch child(reference.name, key: entry, visiting: &visiting) {
                case .success(let target): children.append((reference.name ?? "", target, weight))
                case .failure(let failure): return .failure(Failure(key: entry, message: failure.message))
                }
            }
            guard children.contains(where: { $0.weight > 0 }) else {
                return .failure(Failure(key: key, message: "every service has weight 0"))
            }
            return .success(children)
        }
        let target: ServiceTarget
        if let mirroring = service.mirroring {
            // `healthCheck: {}`: the mirroring service is available while its main service is (always the case).
            let main: ServiceTarget
            switch child(mirroring.service, key: "mirroring.service", visiting: &visiting) {
            case .success(let found): main = found
            case .failure(let failure): return fail(failure.key ?? "mirroring", failure.message)
            }
            var mirrors: [MirroringServices.Mirror] = []
            for (index, reference) in (mirroring.mirrors ?? []).enumerated() {
                let key = "mirroring.mirrors[\(index)]"
                let percent = reference.percent ?? 0
                guard (0...100).contains(percent) else { return fail(key, "the percent must be from 0 to 100") }
                switch child(reference.name, key: key, visiting: &visiting) {
                case .success(let found):
                    mirrors.append(MirroringServices.Mirror(
                        target: found, percent: percent, mirrorBody: mirroring.mirrorBody ?? true,
                        maxBodySize: mirroring.maxBodySize ?? -1))
                case .failure(let failure): return fail(key, failure.message)
                }
            }
            target = .mirroring(MirroringServices(name: name, main: main, mirrors: mirrors))
        } else if let rendezvous = service.highestRandomWeight {
            // `healthCheck: {}`: unavailable children are passed over (always the case).
            switch weightedChildren(rendezvous.services, key: "highestRandomWeight.services", visiting: &visiting) {
            case .success(let children): target = .highestRandomWeight(RendezvousServices(name: name, children: children))
            case .failure(let failure): return fail(failure.key ?? "highestRandomWeight", failure.message)
            }
        } else if let weighted = service.weighted {
            switch weightedChildren(weighted.services, key: "weighted.services", visiting: &visiting) {
            case .success(let children):
                var sticky: StickyCookieSettings?
                switch Self.stickySettings(weighted.sticky, key: "weighted.sticky", service: name, keys: children.map(\.name)) {
                case .success(let settings): sticky = settings
                case .failure(let failure): return fail(failure.key ?? "weighted.sticky", failure.message)
                }
                target = .weighted(WeightedServices(
                    name: name, children: children.map { ($0.target, $0.weight) }, sticky: sticky,
                    skipsUnavailable: weighted.healthCheck != nil))
            case .failure(let failure): return fail(failure.key ?? "weighted", failure.message)
            }
        } else {
            return nil
        }
        services[name] = target
        return target
    }

    struct Failure: Error {
        var key: String?
        var message: String
    }

    static func healthCheckSettings(_ check: ServerHealthCheck) -> Result<HealthCheckSettings, Failure> {
        func fail(_ key: String, _ message: String) -> Result<HealthCheckSettings, Failure> {
            .failure(Failure(key: "loadBalancer.healthCheck.\(key)", message: message))
        }
        guard let path = check.path, path.hasPrefix("/") else { return fail("path", "the path must start with '/'") }
        if let mode = check.mode, mode.lowercased() != "http" {
            return fail("mode", "the mode '\(mode)' is not supported yet; use http")
        }
        if let scheme = check.scheme, !["http", "https", "h2c"].contains(scheme.lowercased()) {
            return fail("scheme", "the scheme '\(scheme)' is not http, https or h2c")
        }
        if let port = check.port, !(1...65535).contains(port) { return fail("port", "the port must be from 1 to 65535") }
        if let status = check.status, !(100...599).contains(status) { return fail("status", "\(status) is not an HTTP status") }
        let interval = check.interval?.nanoseconds ?? 30_000_000_000
        let unhealthy = check.unhealthyInterval?.nanoseconds ?? interval
        let timeout = check.timeout?.nanoseconds ?? 5_000_000_000
        guard interval > 0, unhealthy > 0, timeout > 0 else {
            return fail("interval", "interval, unhealthyInterval and timeout must be longer than 0s")
        }
        var settings = HealthCheckSettings(
            path: path, method: (check.method ?? "GET").uppercased(), scheme: check.scheme, hostname: check.hostname,
            port: check.port, headers: check.headers ?? [:], status: check.status, interval: interval,
            unhealthyInterval: unhealthy, timeout: timeout)
        settings.followRedirects = check.followRedirects ?? true
        return .success(settings)
    }

    /// The sticky cookie of a load balancer (keys: its servers' URLs) or weighted service (keys: its children's
    /// names); nil without `sticky`.
    static func stickySettings(
        _ options: Sticky?, key: String, service: String, keys: [String]
    ) -> Result<StickyCookieSettings?, Failure> {
        guard let options else { return .success(nil) }
        guard let cookie = options.cookie else {
            return .failure(Failure(key: key, message: "set sticky.cookie (the only kind of stickiness)"))
        }
        if let sameSite = cookie.sameSite, !["", "none", "lax", "strict"].contains(sameSite.lowercased()) {
            return .failure(Failure(key: "\(key).cookie.sameSite", message: "'\(sameSite)' is not none, lax or strict"))
        }
        let forbidden = Set("=;, \t\r\n\"")
        for (option, value) in [("name", cookie.name), ("path", cookie.path), ("domain", cookie.domain)] {
            if let value, value.contains(where: { forbidden.contains($0) && !(option == "path" && $0 == "=") }) {
                return .failure(Failure(key: "\(key).cookie.\(option)", message: "'\(value)' cannot go in a cookie"))
            }
        }
        return .success(StickyCookieSettings(
            name: cookie.name, serviceName: service, keys: keys, secure: cookie.secure ?? false,
            httpOnly: cookie.httpOnly ?? false, sameSite: cookie.sameSite, maxAge: cookie.maxAge ?? 0,
            path: cookie.path, domain: cookie.domain))
    }

    mutating func compileService(_ name: String, _ service: HTTPService) -> Result<ServiceTarget, Failure> {
        let kinds = service.configuredKinds
        guard kinds.count == 1 else {
            let message = kinds.isEmpty
                ? "the service defines no kind; set one of loadBalancer, weighted, mirroring, failover, highestRandomWeight"
                : "the service defines more than one kind (\(kinds.joined(separator: ", "))); set exactly one"
            return .failure(Failure(message: message))
        }
        guard let balancer = service.loadBalancer else {
            return .failure(Failure(key: kinds[0], message: "the service kind '\(kinds[0])' is not supported yet"))
        }
        let configured = balancer.servers ?? []
        guard !configured.isEmpty else {
            return .failure(Failure(key: "loadBalancer.servers", message: "the load balancer has no servers"))
        }
        let strategy = (balancer.strategy ?? "wrr").lowercased()
        guard strategy == "wrr" || strategy == "p2c" else {
            return .failure(Failure(
                key: "loadBalancer.strategy", message: "the strategy '\(strategy)' is not supported yet; use wrr or p2c"))
        }
        var transport = compiler.defaultTransport
        if let reference = balancer.serversTransport, !reference.isEmpty {
            let qualified = ResourceName.qualify(reference, in: Self.provider(of: name))
            if let error = transportErrors[qualified] {
                return .failure(Failure(
                    key: "loadBalancer.serversTransport", message: "the servers transport \"\(qualified)\" is broken: \(error)"))
            }
            guard let found = transports[qualified] else {
                return .failure(Failure(
                    key: "loadBalancer.serversTransport", message: "the servers transport \"\(qualified)\" does not exist"))
            }
            transport = found
        }
        var passive: ServerHealth.Passive?
        if let options = balancer.passiveHealthCheck {
            let window = options.failureWindow?.nanoseconds ?? 10_000_000_000
            let attempts = options.maxFailedAttempts ?? 1
            guard window > 0 else {
                return .failure(Failure(key: "loadBalancer.passiveHealthCheck.failureWindow", message: "must be longer than 0s"))
            }
            guard attempts >= 1 else {
                return .failure(Failure(key: "loadBalancer.passiveHealthCheck.maxFailedAttempts", message: "must be at least 1"))
            }
            passive = ServerHealth.Passive(failureWindow: window, maxFailedAttempts: attempts)
        }
        var servers: [UpstreamServer] = []
        for (index, server) in configured.enumerated() {
            guard let url = server.url, !url.isEmpty else {
                return .failure(Failure(key: "loadBalancer.servers[\(index)].url", message: "the server has no url"))
            }
            do {
                let parsed = try UpstreamServer(url: url, weight: server.weight ?? 1, preservePath: server.preservePath ?? false)
                servers.append(parsed.using(transport))
            } catch {
                return .failure(Failure(key: "loadBalancer.servers[\(index)].url", message: error.description))
            }
        }
        guard servers.contains(where: { $0.weight > 0 }) else {
            return .failure(Failure(key: "loadBalancer.servers", message: "every server has weight 0"))
        }
        // The TLS contexts load the trust roots from disk: made here, off the event loops, and only for a
        // transport an https:// server uses; one that cannot be made is this service's error.
        if servers.contains(where: { $0.scheme == .https }) {
            do {
                _ = try transport.tlsContext()
            } catch {
                return .failure(Failure(
                    key: "loadBalancer.serversTransport", message: "the TLS client context cannot be made: \(error)"))
            }
        }
        var health: ServerHealth?
        if balancer.healthCheck != nil || passive != nil {
            // The same definition keeps its live health (and its running checker) across tables.
            if let kept = previousHealth[name], kept.definition == service {
                health = kept.health
            } else {
                health = ServerHealth(serverCount: servers.count, passive: passive)
            }
            healthStates.append(HealthState(service: name, definition: service, health: health!))
        }
        if let check = balancer.healthCheck, let health {
            switch Self.healthCheckSettings(check) {
            case .success(let settings):
                healthChecks.append(HealthCheckSpec(service: name, servers: servers, settings: settings, health: health))
            case .failure(let failure):
                healthStates.removeLast()
                return .failure(failure)
            }
        }
        var sticky: StickyCookieSettings?
        switch Self.stickySettings(balancer.sticky, key: "loadBalancer.sticky", service: name, keys: servers.map(\.url)) {
        case .success(let settings): sticky = settings
        case .failure(let failure): return .failure(failure)
        }
        let target = LoadBalancer(
            name: name, servers: servers, passHostHeader: balancer.passHostHeader ?? true, health: health, sticky: sticky,
            powerOfTwoChoices: strategy == "p2c")
        return .success(.loadBalancer(target))
    }
}
