import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchyardACME
import SwitchyardAPI
import SwitchyardConfig
import SwitchyardDockerProvider
import SwitchyardFileProvider
import SwitchyardKubernetesProvider
import SwitchyardObservability
import SwitchyardProviderKit
import SwitchyardProxy
import SwitchyardRouting
import SwitchyardStore
import SwitchyardUpstream

/// Runs the proxy: providers → watcher → compiler → table store → entry points, until SIGTERM or SIGINT.
enum ProxyCommand {
    static func run(arguments: [String]) async -> Int32 {
        guard let (loaded, settings) = Startup.settings(arguments: arguments) else { return 1 }
        Startup.bootstrapLogging(settings)
        var logger = Logger(label: "switchyard")
        logger.logLevel = settings.logLevel
        let loops = ProcessInfo.processInfo.environment["SWITCHYARD_EVENT_LOOPS"].flatMap(Int.init) ?? System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, loops))
        // Everything built on the loops is released before they stop.
        let code = await serve(loaded: loaded, settings: settings, group: group, logger: logger)
        try? await group.shutdownGracefully()
        logger.info("stopped")
        return code
    }

    private static func serve(
        loaded: StaticConfigurationLoader.Loaded, settings: RuntimeSettings, group: MultiThreadedEventLoopGroup,
        logger: Logger
    ) async -> Int32 {
        logger.info("static configuration loaded", metadata: ["from": "\(loaded.sources.joined(separator: ", "))"])
        if loaded.isBuiltInDefault {
            logger.notice("no configuration given: serving providers/file/examples on :8000, API on :8080")
        }

        let entryPointNames = settings.entryPoints.map(\.name)
        let store = RoutingTableStore(initial: .empty(entryPoints: entryPointNames), eventLoops: Array(group.makeIterator()))

        // The SQLite store: table history, ACME accounts and certificates. A file that cannot be used is an error
        // here and the store lives in memory: traffic is never stopped by it.
        let database = SwitchyardStore(path: settings.storePath)
        if let problem = database.problem { logger.error("\(problem)") }

        let ping = PingService()
        let traffic = TrafficRegistry()
        let events = EventHub(eventLoop: group.next())
        let sampler = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in traffic.sample() }
        var internalServices: [String: any InternalService] = [:]
        var internalRouters: [RoutingTableCompiler.InternalRouter] = []
        // Observers of every exchange: the Prometheus metrics and the access log, when asked for.
        var observers: [any ExchangeObserver] = []
        var connectionGauges: [(entryPoint: String, gauge: ConnectionGauge)] = []
        var prometheus: PrometheusMetrics?
        if let options = settings.metrics {
            let metrics = PrometheusMetrics(options: options)
            prometheus = metrics
            observers.append(metrics)
            connectionGauges = settings.entryPoints.map { ($0.name, ConnectionGauge()) }
            internalServices["prometheus@internal"] = MetricsService(metrics: metrics, store: store, connections: connectionGauges)
            if !settings.metricsManualRouting {
                internalRouters.append(.init(
                    name: "prometheus@internal", entryPoints: [settings.metricsEntryPoint], rule: "PathPrefix(`/metrics`)",
                    priority: Int.max - 1, service: "prometheus@internal"))
            }
        }
        var accessLog: AccessLog?
        if let options = settings.accessLog {
            do {
                accessLog = try AccessLog(options: options)
            } catch {
                logger.critical("\(error)")
                return 1
            }
            observers.append(accessLog!)
        }
        if settings.apiEnabled {
            var apiSettings = APIService.Settings(version: SwitchyardVersion.current)
            apiSettings.metrics = prometheus == nil ? "" : "prometheus"
            apiSettings.accessLog = accessLog != nil
            apiSettings.entryPoints = settings.entryPointDocuments
            apiSettings.dashboard = settings.apiDashboard
            apiSettings.traffic = traffic
            apiSettings.events = events
            internalServices["api@internal"] = APIService(store: store, settings: apiSettings, history: database)
        }
        if settings.apiInsecure {
            let rule = settings.apiDashboard ? "PathPrefix(`/api`) || PathPrefix(`/dashboard`) || Path(`/`)" : "PathPrefix(`/api`)"
            internalRouters.append(.init(
                name: "api@internal", entryPoints: ["traefik"], rule: rule, priority: Int.max - 1, service: "api@internal"))
        }
        if let pingEntryPoint = settings.pingEntryPoint {
            internalServices["ping@internal"] = ping
            internalRouters.append(.init(
                name: "ping@internal", entryPoints: [pingEntryPoint], rule: "Path(`/ping`)", priority: Int.max,
                service: "ping@internal"))
        }
        // ACME: one store, the challenges the resolvers publish, a router per HTTP challenge entry point.
        var acme: ACMEManager?
        let challenges = ACMEChallenges()
        if !settings.certificateResolvers.isEmpty {
            acme = ACMEManager(
                resolvers: settings.certificateResolvers, store: database, challenges: challenges, logger: logger,
                onCertificate: { events.publish("certificate", $0) })
            internalServices["acme-http@internal"] = ACMEHTTPChallengeService(challenges: challenges)
            let challengeEntryPoints = Set(settings.certificateResolvers.compactMap(\.httpChallengeEntryPoint))
            if !challengeEntryPoints.isEmpty {
                internalRouters.append(.init(
                    name: "acme-http@internal", entryPoints: challengeEntryPoints.sorted(),
                    rule: "PathPrefix(`\(ACMEHTTPChallengeService.prefix)`)", priority: Int.max, service: "acme-http@internal"))
            }
        }
        var compiler = RoutingTableCompiler(
            entryPoints: entryPointNames, defaultEntryPoints: settings.defaultEntryPoints,
            internalServices: internalServices, internalRouters: internalRouters)
        compiler.certificateResolvers = Set(settings.certificateResolvers.map(\.name))
        for entryPoint in settings.entryPoints {
            if let model = entryPoint.model { compiler.entryPointModels[entryPoint.name] = model }
        }
        compiler.defaultTransport = settings.defaultTransport
        compiler.traffic = traffic
        // Versions go on from the history's newest, and that version is served at once, before any provider has
        // answered; the providers' first reports replace it.
        let lastRecorded = (try? database.versions(limit: 1).first).flatMap { $0 }
        let restored = lastRecorded.flatMap { try? database.version($0.number) }.flatMap { $0 }
        var firstVersion: UInt64 = lastRecorded.map { UInt64(max(1, $0.number)) } ?? 1
        let restoredConfiguration = restored.flatMap { try? JSONDecoder().decode(DynamicConfiguration.self, from: $0.configuration) }
        if let restored, let configuration = restoredConfiguration {
            store.publish(compiler.compile(MergedConfiguration(configuration: configuration), version: firstVersion))
            logger.notice(
                "serving version \(restored.number) from the history until the providers report",
                metadata: ["recorded": "\(restored.created)"])
        } else {
            if lastRecorded != nil { firstVersion += 1 }
            store.publish(compiler.compile(MergedConfiguration(), version: firstVersion))
        }

        let hostname = ProcessInfo.processInfo.hostName
        let bindings = settings.entryPoints.map { entryPoint in
            var entrySettings = EntryPointSettings(
                name: entryPoint.name, responseHeaderTimeout: settings.responseHeaderTimeout, hostname: hostname)
            entrySettings.forwardedHeaders = entryPoint.forwardedHeaders
            entrySettings.proxyProtocol = entryPoint.proxyProtocol
            entrySettings.readTimeout = entryPoint.readTimeout
            entrySettings.idleTimeout = entryPoint.idleTimeout
            entrySettings.writeTimeout = entryPoint.writeTimeout
            entrySettings.sanitizePath = entryPoint.sanitizePath
            entrySettings.encodedCharacters = entryPoint.encodedCharacters
            entrySettings.maxHeaderCount = entryPoint.maxHeaderCount
            entrySettings.maxConcurrentStreams = entryPoint.maxConcurrentStreams
            entrySettings.observers = observers
            entrySettings.connections = connectionGauges.first { $0.entryPoint == entryPoint.name }?.gauge
            if !settings.certificateResolvers.isEmpty {
                entrySettings.tlsChallengeContext = { challenges.tlsALPNContext(for: $0) }
            }
            return EntryPointBinding(settings: entrySettings, host: entryPoint.host, port: entryPoint.port)
        }
        let server = ProxyServer(
            group: group, store: store, bindings: bindings,
            poolSettings: .init(
                maxIdlePerServer: settings.maxIdlePerServer, idleTimeout: settings.idleConnTimeout,
                connectTimeout: settings.dialTimeout),
            logger: logger)
        do {
            try await server.start()
        } catch {
            logger.critical("\(error)")
            sampler.cancel()
            events.stop()
            accessLog?.stop()
            return 1
        }

        let healthChecks = HealthCheckSupervisor(group: group, logger: logger) { service, server, up in
            events.publish("health", APIEvent.Health(service: service, server: server, up: up))
        }
        let watcher = ConfigurationWatcher(throttle: settings.throttle, logger: logger)
        let entryPointResolvers = Dictionary(
            settings.entryPoints.compactMap { entryPoint in entryPoint.model?.tls?.certResolver.map { (entryPoint.name, $0) } },
            uniquingKeysWith: { first, _ in first })
        let tableCompiler = compiler
        let startVersion = firstVersion
        let historyKeep = settings.historyKeep
        let acmeManager = acme
        let defaultEntryPoints = settings.defaultEntryPoints
        // The pages only starting up used go back 10 s after the providers' first table is live, or 15 s after
        // the start if no provider has reported within 5 s.
        let startupPages = StartupPagesRelease(logger: logger)
        let startupPagesFallback = Task {
            guard (try? await Task.sleep(nanoseconds: 5_000_000_000)) != nil else { return }  // cancelled: stopping
            startupPages.releaseOnce()
        }
        let publisher = Task {
            var version = startVersion
            for await update in watcher.updates {
                version += 1
                let compileStart = threadCPUNanoseconds()
                let table = tableCompiler.compile(update.merged, version: version, previous: store.current)
                let compileCPU = threadCPUNanoseconds() - compileStart
                let previousIssues = store.current.status.issues
                store.publish(table)
                prometheus?.configurationReloaded(success: true)
                healthChecks.update(table.healthChecks)
                traffic.retain(routers: Set(table.status.routers.keys), services: Set(table.status.services.keys))
                events.publish("version", APIEvent.Version(table: table, changed: update.changedProviders))
                if table.status.issues != previousIssues { events.publish("errors", table.status.issues) }
                record(table, update, in: database, keep: historyKeep, logger: logger)
                acmeManager?.want(ACMEManager.domainSets(
                    in: update.merged.configuration, entryPointResolvers: entryPointResolvers,
                    defaultEntryPoints: defaultEntryPoints))
                let routers = table.status.routers.values
                logger.info(
                    "routing table live",
                    metadata: [
                        "version": "\(version)", "changed": "\(update.changedProviders.joined(separator: ","))",
                        "routers": "\(routers.filter { $0.status != .disabled }.count)",
                        "disabled": "\(routers.filter { $0.status == .disabled }.count)",
                        "compileCPU": "\(String(format: "%.1f", Double(compileCPU) / 1e6))ms",
                    ])
                for issue in table.status.issues where !update.merged.issues.contains(issue) {
                    if issue.severity == .error { logger.error("\(issue.description)") } else { logger.warning("\(issue.description)") }
                }
                startupPages.releaseOnce()
            }
        }
        var providers: [Task<Void, Never>] = []
        var enabled: [any Provider] = []
        if let options = settings.fileProvider { enabled.append(FileProvider(options: options, logger: logger)) }
        if let options = settings.dockerProvider { enabled.append(DockerProvider(options: options, logger: logger)) }
        if let options = settings.kubernetesIngress { enabled.append(KubernetesIngressProvider(options: options, logger: logger)) }
        if let options = settings.kubernetesCRD { enabled.append(KubernetesCRDProvider(options: options, logger: logger)) }
        if let options = settings.kubernetesGateway { enabled.append(KubernetesGatewayProvider(options: options, logger: logger)) }
        if let acme { enabled.append(acme) }
        if let restoredConfiguration {
            await watcher.restore(enabled.compactMap { ProviderSnapshot.restored(from: restoredConfiguration, provider: $0.name) })
        }
        for provider in enabled {
            providers.append(Task {
                do {
                    try await provider.run(sending: watcher.sink)
                } catch is CancellationError {
                } catch {
                    logger.error("\(provider.name) provider stopped: \(error)")
                }
            })
        }

        let rotation = accessLog.map { log in LogRotationSignal { log.reopen() } }
        let signal = await ShutdownSignal.wait()
        logger.info("received \(signal); stopping", metadata: ["graceTimeOut": "\(settings.graceTimeout)"])
        ping.startTerminating()
        // `requestAcceptGraceTimeout`: requests are still taken for that long (while /ping answers that the process
        // is stopping, so a load balancer in front moves away first).
        let acceptFor = settings.entryPoints.compactMap(\.requestAcceptGraceTimeout).max()
        if let acceptFor {
            logger.info("accepting requests before stopping", metadata: ["requestAcceptGraceTimeout": "\(acceptFor)"])
            try? await Task.sleep(nanoseconds: UInt64(acceptFor.nanoseconds))
        }
        for provider in providers { provider.cancel() }
        startupPagesFallback.cancel()
        startupPages.cancel()
        await watcher.finish()
        publisher.cancel()
        healthChecks.stopAll()
        sampler.cancel()
        events.stop()
        let graces = Dictionary(settings.entryPoints.map { ($0.name, $0.graceTimeout) }, uniquingKeysWith: { first, _ in first })
        await server.shutdown(graceTimeout: { graces[$0] ?? settings.graceTimeout })
        rotation?.cancel()
        accessLog?.stop()
        return 0
    }
}

/// Records a published table in the history: its time, the providers whose change made it, the merged
/// configuration and its issues.
private func record(_ table: RoutingTable, _ update: ConfigurationWatcher.Update, in database: SwitchyardStore, keep: Int, logger: Logger) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
        let routers = table.status.routers.values.filter { $0.status != .disabled }.count
        let errors = table.status.issues.filter { $0.severity == .error }.count
        try database.record(
            SwitchyardStore.Version(
                number: Int64(table.version), created: Date(timeIntervalSince1970: table.createdAt),
                changed: update.changedProviders, routers: routers, errors: errors,
                configuration: try encoder.encode(update.merged.configuration), issues: try encoder.encode(table.status.issues)),
            keep: keep)
    } catch {
        logger.error("cannot record version \(table.version) in the history: \(error)")
    }
}

/// Waits for SIGTERM or SIGINT.
enum ShutdownSignal {
    static func wait() async -> String {
        await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let once = OnceBox(continuation)
            let queue = DispatchQueue(label: "switchyard.signals")
            var sources: [any DispatchSourceSignal] = []
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { once.resume(name) }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
        }
    }
}

/// Hands back the file pages only starting up needed (`ProcessMemory.releaseStartupPages`), once, `settle` after it
/// is first asked to. Code the proxy runs again after the release is read back from the file: right after the first
/// table, the providers' next changes (a Kubernetes watch event, a rewritten file) would wait for those reads, so
/// the release waits until start-up has settled.
private final class StartupPagesRelease: Sendable {
    private enum State { case waiting, scheduled, cancelled }
    private let state = NIOLockedValueBox(State.waiting)
    private let logger: Logger
    static let settle = DispatchTimeInterval.seconds(10)

    init(logger: Logger) { self.logger = logger }

    /// The release itself runs on a queue of its own: the table publisher and the cooperative threads go on.
    func releaseOnce() {
        let first = state.withLockedValue { state in
            guard case .waiting = state else { return false }
            state = .scheduled
            return true
        }
        guard first else { return }
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + Self.settle) {
            guard self.state.withLockedValue({ if case .scheduled = $0 { return true } else { return false } }) else { return }
            self.release()
        }
    }

    /// Stopping: no release any more.
    func cancel() { state.withLockedValue { $0 = .cancelled } }

    private func release() {
        let release = ProcessMemory.releaseStartupPages()
        let mebibytes = { (bytes: Int?) in bytes.map { String(format: "%.1f", Double($0) / 1_048_576) } ?? "?" }
        logger.info(
            "start-up pages released",
            metadata: [
                "advisedMiB": "\(mebibytes(release.advised))", "residentBeforeMiB": "\(mebibytes(release.residentBefore))",
                "residentAfterMiB": "\(mebibytes(release.residentAfter))",
            ])
    }
}

/// Resumes a continuation at most once.
private final class OnceBox: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<String, Never>?
    init(_ continuation: CheckedContinuation<String, Never>) { self.continuation = continuation }
    func resume(_ value: String) {
        lock.lock()
        let continuation = self.continuation
        self.continuation = nil
        lock.unlock()
        continuation?.resume(returning: value)
    }
}

/// Keeps the signal sources alive for the life of the process.
private enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ new: [any DispatchSourceSignal]) { sources.append(contentsOf: new) }
}

/// SIGUSR1: reopen the access log after a rotation, as Traefik does.
/// (The source is only resumed once and cancelled once.)
final class LogRotationSignal: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    init(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGUSR1, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: DispatchQueue(label: "switchyard.logrotation"))
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func cancel() { source.cancel() }
}

/// CPU time of the calling thread: what a synchronous piece of work cost, whatever else the process does meanwhile.
func threadCPUNanoseconds() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
}
