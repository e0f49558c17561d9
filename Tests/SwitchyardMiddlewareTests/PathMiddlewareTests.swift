import NIOHTTP1
import NIOPosix
import SwitchyardConfig
import Testing

@testable import SwitchyardMiddleware

/// Builds middlewares from YAML options, as the file provider does, and runs them on a request head.
enum Run {
    static let context = MiddlewareContext(
        entryPoint: "web", router: "r@file", clientAddress: [127, 0, 0, 1], clientIP: "127.0.0.1", scheme: "http",
        eventLoop: MultiThreadedEventLoopGroup.singleton.any())

    static func middleware(_ yaml: String) throws -> any HTTPMiddleware {
        let node = try ConfigDocument.parse(yaml, source: "m.yml", format: .yaml)
        let options = try ConfigNodeDecoder.decode(Middleware.self, from: node)
        let type = try #require(options.configuredTypes.first)
        let factory = try #require(MiddlewareRegistry.builtIn.factory(for: type))
        return try factory.make(name: "m@file", options: options)
    }

    static func request(
        _ yaml: String, _ uri: String, method: HTTPMethod = .GET, headers: [(String, String)] = [("Host", "a.test")],
        scheme: String = "http"
    ) throws -> (MiddlewareAction, HTTPRequestHead) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
        var context = Self.context
        context.scheme = scheme
        let action = try middleware(yaml).handleRequest(&head, context: context)
        return (action, head)
    }

    static func failure(_ yaml: String) -> String? {
        do {
            _ = try middleware(yaml)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

@Suite struct PathMiddlewareTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var yaml: String
        var uri: String
        var path: String
        var header: (String, String)?
        var testDescription: String { "\(yaml) \(uri)" }
    }

    @Test(arguments: [
        Case(yaml: "addPrefix: {prefix: /api}", uri: "/users?x=1", path: "/api/users?x=1"),
        Case(yaml: "addPrefix: {prefix: api}", uri: "/users", path: "/api/users"),
        Case(yaml: "stripPrefix: {prefixes: [/api, /v1]}", uri: "/api/users?x=1", path: "/users?x=1", header: ("X-Forwarded-Prefix", "/api")),
        Case(yaml: "stripPrefix: {prefixes: [/api]}", uri: "/api", path: "/", header: ("X-Forwarded-Prefix", "/api")),
        Case(yaml: "stripPrefix: {prefixes: [/api/]}", uri: "/api/users", path: "/users", header: ("X-Forwarded-Prefix", "/api/")),
        Case(yaml: "stripPrefix: {prefixes: [/api]}", uri: "/apiary", path: "/ary", header: ("X-Forwarded-Prefix", "/api")),
        Case(yaml: "stripPrefix: {prefixes: [/api]}", uri: "/other", path: "/other"),
        Case(yaml: "stripPrefixRegex: {regex: ['/users/[0-9]+']}", uri: "/users/42/profile", path: "/profile", header: ("X-Forwarded-Prefix", "/users/42")),
        Case(yaml: "stripPrefixRegex: {regex: ['/users/[0-9]+']}", uri: "/x/users/42", path: "/x/users/42"),
        Case(yaml: "replacePath: {path: /new}", uri: "/old/path?q=1", path: "/new?q=1", header: ("X-Replaced-Path", "/old/path")),
        Case(yaml: "replacePathRegex: {regex: '^/foo/(.*)', replacement: '/bar/$1'}", uri: "/foo/x/y?z", path: "/bar/x/y?z", header: ("X-Replaced-Path", "/foo/x/y")),
        Case(yaml: "replacePathRegex: {regex: '^/(?P<v>v[0-9])/(.*)', replacement: '/${2}/${v}'}", uri: "/v2/items", path: "/items/v2", header: ("X-Replaced-Path", "/v2/items")),
        Case(yaml: "replacePathRegex: {regex: '^/foo', replacement: '/bar'}", uri: "/other", path: "/other"),
    ])
    func rewritesThePath(_ test: Case) throws {
        let (action, head) = try Run.request(test.yaml, test.uri)
        guard case .proceed = action else { Issue.record("expected the request to proceed"); return }
        #expect(head.uri == test.path)
        if let (name, value) = test.header {
            #expect(head.headers[name] == [value])
        } else {
            #expect(!head.headers.contains(name: "X-Forwarded-Prefix") && !head.headers.contains(name: "X-Replaced-Path"))
        }
    }
}
