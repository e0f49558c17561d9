import NIOHTTP1
import SwitchyardConfig
import Testing

@testable import SwitchyardMiddleware

@Suite struct RedirectTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var uri: String
        var method: HTTPMethod = .GET
        var host: String = "a.test:8000"
        var scheme: String = "http"
        var status: HTTPResponseStatus?
        var location: String?
        var testDescription: String { "\(yaml) \(method) \(uri)" }
    }

    @Test(arguments: [
        Case(yaml: "redirectScheme: {scheme: https}", uri: "/x?y=1", status: .found, location: "https://a.test/x?y=1"),
        Case(yaml: "redirectScheme: {scheme: https, permanent: true}", uri: "/", status: .movedPermanently, location: "https://a.test/"),
        Case(yaml: "redirectScheme: {scheme: https, port: '8443'}", uri: "/", status: .found, location: "https://a.test:8443/"),
        Case(yaml: "redirectScheme: {scheme: https, port: '443'}", uri: "/", status: .found, location: "https://a.test/"),
        Case(yaml: "redirectScheme: {scheme: https}", uri: "/", method: .POST, status: .temporaryRedirect, location: "https://a.test/"),
        Case(yaml: "redirectScheme: {scheme: https, permanent: true}", uri: "/", method: .PUT, status: .permanentRedirect, location: "https://a.test/"),
        Case(yaml: "redirectScheme: {scheme: https}", uri: "/", host: "[::1]:8000", status: .found, location: "https://[::1]/"),
        Case(yaml: "redirectScheme: {scheme: https}", uri: "/", scheme: "https"),
        Case(yaml: "redirectRegex: {regex: '^http://a\\.test(:[0-9]+)?/old/(.*)', replacement: 'http://b.test/new/${2}'}", uri: "/old/page", status: .found, location: "http://b.test/new/page"),
        Case(yaml: "redirectRegex: {regex: '^http://a\\.test(:[0-9]+)?/old/(.*)', replacement: 'http://b.test/new/$2', permanent: true}", uri: "/old/p", status: .movedPermanently, location: "http://b.test/new/p"),
        Case(yaml: "redirectRegex: {regex: '^http://a\\.test(:[0-9]+)?/old/(.*)', replacement: 'http://b.test/new/$2'}", uri: "/other"),
        Case(yaml: "redirectRegex: {regex: '(.*)', replacement: '$1'}", uri: "/same"),
    ])
    func redirects(_ test: Case) throws {
        let (action, _) = try Run.request(test.yaml, test.uri, method: test.method, headers: [("Host", test.host)], scheme: test.scheme)
        switch action {
        case .proceed:
            #expect(test.status == nil)
        case .respond(let status, let headers, _):
            #expect(status == test.status)
            #expect(headers["Location"] == [test.location ?? ""])
        case .later:
            Issue.record("redirects decide at once")
        }
    }
}

@Suite struct HeadersTests {
    static func response(
        _ yaml: String, request: [(String, String)] = [("Host", "a.test")], scheme: String = "http",
        upstream: [(String, String)] = [("X-Powered-By", "php"), ("Content-Type", "text/html")]
    ) throws -> (MiddlewareAction, HTTPRequestHead, HTTPResponseHead) {
        let middleware = try Run.middleware(yaml)
        var context = Run.context
        context.scheme = scheme
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders(request))
        let action = middleware.handleRequest(&head, context: context)
        var response = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(upstream))
        middleware.handleResponse(&response, request: head, context: context)
        return (action, head, response)
    }

    @Test func customHeadersAreSetAndEmptyValuesRemove() throws {
        let (_, request, response) = try Self.response(
            """
            headers:
              customRequestHeaders: {X-Script-Name: test, X-Remove-Me: ""}
              customResponseHeaders: {X-Custom: yes, X-Powered-By: ""}
            """, request: [("Host", "a.test"), ("X-Remove-Me", "1"), ("X-Script-Name", "old")])
        #expect(request.headers["X-Script-Name"] == ["test"])
        #expect(!request.headers.contains(name: "X-Remove-Me"))
        #expect(response.headers["X-Custom"] == ["yes"])
        #expect(!response.headers.contains(name: "X-Powered-By"))
    }

    @Test func securityHeaders() throws {
        let yaml = """
            headers:
              frameDeny: true
              contentTypeNosniff: true
              browserXssFilter: true
              contentSecurityPolicy: "default-src 'self'"
              referrerPolicy: same-origin
              permissionsPolicy: "camera=()"
              stsSeconds: 31536000
              stsIncludeSubdomains: true
              stsPreload: true
            """
        let (_, _, plain) = try Self.response(yaml)
        #expect(plain.headers["X-Frame-Options"] == ["DENY"])
        #expect(plain.headers["X-Content-Type-Options"] == ["nosniff"])
        #expect(plain.headers["X-XSS-Protection"] == ["1; mode=block"])
        #expect(plain.headers["Content-Security-Policy"] == ["default-src 'self'"])
        #expect(plain.headers["Referrer-Policy"] == ["same-origin"])
        #expect(plain.headers["Permissions-Policy"] == ["camera=()"])
        #expect(!plain.headers.contains(name: "Strict-Transport-Security"), "STS only over HTTPS")
        let (_, _, secure) = try Self.response(yaml, scheme: "https")
        #expect(secure.headers["Strict-Transport-Security"] == ["max-age=31536000; includeSubDomains; preload"])
        let (_, _, proxied) = try Self.response(
            yaml + "\n  sslProxyHeaders: {X-Forwarded-Proto: https}",
            request: [("Host", "a.test"), ("X-Forwarded-Proto", "https")])
        #expect(proxied.headers.contains(name: "Strict-Transport-Security"))
        let (_, _, forced) = try Self.response(yaml + "\n  forceSTSHeader: true")
        #expect(forced.headers.contains(name: "Strict-Transport-Security"))
    }

    @Test func allowedHostsRejectOthers() throws {
        let yaml = "headers: {allowedHosts: [a.test], hostsProxyHeaders: [X-Forwarded-Host]}"
        let (allowed, _, _) = try Self.response(yaml, request: [("Host", "A.test:8000")])
        guard case .proceed = allowed else { Issue.record("a.test should pass"); return }
        let (rejected, _, _) = try Self.response(yaml, request: [("Host", "evil.test")])
        guard case .respond(let status, _, _) = rejected else { Issue.record("evil.test should be refused"); return }
        #expect(status == .internalServerError)
        let (proxied, _, _) = try Self.response(yaml, request: [("Host", "internal"), ("X-Forwarded-Host", "a.test")])
        guard case .proceed = proxied else { Issue.record("X-Forwarded-Host a.test should pass"); return }
    }

    static let cors = """
        headers:
          accessControlAllowMethods: [GET, OPTIONS, PUT]
          accessControlAllowHeaders: [Content-Type, Authorization]
          accessControlAllowOriginList: [https://app.test]
          accessControlAllowOriginListRegex: ['^https://.*\\.example\\.test$']
          accessControlExposeHeaders: [X-Total]
          accessControlAllowCredentials: true
          accessControlMaxAge: 100
          addVaryHeader: true
        """

    @Test func corsPreflightIsAnsweredHere() throws {
        let (action, _, _) = try Self.response(
            Self.cors, request: [("Host", "a.test")])
        guard case .proceed = action else { Issue.record("a GET is not a preflight"); return }
        let middleware = try Run.middleware(Self.cors)
        var head = HTTPRequestHead(
            version: .http1_1, method: .OPTIONS, uri: "/",
            headers: HTTPHeaders([("Host", "a.test"), ("Origin", "https://app.test"), ("Access-Control-Request-Method", "PUT")]))
        guard case .respond(let status, let headers, _) = middleware.handleRequest(&head, context: Run.context) else {
            Issue.record("the preflight should be answered"); return
        }
        #expect(status == .ok)
        #expect(headers["Access-Control-Allow-Origin"] == ["https://app.test"])
        #expect(headers["Access-Control-Allow-Methods"] == ["GET,OPTIONS,PUT"])
        #expect(headers["Access-Control-Allow-Headers"] == ["Content-Type,Authorization"])
        #expect(headers["Access-Control-Allow-Credentials"] == ["true"])
        #expect(headers["Access-Control-Max-Age"] == ["100"])
    }

    @Test(arguments: [
        ("https://app.test", "https://app.test"), ("https://shop.example.test", "https://shop.example.test"),
        ("https://evil.test", nil),
    ])
    func corsResponsesNameAllowedOrigins(_ origin: String, _ allowed: String?) throws {
        let (_, _, response) = try Self.response(
            Self.cors, request: [("Host", "a.test"), ("Origin", origin)], upstream: [("Vary", "Accept-Encoding")])
        #expect(response.headers["Access-Control-Allow-Origin"] == (allowed.map { [$0] } ?? []))
        #expect(response.headers["Access-Control-Expose-Headers"] == ["X-Total"])
        #expect(response.headers["Vary"] == ["Accept-Encoding,Origin"])
    }

    @Test func anAnswerPassesBackThroughTheMiddlewaresBeforeIt() throws {
        let headers = try Run.middleware("headers: {frameDeny: true}")
        let redirect = try Run.middleware("redirectScheme: {scheme: https}")
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: HTTPHeaders([("Host", "a.test")]))
        guard case .respond(let status, let answer, _) = [headers, redirect].handleRequest(&head, context: Run.context)
        else { Issue.record("expected a redirect"); return }
        #expect(status == .found)
        #expect(answer["X-Frame-Options"] == ["DENY"])
        #expect(answer["Location"] == ["https://a.test/"])
    }
}

@Suite struct MiddlewareOptionErrorTests {
    @Test(arguments: [
        ("addPrefix: {}", "addPrefix.prefix: the prefix is empty"),
        ("stripPrefix: {prefixes: []}", "stripPrefix.prefixes: no prefix given"),
        ("stripPrefixRegex: {regex: ['(']}", "invalid regular expression '('"),
        ("replacePath: {path: ''}", "replacePath.path: the path is empty"),
        ("replacePathRegex: {replacement: /x}", "replacePathRegex.regex: no expression given"),
        ("redirectScheme: {}", "redirectScheme.scheme: the scheme is empty"),
        ("redirectScheme: {scheme: 'ht tp'}", "is not a URL scheme"),
        ("redirectScheme: {scheme: https, port: 'x'}", "is not a port number"),
        ("redirectRegex: {regex: '('}", "no replacement given"),
        ("redirectRegex: {regex: '(', replacement: /x}", "invalid regular expression"),
        ("headers: {customRequestHeaders: {'X-A': \"a\\r\\nX-Injected: 1\"}}", "contains a line break"),
        ("headers: {customResponseHeaders: {'Bad Name': x}}", "is not a valid header name"),
        ("headers: {sslRedirect: true}", "removed in Traefik v3"),
        ("headers: {accessControlAllowOriginListRegex: ['(']}", "invalid regular expression"),
        ("ipAllowList: {}", "ipAllowList.sourceRange: no range given"),
        ("ipAllowList: {sourceRange: [10.0.0.0/33]}", "'10.0.0.0/33' is not an IP or CIDR"),
        ("ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: -1}}", "depth: must not be negative"),
        ("ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {excludedIPs: [x]}}", "'x' is not an IP or CIDR"),
        ("ipAllowList: {sourceRange: [10.0.0.0/8], rejectStatusCode: 42}", "42 is not an HTTP status"),
        ("rateLimit: {average: -1}", "rateLimit.average: must not be negative"),
        ("rateLimit: {average: 1, period: 0s}", "rateLimit.period: must be longer than 0s"),
        ("rateLimit: {average: 1, burst: 0}", "rateLimit.burst: must be at least 1"),
        ("rateLimit: {average: 1, redis: {endpoints: ['127.0.0.1:6379']}}", "Redis are not supported yet"),
        ("rateLimit: {average: 1, sourceCriterion: {requestHost: true, requestHeaderName: X-Key}}", "set one of"),
        ("basicAuth: {}", "basicAuth: no users"),
        ("digestAuth: {users: ['a:traefik:short']}", "expected name:realm:md5-hex"),
        ("digestAuth: {users: ['a:other:0123456789abcdef0123456789abcdef']}", "no users for the realm 'traefik'"),
        ("inFlightReq: {amount: 0}", "inFlightReq.amount: must be at least 1"),
        ("retry: {}", "retry.attempts: must be at least 1"),
        ("circuitBreaker: {}", "circuitBreaker.expression: no expression given"),
        ("circuitBreaker: {expression: 'Bogus() > 1'}", "circuitBreaker.expression: column 1: unknown function 'Bogus'"),
        ("circuitBreaker: {expression: 'NetworkErrorRatio() > 0.5', responseCode: 42}", "42 is not an HTTP status"),
        ("compress: {encodings: [br, deflate]}", "'deflate' is not an encoding; use gzip, br or zstd"),
        ("compress: {encodings: []}", "name at least one of gzip, br, zstd"),
        ("compress: {defaultEncoding: lzma}", "'lzma' is not an encoding"),
        ("compress: {includedContentTypes: [a/b], excludedContentTypes: [c/d]}", "not both"),
        ("retry: {attempts: 2, status: ['5xx']}", "retry.status: '5xx' is not a status"),
        ("retry: {attempts: 2, status: ['599-500']}", "is not a status or a range"),
        ("retry: {attempts: 2, maxRequestBodyBytes: -2}", "retry.maxRequestBodyBytes: must be -1 or more"),
        ("buffering: {maxRequestBodyBytes: -5}", "buffering.maxRequestBodyBytes: must not be negative"),
        ("buffering: {retryExpression: 'Attempts() <'}", "buffering.retryExpression: column 13: expected a number"),
        ("buffering: {retryExpression: 'Tries() < 2'}", "unknown function 'Tries'"),
        ("forwardAuth: {address: 'http://a', tls: {cert: /x.pem}}", "set both cert and key"),
        ("forwardAuth: {address: 'http://a', tls: {ca: /nonexistent/ca.pem}}", "cannot read the CA file"),
        ("forwardAuth: {address: 'http://a', forwardBody: true, maxBodySize: -3}", "maxBodySize: must be -1 or more"),
        ("basicAuth: {users: ['nocolon']}", "basicAuth.users[0]: expected name:hash"),
        ("basicAuth: {users: ['a:plain']}", "basicAuth.users[0]: the hash of 'a' is not bcrypt"),
        ("basicAuth: {usersFile: /nonexistent/users}", "usersFile: cannot read /nonexistent/users"),
    ])
    func badOptionsAreErrors(_ yaml: String, _ fragment: String) throws {
        let message = try #require(Run.failure(yaml))
        #expect(message.contains(fragment), "\(message)")
    }
}
