import Crypto
import Foundation
import NIOSSL
import SwitchyardConfig
import SwiftASN1
import X509

/// A certificate the proxy serves: its chain and key, and what the API shows of it.
public struct ServingCertificate: Sendable {
    public let chain: [NIOSSLCertificate]
    public let key: NIOSSLPrivateKey
    /// DNS names it is valid for, lowercased (its SANs, else its subject's common name).
    public let names: [String]
    public let subject: String
    public let issuer: String
    public let notBefore: Date
    public let notAfter: Date
    /// The file it was read from, or `inline`, or `generated`.
    public let source: String
    /// The serial number, in hexadecimal.
    public let serial: String

    /// Reads a certificate chain and its key, each given as a path or as PEM content (Traefik's `FileOrContent`).
    public init(certificate: String, key: String, source: String? = nil) throws(CertificateError) {
        let certificatePEM = try Self.content(of: certificate, what: "certificate")
        let keyPEM = try Self.content(of: key, what: "key")
        let label = source ?? (Self.isPEM(certificate) ? "inline" : certificate)
        try self.init(certificatePEM: certificatePEM, keyPEM: keyPEM, source: label)
    }

    init(certificatePEM: String, keyPEM: String, source: String) throws(CertificateError) {
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        } catch {
            throw CertificateError("the certificate of \(source) is not PEM: \(error)")
        }
        guard !chain.isEmpty else { throw CertificateError("\(source) holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        } catch {
            throw CertificateError("the private key of \(source) is not a PEM key: \(error)")
        }
        let leaf: Certificate
        do {
            let first = try PEMDocument.parseMultiple(pemString: certificatePEM).first { $0.discriminator == "CERTIFICATE" }
            guard let first else { throw CertificateError("\(source) holds no certificate") }
            leaf = try Certificate(pemDocument: first)
        } catch let error as CertificateError {
            throw error
        } catch {
            throw CertificateError("the certificate of \(source) cannot be read: \(error)")
        }
        var names: [String] = []
        if let alternatives = try? leaf.extensions.subjectAlternativeNames {
            for name in alternatives {
                if case .dnsName(let dns) = name { names.append(dns.lowercased()) }
                if case .ipAddress(let bytes) = name { names.append(IPNetwork.text(of: Array(bytes.bytes))) }
            }
        }
        if names.isEmpty, let commonName = Self.commonName(of: leaf.subject) { names.append(commonName.lowercased()) }
        guard Self.keyMatches(leaf, keyPEM: keyPEM) else {
            throw CertificateError("the private key of \(source) does not belong to its certificate")
        }
        self.names = names
        self.subject = leaf.subject.description
        self.issuer = leaf.issuer.description
        self.notBefore = leaf.notValidBefore
        self.notAfter = leaf.notValidAfter
        self.source = source
        self.serial = leaf.serialNumber.bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// A self-signed certificate for when nothing else fits, as Traefik's "TRAEFIK DEFAULT CERT".
    public static func generatedDefault() -> ServingCertificate {
        generated.value
    }

    private static let generated = GeneratedOnce()

    private final class GeneratedOnce: Sendable {
        let value: ServingCertificate

        init() {
            let key = P256.Signing.PrivateKey()
            // The values below are fixed and valid: building the certificate cannot fail.
            let name = try! DistinguishedName { CommonName("SWITCHYARD DEFAULT CERT") }
            let now = Date()
            let certificate = try! Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now - 3600, notValidAfter: now + 365 * 86_400, issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try! Certificate.Extensions {
                    SubjectAlternativeNames([.dnsName("switchyard.default")])
                },
                issuerPrivateKey: .init(key))
            let pem = try! certificate.serializeAsPEM().pemString
            value = try! ServingCertificate(certificatePEM: pem, keyPEM: key.pemRepresentation, source: "generated")
        }
    }

    static func commonName(of name: DistinguishedName) -> String? {
        for relative in name {
            for attribute in relative where attribute.type == ASN1ObjectIdentifier.RDNAttributeType.commonName {
                return String(attribute.value) ?? attribute.value.description
            }
        }
        return nil
    }

    static func isPEM(_ value: String) -> Bool { value.contains("-----BEGIN") }

    public static func content(of value: String, what: String) throws(CertificateError) -> String {
        if isPEM(value) { return value }
        guard let data = FileManager.default.contents(atPath: value) else {
            throw CertificateError("cannot read the \(what) file \(value)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Whether the key's public half is the certificate's.
    static func keyMatches(_ certificate: Certificate, keyPEM: String) -> Bool {
        guard let key = try? Certificate.PrivateKey(pemEncoded: keyPEM) else { return true }  // a type X509 cannot read
        return key.publicKey == certificate.publicKey
    }
}

public struct CertificateError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The certificates of the default store, chosen by the name the client asks for (SNI): an exact name first, then
/// a wildcard for one label (`*.example.com` for `a.example.com`), else the store's default certificate.
public struct CertificateStore: Sendable {
    public let certificates: [ServingCertificate]
    public let defaultCertificate: ServingCertificate
    private let exact: [String: Int]
    private let wildcard: [String: Int]

    public init(certificates: [ServingCertificate], defaultCertificate: ServingCertificate? = nil) {
        self.certificates = certificates
        self.defaultCertificate = defaultCertificate ?? ServingCertificate.generatedDefault()
        var exact: [String: Int] = [:]
        var wildcard: [String: Int] = [:]
        for (index, certificate) in certificates.enumerated() {
            for name in certificate.names {
                if name.hasPrefix("*.") {
                    let parent = String(name.dropFirst(2))
                    if wildcard[parent] == nil { wildcard[parent] = index }
                } else if exact[name] == nil {
                    exact[name] = index
                }
            }
        }
        self.exact = exact
        self.wildcard = wildcard
    }

    /// The certificate for `serverName`, or nil when no certificate names it (the default then applies, unless
    /// `sniStrict`).
    public func certificate(for serverName: String?) -> ServingCertificate? {
        guard var name = serverName?.lowercased(), !name.isEmpty else { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        if let index = exact[name] { return certificates[index] }
        if let dot = name.firstIndex(of: "."), let index = wildcard[String(name[name.index(after: dot)...])] {
            return certificates[index]
        }
        return nil
    }
}
