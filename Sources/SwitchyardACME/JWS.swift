import Crypto
import Foundation

/// The account key of an ACME account and the JSON Web Signatures made with it (RFC 7515, ES256), as RFC 8555
/// requires for every request.
struct AccountKey: Sendable {
    let key: P256.Signing.PrivateKey

    init(key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) {
        self.key = key
    }

    init(pem: String) throws {
        key = try P256.Signing.PrivateKey(pemRepresentation: pem)
    }

    var pem: String { key.pemRepresentation }

    /// The public key as a JWK, members in the order RFC 7638 sorts them.
    var jwk: [(String, String)] {
        let raw = key.publicKey.rawRepresentation  // x || y
        return [
            ("crv", "P-256"), ("kty", "EC"),
            ("x", Base64URL.encode(raw.prefix(32))), ("y", Base64URL.encode(raw.suffix(32))),
        ]
    }

    var jwkJSON: String {
        "{" + jwk.map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
    }

    /// RFC 7638 thumbprint, which key authorizations end with.
    var thumbprint: String {
        Base64URL.encode(Data(SHA256.hash(data: Data(jwkJSON.utf8))))
    }

    /// `token.thumbprint` (RFC 8555 § 8.1).
    func keyAuthorization(for token: String) -> String { "\(token).\(thumbprint)" }

    /// A flattened JWS of `payload` (nil: POST-as-GET, an empty payload) for `url`, identified by the account URL
    /// (`kid`) or, before the account exists, by the key itself.
    func sign(payload: Data?, url: String, nonce: String, kid: String?) throws -> Data {
        var protected = "{\"alg\":\"ES256\",\"nonce\":\(Self.quoted(nonce)),\"url\":\(Self.quoted(url)),"
        if let kid {
            protected += "\"kid\":\(Self.quoted(kid))}"
        } else {
            protected += "\"jwk\":\(jwkJSON)}"
        }
        let protected64 = Base64URL.encode(Data(protected.utf8))
        let payload64 = payload.map { Base64URL.encode($0) } ?? ""
        let signature = try key.signature(for: Data("\(protected64).\(payload64)".utf8))
        let body = "{\"protected\":\"\(protected64)\",\"payload\":\"\(payload64)\",\"signature\":\"\(Base64URL.encode(signature.rawRepresentation))\"}"
        return Data(body.utf8)
    }

    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}

enum Base64URL {
    static func encode<D: DataProtocol>(_ data: D) -> String {
        Data(data).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
