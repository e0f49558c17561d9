import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardConfig

/// `forwardAuth`: asks an authentication server about each request. The server gets the request's headers (all, or
/// `authRequestHeaders`) and `X-Forwarded-Method`, `-Proto`, `-Host`, `-Uri` and `-For`; a 2xx answer lets the request
/// go on, with the `authResponseHeaders` (and those matching `authResponseHeadersRegex`) of the answer copied onto
/// it; any other answer goes back to the client as it came (status, headers, body). An unreachable server is a
/// 500. The call goes through a process-wide HTTP client (on its own event loops; the answer returns to the
/// request's).
struct ForwardAuth: HTTPMiddleware {
    let address: String
    let trustForwardHeader: Bool
    let requestHeaders: [String]?
    let responseHeaders: [String]
    let responseHeadersRegex: CompiledRegex?
    let preserveRequestMethod: Bool

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
        for (set, name) in [
            (options.forwardBody == true, "forwardBody"), (options.tls != nil, "tls"),
            (!(options.addAuthCookiesToResponse ?? []).isEmpty, "addAuthCookiesToResponse"),
            (options.authSigninURL != nil, "authSigninURL"),
        ] where set {
            throw MiddlewareConfigurationError("forwardAuth.\(name) is not supported yet")
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

    func handleRequest(_ head: inout HTTPRequestHead, context: MiddlewareContext) -> MiddlewareAction {
        let original = head
        let request: HTTPClient.Request
        do {
            var check = try HTTPClient.Request(url: address, method: preserveRequestMethod ? head.method : .GET)
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
        let responseHeaders = self.responseHeaders, regex = responseHeadersRegex
        let decision = answer.map { response -> MiddlewareAction.Decision in
            guard (200..<300).contains(response.status.code) else {
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
            return MiddlewareAction.Decision(.proceed, head: head)
        }.recover { _ in
            MiddlewareAction.Decision(.respond(.internalServerError, headers: [:], body: "Internal Server Error\n"), head: original)
        }
        return .later(decision)
    }
}
