import Foundation
import NIOHTTP1
import SwiftASN1
import SwitchyardConfig
import X509

/// `passTLSClientCert`: tells the server about the client's TLS certificate, as Traefik does:
/// `X-Forwarded-Tls-Client-Cert` (`pem`: the certificate's base64 without PEM delimiters, URL-escaped) and
/// `X-Forwarded-Tls-Client-Cert-Info` (`info`: the chosen fields, `Subject="C=..,CN=.."`;`Issuer=".."`;`NB="unix"`;
/// `NA="unix"`;`SAN="..."`, URL-escaped). What the client sent under those names is always removed.
struct PassTLSClientCert: HTTPMiddleware {
    static let certificateHeader = "X-Forwarded-Tls-Client-Cert"
    static let infoHeader = "X-Forwarded-Tls-Client-Cert-Info"

    let pem: Bool
    let info: TLSClientCertificateInfo?

    init(_ options: PassTLSClientCertMiddleware) throws(MiddlewareConfigurationError) {
        pem = options.pem ?? false
        info = options.info
        guard pem || info != nil else {
            throw MiddlewareConfigurationError("passTLSClientCert: set pem or info, or the middleware does nothing")
        }
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        head.headers.remove(name: Self.certificateHeader)
        head.headers.remove(name: Self.infoHeader)
        guard let der = context.clientCertificate else { return .proceed }
        if pem {
            head.headers.add(name: Self.certificateHeader, value: Self.escape(Data(der).base64EncodedString()))
        }
        if let info, let certificate = try? Certificate(derEncoded: der) {
            let text = Self.describe(certificate, info)
            if !text.isEmpty { head.headers.add(name: Self.infoHeader, value: Self.escape(text)) }
        }
        return .proceed
    }

    /// Go's `url.QueryEscape`.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.~")
        let escaped = text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        return escaped.replacingOccurrences(of: "%20", with: "+")
    }

    static func describe(_ certificate: Certificate, _ info: TLSClientCertificateInfo) -> String {
        var parts: [String] = []
        if let subject = info.subject {
            let fields = name(certificate.subject, [
                (subject.country, RDNType.countryName, "C"), (subject.province, RDNType.stateOrProvinceName, "ST"),
                (subject.locality, RDNType.localityName, "L"), (subject.organization, RDNType.organizationName, "O"),
                (subject.organizationalUnit, RDNType.organizationalUnitName, "OU"),
                (subject.commonName, RDNType.commonName, "CN"), (subject.serialNumber, serialNumberOID, "SN"),
                (subject.domainComponent, domainComponentOID, "DC"),
            ])
            parts.append("Subject=\"\(fields)\"")
        }
        if let issuer = info.issuer {
            let fields = name(certificate.issuer, [
                (issuer.country, RDNType.countryName, "C"), (issuer.province, RDNType.stateOrProvinceName, "ST"),
                (issuer.locality, RDNType.localityName, "L"), (issuer.organization, RDNType.organizationName, "O"),
                (issuer.commonName, RDNType.commonName, "CN"), (issuer.serialNumber, serialNumberOID, "SN"),
                (issuer.domainComponent, domainComponentOID, "DC"),
            ])
            parts.append("Issuer=\"\(fields)\"")
        }
        if info.serialNumber == true {
            parts.append("SerialNumber=\"\(decimal(certificate.serialNumber.bytes))\"")
        }
        if info.notBefore == true { parts.append("NB=\"\(Int(certificate.notValidBefore.timeIntervalSince1970))\"") }
        if info.notAfter == true { parts.append("NA=\"\(Int(certificate.notValidAfter.timeIntervalSince1970))\"") }
        if info.sans == true, let alternatives = try? certificate.extensions.subjectAlternativeNames {
            var names: [String] = []
            for alternative in alternatives {
                switch alternative {
                case .dnsName(let dns): names.append(dns)
                case .rfc822Name(let mail): names.append(mail)
                case .uniformResourceIdentifier(let uri): names.append(uri)
                case .ipAddress(let bytes): names.append(IPNetwork.text(of: Array(bytes.bytes)))
                default: break
                }
            }
            parts.append("SAN=\"\(names.joined(separator: ","))\"")
        }
        return parts.joined(separator: ";")
    }

    typealias RDNType = ASN1ObjectIdentifier.RDNAttributeType
    static let serialNumberOID: ASN1ObjectIdentifier = [2, 5, 4, 5]
    static let domainComponentOID: ASN1ObjectIdentifier = [0, 9, 2342, 19_200_300, 100, 1, 25]

    /// `C=FR,ST=...`: the wanted attributes of a name, in Traefik's order; several values of one kind joined by commas.
    static func name(_ name: DistinguishedName, _ wanted: [(Bool?, ASN1ObjectIdentifier, String)]) -> String {
        var fields: [String] = []
        for (enabled, oid, label) in wanted where enabled == true {
            var values: [String] = []
            for relative in name {
                for attribute in relative where attribute.type == oid {
                    values.append(String(attribute.value) ?? attribute.value.description)
                }
            }
            if !values.isEmpty { fields.append("\(label)=\(values.joined(separator: ","))") }
        }
        return fields.joined(separator: ",")
    }

    /// A big-endian unsigned number in decimal, as Go prints serial numbers.
    static func decimal(_ bytes: ArraySlice<UInt8>) -> String {
        var digits: [UInt8] = [0]
        for byte in bytes {
            var carry = Int(byte)
            for index in digits.indices {
                let value = Int(digits[index]) * 256 + carry
                digits[index] = UInt8(value % 10)
                carry = value / 10
            }
            while carry > 0 {
                digits.append(UInt8(carry % 10))
                carry /= 10
            }
        }
        while digits.count > 1, digits.last == 0 { digits.removeLast() }
        return String(digits.reversed().map { Character(String($0)) })
    }
}
