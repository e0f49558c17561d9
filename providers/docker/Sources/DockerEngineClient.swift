import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOSSL
import SwitchyardConfig

/// A read-only client of the Docker Engine API, over the unix socket or TCP (with TLS for a remote Engine or a socket
/// proxy). It only ever sends GET requests: the provider never changes anything in the Engine.
final class DockerEngineClient: Sendable {
    /// The newest API version this client speaks; an older Engine is spoken to in its own version.
    static let newestVersion = "1.45"
    static let oldestVersion = "1.24"

    struct EngineError: Error, CustomStringConvertible {
        var description: String
    }

    /// One line of `GET /events`.
    struct Event: Decodable {
        var `Type`: String?
        var Action: String?
        var id: String?
    }

    private let client: HTTPClient
    private let socketPath: String?
    private let base: String
    private let timeout: TimeAmount?
    let endpoint: String

    init(endpoint: String, tls: DockerProviderOptions.TLS?, timeout: Duration?) throws(ConfigurationIssue) {
        func fail(_ message: String) -> ConfigurationIssue {
            ConfigurationIssue(at: SourceLocation(source: "static configuration"), keyPath: "providers.docker.endpoint", message: message)
        }
        self.endpoint = endpoint
        self.timeout = timeout.map { .nanoseconds(Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000) }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        // An Engine that is away must be noticed at once (the last good view then stays with an error), not after
        // connection attempts retried until the request's deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        if endpoint.hasPrefix("unix://") {
            let path = String(endpoint.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw fail("'\(endpoint)': a unix endpoint needs an absolute path, e.g. unix:///var/run/docker.sock") }
            socketPath = path
            base = ""
        } else if endpoint.hasPrefix("tcp://") || endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") {
            socketPath = nil
            let hostPort = endpoint.split(separator: "://", maxSplits: 1).last.map(String.init) ?? ""
            guard !hostPort.isEmpty, !hostPort.contains("/") || hostPort.hasSuffix("/") else {
                throw fail("'\(endpoint)': expected tcp://HOST:PORT")
            }
            let useTLS = tls != nil || endpoint.hasPrefix("https://")
            base = (useTLS ? "https://" : "http://") + hostPort.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        } else {
            throw fail("'\(endpoint)': use unix:///path/to/docker.sock or tcp://HOST:PORT")
        }
        if let tls {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = tls.ca { tlsConfiguration.trustRoots = .file(ca) }
                switch (tls.cert, tls.key) {
                case let (cert?, key?):
                    tlsConfiguration.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    tlsConfiguration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                case (nil, nil): break
                default:
                    throw ConfigurationIssue(
                        at: SourceLocation(source: "static configuration"), keyPath: "providers.docker.tls",
                        message: "set both tls.cert and tls.key, or neither")
                }
            } catch let issue as ConfigurationIssue {
                throw issue
            } catch {
                throw ConfigurationIssue(
                    at: SourceLocation(source: "static configuration"), keyPath: "providers.docker.tls",
                    message: "cannot read the TLS files: \(error)")
            }
            configuration.tlsConfiguration = tlsConfiguration
        }
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// A GET of `path`. Over the unix socket the Host header names no socket path (the Engine rejects that).
    private func request(_ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path))
        if socketPath != nil { request.headers.replaceOrAdd(name: "Host", value: "docker") }
        return request
    }

    private func url(_ path: String) -> String {
        if let socketPath {
            return URL(httpURLWithSocketPath: socketPath, uri: path)?.absoluteString ?? "http+unix://invalid\(path)"
        }
        return base + path
    }

    /// GETs `path` and returns the body of a 200 answer.
    func get(_ path: String, limit: Int = 64 << 20) async throws -> Data {
        let response = try await client.execute(request(path), deadline: timeout.map { .now() + $0 } ?? .distantFuture)
        let body = try await response.body.collect(upTo: limit)
        guard response.status == .ok else {
            let message = Self.message(in: Data(buffer: body)) ?? "HTTP \(response.status.code)"
            throw EngineError(description: "GET \(path): \(message)")
        }
        return Data(buffer: body)
    }

    /// The API version to speak: the Engine's, capped at the newest this client knows.
    func negotiateVersion() async throws -> String {
        struct Version: Decodable { var ApiVersion: String? }
        let version = try JSONDecoder().decode(Version.self, from: try await get("/version"))
        guard let engine = version.ApiVersion else { return Self.oldestVersion }
        return Self.compare(engine, Self.newestVersion) < 0 ? engine : Self.newestVersion
    }

    static func compare(_ a: String, _ b: String) -> Int {
        let left = a.split(separator: ".").map { Int($0) ?? 0 }, right = b.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? left[index] : 0, r = index < right.count ? right[index] : 0
            if l != r { return l < r ? -1 : 1 }
        }
        return 0
    }

    /// Follows `GET /events` for containers, calling `onEvent` for each, until the stream ends or fails.
    func followEvents(version: String, onConnected: @Sendable () async -> Void, onEvent: @Sendable (Event) async -> Void) async throws {
        let filters = #"{"type":["container"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let response = try await client.execute(request("/v\(version)/events?filters=\(filters)"), deadline: .distantFuture)
        guard response.status == .ok else {
            throw EngineError(description: "GET /events: HTTP \(response.status.code)")
        }
        await onConnected()
        var pending = Data()
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            guard pending.count < 1 << 20 else { throw EngineError(description: "an event line longer than 1 MiB") }
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[pending.index(after: newline)...])
                if let event = try? JSONDecoder().decode(Event.self, from: line) { await onEvent(event) }
            }
        }
        throw EngineError(description: "the event stream ended")
    }

    private static func message(in body: Data) -> String? {
        struct Message: Decodable { var message: String? }
        return (try? JSONDecoder().decode(Message.self, from: body))?.message
    }
}
