import NIOHTTP1
import Testing

@testable import SwitchyardRouting

@Suite struct MatcherTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var rule: String
        var request: @Sendable () -> RoutingRequest
        var matches: Bool
        var testDescription: String { "\(rule) → \(matches)" }
    }

    @Test(arguments: [
        Case(rule: "Host(`a.test`)", request: { Fixtures.request("/", host: "A.Test:8080") }, matches: true),
        Case(rule: "Host(`a.test`)", request: { Fixtures.request("/", host: "a.test.") }, matches: true),
        Case(rule: "Host(`a.test`)", request: { Fixtures.request("/", host: "b.test") }, matches: false),
        Case(rule: "Host(`a.test`)", request: { Fixtures.request("http://a.test/x", host: "other") }, matches: true),
        Case(rule: "Host(`*.a.test`)", request: { Fixtures.request("/", host: "x.a.test") }, matches: true),
        Case(rule: "Host(`*.a.test`)", request: { Fixtures.request("/", host: "y.x.a.test") }, matches: false),
        Case(rule: "Host(`*`)", request: { Fixtures.request("/", host: nil) }, matches: true),
        Case(rule: "HostRegexp(`^[a-z]+\\.test$`)", request: { Fixtures.request("/", host: "abc.test") }, matches: true),
        Case(rule: "HostRegexp(`^[a-z]+\\.test$`)", request: { Fixtures.request("/", host: "a1.test") }, matches: false),
        Case(rule: "Path(`/api`)", request: { Fixtures.request("/api?x=1") }, matches: true),
        Case(rule: "Path(`/api`)", request: { Fixtures.request("/api/") }, matches: false),
        Case(rule: "Path(`/API`)", request: { Fixtures.request("/api") }, matches: false),
        Case(rule: "PathPrefix(`/products`)", request: { Fixtures.request("/products-for-sale") }, matches: true),
        Case(rule: "PathRegexp(`^/v[0-9]+/`)", request: { Fixtures.request("/v2/users") }, matches: true),
        Case(rule: "PathRegexp(`(?P<id>[0-9]+)$`)", request: { Fixtures.request("/users/42") }, matches: true),
        Case(rule: "Method(`post`)", request: { Fixtures.request("/", method: .POST) }, matches: true),
        Case(rule: "Method(`POST`)", request: { Fixtures.request("/") }, matches: false),
        Case(rule: "Header(`X-Env`, `prod`)", request: { Fixtures.request("/", headers: [("x-env", "prod")]) }, matches: true),
        Case(rule: "Header(`X-Env`, `prod`)", request: { Fixtures.request("/", headers: [("x-env", "Prod")]) }, matches: false),
        Case(rule: "HeaderRegexp(`X-Env`, `^pr`)", request: { Fixtures.request("/", headers: [("X-ENV", "prod")]) }, matches: true),
        Case(rule: "Query(`debug`)", request: { Fixtures.request("/?debug") }, matches: true),
        Case(rule: "Query(`debug`, `1`)", request: { Fixtures.request("/?a=2&debug=1") }, matches: true),
        Case(rule: "Query(`q`, `a b`)", request: { Fixtures.request("/?q=a+b") }, matches: true),
        Case(rule: "Query(`debug`, `1`)", request: { Fixtures.request("/?debug=0") }, matches: false),
        Case(rule: "QueryRegexp(`id`, `^[0-9]+$`)", request: { Fixtures.request("/?id=123") }, matches: true),
        Case(rule: "ClientIP(`127.0.0.0/8`)", request: { Fixtures.request("/") }, matches: true),
        Case(rule: "ClientIP(`10.0.0.0/8`)", request: { Fixtures.request("/") }, matches: false),
        Case(rule: "ClientIP(`::1`)", request: { Fixtures.request("/", client: Array(repeating: 0, count: 15) + [1]) }, matches: true),
        Case(rule: "Host(`a.test`) && !Path(`/admin`)", request: { Fixtures.request("/admin") }, matches: false),
        Case(rule: "Host(`b.test`) || Path(`/x`) && Method(`GET`)", request: { Fixtures.request("/x") }, matches: true),
        Case(rule: "(Host(`b.test`) || Path(`/x`)) && Method(`POST`)", request: { Fixtures.request("/x") }, matches: false),
    ])
    func evaluates(_ testCase: Case) throws {
        let matcher = try MatcherCompiler.compile(rule: testCase.rule)
        #expect(matcher.matches(testCase.request()) == testCase.matches)
    }

    @Test func badRegexIsACompileError() {
        #expect(throws: MatcherCompiler.Failure.self) { try MatcherCompiler.compile(rule: "PathRegexp(`(`)") }
    }

    @Test func requiredHostsIndexOnlyWhatAlwaysHolds() throws {
        #expect(try MatcherCompiler.compile(rule: "Host(`a`) && Path(`/`)").requiredHosts == ["a"])
        #expect(try MatcherCompiler.compile(rule: "Host(`a`) || Host(`b`)").requiredHosts == ["a", "b"])
        #expect(try MatcherCompiler.compile(rule: "Host(`a`) || Path(`/`)").requiredHosts == nil)
        #expect(try MatcherCompiler.compile(rule: "!Host(`a`)").requiredHosts == nil)
    }
}

@Suite struct RequestPathTests {
    @Test(arguments: [
        ("/plain/path", RequestPath.Outcome.unchanged), ("/.well-known/x", .unchanged), ("/a/%7Eb", .cleaned("/a/~b")),
        ("/a/../b", .cleaned("/b")), ("/a/./b/", .cleaned("/a/b/")), ("//x///y", .cleaned("/x/y")), ("/..", .cleaned("/")),
        ("/public/%2e%2e/admin", .cleaned("/admin")), ("/a/%c3%a9", .cleaned("/a/%C3%A9")), ("/a/..", .cleaned("/")),
        ("/a%2fb", .refused("the encoded character %2F is not allowed in the path")),
        ("/a%5Cb", .refused("the encoded character %5C is not allowed in the path")), ("/a%00", .refused("the encoded character %00 is not allowed in the path")),
        ("/a%3bb", .refused("the encoded character %3B is not allowed in the path")), ("/a%25", .refused("the encoded character %25 is not allowed in the path")),
        ("/a%3F", .refused("the encoded character %3F is not allowed in the path")), ("/a%23", .refused("the encoded character %23 is not allowed in the path")),
        ("/a%zz", .refused("a '%' that starts no percent-encoding")), ("/a%2", .refused("a '%' that starts no percent-encoding")),
    ])
    func cleansOrRefuses(_ path: String, _ expected: RequestPath.Outcome) {
        #expect(RequestPath.clean(path[...], allowed: .init(), sanitize: true) == expected)
    }

    @Test func allowedEncodingsAndNoSanitizing() {
        var allowed = RequestPath.EncodedCharacters()
        allowed.slash = true
        #expect(RequestPath.clean("/a%2fb/../c", allowed: allowed, sanitize: true) == .cleaned("/c"))
        #expect(RequestPath.clean("/a%2fb", allowed: allowed, sanitize: true) == .cleaned("/a%2Fb"))
        #expect(RequestPath.clean("/a/../b", allowed: allowed, sanitize: false) == .unchanged)
        #expect(RequestPath.clean("/a/%2e%2e/b", allowed: allowed, sanitize: false) == .cleaned("/a/../b"))
    }
}
