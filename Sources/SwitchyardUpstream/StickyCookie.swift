/// Sticky sessions by cookie (`loadBalancer.sticky.cookie`, `weighted.sticky.cookie`): a client that carries the
/// cookie goes back to the server (or child service) named in it while that one is healthy. The cookie's value is
/// derived from the server's URL (the child's name), so it stays valid across table swaps and restarts.
public struct StickyCookieSettings: Sendable, Hashable {
    public var name: String
    /// `; Path=/; HttpOnly; ...`, appended to `name=value` in Set-Cookie.
    public let attributes: String
    /// The cookie value of each target (server or child service), by index.
    public let values: [String]

    public init(
        name: String?, serviceName: String, keys: [String], secure: Bool, httpOnly: Bool, sameSite: String?,
        maxAge: Int, path: String?, domain: String?
    ) {
        self.name = name.flatMap { $0.isEmpty ? nil : $0 } ?? "_" + String(Self.hexDigest(serviceName).prefix(5))
        var attributes = "; Path=\(path.flatMap { $0.isEmpty ? nil : $0 } ?? "/")"
        if let domain, !domain.isEmpty { attributes += "; Domain=\(domain)" }
        if maxAge > 0 { attributes += "; Max-Age=\(maxAge)" } else if maxAge < 0 { attributes += "; Max-Age=0" }
        if httpOnly { attributes += "; HttpOnly" }
        if secure { attributes += "; Secure" }
        switch sameSite?.lowercased() {
        case "none": attributes += "; SameSite=None"
        case "lax": attributes += "; SameSite=Lax"
        case "strict": attributes += "; SameSite=Strict"
        default: break
        }
        self.attributes = attributes
        self.values = keys.map { String(Self.hexDigest($0).prefix(16)) }
    }

    /// The target index a request's `Cookie` headers name, nil when none does.
    public func serverIndex(cookieHeaders: [String]) -> Int? {
        for header in cookieHeaders {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.hasPrefix(name), trimmed.dropFirst(name.count).first == "=" else { continue }
                let value = trimmed.dropFirst(name.count + 1)
                if let index = values.firstIndex(where: { $0 == value }) { return index }
            }
        }
        return nil
    }

    public func setCookie(for index: Int) -> String {
        "\(name)=\(values[index])\(attributes)"
    }

    /// FNV-1a over the text, four rounds with different seeds: a stable 64-character hex digest (not a secret).
    static func hexDigest(_ text: String) -> String {
        var digest = ""
        for seed: UInt64 in [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4, 0x9ce4_8422_2325_cbf2, 0x2325_cbf2_9ce4_8422] {
            var hash = seed
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            let hex = String(hash, radix: 16)
            digest += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return digest
    }
}
