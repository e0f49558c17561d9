import CCrypt
import Crypto
import Foundation

/// A password hash from an htpasswd file, in one of the formats Traefik accepts: bcrypt (`$2y$`, `$2b$`, `$2a$`),
/// Apache's MD5 (`$apr1$`), SHA1 (`{SHA}`), and the crypt(3) formats of the system library (`$1$`, `$5$`, `$6$`).
struct PasswordHash: Sendable, Hashable {
    enum Format: Sendable, Hashable {
        case bcrypt
        case apr1
        case sha1
        case crypt
    }

    let format: Format
    let text: String

    init?(_ text: String) {
        if text.hasPrefix("$2a$") || text.hasPrefix("$2b$") || text.hasPrefix("$2y$") {
            format = .bcrypt
        } else if text.hasPrefix("$apr1$") {
            format = .apr1
        } else if text.hasPrefix("{SHA}") {
            format = .sha1
        } else if text.hasPrefix("$1$") || text.hasPrefix("$5$") || text.hasPrefix("$6$") {
            format = .crypt
        } else {
            return nil
        }
        self.text = text
    }

    /// Slow by design (bcrypt, SHA-crypt): verified off the event loop.
    var isSlow: Bool { format == .bcrypt || (format == .crypt && !text.hasPrefix("$1$")) }

    func verify(_ password: String) -> Bool {
        switch format {
        case .sha1:
            let digest = Insecure.SHA1.hash(data: Data(password.utf8))
            return constantTimeEqual("{SHA}" + Data(digest).base64EncodedString(), text)
        case .apr1:
            let parts = text.split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return false }
            return constantTimeEqual(Self.md5Crypt(password, salt: String(parts[2]), magic: "$apr1$"), text)
        case .bcrypt, .crypt:
            return switchyard_crypt_verify(password, text) == 1
        }
    }

    /// The MD5-based crypt of FreeBSD and Apache (`$1$` / `$apr1$`): 1000 rounds of MD5 over password and salt.
    static func md5Crypt(_ password: String, salt rawSalt: String, magic: String) -> String {
        let secret = Array(password.utf8)
        let salt = Array(rawSalt.utf8.prefix(8))
        func md5(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: bytes)) }

        var alternate = md5(secret + salt + secret)
        var context = secret + Array(magic.utf8) + salt
        var remaining = secret.count
        while remaining > 0 {
            context += alternate.prefix(min(16, remaining))
            remaining -= 16
        }
        var bits = secret.count
        while bits > 0 {
            context.append((bits & 1) != 0 ? 0 : (secret.first ?? 0))
            bits >>= 1
        }
        alternate = md5(context)
        for round in 0..<1000 {
            var next: [UInt8] = (round & 1) != 0 ? secret : alternate
            if round % 3 != 0 { next += salt }
            if round % 7 != 0 { next += secret }
            next += (round & 1) != 0 ? alternate : secret
            alternate = md5(next)
        }
        let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var encoded = ""
        func put(_ value: UInt32, _ count: Int) {
            var value = value
            for _ in 0..<count {
                encoded.append(alphabet[Int(value & 0x3F)])
                value >>= 6
            }
        }
        let b = alternate.map(UInt32.init)
        put(b[0] << 16 | b[6] << 8 | b[12], 4)
        put(b[1] << 16 | b[7] << 8 | b[13], 4)
        put(b[2] << 16 | b[8] << 8 | b[14], 4)
        put(b[3] << 16 | b[9] << 8 | b[15], 4)
        put(b[4] << 16 | b[10] << 8 | b[5], 4)
        put(b[11], 2)
        return magic + String(decoding: salt, as: UTF8.self) + "$" + encoded
    }

    private func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// `name:hash` lines, from `users` or a `usersFile`; errors name the entry or the file line.
enum Htpasswd {
    static func parse(_ entries: [(text: String, source: String)]) throws(MiddlewareConfigurationError)
        -> [String: PasswordHash]
    {
        var users: [String: PasswordHash] = [:]
        for (text, source) in entries {
            let line = text.trimmingCharacters(in: " ")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw MiddlewareConfigurationError("\(source): expected name:hash")
            }
            let name = String(line[..<colon])
            let hashText = String(line[line.index(after: colon)...])
            guard let hash = PasswordHash(hashText) else {
                throw MiddlewareConfigurationError(
                    "\(source): the hash of '\(name)' is not bcrypt ($2y$), MD5 ($apr1$) or SHA1 ({SHA})")
            }
            users[name] = hash
        }
        return users
    }

    static func lines(ofFile path: String) throws(MiddlewareConfigurationError) -> [(text: String, source: String)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MiddlewareConfigurationError("usersFile: cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { (String($1).trimmingCharacters(in: "\r"), "\(path):\($0 + 1)") }
    }
}
