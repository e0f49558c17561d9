import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// What went wrong talking to a CA: its problem document when it sent one (RFC 8555 § 6.7).
public struct ACMEError: Error, Sendable, CustomStringConvertible {
    public var type: String?
    public var detail: String
    public var status: Int?

    public var description: String {
        var text = detail
        if let type { text += " (\(type.replacingOccurrences(of: "urn:ietf:params:acme:error:", with: "")))" }
        if let status { text += ", HTTP \(status)" }
        return text
    }
}

/// An RFC 8555 client: account, order, authorizations and challenges, finalization, download. It only knows the
/// protocol; which challenge answers how is the caller's (`respond`).
final class ACMEClient: Sendable {
    struct Directory: Decodable, Sendable {
        var newNonce: String
        var newAccount: String
        var newOrder: String
    }

    struct Order: Decodable, Sendable {
        var status: String
        var authorizations: [String]
        var finalize: String
        var certificate: String?
        var error: Problem?
    }

    struct Authorization: Decodable, Sendable {
        struct Identifier: Decodable, Sendable { var type: String; var value: String }
        struct Challenge: Decodable, Sendable {
            var type: String
            var url: String
            var token: String?
            var status: String
            var error: Problem?
        }
        var status: String
        var identifier: Identifier
        var challenges: [Challenge]
    }

    struct Problem: Decodable, Sendable {
        var type: String?
        var detail: String?
    }

    private let http: HTTPClient
    let directoryURL: String
    private let nonces = NonceBox()

    /// `trust`: PEM files of CAs to trust for the ACME server's own HTTPS endpoint, besides the system's.
    init(directoryURL: String, trust: [String]) throws {
        var configuration = HTTPClient.Configuration()
        if !trust.isEmpty {
            var tls = TLSConfiguration.makeClientConfiguration()
            var roots: [NIOSSLCertificate] = []
            for file in trust { roots += try NIOSSLCertificate.fromPEMFile(file) }
            tls.additionalTrustRoots = [.certificates(roots)]
            configuration.tlsConfiguration = tls
        }
        configuration.redirectConfiguration = .disallow
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.directoryURL = directoryURL
    }

    func shutdown() async { try? await http.shutdown() }

    func directory() async throws -> Directory {
        let (body, _, _) = try await get(directoryURL)
        return try JSONDecoder().decode(Directory.self, from: body)
    }

    /// The account's URL (`kid`), creating the account when the key has none.
    func account(_ key: AccountKey, directory: Directory, email: String?) async throws -> String {
        var payload: [String: Any] = ["termsOfServiceAgreed": true]
        if let email, !email.isEmpty { payload["contact"] = ["mailto:\(email)"] }
        let (_, headers, _) = try await post(directory.newAccount, payload: payload, key: key, kid: nil, directory: directory)
        guard let location = headers.first(name: "location") else {
            throw ACMEError(type: nil, detail: "the CA created the account but sent no Location", status: nil)
        }
        return location
    }

    func newOrder(_ domains: [String], key: AccountKey, kid: String, directory: Directory) async throws -> (Order, String) {
        let payload: [String: Any] = ["identifiers": domains.map { ["type": "dns", "value": $0] }]
        let (body, headers, _) = try await post(directory.newOrder, payload: payload, key: key, kid: kid, directory: directory)
        guard let location = headers.first(name: "location") else {
            throw ACMEError(type: nil, detail: "the CA created the order but sent no Location", status: nil)
        }
        return (try JSONDecoder().decode(Order.self, from: body), location)
    }

    func authorization(_ url: String, key: AccountKey, kid: String, directory: Directory) async throws -> Authorization {
        let (body, _, _) = try await post(url, payload: nil, key: key, kid: kid, directory: directory)
        return try JSONDecoder().decode(Authorization.self, from: body)
    }

    /// Tells the CA the challenge is ready to be checked.
    func respond(to challenge: String, key: AccountKey, kid: String, directory: Directory) async throws {
        _ = try await post(challenge, payload: [String: Any](), key: key, kid: kid, directory: directory)
    }

    func order(_ url: String, key: AccountKey, kid: String, directory: Directory) async throws -> Order {
        let (body, _, _) = try await post(url, payload: nil, key: key, kid: kid, directory: directory)
        return try JSONDecoder().decode(Order.self, from: body)
    }

    func finalize(_ url: String, csr: [UInt8], key: AccountKey, kid: String, directory: Directory) async throws -> Order {
        let (body, _, _) = try await post(url, payload: ["csr": Base64URL.encode(csr)], key: key, kid: kid, directory: directory)
        return try JSONDecoder().decode(Order.self, from: body)
    }

    func download(_ url: String, key: AccountKey, kid: String, directory: Directory) async throws -> String {
        let (body, _, _) = try await post(url, payload: nil, key: key, kid: kid, directory: directory)
        return String(decoding: body, as: UTF8.self)
    }

    // MARK: - HTTP

    private func get(_ url: String) async throws -> (Data, HTTPHeaders, Int) {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        return try await send(request)
    }

    private func freshNonce(_ directory: Directory) async throws -> String {
        if let nonce = nonces.take() { return nonce }
        var request = HTTPClientRequest(url: directory.newNonce)
        request.method = .HEAD
        let (_, headers, _) = try await send(request)
        guard let nonce = headers.first(name: "replay-nonce") else {
            throw ACMEError(type: nil, detail: "the CA sent no Replay-Nonce", status: nil)
        }
        return nonce
    }

    /// A signed POST (`payload` nil: POST-as-GET); a `badNonce` answer is retried with a fresh nonce, twice at most.
    private func post(
        _ url: String, payload: Any?, key: AccountKey, kid: String?, directory: Directory
    ) async throws -> (Data, HTTPHeaders, Int) {
        let data = try payload.map { try JSONSerialization.data(withJSONObject: $0) }
        var attempt = 0
        while true {
            attempt += 1
            let nonce = try await freshNonce(directory)
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/jose+json")
            request.body = .bytes(ByteBuffer(data: try key.sign(payload: data, url: url, nonce: nonce, kid: kid)))
            do {
                return try await send(request)
            } catch let error as ACMEError where error.type?.hasSuffix(":badNonce") == true && attempt < 3 {
                continue
            }
        }
    }

    private func send(_ request: HTTPClientRequest) async throws -> (Data, HTTPHeaders, Int) {
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = Data(buffer: try await response.body.collect(upTo: 4 << 20))
        if let nonce = response.headers.first(name: "replay-nonce") { nonces.put(nonce) }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let problem = try? JSONDecoder().decode(Problem.self, from: body)
            throw ACMEError(
                type: problem?.type, detail: problem?.detail ?? "\(request.method) \(request.url) answered \(status)",
                status: status)
        }
        return (body, response.headers, status)
    }
}

/// The nonces the CA handed out with its last answers, for the next requests.
private final class NonceBox: @unchecked Sendable {
    private let lock = NSLock()
    private var nonces: [String] = []

    func take() -> String? {
        lock.lock()
        defer { lock.unlock() }
        return nonces.popLast()
    }

    func put(_ nonce: String) {
        lock.lock()
        defer { lock.unlock() }
        nonces.append(nonce)
        if nonces.count > 16 { nonces.removeFirst() }
    }
}
