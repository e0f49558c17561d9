import Foundation
import SwitchyardConfig
import Testing

@testable import SwitchyardKubernetesProvider

@Suite struct IngressBuilderTests {
    static func decode<T: Decodable>(_ json: String, as: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    static let service = """
        {"metadata": {"namespace": "shop", "name": "web"},
         "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}, {"name": "admin", "port": 9000, "targetPort": 9000}]}}
        """
    static let slice = """
        {"metadata": {"namespace": "shop", "name": "web-1", "labels": {"kubernetes.io/service-name": "web"}},
         "addressType": "IPv4",
         "endpoints": [{"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                       {"addresses": ["10.0.0.2"], "conditions": {"ready": false}},
                       {"addresses": ["10.0.0.3"]}],
         "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9000}]}
        """

    func build(_ ingresses: [String], classes: [String] = [], ingressClass: String? = nil) throws -> (DynamicConfiguration, [ConfigurationIssue]) {
        let service = try Self.decode(Self.service, as: Service.self)
        var builder = IngressConfigurationBuilder(
            ingressClass: ingressClass, ingresses: try ingresses.map { try Self.decode($0) },
            classes: try classes.map { try Self.decode($0) }, services: [service.key: service],
            slices: [try Self.decode(Self.slice)], secrets: [:])
        let snapshot = builder.build()
        return (snapshot.configuration, snapshot.issues)
    }

    @Test func rulesPathsAndReadyEndpointsBecomeRoutersAndServers() throws {
        let (configuration, issues) = try build([
            """
            {"metadata": {"namespace": "shop", "name": "front",
                          "annotations": {"traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure",
                                          "traefik.ingress.kubernetes.io/router.middlewares": "shop-strip@kubernetescrd"}},
             "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
                {"path": "/admin", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"number": 9000}}}}]}}]}}
            """,
        ])
        #expect(issues.isEmpty)
        let routers = try #require(configuration.http?.routers)
        #expect(routers["shop-front-shop-example-com"]?.rule == "Host(`shop.example.com`)")
        #expect(routers["shop-front-shop-example-com-admin"]?.rule == "Host(`shop.example.com`) && Path(`/admin`)")
        #expect(routers["shop-front-shop-example-com"]?.entryPoints == ["web", "websecure"])
        #expect(routers["shop-front-shop-example-com"]?.middlewares == ["shop-strip@kubernetescrd"])
        let services = try #require(configuration.http?.services)
        #expect(services["shop-web-http"]?.loadBalancer?.servers?.compactMap(\.url) == ["http://10.0.0.1:8080", "http://10.0.0.3:8080"])
        #expect(services["shop-web-9000"]?.loadBalancer?.servers?.compactMap(\.url) == ["http://10.0.0.1:9000", "http://10.0.0.3:9000"])
    }

    @Test func ingressClassesChooseWhatIsServed() throws {
        let classes = [
            #"{"metadata": {"name": "ours"}, "spec": {"controller": "switchyard.dev/ingress-controller"}}"#,
            #"{"metadata": {"name": "nginx"}, "spec": {"controller": "k8s.io/ingress-nginx"}}"#,
        ]
        func ingress(_ name: String, _ className: String?) -> String {
            let spec = className.map { #""ingressClassName": "\#($0)","# } ?? ""
            return """
                {"metadata": {"namespace": "shop", "name": "\(name)"},
                 "spec": {\(spec) "rules": [{"host": "\(name).test", "http": {"paths": [
                    {"path": "/", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}}
                """
        }
        let all = [ingress("a", "ours"), ingress("b", nil), ingress("c", "nginx")]
        let (served, _) = try build(all, classes: classes)
        #expect(served.http?.routers?.keys.sorted() == ["shop-a-a-test", "shop-b-b-test"])
        let (only, _) = try build(all, classes: classes, ingressClass: "ours")
        #expect(only.http?.routers?.keys.sorted() == ["shop-a-a-test"])
    }

    @Test func errorsNameTheObjectAndTheField() throws {
        let (configuration, issues) = try build([
            """
            {"metadata": {"namespace": "shop", "name": "bad"},
             "spec": {"tls": [{"secretName": "nope"}], "rules": [{"host": "x.test", "http": {"paths": [
                {"path": "/", "backend": {"service": {"name": "ghost", "port": {"number": 80}}}},
                {"path": "/p", "backend": {"service": {"name": "web", "port": {"number": 81}}}}]}}]}}
            """,
        ])
        #expect(configuration.http?.routers?.isEmpty ?? true)
        let described = issues.map(\.description)
        #expect(described.contains("Ingress shop/bad: spec.tls[0].secretName: the Secret shop/nope does not exist"))
        #expect(described.contains("Ingress shop/bad: spec.rules[0].http.paths[0].backend.service.name: the Service shop/ghost does not exist"))
        #expect(described.contains("Ingress shop/bad: spec.rules[0].http.paths[1].backend.service.port: the Service shop/web has no port 81"))
    }

    @Test func watchEventsDecodeAnd410IsExpired() throws {
        let added = #"{"type":"ADDED","object":{"metadata":{"name":"a","namespace":"n","resourceVersion":"7"}}}"#
        guard case .added(let object) = try KubernetesClient.decodeEvent(Data(added.utf8), as: IngressClass.self) else {
            Issue.record("not ADDED")
            return
        }
        #expect(object.metadata.resourceVersion == "7")
        let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Ingress","metadata":{"resourceVersion":"12"}}}"#
        guard case .bookmark(let version) = try KubernetesClient.decodeEvent(Data(bookmark.utf8), as: Ingress.self) else {
            Issue.record("not BOOKMARK")
            return
        }
        #expect(version == "12")
        let gone = #"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}"#
        #expect(throws: KubernetesClient.Expired.self) { try KubernetesClient.decodeEvent(Data(gone.utf8), as: Ingress.self) }
    }
}

@Suite struct GatewayBuilderTests {
    func builder() -> GatewayConfigurationBuilder {
        GatewayConfigurationBuilder(
            classes: [], gateways: [], routes: [], grants: [], servers: ServiceServers(services: [:], slices: []),
            secrets: [:], entryPointsByPort: [:])
    }

    @Test func listenerAndRouteHostnamesIntersect() {
        let b = builder()
        #expect(b.hostnames(["a.example.com", "b.other.com"], "*.example.com") == ["a.example.com"])
        #expect(b.hostnames(["*.example.com"], "shop.example.com") == ["shop.example.com"])
        #expect(b.hostnames([], "shop.example.com") == ["shop.example.com"])
        #expect(b.hostnames(["x.test"], nil) == ["x.test"])
        #expect(b.hostnames(["x.test"], "y.test") == nil)
    }

    @Test func matchesBecomeRules() throws {
        let rule = try IngressBuilderTests.decode(
            """
            {"matches": [{"path": {"type": "PathPrefix", "value": "/api/"}, "headers": [{"name": "X-Env", "value": "prod"}], "method": "GET"},
                         {"path": {"type": "Exact", "value": "/health"}, "queryParams": [{"type": "RegularExpression", "name": "v", "value": "^[0-9]+$"}]}]}
            """, as: HTTPRoute.Rule.self)
        #expect(builder().ruleText(rule, hosts: ["a.test", "b.test"])
            == "(Host(`a.test`) || Host(`b.test`)) && (((Path(`/api`) || PathPrefix(`/api/`)) && Header(`X-Env`, `prod`) && Method(`GET`)) || (Path(`/health`) && QueryRegexp(`v`, `^[0-9]+$`)))")
        #expect(builder().ruleText(HTTPRoute.Rule(), hosts: []) == "PathPrefix(`/`)")
    }
}
