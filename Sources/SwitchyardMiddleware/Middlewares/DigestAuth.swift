import Crypto
import Foundation
import NIOHTTP1
import SwitchyardConfig

/// `digestAuth`: HTTP Digest authentication (MD5, qop=auth) against htdigest users (`name:realm:HA1`). Nonces are
/// stateless: a timestamp signed with a key of this middleware instance, valid for five minutes.
struct DigestAuth: HTTPMiddleware {
    let users: [String: String]
    let realm: String
    let removeHeader: Bool
    let headerField: String?
    private let key = SymmetricKey(size: .bits256)
    static let nonceLifetime: TimeInterval = 300

    init(_ options: DigestAuthMiddleware) throws(MiddlewareConfigurationError) {
        realm = options.realm.flatMap { $0.isEmpty ? nil : $0 } ?? "traefik"
        try validateHeader("WWW-Authenticate", "Digest realm=\"\(realm)\"", option: "digestAuth.realm")
        var entries = (options.users ?? []).enumerated().map { ($1, "digestAuth.users[\($0)]") }
        if let file = options.usersFile, !file.isEmpty { entries += try Htpasswd.lines(ofFile: file) }
        var users: [String: String] = [:]
        for (text, source) in entries {
            let line = text.trimmingCharacters(in: " ")
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, parts[2].count == 32, parts[2].allSatisfy(\.isHexDigit) else {
                throw MiddlewareConfigurationError("\(source): expected name:realm:md5-hex (htdigest)")
            }
            // Users of another realm cannot sign in here, as with htdigest files shared by several realms.
            if parts[1] == realm { users[String(parts[0])] = parts[2].lowercased() }
        }
        guard !users.isEmpty else {
            throw MiddlewareConfigurationError("digestAuth: no users for the realm '\(realm)' (set users or usersFile)")
        }
        self.users = users
        removeHeader = options.removeHeader ?? false
        headerField = options.headerField.flatMap { $0.isEmpty ? nil : $0 }
        if let headerField { try validateHeader(headerField, "", option: "digestAuth.headerField") }
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        guard let fields = Self.fields(head.headers.first(name: "authorization")), let user = fields["username"],
            let ha1 = users[user], fields["realm"] == realm, let nonce = fields["nonce"], nonceIsValid(nonce),
            let uri = fields["uri"], uri == head.uri, let response = fields["response"]
        else { return challenge() }
        let ha2 = Self.md5Hex("\(head.method.rawValue):\(uri)")
        let expected: String
        if let qop = fields["qop"] {
            guard qop == "auth", let nc = fields["nc"], let cnonce = fields["cnonce"] else { return challenge() }
            expected = Self.md5Hex("\(ha1):\(nonce):\(nc):\(cnonce):\(qop):\(ha2)")
        } else {
            expected = Self.md5Hex("\(ha1):\(nonce):\(ha2)")
        }
        guard Data(expected.utf8) == Data(response.lowercased().utf8) else { return challenge() }
        context.scope.username = user
        if removeHeader { head.headers.remove(name: "authorization") }
        if let headerField { head.headers.replaceOrAdd(name: headerField, value: user) }
        return .proceed
    }

    private func challenge() -> MiddlewareAction {
        var headers = HTTPHeaders()
        headers.add(
            name: "WWW-Authenticate",
            value: "Digest realm=\"\(realm)\", nonce=\"\(makeNonce())\", opaque=\"\(Self.md5Hex(realm))\", algorithm=MD5, qop=\"auth\"")
        return .respond(.unauthorized, headers: headers, body: "401 Unauthorized\n")
    }

    func makeNonce(at time: TimeInterval = Date().timeIntervalSince1970) -> String {
        let stamp = String(Int64(time))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(stamp.utf8), using: key)
        return stamp + "-" + Data(signature).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    func nonceIsValid(_ nonce: String, now: TimeInterval = Date().timeIntervalSince1970) -> Bool {
        guard let dash = nonce.firstIndex(of: "-"), let stamp = TimeInterval(nonce[..<dash]),
            now - stamp >= 0, now - stamp < Self.nonceLifetime
        else { return false }
        return makeNonce(at: stamp) == nonce
    }

    static func md5Hex(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// `Digest username="a", realm="b", nc=00000001` → its fields.
    static func fields(_ header: String?) -> [String: String]? {
        guard let header, header.lowercased().hasPrefix("digest ") else { return nil }
        var fields: [String: String] = [:]
        var rest = Substring(header.dropFirst(7))
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let name = rest[..<equals].trimmingCharacters(in: " ").lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                guard let close = rest.firstIndex(of: "\"") else { return nil }
                value = String(rest[..<close])
                rest = rest[rest.index(after: close)...]
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: " ")
                rest = rest[end...]
            }
            fields[name] = value
        }
        return fields
    }
}
