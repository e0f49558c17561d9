import Foundation
import NIOHTTP1
import SwitchyardConfig
import Testing

@testable import SwitchyardMiddleware

@Suite struct BasicAuthTests {
    // "secret" hashed by `htpasswd`-compatible tools: bcrypt (cost 5), `openssl passwd -apr1`, SHA1, `openssl passwd -1`.
    static let bcrypt = "$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"
    static let apr1 = "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/"
    static let sha1 = "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="
    static let md5crypt = "$1$abcdefgh$cHJi5PXp/ki/ktXzqlk6I1"

    @Test(arguments: [bcrypt, apr1, sha1, md5crypt, "$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"])
    func htpasswdFormats(_ text: String) throws {
        let hash = try #require(PasswordHash(text))
        #expect(hash.verify("secret"))
        #expect(!hash.verify("Secret"))
        #expect(!hash.verify(""))
    }

    @Test func apr1MatchesApache() {
        #expect(PasswordHash.md5Crypt("secret", salt: "abcdefgh", magic: "$apr1$") == Self.apr1)
        #expect(PasswordHash.md5Crypt("secret", salt: "abcdefgh", magic: "$1$") == Self.md5crypt)
    }

    @Test func unknownFormatsAreRejected() {
        #expect(PasswordHash("plain") == nil)
        #expect(PasswordHash("$9$x") == nil)
    }

    static func authorize(_ middleware: any HTTPMiddleware, _ credentials: String?) throws -> (MiddlewareAction, HTTPRequestHead) {
        var headers = HTTPHeaders([("Host", "a.test")])
        if let credentials {
            headers.add(name: "Authorization", value: "Basic " + Data(credentials.utf8).base64EncodedString())
        }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
        let action = middleware.handleRequest(&head, context: Run.context)
        if case .later(let decision) = action {
            let decided = try decision.wait()
            return (decided.action, decided.head)
        }
        return (action, head)
    }

    @Test func checksUsersAndRemembersVerifiedCredentials() throws {
        let middleware = try Run.middleware(
            "basicAuth: {users: ['alice:\(Self.bcrypt)', 'bob:\(Self.apr1)'], headerField: X-User, removeHeader: true}")
        for (credentials, user) in [("alice:secret", "alice"), ("bob:secret", "bob")] {
            let (action, head) = try Self.authorize(middleware, credentials)
            guard case .proceed = action else { Issue.record("\(credentials) should pass"); continue }
            #expect(head.headers["X-User"] == [user])
            #expect(!head.headers.contains(name: "authorization"))
        }
        // bcrypt is verified off the loop once, then remembered.
        var head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/",
            headers: HTTPHeaders([("Authorization", "Basic " + Data("alice:secret".utf8).base64EncodedString())]))
        guard case .proceed = middleware.handleRequest(&head, context: Run.context) else {
            Issue.record("remembered credentials pass at once"); return
        }
        for credentials in ["alice:wrong", "carol:secret", "alice", nil] as [String?] {
            let (action, _) = try Self.authorize(middleware, credentials)
            guard case .respond(let status, let headers, _) = action else {
                Issue.record("\(credentials ?? "no credentials") should be refused"); continue
            }
            #expect(status == .unauthorized)
            #expect(headers["WWW-Authenticate"] == ["Basic realm=\"traefik\""])
        }
    }

    @Test func readsAUsersFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sy-users-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "# users\n\ncarol:\(Self.sha1)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let middleware = try Run.middleware("basicAuth: {usersFile: '\(path)', realm: staff}")
        guard case .proceed = try Self.authorize(middleware, "carol:secret").0 else { Issue.record("carol passes"); return }
        guard case .respond(_, let headers, _) = try Self.authorize(middleware, nil).0 else { Issue.record("refused"); return }
        #expect(headers["WWW-Authenticate"] == ["Basic realm=\"staff\""])
        try "carol:plaintext\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Run.failure("basicAuth: {usersFile: '\(path)'}")?.contains("\(path):1: the hash of 'carol'") == true)
    }
}

@Suite struct DigestAuthTests {
    static let ha1 = DigestAuth.md5Hex("alice:traefik:secret")

    static func authorize(_ middleware: DigestAuth, password: String, nonce: String? = nil, uri: String = "/x") -> MiddlewareAction {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders([("Host", "a")]))
        let nonce = nonce ?? middleware.makeNonce()
        let ha1 = DigestAuth.md5Hex("alice:traefik:\(password)")
        let ha2 = DigestAuth.md5Hex("GET:\(uri)")
        let response = DigestAuth.md5Hex("\(ha1):\(nonce):00000001:abc:auth:\(ha2)")
        head.headers.add(
            name: "Authorization",
            value: "Digest username=\"alice\", realm=\"traefik\", nonce=\"\(nonce)\", uri=\"\(uri)\", qop=auth, nc=00000001, cnonce=\"abc\", response=\"\(response)\"")
        return middleware.handleRequest(&head, context: Run.context)
    }

    @Test func fullHandshake() throws {
        let middleware = try #require(
            try Run.middleware("digestAuth: {users: ['alice:traefik:\(Self.ha1)', 'bob:other:\(Self.ha1)']}") as? DigestAuth)
        #expect(middleware.users.keys.sorted() == ["alice"], "users of another realm are not loaded")
        var bare = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/x", headers: HTTPHeaders([("Host", "a")]))
        guard case .respond(let status, let headers, _) = middleware.handleRequest(&bare, context: Run.context) else {
            Issue.record("no credentials: a challenge"); return
        }
        #expect(status == .unauthorized)
        let challenge = try #require(headers["WWW-Authenticate"].first)
        #expect(challenge.hasPrefix("Digest realm=\"traefik\", nonce=\""))
        #expect(challenge.contains("qop=\"auth\""))
        guard case .proceed = Self.authorize(middleware, password: "secret") else { Issue.record("accepted"); return }
        guard case .respond = Self.authorize(middleware, password: "wrong") else { Issue.record("refused"); return }
        let stale = middleware.makeNonce(at: Date().timeIntervalSince1970 - 600)
        guard case .respond = Self.authorize(middleware, password: "secret", nonce: stale) else { Issue.record("stale"); return }
        guard case .respond = Self.authorize(middleware, password: "secret", nonce: "1-forged") else { Issue.record("forged"); return }
    }
}
