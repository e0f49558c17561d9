import Foundation

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
