import Crypto
import Foundation
import SwitchyardConfig
import SwitchyardStore
import Testing
import X509

@testable import SwitchyardACME

@Suite struct ACMEProtocolTests {
    @Test func signedRequestsVerifyWithTheAccountKey() throws {
        let key = AccountKey()
        let body = try key.sign(payload: Data("{\"a\":1}".utf8), url: "https://ca.test/new-order", nonce: "n1", kid: "https://ca.test/acct/7")
        let json = try JSONSerialization.jsonObject(with: body) as! [String: String]
        func decode(_ text: String) -> Data {
            var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base.count % 4 != 0 { base += "=" }
            return Data(base64Encoded: base)!
        }
        let protected = try JSONSerialization.jsonObject(with: decode(json["protected"]!)) as! [String: String]
        #expect(protected == ["alg": "ES256", "nonce": "n1", "url": "https://ca.test/new-order", "kid": "https://ca.test/acct/7"])
        #expect(String(decoding: decode(json["payload"]!), as: UTF8.self) == "{\"a\":1}")
        let signature = try P256.Signing.ECDSASignature(rawRepresentation: decode(json["signature"]!))
        #expect(key.key.publicKey.isValidSignature(signature, for: Data("\(json["protected"]!).\(json["payload"]!)".utf8)))
        // before the account exists the key itself identifies the request; POST-as-GET has an empty payload
        let first = try key.sign(payload: nil, url: "https://ca.test/new-acct", nonce: "n2", kid: nil)
        let firstJSON = try JSONSerialization.jsonObject(with: first) as! [String: String]
        #expect(firstJSON["payload"] == "")
        #expect(String(decoding: decode(firstJSON["protected"]!), as: UTF8.self).contains("\"jwk\":{\"crv\":\"P-256\",\"kty\":\"EC\""))
    }

    @Test func keyAuthorizationIsTokenDotThumbprint() throws {
        let key = AccountKey()
        let again = try AccountKey(pem: key.pem)
        #expect(key.thumbprint == again.thumbprint)
        #expect(key.keyAuthorization(for: "tok") == "tok.\(key.thumbprint)")
        #expect(!key.thumbprint.contains("=") && !key.thumbprint.contains("+") && !key.thumbprint.contains("/"))
    }

    @Test func signingRequestNamesEveryDomain() throws {
        let (der, keyPEM) = try ACMEManager.signingRequest(["a.test", "b.test"], keyType: .ec256)
        let csr = try CertificateSigningRequest(derEncoded: der)
        #expect(csr.subject.description.contains("a.test"))
        #expect(keyPEM.contains("PRIVATE KEY"))
        let requested = try csr.attributes.extensionRequest?.extensions.subjectAlternativeNames
        #expect(requested?.map { "\($0)" }.joined(separator: ",").contains("b.test") == true)
    }
}

@Suite struct ACMEDomainTests {
    private func configuration(_ yaml: String) throws -> DynamicConfiguration {
        try ConfigNodeDecoder.decode(DynamicConfiguration.self, from: ConfigDocument.parse(yaml, source: "t.yml", format: .yaml))
    }

    @Test func domainsComeFromHostMatchersOrTLSDomains() throws {
        let config = try configuration("""
            http:
              routers:
                a: {rule: "Host(`A.test`) || (Host(`www.a.test`) && PathPrefix(`/x`)) || !Host(`no.test`)", service: s, tls: {certResolver: le}}
                b: {rule: "Host(`b.test`)", service: s, tls: {certResolver: le, domains: [{main: b.test, sans: [c.test]}]}}
                c: {rule: "Host(`plain.test`)", service: s}
                d: {rule: "Host(`ep.test`)", service: s, entryPoints: [websecure]}
                e: {rule: "HostRegexp(`.+`)", service: s, tls: {certResolver: le}}
            """)
        let sets = ACMEManager.domainSets(in: config, entryPointResolvers: ["websecure": "other"], defaultEntryPoints: ["web"])
        #expect(sets["le"] == [["a.test", "www.a.test"], ["b.test", "c.test"]])
        #expect(sets["other"] == [["ep.test"]])
    }
}

@Suite struct StoreTests {
    @Test func accountsAndCertificatesRoundTrip() throws {
        let path = NSTemporaryDirectory() + "switchyard-store-\(UUID().uuidString).db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = SwitchyardStore(path: path)
        #expect(store.problem == nil)
        try store.save(SwitchyardStore.StoredAccount(resolver: "le", caServer: "https://ca", email: "e", keyPEM: "k", url: "u"))
        let certificate = SwitchyardStore.StoredCertificate(
            resolver: "le", domains: ["a.test", "b.test"], certificatePEM: "c", keyPEM: "k", notAfter: Date(timeIntervalSince1970: 2_000_000_000))
        try store.save(certificate)
        let reopened = SwitchyardStore(path: path)
        #expect(try reopened.account(resolver: "le", caServer: "https://ca")?.url == "u")
        #expect(try reopened.certificates() == [certificate])
    }

    @Test func anUnusableFileFallsBackToMemory() throws {
        let store = SwitchyardStore(path: "/proc/no-such-dir/switchyard.db")
        #expect(store.problem?.contains("in memory") == true)
        try store.save(SwitchyardStore.StoredAccount(resolver: "le", caServer: "x", email: "", keyPEM: "k", url: "u"))
        #expect(try store.account(resolver: "le", caServer: "x")?.keyPEM == "k")
    }
}
