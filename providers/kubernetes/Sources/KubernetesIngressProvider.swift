import Foundation
import Logging
import SwitchyardConfig
import SwitchyardProviderKit

/// `providers.kubernetesIngress`: the options Traefik's Kubernetes Ingress provider takes.
public struct KubernetesIngressOptions: Sendable, Hashable {
    /// The API server, namespaces, label selector (for Ingresses) and throttle.
    public var scope: KubernetesWatchScope
    /// Serve only Ingresses of this class.
    public var ingressClass: String?
    /// `ingressEndpoint.ip` / `.hostname`: written to the `status.loadBalancer` of every Ingress served.
    public var endpointIP: String?
    public var endpointHostname: String?

    public init(scope: KubernetesWatchScope) {
        self.scope = scope
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

    public func run(sending updates: ProviderUpdates) async throws {
        let options = self.options
        let client = try KubernetesClient(connection: options.scope.connection)
        defer { Task { await client.shutdown() } }
        let ingressQuery = options.scope.selector
        let ingresses = ResourceMirror<Ingress>(paths: options.scope.paths("/apis/networking.k8s.io/v1", "ingresses"), query: ingressQuery)
        let classes = ResourceMirror<IngressClass>(paths: ["/apis/networking.k8s.io/v1/ingressclasses"])
        let services = ResourceMirror<Service>(paths: options.scope.paths("/api/v1", "services"))
        let slices = ResourceMirror<EndpointSlice>(paths: options.scope.paths("/apis/discovery.k8s.io/v1", "endpointslices"))
        let secrets = ResourceMirror<Secret>(paths: options.scope.paths("/api/v1", "secrets"))
        let writer = StatusWriter(client: client, logger: logger)
        await MirroredProvider.run(
            client: client, logger: logger, mirrors: [ingresses, classes, services, slices, secrets],
            throttle: options.scope.throttle, updates: updates
        ) {
            var builder = IngressConfigurationBuilder(
                ingressClass: options.ingressClass, ingresses: Array(ingresses.objects.values),
                classes: Array(classes.objects.values), services: services.objects,
                slices: Array(slices.objects.values), secrets: secrets.objects)
            var snapshot = builder.build()
            if options.endpointIP != nil || options.endpointHostname != nil {
                let desired = Ingress.Status.LoadBalancer(ingress: [.init(ip: options.endpointIP, hostname: options.endpointHostname)])
                var entry: [String: JSONValue] = [:]
                if let ip = options.endpointIP { entry["ip"] = .string(ip) }
                if let hostname = options.endpointHostname { entry["hostname"] = .string(hostname) }
                let status = JSONValue.object(["loadBalancer": .object(["ingress": .array([.object(entry)])])])
                writer.write(ingresses.objects.values.filter { builder.serves($0) && $0.status?.loadBalancer != desired }
                    .sorted { $0.key < $1.key }
                    .map { StatusUpdate(reference: $0.reference, path: $0.path, status: status) })
            }
            let status = KubernetesProviderStatus(
                source: "providers.kubernetesIngress \(options.scope.connection.endpoint)",
                mirrors: [
                    ("Ingress", ingresses.ready, ingresses.errors), ("IngressClass", classes.ready, classes.errors),
                    ("Service", services.ready, services.errors), ("EndpointSlice", slices.ready, slices.errors),
                    ("Secret", secrets.ready, secrets.errors),
                ])
            return status.apply(to: &snapshot) ? snapshot : nil
        }
    }
}
