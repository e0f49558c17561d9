import NIOSSL

/// TLS client settings for connections the proxy makes (to servers, to a forwardAuth server): the roots to trust,
/// the certificate to present, whether to verify at all.
public enum ClientTLS {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The option at fault (`rootCAs[0]`, `certificates[0]`), relative to the settings' key.
        public var key: String
        public var message: String
        public var description: String { key.isEmpty ? message : "\(key): \(message)" }
    }

    /// A client configuration trusting `roots` (paths or PEM; the system's when none), presenting `certificate`
    /// (certificate and key, paths or PEM) when asked; `rootsKey` and `certificateKey` name the options in errors.
    public static func configuration(
        roots: [String], rootsKey: String, certificate: (certificate: String, key: String)?, certificateKey: String,
        insecureSkipVerify: Bool
    ) throws(Failure) -> NIOSSL.TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if insecureSkipVerify { configuration.certificateVerification = .none }
        if !roots.isEmpty {
            var certificates: [NIOSSLCertificate] = []
            for (index, root) in roots.enumerated() {
                do {
                    let pem = try ServingCertificate.content(of: root, what: "CA")
                    certificates += try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
                } catch {
                    throw Failure(key: "\(rootsKey)[\(index)]", message: "\(error)")
                }
            }
            configuration.trustRoots = .certificates(certificates)
        }
        if let certificate {
            do {
                let loaded = try ServingCertificate(certificate: certificate.certificate, key: certificate.key)
                configuration.certificateChain = loaded.chain.map { .certificate($0) }
                configuration.privateKey = .privateKey(loaded.key)
            } catch {
                throw Failure(key: certificateKey, message: error.description)
            }
        }
        return configuration
    }
}
