import Foundation
import SwitchyardConfig

/// The parts of Kubernetes objects the providers read (`metadata`, and each kind's `spec`), decoded leniently:
/// fields they do not use are ignored.
struct ObjectMeta: Codable, Sendable, Hashable {
    var name: String
    var namespace: String?
    var resourceVersion: String?
    var uid: String?
    var generation: Int?
    var labels: [String: String]?
    var annotations: [String: String]?
}

protocol KubernetesObject: Decodable, Sendable, Hashable {
    /// `Ingress`, `Service`, ...: how errors name the object.
    static var kind: String { get }
    var metadata: ObjectMeta { get }
}

extension KubernetesObject {
    /// `namespace/name` (or `name` for cluster objects).
    var key: String { metadata.namespace.map { "\($0)/\(metadata.name)" } ?? metadata.name }
    /// `Ingress namespace/name`, as errors name it.
    var reference: String { "\(Self.kind) \(key)" }
}

/// An int or a string (`port`, `targetPort`).
enum IntOrString: Codable, Sendable, Hashable {
    case int(Int)
    case string(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) { self = .int(value) } else { self = .string(try container.decode(String.self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }
}

struct Ingress: KubernetesObject {
    static let kind = "Ingress"
    var metadata: ObjectMeta
    var spec: Spec?
    var status: Status?

    struct Status: Codable, Sendable, Hashable {
        struct LoadBalancer: Codable, Sendable, Hashable {
            struct Entry: Codable, Sendable, Hashable {
                var ip: String?
                var hostname: String?
            }
            var ingress: [Entry]?
        }
        var loadBalancer: LoadBalancer?
    }

    /// Its path in the API.
    var path: String { "/apis/networking.k8s.io/v1/namespaces/\(metadata.namespace ?? "default")/ingresses/\(metadata.name)" }

    struct Spec: Codable, Sendable, Hashable {
        var ingressClassName: String?
        var defaultBackend: Backend?
        var tls: [TLS]?
        var rules: [Rule]?
    }

    struct Backend: Codable, Sendable, Hashable {
        struct Service: Codable, Sendable, Hashable {
            struct Port: Codable, Sendable, Hashable {
                var name: String?
                var number: Int?
            }
            var name: String
            var port: Port?
        }
        var service: Service?
    }

    struct TLS: Codable, Sendable, Hashable {
        var hosts: [String]?
        var secretName: String?
    }

    struct Rule: Codable, Sendable, Hashable {
        struct HTTP: Codable, Sendable, Hashable {
            var paths: [Path]?
        }
        var host: String?
        var http: HTTP?
    }

    struct Path: Codable, Sendable, Hashable {
        var path: String?
        var pathType: String?
        var backend: Backend
    }
}

struct IngressClass: KubernetesObject {
    static let kind = "IngressClass"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        var controller: String?
    }
}

struct Service: KubernetesObject {
    static let kind = "Service"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        var type: String?
        var externalName: String?
        var ports: [Port]?
    }

    struct Port: Codable, Sendable, Hashable {
        var name: String?
        var port: Int
        var targetPort: IntOrString?
        var `protocol`: String?
    }
}

struct EndpointSlice: KubernetesObject {
    static let kind = "EndpointSlice"
    var metadata: ObjectMeta
    var addressType: String?
    var endpoints: [Endpoint]?
    var ports: [Port]?

    struct Endpoint: Codable, Sendable, Hashable {
        struct Conditions: Codable, Sendable, Hashable {
            var ready: Bool?
            var serving: Bool?
            var terminating: Bool?
        }
        var addresses: [String]
        var conditions: Conditions?
    }

    struct Port: Codable, Sendable, Hashable {
        var name: String?
        var port: Int?
        var `protocol`: String?
    }

    /// The Service it belongs to (`kubernetes.io/service-name`).
    var serviceName: String? { metadata.labels?["kubernetes.io/service-name"] }
}

struct Secret: KubernetesObject {
    static let kind = "Secret"
    var metadata: ObjectMeta
    var type: String?
    var data: [String: String]?

    /// A value of `data`, decoded from base64.
    func value(_ key: String) -> String? {
        data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Any JSON value, kept as it came (a CRD's `spec` that the configuration decoder reads).
enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

/// A reference from a CRD to another object (`{name, namespace}`), as IngressRoute middlewares and TLS options write it.
struct ObjectReference: Codable, Sendable, Hashable {
    var name: String
    var namespace: String?
}

/// An IngressRoute's or TraefikService's backend: a Service port, or a TraefikService.
struct BackendReference: Codable, Sendable, Hashable {
    var name: String
    var namespace: String?
    var kind: String?
    var port: IntOrString?
    var weight: Int?
    var scheme: String?
    var passHostHeader: Bool?
    var serversTransport: String?
    var strategy: String?
}

struct IngressRoute: KubernetesObject {
    static let kind = "IngressRoute"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        var entryPoints: [String]?
        var routes: [Route]?
        var tls: TLS?
    }

    struct Route: Codable, Sendable, Hashable {
        var match: String?
        var kind: String?
        var priority: Int?
        var middlewares: [ObjectReference]?
        var services: [BackendReference]?
    }

    struct TLS: Codable, Sendable, Hashable {
        struct Domain: Codable, Sendable, Hashable {
            var main: String?
            var sans: [String]?
        }
        var secretName: String?
        var options: ObjectReference?
        var certResolver: String?
        var domains: [Domain]?
    }
}

struct MiddlewareObject: KubernetesObject {
    static let kind = "Middleware"
    var metadata: ObjectMeta
    var spec: JSONValue?
}

struct TraefikServiceObject: KubernetesObject {
    static let kind = "TraefikService"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        struct Weighted: Codable, Sendable, Hashable {
            var services: [BackendReference]?
            var sticky: Sticky?
            var healthCheck: HealthCheckPresence?
        }
        struct Mirroring: Codable, Sendable, Hashable {
            struct Mirror: Codable, Sendable, Hashable {
                var name: String
                var namespace: String?
                var kind: String?
                var port: IntOrString?
                var percent: Int?
            }
            var name: String
            var namespace: String?
            var kind: String?
            var port: IntOrString?
            var mirrors: [Mirror]?
            var mirrorBody: Bool?
            var maxBodySize: Int64?
            var healthCheck: HealthCheckPresence?
        }
        var weighted: Weighted?
        var mirroring: Mirroring?
    }
}

// MARK: Gateway API (gateway.networking.k8s.io)

/// A condition of a Gateway API status.
struct Condition: Codable, Sendable, Hashable {
    var type: String
    var status: String
    var reason: String
    var message: String
    var observedGeneration: Int?
    var lastTransitionTime: String?
}

struct GatewayClass: KubernetesObject {
    static let kind = "GatewayClass"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        var controllerName: String?
    }
}

/// A reference to a parent (Gateway) or a backend / Secret, as the Gateway API writes them.
struct GatewayReference: Codable, Sendable, Hashable {
    var group: String?
    var kind: String?
    var name: String
    var namespace: String?
    var sectionName: String?
    var port: Int?
    var weight: Int?
}

struct Gateway: KubernetesObject {
    static let kind = "Gateway"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        var gatewayClassName: String?
        var listeners: [Listener]?
    }

    struct Listener: Codable, Sendable, Hashable {
        struct TLS: Codable, Sendable, Hashable {
            var mode: String?
            var certificateRefs: [GatewayReference]?
        }
        struct AllowedRoutes: Codable, Sendable, Hashable {
            struct Namespaces: Codable, Sendable, Hashable {
                var from: String?
            }
            var namespaces: Namespaces?
        }
        var name: String
        var hostname: String?
        var port: Int
        var `protocol`: String
        var tls: TLS?
        var allowedRoutes: AllowedRoutes?
    }

    var path: String { "/apis/gateway.networking.k8s.io/v1/namespaces/\(metadata.namespace ?? "default")/gateways/\(metadata.name)" }
}

struct HTTPRoute: KubernetesObject {
    static let kind = "HTTPRoute"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        var parentRefs: [GatewayReference]?
        var hostnames: [String]?
        var rules: [Rule]?
    }

    struct Rule: Codable, Sendable, Hashable {
        var matches: [Match]?
        var filters: [Filter]?
        var backendRefs: [GatewayReference]?
    }

    struct Match: Codable, Sendable, Hashable {
        struct Path: Codable, Sendable, Hashable {
            var type: String?
            var value: String?
        }
        struct Field: Codable, Sendable, Hashable {
            var type: String?
            var name: String
            var value: String
        }
        var path: Path?
        var headers: [Field]?
        var queryParams: [Field]?
        var method: String?
    }

    struct Filter: Codable, Sendable, Hashable {
        struct HeaderModifier: Codable, Sendable, Hashable {
            struct Header: Codable, Sendable, Hashable {
                var name: String
                var value: String
            }
            var set: [Header]?
            var add: [Header]?
            var remove: [String]?
        }
        struct Redirect: Codable, Sendable, Hashable {
            var scheme: String?
            var hostname: String?
            var port: Int?
            var statusCode: Int?
            var path: PathModifier?
        }
        struct Rewrite: Codable, Sendable, Hashable {
            var hostname: String?
            var path: PathModifier?
        }
        struct PathModifier: Codable, Sendable, Hashable {
            var type: String
            var replaceFullPath: String?
            var replacePrefixMatch: String?
        }
        var type: String
        var requestHeaderModifier: HeaderModifier?
        var responseHeaderModifier: HeaderModifier?
        var requestRedirect: Redirect?
        var urlRewrite: Rewrite?
    }

    var path: String { "/apis/gateway.networking.k8s.io/v1/namespaces/\(metadata.namespace ?? "default")/httproutes/\(metadata.name)" }
}

struct ReferenceGrant: KubernetesObject {
    static let kind = "ReferenceGrant"
    var metadata: ObjectMeta
    var spec: Spec?

    struct Spec: Codable, Sendable, Hashable {
        struct From: Codable, Sendable, Hashable {
            var group: String
            var kind: String
            var namespace: String
        }
        struct To: Codable, Sendable, Hashable {
            var group: String
            var kind: String
            var name: String?
        }
        var from: [From]?
        var to: [To]?
    }
}

/// A CRD whose `spec` the configuration decoder reads (TLSOption, ServersTransport).
struct TLSOptionObject: KubernetesObject {
    static let kind = "TLSOption"
    var metadata: ObjectMeta
    var spec: JSONValue?
}

struct ServersTransportObject: KubernetesObject {
    static let kind = "ServersTransport"
    var metadata: ObjectMeta
    var spec: JSONValue?
}
