import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import SwitchyardConfig

/// How to reach the API server: in the cluster (the service account's token, CA and namespace, and
/// `KUBERNETES_SERVICE_HOST/PORT`) or as configured (`endpoint`, `token`, `certAuthFilePath`).
public struct KubernetesConnection: Sendable, Hashable {
    public var endpoint: String
    /// A token, or nil to read `tokenFile` before each request (it rotates).
    public var token: String?
    public var tokenFile: String?
    /// The CA the API server's certificate must chain to; nil trusts the system's roots. Verification is never off.
    public var certificateAuthorityFile: String?

    public static let serviceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(endpoint: String, token: String? = nil, tokenFile: String? = nil, certificateAuthorityFile: String? = nil) {
        self.endpoint = endpoint
        self.token = token
        self.tokenFile = tokenFile
        self.certificateAuthorityFile = certificateAuthorityFile
    }

    /// The options given, completed from the cluster the process runs in.
    public static func resolve(
        endpoint: String?, token: String?, certAuthFilePath: String?, environment: [String: String],
        optionsKey: String = "providers.kubernetesIngress"
    ) throws(ConfigurationIssue) -> KubernetesConnection {
        let folder = serviceAccountFolder
        var connection = KubernetesConnection(endpoint: endpoint ?? "")
        if connection.endpoint.isEmpty {
            guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
                throw ConfigurationIssue(
                    at: SourceLocation(source: "static configuration"), keyPath: optionsKey + ".endpoint",
                    message: "no endpoint given and not running in a cluster (KUBERNETES_SERVICE_HOST is not set)")
            }
            connection.endpoint = "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
        if let token, !token.isEmpty {
            connection.token = token
        } else if FileManager.default.fileExists(atPath: folder + "/token") {
            connection.tokenFile = folder + "/token"
        }
        if let certAuthFilePath, !certAuthFilePath.isEmpty {
            connection.certificateAuthorityFile = certAuthFilePath
        } else if FileManager.default.fileExists(atPath: folder + "/ca.crt") {
            connection.certificateAuthorityFile = folder + "/ca.crt"
        }
        return connection
    }
}

/// What every Kubernetes provider follows: the API server, the namespaces (all when empty), a label selector for
/// its own kinds, and how often it may send a snapshot.
public struct KubernetesWatchScope: Sendable, Hashable {
    public var connection: KubernetesConnection
    public var namespaces: [String] = []
    public var labelSelector: String?
    public var throttle: Duration = .milliseconds(100)

    public init(connection: KubernetesConnection) {
        self.connection = connection
    }

    /// The paths of a namespaced kind under `prefix` (`/api/v1` or `/apis/<group>/<version>`): one per watched
    /// namespace, or the cluster-wide one.
    func paths(_ prefix: String, _ plural: String) -> [String] {
        namespaces.isEmpty ? ["\(prefix)/\(plural)"] : namespaces.map { "\(prefix)/namespaces/\($0)/\(plural)" }
    }

    /// The query with the label selector, for the provider's own kinds.
    var selector: [String: String] {
        guard let labelSelector, !labelSelector.isEmpty else { return [:] }
        return ["labelSelector": labelSelector]
    }
}

/// A client of the Kubernetes API: lists, watches and status updates, with the bearer token over TLS verified
/// against the configured CA.
final class KubernetesClient: Sendable {
    struct APIError: Error, CustomStringConvertible {
        var status: Int
        var message: String
        var description: String { "HTTP \(status): \(message)" }
    }

    /// A watch that the server ended with `410 Gone`: the resource version is too old; list again.
    struct Expired: Error, CustomStringConvertible {
        var description: String { "the resource version expired (410 Gone)" }
    }

    private let client: HTTPClient
    let connection: KubernetesConnection

    init(connection: KubernetesConnection) throws(ConfigurationIssue) {
        self.connection = connection
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.connectionPool.retryConnectionEstablishment = false
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = connection.certificateAuthorityFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
            } catch {
                throw ConfigurationIssue(
                    at: SourceLocation(source: "static configuration"), keyPath: "providers.kubernetes*.certAuthFilePath",
                    message: "cannot read the CA file \(ca): \(error)")
            }
        }
        configuration.tlsConfiguration = tls
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    private func request(_ path: String, method: HTTPMethod = .GET) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: connection.endpoint.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let token = try currentToken() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// The token, read again from its file each time (kubelet rotates it).
    private func currentToken() throws -> String? {
        if let token = connection.token { return token }
        guard let file = connection.tokenFile else { return nil }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw APIError(status: 0, message: "cannot read the token file \(file)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// GETs a list; its items and resource version.
    func list<Object: Decodable>(_ path: String, query: [String: String], as: Object.Type) async throws -> (items: [Object], resourceVersion: String) {
        let response = try await client.execute(try request(path + Self.query(query)), deadline: .now() + .seconds(30))
        let body = Data(buffer: try await response.body.collect(upTo: 256 << 20))
        guard response.status == .ok else { throw Self.error(response.status, body) }
        let list = try JSONDecoder().decode(ObjectList<Object>.self, from: body)
        return (list.items ?? [], list.metadata?.resourceVersion ?? "")
    }

    /// One line of a watch.
    enum Event<Object: Decodable & Sendable>: Sendable {
        case added(Object)
        case modified(Object)
        case deleted(Object)
        /// The server's position moved on with no change for this watch.
        case bookmark(resourceVersion: String)
    }

    /// Follows a watch from `resourceVersion`, calling `onEvent` for each event, until the server ends it (normally
    /// after `timeoutSeconds`); throws `Expired` on `410 Gone`.
    func watch<Object: Decodable & Sendable>(
        _ path: String, query: [String: String], resourceVersion: String, as: Object.Type,
        onEvent: (Event<Object>) async throws -> Void
    ) async throws {
        var query = query
        query["watch"] = "1"
        query["resourceVersion"] = resourceVersion
        query["allowWatchBookmarks"] = "true"
        query["timeoutSeconds"] = query["timeoutSeconds"] ?? "300"
        let response = try await client.execute(try request(path + Self.query(query)), deadline: .now() + .seconds(360))
        guard response.status == .ok else {
            let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            if response.status == .gone { throw Expired() }
            throw Self.error(response.status, body)
        }
        var pending = Data()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            guard pending.count < 64 << 20 else { throw APIError(status: 0, message: "a watch event larger than 64 MB") }
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
                try await onEvent(try Self.decodeEvent(Data(line), as: Object.self))
            }
        }
    }

    static func decodeEvent<Object: Decodable & Sendable>(_ line: Data, as: Object.Type) throws -> Event<Object> {
        typealias Typed = TypedEvent<Object>
        let head = try JSONDecoder().decode(EventHead.self, from: line)
        switch head.type {
        case "ADDED": return .added(try JSONDecoder().decode(Typed.self, from: line).object)
        case "MODIFIED": return .modified(try JSONDecoder().decode(Typed.self, from: line).object)
        case "DELETED": return .deleted(try JSONDecoder().decode(Typed.self, from: line).object)
        case "BOOKMARK": return .bookmark(resourceVersion: head.object?.metadata?.resourceVersion ?? "")
        case "ERROR":
            if head.object?.code == 410 { throw Expired() }
            throw APIError(status: head.object?.code ?? 0, message: head.object?.message ?? "watch error")
        default:
            throw APIError(status: 0, message: "unknown watch event type \(head.type)")
        }
    }

    /// Merges `status` into an object's status (`PATCH <path>/status`, a JSON merge patch).
    func patchStatus(_ path: String, status: some Encodable) async throws {
        var request = try request(path + "/status", method: .PATCH)
        request.headers.add(name: "Content-Type", value: "application/merge-patch+json")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(StatusPatch(status: status))))
        let response = try await client.execute(request, deadline: .now() + .seconds(30))
        let answer = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .ok else { throw Self.error(response.status, answer) }
    }

    static func query(_ items: [String: String]) -> String {
        guard !items.isEmpty else { return "" }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+,")
        return "?" + items.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }

    static func error(_ status: HTTPResponseStatus, _ body: Data) -> APIError {
        struct Status: Decodable { var message: String? }
        let message = (try? JSONDecoder().decode(Status.self, from: body))?.message ?? String(decoding: body.prefix(300), as: UTF8.self)
        return APIError(status: Int(status.code), message: message)
    }
}

/// A list answer.
struct ObjectList<Object: Decodable>: Decodable {
    struct Metadata: Decodable { var resourceVersion: String? }
    var metadata: Metadata?
    var items: [Object]?
}

/// A watch line's type, and its object read as a Status (for ERROR) or a bookmark.
struct EventHead: Decodable {
    struct Status: Decodable {
        var code: Int?
        var message: String?
        var metadata: Metadata?
    }
    struct Metadata: Decodable { var resourceVersion: String? }
    var type: String
    var object: Status?
}

/// A watch line's object as the watched kind.
struct TypedEvent<Object: Decodable>: Decodable {
    var object: Object
}

/// A merge patch of an object's status.
struct StatusPatch<Status: Encodable>: Encodable {
    var status: Status
}
