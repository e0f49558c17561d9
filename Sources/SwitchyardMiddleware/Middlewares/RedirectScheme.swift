import NIOHTTP1
import SwitchyardConfig

/// `redirectScheme`: sends the client to the same URL with another scheme (and port). A request already on that
/// scheme passes. Port 80 with http and 443 with https are left out of the URL.
struct RedirectScheme: HTTPMiddleware {
    let scheme: String
    let port: String?
    let permanent: Bool

    init(_ options: RedirectSchemeMiddleware) throws(MiddlewareConfigurationError) {
        guard let scheme = options.scheme?.lowercased(), !scheme.isEmpty else {
            throw MiddlewareConfigurationError("redirectScheme.scheme: the scheme is empty")
        }
        guard scheme.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else { throw MiddlewareConfigurationError("redirectScheme.scheme: '\(scheme)' is not a URL scheme") }
        if let port = options.port, !port.isEmpty {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw MiddlewareConfigurationError("redirectScheme.port: '\(port)' is not a port number")
            }
        }
        self.scheme = scheme
        let port = options.port.flatMap { $0.isEmpty ? nil : $0 }
        self.port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443") ? nil : port
        self.permanent = options.permanent ?? false
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        guard context.scheme != scheme else { return .proceed }
        var host = Substring(head.headers.first(name: "host") ?? "")
        // Drop the client's port: the redirect names the target port, or none for the scheme's default.
        if host.hasPrefix("[") {
            if let close = host.firstIndex(of: "]") { host = host[...close] }
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        let target = RequestTarget(head.uri)
        let location = "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(target.uri)"
        return Redirect.respond(to: location, permanent: permanent, method: head.method)
    }
}
