import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SwitchyardConfig
import SwitchyardTLS

/// `forwardAuth`: asks an authentication server about each request. The server gets the request's headers (all, or
/// `authRequestHeaders`) and `X-Forwarded-Method`, `-Proto`, `-Host`, `-Uri` and `-For`; a 2xx answer lets the request
/// go on, with the `authResponseHeaders` (and those matching `authResponseHeadersRegex`) of the answer copied onto
/// it; any other answer goes back to the client as it came (status, headers, body). An unreachable server is a
/// 500. `forwardBody` sends the request body too (the proxy reads it first; above `maxBodySize` the answer is 401);
/// `tls` sets the client's roots and certificate for an https address; `addAuthCookiesToResponse` copies those
/// cookies of a 2xx answer onto the response; `authSigninURL` turns a 401 into a redirect there. The call goes
/// through a process-wide HTTP client (on its own event loops; the answer returns to the request's).
struct ForwardAuth: HTTPMiddleware {
    let address: String
    let trustForwardHeader: Bool
    let requestHeaders: [String]?
    let responseHeaders: [String]
    let responseHeadersRegex: CompiledRegex?
    let preserveRequestMethod: Bool
    /// `forwardBody`: the body limit (-1: any size), nil when the body is not sent.
    let bodyLimit: Int64?
    let tls: NIOSSL.TLSConfiguration?
    let cookieNames: Set<String>
    let signinURL: String?

    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
        "proxy-authenticate", "proxy-authorization",
    ]
    static let forwardedNames = ["x-forwarded-method", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-uri", "x-forwarded-for"]
    /// How long the authentication server may take.
    static let timeout: TimeAmount = .seconds(30)

    /// One client for the process (never shut down): an unreachable server fails at once, not after connection
    /// attempts retried until the deadline.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    init(_ options: ForwardAuthMiddleware) throws(MiddlewareConfigurationError) {
        guard let address = options.address, let url = URL(string: address), ["http", "https"].contains(url.scheme ?? ""),
            url.host != nil
        else {
            throw MiddlewareConfigurationError("forwardAuth.address: expected the authentication server's http(s):// URL")
        }
        if let tls = options.tls {
            guard (tls.cert == nil) == (tls.key == nil) else {
                throw MiddlewareConfigurationError("forwardAuth.tls: set both cert and key, or neither")
            }
            do {
                self.tls = try ClientTLS.configuration(
                    roots: tls.ca.map { [$0] } ?? [], rootsKey: "ca", certificate: tls.cert.map { ($0, tls.key ?? "") },
                    certificateKey: "cert", insecureSkipVerify: tls.insecureSkipVerify ?? false)
            } catch {
                throw MiddlewareConfigurationError("forwardAuth.tls: \(error.message)")
            }
        } else {
            tls = nil
        }
        if options.forwardBody == true {
            let limit = options.maxBodySize ?? -1
            guard limit >= -1 else { throw MiddlewareConfigurationError("forwardAuth.maxBodySize: must be -1 or more") }
            bodyLimit = limit
        } else {
            bodyLimit = nil
        }
        cookieNames = Set(options.addAuthCookiesToResponse ?? [])
        if let signin = options.authSigninURL, !signin.isEmpty {
            guard let url = URL(string: signin), url.scheme != nil || signin.hasPrefix("/") else {
                throw MiddlewareConfigurationError("forwardAuth.authSigninURL: '\(signin)' is not a URL")
            }
            signinURL = signin
        } else {
            signinURL = nil
        }
        self.address = address
        trustForwardHeader = options.trustForwardHeader ?? false
        requestHeaders = options.authRequestHeaders.map { $0.map { $0.lowercased() } }
        responseHeaders = options.authResponseHeaders ?? []
        do {
            responseHeadersRegex = try options.authResponseHeadersRegex.map { try CompiledRegex($0) }
        } catch {
            throw MiddlewareConfigurationError("forwardAuth.authResponseHeadersRegex: \(error)")
        }
        preserveRequestMethod = options.preserveRequestMethod ?? false
    }

    var requestBodyLimit: Int64? { bodyLimit }

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        let original = head
        var body: ByteBuffer?
        if let bodyLimit {
            guard let whole = context.scope.requestBody(upTo: bodyLimit) else {
                return .respond(.unauthorized, headers: ["Connection": "close"], body: "Unauthorized\n")
            }
            body = whole
        }
        let request: HTTPClient.Request
        do {
            var check = try HTTPClient.Request(
                url: address, method: preserveRequestMethod ? head.method : .GET,
                body: body.map { .byteBuffer($0) }, tlsConfiguration: tls)
            for (name, value) in head.headers {
                let lower = name.lowercased()
                if Self.hopByHop.contains(lower) || Self.forwardedNames.contains(lower) || lower == "host" { continue }
                if let allowed = requestHeaders, !allowed.contains(lower) { continue }
                check.headers.add(name: name, value: value)
            }
            func forwarded(_ name: String, _ value: String) {
                let existing = head.headers.first(name: name)
                check.headers.add(name: name, value: trustForwardHeader ? existing ?? value : value)
            }
            forwarded("X-Forwarded-Method", head.method.rawValue)
            forwarded("X-Forwarded-Proto", context.scheme)
            forwarded("X-Forwarded-Host", head.headers.first(name: "host") ?? "")
            forwarded("X-Forwarded-Uri", head.uri)
            let chain = head.headers[canonicalForm: "x-forwarded-for"].joined(separator: ", ")
            check.headers.add(
                name: "X-Forwarded-For", value: trustForwardHeader && !chain.isEmpty ? chain + ", " + context.clientIP : context.clientIP)
            request = check
        } catch {
            return .respond(.internalServerError, headers: [:], body: "Internal Server Error\n")
        }
        // The shared client runs on its own event loops; the answer comes back to the request's.
        let answer = Self.client.execute(request: request, deadline: .now() + Self.timeout).hop(to: context.eventLoop)
        let responseHeaders = self.responseHeaders, regex = responseHeadersRegex, cookieNames = self.cookieNames
        let signinURL = self.signinURL, scope = context.scope
        let decision = answer.map { response -> MiddlewareAction.Decision in
            guard (200..<300).contains(response.status.code) else {
                if let signinURL, response.status == .unauthorized {
                    return MiddlewareAction.Decision(
                        .respond(.found, headers: ["Location": signinURL], body: ""), head: original)
                }
                var headers = HTTPHeaders()
                for (name, value) in response.headers where !Self.hopByHop.contains(name.lowercased()) {
                    headers.add(name: name, value: value)
                }
                let body = response.body.map { String(buffer: $0) } ?? ""
                return MiddlewareAction.Decision(.respond(response.status, headers: headers, body: body), head: original)
            }
            var head = original
            for name in responseHeaders {
                let values = response.headers[name]
                head.headers.remove(name: name)
                for value in values { head.headers.add(name: name, value: value) }
            }
            if let regex {
                for (name, value) in response.headers where regex.matches(name) {
                    head.headers.replaceOrAdd(name: name, value: value)
                }
            }
            if !cookieNames.isEmpty {
                // The decision completes on the request's loop, where the scope is used.
                scope.authResponseCookies = response.headers["set-cookie"].filter { cookie in
                    cookieNames.contains(String(cookie.prefix { $0 != "=" }).trimmingCharacters(in: .whitespaces))
                }
            }
            return MiddlewareAction.Decision(.proceed, head: head)
        }.recover { _ in
            MiddlewareAction.Decision(.respond(.internalServerError, headers: [:], body: "Internal Server Error\n"), head: original)
        }
        return .later(decision)
    }

    func handleResponse(_ head: inout HTTPResponseHead, request: HTTPRequestHead, context: MiddlewareContext) {
        for cookie in context.scope.authResponseCookies { head.headers.add(name: "Set-Cookie", value: cookie) }
    }
}
