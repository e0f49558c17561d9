import Foundation
import Logging
import SwitchyardConfig
import SwitchyardProviderKit

/// `providers.kubernetesCRD`: the options Traefik's Kubernetes CRD provider takes.
public struct KubernetesCRDOptions: Sendable, Hashable {
    /// The API server, namespaces, label selector (for the provider's own kinds) and throttle.
    public var scope: KubernetesWatchScope
    /// References from one namespace to another (middlewares, services, TLS options) are refused unless on.
    public var allowCrossNamespace = false

    public init(scope: KubernetesWatchScope) {
        self.scope = scope
    }
}

/// The `kubernetescrd` provider: IngressRoutes, Middlewares and TraefikServices of the groups `switchyard.dev` and
/// `traefik.io` (each where the API server serves it), with the Services, EndpointSlices and Secrets they name.
public final class KubernetesCRDProvider: Provider {
    public let name = CRDConfigurationBuilder.providerName
    static let groups = ["/apis/switchyard.dev/v1alpha1", "/apis/traefik.io/v1alpha1"]
    private let options: KubernetesCRDOptions
    private let logger: Logger

    public init(options: KubernetesCRDOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    func paths(inGroups plural: String) -> [String] {
        Self.groups.flatMap { options.scope.paths($0, plural) }
    }

    public func run(sending updates: ProviderUpdates) async throws {
        let options = self.options
        let client = try KubernetesClient(connection: options.scope.connection)
        defer { Task { await client.shutdown() } }
        let selector = options.scope.selector
        // A group the API server does not serve answers 404: its mirrors stay empty and look again now and then.
        let routes = ResourceMirror<IngressRoute>(paths: paths(inGroups: "ingressroutes"), query: selector, optional: true)
        let middlewares = ResourceMirror<MiddlewareObject>(paths: paths(inGroups: "middlewares"), query: selector, optional: true)
        let traefikServices = ResourceMirror<TraefikServiceObject>(paths: paths(inGroups: "traefikservices"), query: selector, optional: true)
        let tlsOptions = ResourceMirror<TLSOptionObject>(paths: paths(inGroups: "tlsoptions"), optional: true)
        let transports = ResourceMirror<ServersTransportObject>(paths: paths(inGroups: "serverstransports"), optional: true)
        let services = ResourceMirror<Service>(paths: options.scope.paths("/api/v1", "services"))
        let slices = ResourceMirror<EndpointSlice>(paths: options.scope.paths("/apis/discovery.k8s.io/v1", "endpointslices"))
        let secrets = ResourceMirror<Secret>(paths: options.scope.paths("/api/v1", "secrets"))
        await MirroredProvider.run(
            client: client, logger: logger, mirrors: [routes, middlewares, traefikServices, tlsOptions, transports, services, slices, secrets],
            throttle: options.scope.throttle, updates: updates
        ) {
            var builder = CRDConfigurationBuilder(
                allowCrossNamespace: options.allowCrossNamespace, routes: Array(routes.objects.values),
                middlewares: Array(middlewares.objects.values), traefikServices: Array(traefikServices.objects.values),
                servers: ServiceServers(services: services.objects, slices: Array(slices.objects.values)),
                secrets: secrets.objects)
            builder.tlsOptions = Array(tlsOptions.objects.values)
            builder.serversTransports = Array(transports.objects.values)
            var snapshot = builder.build()
            let status = KubernetesProviderStatus(
                source: "providers.kubernetesCRD \(options.scope.connection.endpoint)",
                mirrors: [
                    ("IngressRoute", routes.ready, routes.errors), ("Middleware", middlewares.ready, middlewares.errors),
                    ("TraefikService", traefikServices.ready, traefikServices.errors),
                    ("TLSOption", tlsOptions.ready, tlsOptions.errors), ("ServersTransport", transports.ready, transports.errors),
                    ("Service", services.ready, services.errors), ("EndpointSlice", slices.ready, slices.errors),
                    ("Secret", secrets.ready, secrets.errors),
                ])
            return status.apply(to: &snapshot) ? snapshot : nil
        }
    }
}

/// The state of a provider's mirrors, added to its snapshot: each failing path as an error; until every kind has
/// been listed once, the view is partial and is sent only when something fails, as `sourceUnavailable`.
struct KubernetesProviderStatus {
    var source: String
    var mirrors: [(kind: String, ready: Bool, errors: [String: String])]

    /// Adds the errors; false when the snapshot should not be sent yet.
    func apply(to snapshot: inout ProviderSnapshot) -> Bool {
        for (kind, _, errors) in mirrors {
            for (path, message) in errors.sorted(by: { $0.key < $1.key }) {
                snapshot.issues.append(ConfigurationIssue(
                    at: SourceLocation(source: source),
                    message: "cannot follow the \(kind) objects at \(path): \(message); keeping the last good view"))
            }
        }
        guard mirrors.allSatisfy(\.ready) else {
            guard mirrors.contains(where: { !$0.errors.isEmpty }) else { return false }
            snapshot.sourceUnavailable = true
            return true
        }
        return true
    }
}
