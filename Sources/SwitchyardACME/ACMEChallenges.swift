import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOSSL
import SwiftASN1
import X509

/// The answers to the challenges a CA is checking right now: HTTP-01 key authorizations by token (served under
/// `/.well-known/acme-challenge/` on the HTTP challenge's entry point) and TLS-ALPN-01 certificates by domain
/// (served to handshakes that offer `acme-tls/1`). Shared by the resolvers and the data plane.
public final class ACMEChallenges: Sendable {
    private let http = NIOLockedValueBox<[String: String]>([:])
    private let tls = NIOLockedValueBox<[String: NIOSSLContext]>([:])

    public init() {}

    /// The key authorization for an HTTP-01 token.
    public func keyAuthorization(token: String) -> String? {
        http.withLockedValue { $0[token] }
    }

    /// The TLS-ALPN-01 context for a domain the CA is checking.
    public func tlsALPNContext(for domain: String) -> NIOSSLContext? {
        tls.withLockedValue { $0[domain.lowercased()] }
    }

    func publishHTTP(token: String, keyAuthorization: String) {
        http.withLockedValue { $0[token] = keyAuthorization }
    }

    func withdrawHTTP(token: String) {
        _ = http.withLockedValue { $0.removeValue(forKey: token) }
    }

    /// RFC 8737: a self-signed certificate for the domain carrying the SHA-256 of the key authorization in a
    /// critical acmeIdentifier extension, offered only with ALPN `acme-tls/1`.
    func publishTLSALPN(domain: String, keyAuthorization: String) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(domain) }
        var digest = DER.Serializer()
        try digest.serialize(ASN1OctetString(contentBytes: ArraySlice(SHA256.hash(data: Data(keyAuthorization.utf8)))))
        let identifier = Certificate.Extension(oid: [1, 3, 6, 1, 5, 5, 7, 1, 31], critical: true, value: digest.serializedBytes[...])
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400, issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.dnsName(domain)])
                identifier
            },
            issuerPrivateKey: .init(key))
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(certificate.serializeAsPEM().pemString.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)))
        configuration.applicationProtocols = ["acme-tls/1"]
        let context = try NIOSSLContext(configuration: configuration)
        tls.withLockedValue { $0[domain.lowercased()] = context }
    }

    func withdrawTLSALPN(domain: String) {
        _ = tls.withLockedValue { $0.removeValue(forKey: domain.lowercased()) }
    }
}
