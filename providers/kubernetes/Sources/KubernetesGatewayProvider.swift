import Foundation
import Logging
import NIOConcurrencyHelpers
import SwitchyardConfig
import SwitchyardProviderKit

/// `providers.kubernetesGateway`: the connection options, and the entry points by port (a listener's port picks
/// the entry point listening on that port, as in Traefik).
public struct KubernetesGatewayOptions: Sendable, Hashable {
    /// The API server, namespaces, label selector (for the provider's own kinds) and throttle.
    public var scope: KubernetesWatchScope
    public var entryPointsByPort: [Int: [String]] = [:]

    public init(scope: KubernetesWatchScope) {
        self.scope = scope
    }
}

/// The `kubernetesgateway` provider: GatewayClasses of `switchyard.dev/gateway-controller`, their Gateways and the
/// HTTPRoutes attached to them, with the Services, EndpointSlices, Secrets and ReferenceGrants they name; the
/// status of each (Accepted, ResolvedRefs, Programmed) is written back when it changes.
public final class KubernetesGatewayProvider: Provider {
    public let name = GatewayConfigurationBuilder.providerName
    static let group = "/apis/gateway.networking.k8s.io"
    private let options: KubernetesGatewayOptions
    private let logger: Logger

    public init(options: KubernetesGatewayOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    public func run(sending updates: ProviderUpdates) async throws {
        let options = self.options
        let client = try KubernetesClient(connection: options.scope.connection)
        defer { Task { await client.shutdown() } }
        let selector = options.scope.selector
        let classes = ResourceMirror<GatewayClass>(paths: ["\(Self.group)/v1/gatewayclasses"], optional: true)
        let gateways = ResourceMirror<Gateway>(paths: options.scope.paths("\(Self.group)/v1", "gateways"), query: selector, optional: true)
        let routes = ResourceMirror<HTTPRoute>(paths: options.scope.paths("\(Self.group)/v1", "httproutes"), query: selector, optional: true)
        let grants = ResourceMirror<ReferenceGrant>(paths: options.scope.paths("\(Self.group)/v1beta1", "referencegrants"), optional: true)
        let services = ResourceMirror<Service>(paths: options.scope.paths("/api/v1", "services"))
        let slices = ResourceMirror<EndpointSlice>(paths: options.scope.paths("/apis/discovery.k8s.io/v1", "endpointslices"))
        let secrets = ResourceMirror<Secret>(paths: options.scope.paths("/api/v1", "secrets"))
        let writer = StatusWriter(client: client, logger: logger)
        await MirroredProvider.run(
            client: client, logger: logger, mirrors: [classes, gateways, routes, grants, services, slices, secrets],
            throttle: options.scope.throttle, updates: updates
        ) {
            var builder = GatewayConfigurationBuilder(
                classes: Array(classes.objects.values), gateways: Array(gateways.objects.values),
                routes: Array(routes.objects.values), grants: Array(grants.objects.values),
                servers: ServiceServers(services: services.objects, slices: Array(slices.objects.values)),
                secrets: secrets.objects, entryPointsByPort: options.entryPointsByPort)
            var snapshot = builder.build()
            let status = KubernetesProviderStatus(
                source: "providers.kubernetesGateway \(options.scope.connection.endpoint)",
                mirrors: [
                    ("GatewayClass", classes.ready, classes.errors), ("Gateway", gateways.ready, gateways.errors),
                    ("HTTPRoute", routes.ready, routes.errors), ("ReferenceGrant", grants.ready, grants.errors),
                    ("Service", services.ready, services.errors), ("EndpointSlice", slices.ready, slices.errors),
                    ("Secret", secrets.ready, secrets.errors),
                ])
            guard status.apply(to: &snapshot) else { return nil }
            if !snapshot.sourceUnavailable { writer.write(builder.statuses) }
            return snapshot
        }
    }
}

/// Writes statuses that changed since they were last written (by a merge patch of the `status` subresource),
/// one at a time, off the snapshot loop; a failed write is tried again with the next change.
final class StatusWriter: Sendable {
    private let client: KubernetesClient
    private let logger: Logger
    private let written = NIOLockedValueBox<[String: JSONValue]>([:])

    init(client: KubernetesClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    func write(_ updates: [StatusUpdate]) {
        let pending = written.withLockedValue { written in
            updates.filter { written[$0.path] != $0.status }
        }
        guard !pending.isEmpty else { return }
        written.withLockedValue { written in
            for update in pending { written[update.path] = update.status }
        }
        let now = ISO8601DateFormatter().string(from: Date())
        Task {
            for update in pending {
                do {
                    try await client.patchStatus(update.path, status: Self.stamped(update.status, time: now))
                } catch {
                    written.withLockedValue { _ = $0.removeValue(forKey: update.path) }
                    logger.error("cannot write the status of \(update.reference): \(error)")
                }
            }
        }
    }

    /// Every condition gets `lastTransitionTime`, which the API requires.
    static func stamped(_ value: JSONValue, time: String) -> JSONValue {
        switch value {
        case .object(var fields):
            if fields["type"] != nil, fields["status"] != nil, fields["reason"] != nil { fields["lastTransitionTime"] = .string(time) }
            return .object(fields.mapValues { stamped($0, time: time) })
        case .array(let items):
            return .array(items.map { stamped($0, time: time) })
        default:
            return value
        }
    }
}
