import Foundation
import SwitchyardConfig
import SwitchyardDockerProvider
import SwitchyardProviderKit
import Testing

/// A running container on the default bridge network at 172.17.0.x (addresses are only computed, never dialled).
private func container(
    _ name: String, _ labels: [String: String], ports: [Int] = [80], address: String = "172.17.0.2",
    state: String = "running", health: String? = nil, networkMode: String = "bridge",
    networks: [String: DockerContainer.Network]? = nil
) -> DockerContainer {
    DockerContainer(
        id: "id-\(name)", name: name, labels: labels, state: state, health: health, networkMode: networkMode,
        networks: networks ?? ["bridge": .init(ipAddress: address)], ports: ports.map { .init(number: $0) })
}

private func build(_ containers: [DockerContainer], options: DockerProviderOptions = DockerProviderOptions()) -> ProviderSnapshot {
    DockerConfigurationBuilder(options: options).build(containers)
}

private func servers(_ snapshot: ProviderSnapshot, _ service: String) -> [String] {
    snapshot.configuration.http?.services?[service]?.loadBalancer?.servers?.compactMap(\.url) ?? []
}

@Suite struct LabelGrammarTests {
    @Test func routerServiceAndMiddlewareLabelsBecomeTheModel() {
        let snapshot = build([container("web", [
            "traefik.http.routers.app.rule": "Host(`app.test`) && PathPrefix(`/api`)",
            "traefik.http.routers.app.entrypoints": "web, websecure",
            "traefik.http.routers.app.middlewares": "strip-api,secure@file",
            "traefik.http.routers.app.priority": "42",
            "traefik.http.routers.app.tls.certresolver": "le",
            "traefik.http.routers.app.tls.domains[0].main": "app.test",
            "traefik.http.routers.app.tls.domains[0].sans": "a.app.test,b.app.test",
            "traefik.http.middlewares.strip-api.stripprefix.prefixes": "/api,/v1",
            "traefik.http.middlewares.hdr.headers.customrequestheaders.X-Team": "blue",
            "traefik.http.services.app.loadbalancer.server.port": "8080",
            "traefik.http.services.app.loadbalancer.healthcheck.path": "/healthz",
            "traefik.http.services.app.loadbalancer.sticky.cookie": "true",
        ])])
        #expect(snapshot.issues == [])
        let router = snapshot.configuration.http?.routers?["app"]
        #expect(router?.rule == "Host(`app.test`) && PathPrefix(`/api`)")
        #expect(router?.entryPoints == ["web", "websecure"])
        #expect(router?.middlewares == ["strip-api", "secure@file"])
        #expect(router?.priority == 42)
        #expect(router?.service == "app")
        #expect(router?.tls?.certResolver == "le")
        #expect(router?.tls?.domains?.first?.main == "app.test")
        #expect(router?.tls?.domains?.first?.sans == ["a.app.test", "b.app.test"])
        #expect(snapshot.configuration.http?.middlewares?["strip-api"]?.stripPrefix?.prefixes == ["/api", "/v1"])
        #expect(snapshot.configuration.http?.middlewares?["hdr"]?.headers?.customRequestHeaders == ["X-Team": "blue"])
        let balancer = snapshot.configuration.http?.services?["app"]?.loadBalancer
        #expect(balancer?.servers?.map(\.url) == ["http://172.17.0.2:8080"])
        #expect(balancer?.healthCheck?.path == "/healthz")
        #expect(balancer?.sticky?.cookie != nil)
    }

    @Test func keysIgnoreLetterCase() {
        let snapshot = build([container("web", [
            "traefik.HTTP.Routers.App.Rule": "Host(`a.test`)",
            "traefik.http.services.App.LoadBalancer.Server.Port": "81",
        ])])
        #expect(snapshot.configuration.http?.routers?["App"]?.rule == "Host(`a.test`)")
        #expect(servers(snapshot, "App") == ["http://172.17.0.2:81"])
    }

    @Test func switchyardPrefixWinsOverTraefikAndTraefikLabelsCanBeOff() {
        let labels = [
            "traefik.http.routers.r.rule": "Host(`theirs.test`)",
            "switchyard.http.routers.r.rule": "Host(`ours.test`)",
            "traefik.http.routers.r.priority": "7",
        ]
        let both = build([container("web", labels)])
        #expect(both.configuration.http?.routers?["r"]?.rule == "Host(`ours.test`)")
        #expect(both.configuration.http?.routers?["r"]?.priority == 7)
        var options = DockerProviderOptions()
        options.traefikLabels = false
        let ours = build([container("web", labels)], options: options)
        #expect(ours.configuration.http?.routers?["r"]?.rule == "Host(`ours.test`)")
        #expect(ours.configuration.http?.routers?["r"]?.priority == nil)
        let none = build([container("web", ["traefik.http.routers.r.rule": "Host(`x.test`)"])], options: options)
        #expect(none.configuration.http?.routers?["r"] == nil)
        #expect(none.configuration.http?.routers?["web"]?.rule == "Host(`web`)")
    }

    @Test func tcpAndUDPLabelsAreReadAndSuppressTheDefaultHTTPRouter() {
        let snapshot = build([container("db", [
            "traefik.tcp.routers.pg.rule": "HostSNI(`db.test`)",
            "traefik.tcp.routers.pg.tls.passthrough": "true",
            "traefik.tcp.services.pg.loadbalancer.server.port": "5432",
            "traefik.udp.routers.dns.entrypoints": "dns",
            "traefik.udp.services.dns.loadbalancer.server.port": "53",
        ], ports: [5432])])
        #expect(snapshot.issues == [])
        #expect(snapshot.configuration.tcp?.routers?["pg"]?.service == "pg")
        #expect(snapshot.configuration.tcp?.routers?["pg"]?.tls?.passthrough == true)
        #expect(snapshot.configuration.tcp?.services?["pg"]?.loadBalancer?.servers?.first?.address == "172.17.0.2:5432")
        #expect(snapshot.configuration.udp?.routers?["dns"]?.service == "dns")
        #expect(snapshot.configuration.udp?.services?["dns"]?.loadBalancer?.servers?.first?.address == "172.17.0.2:53")
        #expect(snapshot.configuration.http == nil)
    }

    @Test func unknownKeysAreErrorsNamingContainerAndLabel() {
        let snapshot = build([container("web", [
            "traefik.http.routers.r.rule": "Host(`a.test`)",
            "traefik.http.routers.r.rul": "Host(`b.test`)",
            "traefik.htp.routers.x.rule": "Host(`c.test`)",
        ])])
        let router = snapshot.rejected[ResourceKey(.httpRouter, "r")]
        #expect(router?.location.source == "container web label traefik.http.routers.r.rul")
        #expect(router?.message.contains("did you mean 'rule'") == true)
        let top = snapshot.issues.first { $0.location.source.hasSuffix("traefik.htp.routers.x.rule") }
        #expect(top?.message.contains("did you mean 'http'") == true)
    }

    @Test func nonNumericPortRejectsTheServiceAndNamesTheLabel() {
        let snapshot = build([container("web", [
            "traefik.http.routers.r.rule": "Host(`a.test`)",
            "traefik.http.services.s.loadbalancer.server.port": "eighty",
        ])])
        let issue = snapshot.rejected[ResourceKey(.httpService, "s")]
        #expect(issue?.location.source == "container web label traefik.http.services.s.loadbalancer.server.port")
        #expect(issue?.message.contains("'eighty'") == true)
        // The router still names the service (it is disabled with the service's error downstream).
        #expect(snapshot.configuration.http?.routers?["r"]?.service == "s")
        #expect(snapshot.configuration.http?.services?["s"] == nil)
    }

    @Test func labelsCannotDefineCompositeServicesOrTransports() {
        let snapshot = build([container("web", [
            "traefik.http.services.canary.weighted.services[0].name": "a",
            "traefik.http.serverstransports.t.insecureskipverify": "true",
            "traefik.http.routers.r.rule": "Host(`a.test`)",
            "traefik.http.routers.r.service": "canary",
        ])])
        #expect(snapshot.rejected[ResourceKey(.httpService, "canary")]?.message.contains("@file") == true)
        #expect(snapshot.issues.contains { $0.message.contains("servers transports cannot be set by labels") })
    }
}

@Suite struct InferenceTests {
    @Test func aContainerWithoutLabelsGetsTheDefaultRouterAndService() {
        let snapshot = build([container("my_web.1", [:])])
        #expect(snapshot.configuration.http?.routers?["my-web-1"]?.rule == "Host(`my-web-1`)")
        #expect(snapshot.configuration.http?.routers?["my-web-1"]?.service == "my-web-1")
        #expect(servers(snapshot, "my-web-1") == ["http://172.17.0.2:80"])
    }

    @Test func composeServiceAndProjectNameTheDefaults() {
        let snapshot = build([container("shop-web-1", [
            "com.docker.compose.service": "web", "com.docker.compose.project": "shop",
        ])])
        #expect(snapshot.configuration.http?.routers?["web-shop"]?.rule == "Host(`web-shop`)")
    }

    @Test func defaultRuleIsATemplateOverNameAndLabels() throws {
        var options = DockerProviderOptions()
        options.defaultRule = try DefaultRuleTemplate(
            #"Host(`{{ index .Labels "app.domain" | default "fallback.test" }}`) || Host(`{{ .Name | upper }}.{{ .ContainerName }}`)"#)
        let snapshot = build([container("c1", ["app.domain": "shop.test"])], options: options)
        #expect(snapshot.configuration.http?.routers?["c1"]?.rule == "Host(`shop.test`) || Host(`C1.c1`)")
        let fallback = build([container("c2", [:])], options: options)
        #expect(fallback.configuration.http?.routers?["c2"]?.rule == "Host(`fallback.test`) || Host(`C2.c2`)")
    }

    @Test func badTemplatesAreStartupErrors() {
        #expect(throws: DefaultRuleTemplate.TemplateError.self) { try DefaultRuleTemplate("Host(`{{ normalise .Name }}`)") }
        #expect(throws: DefaultRuleTemplate.TemplateError.self) { try DefaultRuleTemplate("Host(`{{ .Nam }}`)") }
        #expect(throws: DefaultRuleTemplate.TemplateError.self) { try DefaultRuleTemplate("Host(`{{ .Name `)") }
        #expect(DefaultRuleTemplate.normalize("--a__b..c--") == "a-b-c")
    }

    @Test func aRouterWithoutServiceGetsTheOnlyServiceOrIsRejected() {
        let one = build([container("web", [
            "traefik.http.routers.a.rule": "Host(`a.test`)",
            "traefik.http.services.svc.loadbalancer.server.port": "9000",
        ])])
        #expect(one.configuration.http?.routers?["a"]?.service == "svc")
        let two = build([container("web", [
            "traefik.http.routers.a.rule": "Host(`a.test`)",
            "traefik.http.services.s1.loadbalancer.server.port": "9000",
            "traefik.http.services.s2.loadbalancer.server.port": "9001",
        ])])
        #expect(two.configuration.http?.routers?["a"] == nil)
        #expect(two.rejected[ResourceKey(.httpRouter, "a")]?.message.contains("2 services") == true)
        let noRouter = build([container("web", [
            "traefik.http.services.s1.loadbalancer.server.port": "9000",
            "traefik.http.services.s2.loadbalancer.server.port": "9001",
        ])])
        #expect(noRouter.configuration.http?.routers == nil)
        #expect(noRouter.issues.contains { $0.message.contains("could not create a router") })
    }

    @Test func routerLabelsWithoutRuleGetTheDefaultRule() {
        let snapshot = build([container("web", ["traefik.http.routers.r.entrypoints": "web"])])
        #expect(snapshot.configuration.http?.routers?["r"]?.rule == "Host(`web`)")
        #expect(snapshot.configuration.http?.routers?["r"]?.service == "web")
    }

    @Test func portComesFromTheLabelElseTheLowestExposedPortElseAnError() {
        let labelled = build([container("web", ["traefik.http.services.s.loadbalancer.server.port": "9000"], ports: [80, 443])])
        #expect(servers(labelled, "s") == ["http://172.17.0.2:9000"])
        let several = build([container("web", [:], ports: [443, 8080, 80])])
        #expect(servers(several, "web") == ["http://172.17.0.2:80"])
        #expect(several.issues.contains { $0.severity == .warning && $0.message.contains("several ports") })
        let none = build([container("web", [:], ports: [])])
        #expect(none.configuration.http?.services?["web"] == nil)
        #expect(none.rejected[ResourceKey(.httpService, "web")]?.message.contains("port is missing") == true)
        #expect(none.configuration.http?.routers?["web"]?.service == "web")
    }

    @Test func exposedPortsOfHostNetworkContainersComeFromTheImageConfig() throws {
        let json = Data(#"""
            {"Id":"abc","Name":"/hostnet","State":{"Status":"running"},
             "Config":{"Labels":{"a":"b"},"ExposedPorts":{"8080/tcp":{},"9090/tcp":{}}},
             "HostConfig":{"NetworkMode":"host"},
             "NetworkSettings":{"Ports":{},"Networks":{"host":{"IPAddress":""}}}}
            """#.utf8)
        let parsed = try DockerContainer(inspectJSON: json)
        #expect(parsed.name == "hostnet")
        #expect(parsed.ports.map(\.number) == [8080, 9090])
        #expect(parsed.networkMode == "host")
        let snapshot = build([parsed])
        #expect(servers(snapshot, "hostnet") == ["http://127.0.0.1:8080"])
    }

    @Test func schemeURLWeightAndExclusivity() {
        let https = build([container("web", [
            "traefik.http.services.s.loadbalancer.server.port": "8443",
            "traefik.http.services.s.loadbalancer.server.scheme": "https",
            "traefik.http.services.s.loadbalancer.server.weight": "3",
        ])])
        #expect(https.configuration.http?.services?["s"]?.loadBalancer?.servers == [LoadBalancerServer(url: "https://172.17.0.2:8443", weight: 3)])
        let url = build([container("web", ["traefik.http.services.s.loadbalancer.server.url": "http://10.1.2.3:81"])])
        #expect(servers(url, "s") == ["http://10.1.2.3:81"])
        let both = build([container("web", [
            "traefik.http.services.s.loadbalancer.server.url": "http://10.1.2.3:81",
            "traefik.http.services.s.loadbalancer.server.port": "81",
        ])])
        #expect(both.rejected[ResourceKey(.httpService, "s")]?.message.contains("url cannot be combined") == true)
    }

    @Test func networkFromLabelOrOptionElseTheFirstOne() {
        let networks: [String: DockerContainer.Network] = [
            "a_front": .init(ipAddress: "172.20.0.5"), "b_back": .init(ipAddress: "172.21.0.5"),
        ]
        let first = build([container("web", [:], networks: networks)])
        #expect(servers(first, "web") == ["http://172.20.0.5:80"])
        let labelled = build([container("web", ["traefik.docker.network": "b_back"], networks: networks)])
        #expect(servers(labelled, "web") == ["http://172.21.0.5:80"])
        var options = DockerProviderOptions()
        options.network = "b_back"
        #expect(servers(build([container("web", [:], networks: networks)], options: options), "web") == ["http://172.21.0.5:80"])
        let missing = build([container("web", ["traefik.docker.network": "back"], networks: networks)])
        #expect(servers(missing, "web") == ["http://172.20.0.5:80"])
        #expect(missing.issues.contains { $0.severity == .warning && $0.message.contains("prefix") })
        let v6 = build([container("web", [:], networks: ["n": .init(ipAddress: "", globalIPv6Address: "fd00::5")])])
        #expect(servers(v6, "web") == ["http://[fd00::5]:80"])
    }

    @Test func sharedNetworkNamespaceAndBindPortIP() {
        let main = container("main", ["traefik.enable": "false"], address: "172.17.0.9")
        let sidecar = container("sidecar", [:], networkMode: "container:id-main", networks: [:])
        #expect(servers(build([main, sidecar]), "sidecar") == ["http://172.17.0.9:80"])
        var bound = container("web", [:])
        bound.ports = [.init(number: 80, bindings: [.init(hostIP: "127.0.0.1", hostPort: "18080")])]
        var options = DockerProviderOptions()
        options.useBindPortIP = true
        #expect(servers(build([bound], options: options), "web") == ["http://127.0.0.1:18080"])
        bound.ports = [.init(number: 80, bindings: [.init(hostIP: "0.0.0.0", hostPort: "18080")])]
        #expect(servers(build([bound], options: options), "web") == ["http://172.17.0.2:80"])
    }

    @Test func enableExposedByDefaultAndConstraints() throws {
        var options = DockerProviderOptions()
        #expect(build([container("off", ["traefik.enable": "false"])]).configuration.http == nil)
        options.exposedByDefault = false
        #expect(build([container("plain", [:])], options: options).configuration.http == nil)
        #expect(build([container("on", ["switchyard.enable": "true"])], options: options).configuration.http?.routers?["on"] != nil)
        let bad = build([container("typo", ["traefik.enable": "yes"])])
        #expect(bad.issues.first?.location.source == "container typo label traefik.enable")
        options = DockerProviderOptions()
        options.constraints = try LabelConstraint("Label(`team`, `web`) && !LabelRegex(`env`, `^test`)")
        let picked = build([
            container("a", ["team": "web", "env": "prod"]),
            container("b", ["team": "web", "env": "testing"]),
            container("c", ["team": "db"]),
        ], options: options)
        #expect(picked.configuration.http?.routers?.keys.sorted() == ["a"])
        #expect(throws: RuleSyntaxError.self) { try LabelConstraint("Label(`traefik.enable`, `true`)") }
        #expect(throws: RuleSyntaxError.self) { try LabelConstraint("Labels(`a`, `b`)") }
    }

    @Test func unhealthyStartingAndStoppedContainersAreLeftOutUnlessAllowed() {
        let containers = [
            container("ok", [:], health: "healthy"),
            container("starting", [:], health: "starting"),
            container("sick", [:], health: "unhealthy"),
            container("stopped", [:], state: "exited"),
            container("kept", ["traefik.docker.allownonrunning": "true"], state: "exited"),
        ]
        let strict = build(containers)
        #expect(strict.configuration.http?.routers?.keys.sorted() == ["kept", "ok"])
        #expect(servers(strict, "kept") == [])
        var options = DockerProviderOptions()
        options.allowEmptyServices = true
        let lenient = build(containers, options: options)
        #expect(lenient.configuration.http?.routers?.keys.sorted() == ["kept", "ok", "sick", "starting"])
        #expect(servers(lenient, "sick") == [])
        #expect(servers(lenient, "ok") == ["http://172.17.0.2:80"])
    }

    @Test func replicasMergeIntoOneServiceAndConflictsAreDropped() {
        let labels = [
            "traefik.http.routers.app.rule": "Host(`app.test`)",
            "traefik.http.services.app.loadbalancer.server.port": "80",
        ]
        let snapshot = build([
            container("app-1", labels, address: "172.17.0.2"),
            container("app-2", labels, address: "172.17.0.3"),
            container("app-3", labels, address: "172.17.0.4"),
        ])
        #expect(servers(snapshot, "app") == ["http://172.17.0.2:80", "http://172.17.0.3:80", "http://172.17.0.4:80"])
        #expect(snapshot.issues == [])
        var other = labels
        other["traefik.http.routers.app.rule"] = "Host(`other.test`)"
        let conflict = build([container("app-1", labels), container("app-2", other, address: "172.17.0.3")])
        #expect(conflict.configuration.http?.routers?["app"] == nil)
        #expect(conflict.rejected[ResourceKey(.httpRouter, "app")]?.message.contains("app-1 and app-2") == true)
        #expect(servers(conflict, "app").count == 2)
    }

    @Test func originsPointAtTheLabels() {
        let snapshot = build([container("web", ["traefik.http.routers.r.rule": "Host(`a.test`)"])])
        #expect(snapshot.origins[ResourceKey(.httpRouter, "r", field: "rule")]?.source == "container web label traefik.http.routers.r.rule")
        #expect(snapshot.origins[ResourceKey(.httpService, "web")]?.source == "container web")
    }
}
