import NIOHTTP1
import SwitchyardConfig

/// `headers`: custom request and response headers (an empty value removes the header), the security headers
/// (STS, frame options, nosniff, XSS filter, CSP, referrer and permissions policies), allowed hosts, and CORS with
/// preflight requests answered here (see `Headers+CORS.swift`).
struct Headers: HTTPMiddleware {
    let requestHeaders: [(name: String, value: String)]
    let responseHeaders: [(name: String, value: String)]
    /// Security headers added to every response; STS separately, as it depends on the request being secure.
    let securityHeaders: [(name: String, value: String)]
    let strictTransportSecurity: String?
    let forceSTSHeader: Bool
    let sslProxyHeaders: [(name: String, value: String)]
    let allowedHosts: Set<String>
    let hostsProxyHeaders: [String]
    let cors: CORS?

    init(_ options: HeadersMiddleware) throws(MiddlewareConfigurationError) {
        for (key, set) in [
            ("sslRedirect", options.sslRedirect != nil), ("sslTemporaryRedirect", options.sslTemporaryRedirect != nil),
            ("sslHost", options.sslHost != nil), ("sslForceHost", options.sslForceHost != nil),
        ] where set {
            throw MiddlewareConfigurationError(
                "headers.\(key) was removed in Traefik v3; use the redirectScheme middleware instead")
        }
        requestHeaders = try Self.pairs(options.customRequestHeaders, option: "headers.customRequestHeaders")
        responseHeaders = try Self.pairs(options.customResponseHeaders, option: "headers.customResponseHeaders")
        sslProxyHeaders = try Self.pairs(options.sslProxyHeaders, option: "headers.sslProxyHeaders")
        let development = options.isDevelopment ?? false

        var security: [(String, String)] = []
        if let value = options.customFrameOptionsValue, !value.isEmpty {
            security.append(("X-Frame-Options", value))
        } else if options.frameDeny == true {
            security.append(("X-Frame-Options", "DENY"))
        }
        if options.contentTypeNosniff == true { security.append(("X-Content-Type-Options", "nosniff")) }
        if let value = options.customBrowserXSSValue, !value.isEmpty {
            security.append(("X-XSS-Protection", value))
        } else if options.browserXssFilter == true {
            security.append(("X-XSS-Protection", "1; mode=block"))
        }
        let policies: [(String, String?)] = [
            ("Content-Security-Policy", options.contentSecurityPolicy),
            ("Content-Security-Policy-Report-Only", options.contentSecurityPolicyReportOnly),
            ("Public-Key-Pins", options.publicKey), ("Referrer-Policy", options.referrerPolicy),
            ("Permissions-Policy", options.permissionsPolicy), ("Feature-Policy", options.featurePolicy),
        ]
        for case let (name, value?) in policies where !value.isEmpty { security.append((name, value)) }
        for (name, value) in security { try validateHeader(name, value, option: "headers") }
        securityHeaders = security

        if let seconds = options.stsSeconds, seconds > 0, !development {
            var value = "max-age=\(seconds)"
            if options.stsIncludeSubdomains == true { value += "; includeSubDomains" }
            if options.stsPreload == true { value += "; preload" }
            strictTransportSecurity = value
        } else {
            strictTransportSecurity = nil
        }
        forceSTSHeader = options.forceSTSHeader ?? false
        allowedHosts = development ? [] : Set((options.allowedHosts ?? []).map { $0.lowercased() })
        hostsProxyHeaders = options.hostsProxyHeaders ?? []
        cors = try CORS(options)
    }

    static func pairs(_ map: [String: String]?, option: String) throws(MiddlewareConfigurationError)
        -> [(name: String, value: String)]
    {
        var pairs: [(name: String, value: String)] = []
        for (name, value) in (map ?? [:]).sorted(by: { $0.key < $1.key }) {
            try validateHeader(name, value, option: option)
            pairs.append((name, value))
        }
        return pairs
    }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        if !allowedHosts.isEmpty, !allowedHosts.contains(requestHost(head)) {
            return .respond(.internalServerError, headers: [:], body: "Bad Host\n")
        }
        if let cors, let preflight = cors.preflightAnswer(to: head) {
            return .respond(.ok, headers: preflight, body: "")
        }
        for (name, value) in requestHeaders {
            if value.isEmpty { head.headers.remove(name: name) } else { head.headers.replaceOrAdd(name: name, value: value) }
        }
        return .proceed
    }

    func handleResponse(_ head: inout HTTPResponseHead, request: HTTPRequestHead, context: MiddlewareContext) {
        for (name, value) in securityHeaders { head.headers.replaceOrAdd(name: name, value: value) }
        if let strictTransportSecurity, forceSTSHeader || isSecure(request, context: context) {
            head.headers.replaceOrAdd(name: "Strict-Transport-Security", value: strictTransportSecurity)
        }
        for (name, value) in responseHeaders {
            if value.isEmpty { head.headers.remove(name: name) } else { head.headers.replaceOrAdd(name: name, value: value) }
        }
        cors?.decorate(&head, request: request)
    }

    /// The host the request is for: from `hostsProxyHeaders` when set there, else the Host header, without port.
    private func requestHost(_ head: HTTPRequestHead) -> String {
        let host = hostsProxyHeaders.lazy.compactMap { head.headers.first(name: $0) }.first
            ?? head.headers.first(name: "host") ?? ""
        var trimmed = Substring(host)
        if !trimmed.hasPrefix("["), let colon = trimmed.lastIndex(of: ":") { trimmed = trimmed[..<colon] }
        return trimmed.lowercased()
    }

    /// HTTPS at the entry point, or a header from `sslProxyHeaders` with its value (set by a proxy in front).
    private func isSecure(_ request: HTTPRequestHead, context: MiddlewareContext) -> Bool {
        context.scheme == "https" || sslProxyHeaders.contains { request.headers.first(name: $0.name) == $0.value }
    }
}
