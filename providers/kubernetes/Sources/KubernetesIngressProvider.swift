import Foundation
import Logging
import SwitchyardConfig
import SwitchyardProviderKit

/// `providers.kubernetesIngress`: the options Traefik's Kubernetes Ingress provider takes.
public struct KubernetesIngressOptions: Sendable, Hashable {
    public var connection: KubernetesConnection
    /// Namespaces to watch; empty watches all.
    public var namespaces: [String] = []
    /// A label selector the Ingresses must match.
    public var labelSelector: String?
    /// Serve only Ingresses of this class.
    public var ingressClass: String?
    /// At most one snapshot per this interval while objects change (`throttleDuration`).
    public var throttle: Duration = .milliseconds(100)

    public init(connection: KubernetesConnection) {
        self.connection = connection
    }
}

/// The `kubernetes` provider: routes from Ingresses, followed live from the API server by list + watch of
/// Ingresses, IngressClasses, Services, EndpointSlices and Secrets.
public final class KubernetesIngressProvider: Provider {
    public let name = IngressConfigurationBuilder.providerName
    private let options: KubernetesIngressOptions
    private let logger: Logger

    public init(options: KubernetesIngressOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// The paths of a namespaced kind under `prefix` (`/api/v1` or `/apis/<group>/<version>`): one per watched
    /// namespace, or the cluster-wide one.
    func paths(_ prefix: String, _ plural: String) -> [String] {
        options.namespaces.isEmpty ? ["\(prefix)/\(plural)"] : options.namespaces.map { "\(prefix)/namespaces/\($0)/\(plural)" }
    }

    public func run(sending updates: ProviderUpdates) async throws {
        let client = try KubernetesClient(connection: options.connection)
        defer { Task { await client.shutdown() } }
        var ingressQuery: [String: String] = [:]
        if let selector = options.labelSelector, !selector.isEmpty { ingressQuery["labelSelector"] = selector }
        let ingresses = ResourceMirror<Ingress>(paths: paths("/apis/networking.k8s.io/v1", "ingresses"), query: ingressQuery)
        let classes = ResourceMirror<IngressClass>(paths: ["/apis/networking.k8s.io/v1/ingressclasses"])
        let services = ResourceMirror<Service>(paths: paths("/api/v1", "services"))
        let slices = ResourceMirror<EndpointSlice>(paths: paths("/apis/discovery.k8s.io/v1", "endpointslices"))
        let secrets = ResourceMirror<Secret>(paths: paths("/api/v1", "secrets"))
        let options = self.options
        await MirroredProvider.run(
            client: client, logger: logger, mirrors: [ingresses, classes, services, slices, secrets],
            throttle: options.throttle, updates: updates
        ) {
            var builder = IngressConfigurationBuilder(
                ingressClass: options.ingressClass, ingresses: Array(ingresses.objects.values),
                classes: Array(classes.objects.values), services: services.objects,
                slices: Array(slices.objects.values), secrets: secrets.objects)
            var snapshot = builder.build()
            let status = KubernetesProviderStatus(
                source: "providers.kubernetesIngress \(options.connection.endpoint)",
                mirrors: [
                    ("Ingress", ingresses.ready, ingresses.errors), ("IngressClass", classes.ready, classes.errors),
                    ("Service", services.ready, services.errors), ("EndpointSlice", slices.ready, slices.errors),
                    ("Secret", secrets.ready, secrets.errors),
                ])
            return status.apply(to: &snapshot) ? snapshot : nil
        }
    }
}
