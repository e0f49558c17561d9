import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardConfig

/// `basicAuth`: HTTP Basic authentication against htpasswd users. Slow hashes (bcrypt) are checked on a thread pool,
/// never on the event loop; credentials already verified are remembered (as a SHA-256 digest) so a client's next
/// requests pass at once.
final class BasicAuth: HTTPMiddleware {
    let users: [String: PasswordHash]
    let realm: String
    let removeHeader: Bool
    let headerField: String?
    private let verified = NIOLockedValueBox<Set<SHA256Digest>>([])

    static let rememberedCredentials = 4096

    init(_ options: BasicAuthMiddleware) throws(MiddlewareConfigurationError) {
        var entries = (options.users ?? []).enumerated().map { ($1, "basicAuth.users[\($0)]") }
        if let file = options.usersFile, !file.isEmpty { entries += try Htpasswd.lines(ofFile: file) }
        users = try Htpasswd.parse(entries)
        guard !users.isEmpty else { throw MiddlewareConfigurationError("basicAuth: no users (set users or usersFile)") }
        realm = options.realm.flatMap { $0.isEmpty ? nil : $0 } ?? "traefik"
        try validateHeader("WWW-Authenticate", "Basic realm=\"\(realm)\"", option: "basicAuth.realm")
        removeHeader = options.removeHeader ?? false
        headerField = options.headerField.flatMap { $0.isEmpty ? nil : $0 }
        if let headerField { try validateHeader(headerField, "", option: "basicAuth.headerField") }
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        guard let (user, password) = Self.credentials(head), let hash = users[user] else { return unauthorized }
        let key = SHA256.hash(data: Data("\(user):\(password)".utf8))
        if verified.withLockedValue({ $0.contains(key) }) {
            return accepted(&head, user: user, context: context)
        }
        guard hash.isSlow else {
            guard hash.verify(password) else { return unauthorized }
            remember(key)
            return accepted(&head, user: user, context: context)
        }
        let request = head
        let decision = NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { hash.verify(password) }
            .map { matches -> MiddlewareAction.Decision in
                guard matches else { return MiddlewareAction.Decision(self.unauthorized, head: request) }
                self.remember(key)
                var head = request
                let action = self.accepted(&head, user: user, context: context)
                return MiddlewareAction.Decision(action, head: head)
            }
        return .later(decision)
    }

    private func accepted(_ head: inout HTTPRequestHead, user: String, context: MiddlewareContext) -> MiddlewareAction {
        context.scope.username = user
        if removeHeader { head.headers.remove(name: "authorization") }
        if let headerField { head.headers.replaceOrAdd(name: headerField, value: user) }
        return .proceed
    }

    private var unauthorized: MiddlewareAction {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: "Basic realm=\"\(realm)\"")
        return .respond(.unauthorized, headers: headers, body: "401 Unauthorized\n")
    }

    private func remember(_ key: SHA256Digest) {
        verified.withLockedValue { set in
            if set.count >= Self.rememberedCredentials { set.removeAll() }
            set.insert(key)
        }
    }

    /// `Authorization: Basic base64(user:password)`.
    static func credentials(_ head: HTTPRequestHead) -> (String, String)? {
        guard let value = head.headers.first(name: "authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: " ")),
            let decoded = String(data: data, encoding: .utf8), let colon = decoded.firstIndex(of: ":")
        else { return nil }
        return (String(decoded[..<colon]), String(decoded[decoded.index(after: colon)...]))
    }
}
