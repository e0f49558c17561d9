"""The Kubernetes Ingress provider against the test API server (kube_api.py): list + watch over TLS with a bearer
token, Ingress → Service → EndpointSlice → pods (whoami on 127.0.0.x), live changes, 410 Gone, a wrong token."""

import json
import threading
import time

from harness import E2ETestCase, request, wait_until

try:
    from kube_api import KubeAPIServer
except ImportError:  # the module lands with its own tests
    KubeAPIServer = None


def service(namespace, name, port=80, port_name="http"):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": namespace, "name": name},
            "spec": {"type": "ClusterIP", "ports": [{"name": port_name, "port": port, "targetPort": port_name,
                                                     "protocol": "TCP"}]}}


def endpoint_slice(namespace, service_name, pods, port_name="http", name=None):
    """pods: [(whoami, ready)]"""
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"namespace": namespace, "name": name or service_name + "-abcde",
                         "labels": {"kubernetes.io/service-name": service_name}},
            "endpoints": [{"addresses": [pod.host], "conditions": {"ready": ready, "serving": ready, "terminating": False}}
                          for pod, ready in pods],
            "ports": [{"name": port_name, "port": pods[0][0].port if pods else 80, "protocol": "TCP"}]}


def ingress(namespace, name, host, path, service_name, port_name="http", path_type="Prefix", annotations=None,
            class_name=None):
    spec = {"rules": [{"host": host, "http": {"paths": [
        {"path": path, "pathType": path_type,
         "backend": {"service": {"name": service_name, "port": {"name": port_name}}}}]}}]}
    if class_name:
        spec["ingressClassName"] = class_name
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"namespace": namespace, "name": name, "annotations": annotations or {}}, "spec": spec}


class KubernetesIngressTests(E2ETestCase):

    def setUp(self):
        if KubeAPIServer is None:
            self.skipTest("Tests/e2e/kube_api.py is missing")
        super(KubernetesIngressTests, self).setUp()
        self.api = KubeAPIServer(self.tmp)
        self.api.start()
        self.addCleanup(self.api.stop)

    def pods(self, count, first=2):
        # Pods on their own loopback addresses, all on one port, as a Service's endpoints are.
        port = None
        pods = []
        for index in range(count):
            pod = self.start_whoami("pod-%d" % (first + index), host="127.0.0.%d" % (first + index), port=port)
            port = pod.port
            pods.append(pod)
        return pods

    def start_k8s_proxy(self, extra=()):
        proxy = self.start_proxy(dyn_dir=None, extra_args=[
            "--providers.kubernetesIngress.endpoint=%s" % self.api.url,
            "--providers.kubernetesIngress.token=%s" % self.api.token,
            "--providers.kubernetesIngress.certAuthFilePath=%s" % self.api.ca_path,
            "--providers.kubernetesIngress.throttleDuration=0s"] + list(extra))
        return proxy

    def test_80a_an_ingress_routes_to_its_pods_and_follows_changes_within_a_second(self):
        pod, = self.pods(1)
        self.api.apply(service("shop", "web"))
        self.api.apply(endpoint_slice("shop", "web", [(pod, True)]))
        self.api.apply(ingress("shop", "front", "shop.test", "/", "web"))
        proxy = self.start_k8s_proxy()
        self.assertWhoami(proxy.wait_status("shop.test", 200, timeout=10), "pod-2")
        data = proxy.rawdata()
        names = [n for n in data["routers"] if n.endswith("@kubernetes")]
        self.assertEqual(len(names), 1, names)
        self.assertEqual(data["routers"][names[0]]["rule"], "Host(`shop.test`)")
        # Modified: the path moves; within a second the old one is gone.
        started = time.monotonic()
        self.api.apply(ingress("shop", "front", "shop.test", "/api", "web"))
        proxy.wait_status("shop.test", 404, path="/", timeout=1.0)
        self.assertEqual(proxy.get("/api/x", host="shop.test").status, 200)
        # Deleted: gone within a second.
        self.api.delete("networking.k8s.io/v1", "Ingress", "shop", "front")
        proxy.wait_status("shop.test", 404, path="/api/x", timeout=1.0)
        self.assertLess(time.monotonic() - started, 5)

    def test_80b_endpoints_scale_out_and_a_not_ready_one_leaves_without_failures(self):
        pods = self.pods(3)
        self.api.apply(service("shop", "web"))
        self.api.apply(endpoint_slice("shop", "web", [(pods[0], True)]))
        self.api.apply(ingress("shop", "front", "shop.test", "/", "web"))
        proxy = self.start_k8s_proxy()
        proxy.wait_status("shop.test", 200, timeout=10)
        self.api.apply(endpoint_slice("shop", "web", [(p, True) for p in pods]))

        def spread():
            seen = {proxy.get("/", host="shop.test").text.split("Hostname: ")[1].split()[0] for _ in range(9)}
            return seen if len(seen) == 3 else None
        wait_until(spread, 5.0, interval=0.1, message="load spread over 3 pods")
        # Under load, pod-4 turns not ready: no request fails, and it gets no more.
        failures, stop = [], threading.Event()

        def load():
            deadline = time.monotonic() + 10
            while not stop.is_set() and time.monotonic() < deadline:
                r = proxy.get("/", host="shop.test")
                if r.status != 200:
                    failures.append(r.status)
        worker = threading.Thread(target=load, daemon=True)
        worker.start()
        time.sleep(0.3)
        self.api.apply(endpoint_slice("shop", "web", [(pods[0], True), (pods[1], True), (pods[2], False)]))
        wait_until(lambda: all("pod-4" not in proxy.get("/", host="shop.test").text for _ in range(6)), 5.0,
                   message="pod-4 out of the rotation")
        stop.set()
        worker.join(15)
        self.assertEqual(failures, [])

    def test_80c_a_cut_watch_and_410_gone_relist_without_loss_or_duplicates(self):
        pod, = self.pods(1)
        self.api.apply(service("shop", "web"))
        self.api.apply(endpoint_slice("shop", "web", [(pod, True)]))
        self.api.apply(ingress("shop", "one", "one.test", "/", "web"))
        proxy = self.start_k8s_proxy()
        proxy.wait_status("one.test", 200, timeout=10)
        self.api.wait_for_watchers(5, 10)
        lists_before = len([r for r in self.api.requests if r[0] == "GET" and "watch" not in r[2]])
        # Changes while no watch is open, then the history is compacted: resuming from the old version gives 410.
        self.api.apply(ingress("shop", "two", "two.test", "/", "web"))
        self.api.delete("networking.k8s.io/v1", "Ingress", "shop", "one")
        self.api.compact()
        self.api.cut_watches(graceful=True)
        proxy.wait_status("two.test", 200, timeout=10)
        proxy.wait_status("one.test", 404, timeout=5)
        lists_after = len([r for r in self.api.requests if r[0] == "GET" and "watch" not in r[2]])
        self.assertGreater(lists_after, lists_before, "listed again after the watch was lost")
        self.assertIn("410 Gone", proxy.log(), "the resumed watch was answered 410 Gone")
        routers = [n for n in proxy.rawdata()["routers"] if n.endswith("@kubernetes")]
        self.assertEqual(len(routers), 1, routers)

    def test_80d_a_wrong_token_is_a_clear_error_and_the_last_view_stays(self):
        pod, = self.pods(1)
        self.api.apply(service("shop", "web"))
        self.api.apply(endpoint_slice("shop", "web", [(pod, True)]))
        self.api.apply(ingress("shop", "front", "shop.test", "/", "web"))
        proxy = self.start_k8s_proxy()
        proxy.wait_status("shop.test", 200, timeout=10)
        self.api.token = "rotated-elsewhere"
        self.api.cut_watches()
        data = proxy.wait_rawdata(lambda d: any("401" in e.get("message", "") for e in d.get("errors", [])),
                                  timeout=10, message="the 401 reported")
        message = next(e["message"] for e in data["errors"] if "401" in e["message"])
        self.assertIn("Unauthorized", message)
        self.assertEqual(proxy.get("/", host="shop.test").status, 200, "the last good view stays")

    def test_80e_classes_decide_which_ingresses_are_served(self):
        pod, = self.pods(1)
        self.api.apply(service("shop", "web"))
        self.api.apply(endpoint_slice("shop", "web", [(pod, True)]))
        self.api.apply({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "switchyard"},
                        "spec": {"controller": "switchyard.dev/ingress-controller"}})
        self.api.apply({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
                        "spec": {"controller": "k8s.io/ingress-nginx"}})
        self.api.apply(ingress("shop", "ours", "ours.test", "/", "web", class_name="switchyard"))
        self.api.apply(ingress("shop", "classless", "classless.test", "/", "web"))
        self.api.apply(ingress("shop", "theirs", "theirs.test", "/", "web", class_name="nginx"))
        self.api.apply(ingress("shop", "exact", "exact.test", "/only", "web", path_type="Exact",
                               annotations={"traefik.ingress.kubernetes.io/router.priority": "42"}))
        self.api.apply(ingress("shop", "broken", "broken.test", "/", "missing"))
        proxy = self.start_k8s_proxy()
        proxy.wait_status("ours.test", 200, timeout=10)
        self.assertEqual(proxy.get("/", host="classless.test").status, 200)
        self.assertEqual(proxy.get("/", host="theirs.test").status, 404)
        self.assertEqual(proxy.get("/only", host="exact.test").status, 200)
        self.assertEqual(proxy.get("/only/not", host="exact.test").status, 404)
        data = proxy.rawdata()
        exact = next(r for n, r in data["routers"].items() if n.startswith("shop-exact"))
        self.assertEqual((exact["rule"], exact["priority"]), ("Host(`exact.test`) && Path(`/only`)", 42))
        issue = next(e for e in data["errors"] if "missing" in e["message"])
        self.assertIn("Ingress shop/broken", str(issue["location"]))
        self.assertIn("spec.rules[0].http.paths[0].backend.service.name", issue.get("keyPath", ""))


    def test_80f_served_ingresses_get_the_endpoint_in_their_status(self):
        pod, = self.pods(1)
        self.api.apply(service("shop", "web"))
        self.api.apply(endpoint_slice("shop", "web", [(pod, True)]))
        self.api.apply({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
                        "spec": {"controller": "k8s.io/ingress-nginx"}})
        self.api.apply(ingress("shop", "front", "shop.test", "/", "web"))
        self.api.apply(ingress("shop", "theirs", "theirs.test", "/", "web", class_name="nginx"))
        proxy = self.start_k8s_proxy(extra=["--providers.kubernetesIngress.ingressEndpoint.ip=192.0.2.10"])
        proxy.wait_status("shop.test", 200, timeout=10)

        def written():
            status = (self.api.get("networking.k8s.io/v1", "Ingress", "shop", "front") or {}).get("status") or {}
            return status if status.get("loadBalancer", {}).get("ingress") else None
        status = wait_until(written, 10.0, message="the Ingress status written")
        self.assertEqual(status["loadBalancer"]["ingress"], [{"ip": "192.0.2.10"}])
        theirs = self.api.get("networking.k8s.io/v1", "Ingress", "shop", "theirs")
        self.assertFalse((theirs.get("status") or {}).get("loadBalancer", {}).get("ingress"), "not ours: untouched")
        # Written once, not on every change.
        self.api.apply(ingress("shop", "other", "other.test", "/", "web"))
        proxy.wait_status("other.test", 200, timeout=5)
        time.sleep(0.5)
        writes = [u for u in self.api.status_updates if u.get("name") == "front"]
        self.assertEqual(len(writes), 1, writes)


def ingress_route(namespace, name, match, services, middlewares=None, group="switchyard.dev", entry_points=None, tls=None):
    route = {"match": match, "kind": "Rule", "services": services}
    if middlewares:
        route["middlewares"] = middlewares
    spec = {"routes": [route]}
    if entry_points:
        spec["entryPoints"] = entry_points
    if tls:
        spec["tls"] = tls
    return {"apiVersion": "%s/v1alpha1" % group, "kind": "IngressRoute",
            "metadata": {"namespace": namespace, "name": name}, "spec": spec}


class KubernetesCRDTests(E2ETestCase):

    def setUp(self):
        if KubeAPIServer is None:
            self.skipTest("Tests/e2e/kube_api.py is missing")
        E2ETestCase.setUp(self)

    def start_api(self, **kw):
        self.api = KubeAPIServer(self.tmp, **kw)
        self.api.start()
        self.addCleanup(self.api.stop)
        return self.api

    def pod_service(self, namespace, name, count=1, first=2):
        pods, port = [], None
        for index in range(count):
            pod = self.start_whoami("%s-%d" % (name, index), host="127.0.0.%d" % (first + index), port=port)
            port = pod.port
            pods.append(pod)
        self.api.apply(service(namespace, name))
        self.api.apply(endpoint_slice(namespace, name, [(p, True) for p in pods]))
        return pods

    def start_crd_proxy(self, extra=()):
        return self.start_proxy(dyn_dir=None, extra_args=[
            "--providers.kubernetesCRD.endpoint=%s" % self.api.url,
            "--providers.kubernetesCRD.token=%s" % self.api.token,
            "--providers.kubernetesCRD.certAuthFilePath=%s" % self.api.ca_path,
            "--providers.kubernetesCRD.throttleDuration=0s"] + list(extra))

    def test_81a_an_ingress_route_with_a_middleware_and_a_weighted_traefik_service(self):
        self.start_api()
        self.pod_service("shop", "blue", first=2)
        self.pod_service("shop", "green", first=3)
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "Middleware",
                        "metadata": {"namespace": "shop", "name": "strip"},
                        "spec": {"stripPrefix": {"prefixes": ["/shop"]}}})
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "TraefikService",
                        "metadata": {"namespace": "shop", "name": "canary"},
                        "spec": {"weighted": {"services": [{"name": "blue", "port": "http", "weight": 3},
                                                           {"name": "green", "port": "http", "weight": 1}],
                                              "sticky": {"cookie": {"name": "shop", "httpOnly": True}}}}})
        self.api.apply(ingress_route("shop", "front", "Host(`shop.test`) && PathPrefix(`/shop`)",
                                     [{"name": "canary", "kind": "TraefikService"}],
                                     middlewares=[{"name": "strip"}]))
        proxy = self.start_crd_proxy()
        first = proxy.wait_status("shop.test", 200, path="/shop/cart", timeout=10)
        self.assertIn("GET /cart ", first.text, "stripPrefix from the Middleware")
        hosts = [proxy.get("/shop/x", host="shop.test").text.split("Hostname: ")[1].split()[0] for _ in range(8)]
        self.assertEqual((hosts.count("blue-0"), hosts.count("green-0")), (6, 2), hosts)
        # spec.weighted.sticky: the cookie holds a client on one child
        r = proxy.get("/shop/x", host="shop.test")
        cookie = r.header("Set-Cookie")
        self.assertTrue(cookie and cookie.startswith("shop=") and "HttpOnly" in cookie, cookie)
        held = {proxy.get("/shop/x", host="shop.test", headers={"Cookie": cookie.split(";")[0]}).text.split(
            "Hostname: ")[1].split()[0] for _ in range(6)}
        self.assertEqual(held, {r.text.split("Hostname: ")[1].split()[0]})
        data = proxy.rawdata()
        router = next(r for n, r in data["routers"].items() if n.startswith("shop-front-"))
        self.assertEqual(router["middlewares"], ["shop-strip@kubernetescrd"])
        # Modified and deleted within a second.
        self.api.apply(ingress_route("shop", "front", "Host(`shop2.test`)", [{"name": "blue", "port": 80}]))
        proxy.wait_status("shop2.test", 200, timeout=1.0)
        proxy.wait_status("shop.test", 404, path="/shop/x", timeout=1.0)
        self.api.delete("switchyard.dev/v1alpha1", "IngressRoute", "shop", "front")
        proxy.wait_status("shop2.test", 404, timeout=1.0)

    def test_81b_traefik_io_objects_are_read_and_an_unserved_group_is_no_error(self):
        self.start_api(exclude_groups=["switchyard.dev"])
        self.pod_service("default", "web")
        self.api.apply(ingress_route("default", "legacy", "Host(`legacy.test`)", [{"name": "web", "port": "http"}],
                                     group="traefik.io"))
        proxy = self.start_crd_proxy()
        self.assertWhoami(proxy.wait_status("legacy.test", 200, timeout=10), "web-0")
        errors = [e for e in proxy.rawdata().get("errors", []) if "kubernetesCRD" in str(e.get("location"))]
        self.assertEqual(errors, [], "a group the server does not serve is not an error")

    def test_81c_cross_namespace_references_need_allow_cross_namespace(self):
        self.start_api()
        self.pod_service("backend", "api")
        self.api.apply(ingress_route("front", "far", "Host(`far.test`)",
                                     [{"name": "api", "namespace": "backend", "port": "http"}]))
        proxy = self.start_crd_proxy()
        data = proxy.wait_rawdata(lambda d: any("allowCrossNamespace" in e.get("message", "") for e in d.get("errors", [])),
                                  timeout=10, message="the refused reference")
        issue = next(e for e in data["errors"] if "allowCrossNamespace" in e["message"])
        self.assertIn("IngressRoute front/far", str(issue["location"]))
        self.assertEqual(issue["keyPath"], "spec.routes[0].services[0].namespace")
        self.assertEqual(proxy.get("/", host="far.test").status, 404)
        allowed = self.start_crd_proxy(extra=["--providers.kubernetesCRD.allowCrossNamespace=true"])
        self.assertWhoami(allowed.wait_status("far.test", 200, timeout=10), "api-0")

    def test_81d_a_bad_middleware_names_the_object_and_the_field(self):
        self.start_api()
        self.pod_service("shop", "web")
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "Middleware",
                        "metadata": {"namespace": "shop", "name": "typo"},
                        "spec": {"stripPrefix": {"prefixs": ["/x"]}}})
        self.api.apply(ingress_route("shop", "uses-typo", "Host(`typo.test`)", [{"name": "web", "port": "http"}],
                                     middlewares=[{"name": "typo"}]))
        self.api.apply(ingress_route("shop", "fine", "Host(`fine.test`)", [{"name": "web", "port": "http"}]))
        proxy = self.start_crd_proxy()
        proxy.wait_status("fine.test", 200, timeout=10)
        data = proxy.rawdata()
        issue = next(e for e in data["errors"] if "prefixs" in e["message"])
        self.assertIn("Middleware shop/typo", str(issue["location"]))
        self.assertIn("prefixes", issue["message"], "the right key is suggested")
        self.assertEqual(proxy.get("/", host="typo.test").status, 404)


GATEWAY = "gateway.networking.k8s.io/v1"


def http_route(namespace, name, hostnames, rules, parent="edge", parent_namespace="infra", section=None):
    parent_ref = {"name": parent, "namespace": parent_namespace}
    if section:
        parent_ref["sectionName"] = section
    return {"apiVersion": GATEWAY, "kind": "HTTPRoute", "metadata": {"namespace": namespace, "name": name},
            "spec": {"parentRefs": [parent_ref], "hostnames": hostnames, "rules": rules}}


class KubernetesGatewayTests(E2ETestCase):

    def setUp(self):
        if KubeAPIServer is None:
            self.skipTest("Tests/e2e/kube_api.py is missing")
        super(KubernetesGatewayTests, self).setUp()
        self.api = KubeAPIServer(self.tmp)
        self.api.start()
        self.addCleanup(self.api.stop)

    def pods(self, namespace, name, count=1, first=2):
        pods, port = [], None
        for index in range(count):
            pod = self.start_whoami("%s-%d" % (name, index), host="127.0.0.%d" % (first + index), port=port)
            port = pod.port
            pods.append(pod)
        self.api.apply(service(namespace, name, port=8080))
        self.api.apply(endpoint_slice(namespace, name, [(p, True) for p in pods]))
        return pods

    def start_gateway_proxy(self, allowed_from="All"):
        from harness import free_port
        web_port = free_port()
        self.api.apply({"apiVersion": GATEWAY, "kind": "GatewayClass", "metadata": {"name": "switchyard"},
                        "spec": {"controllerName": "switchyard.dev/gateway-controller"}})
        self.api.apply({"apiVersion": GATEWAY, "kind": "Gateway", "metadata": {"namespace": "infra", "name": "edge"},
                        "spec": {"gatewayClassName": "switchyard", "listeners": [
                            {"name": "web", "port": web_port, "protocol": "HTTP",
                             "allowedRoutes": {"namespaces": {"from": allowed_from}}},
                            {"name": "nowhere", "port": 1, "protocol": "HTTP"}]}})
        return self.start_proxy(dyn_dir=None, web_port=web_port, extra_args=[
            "--providers.kubernetesGateway.endpoint=%s" % self.api.url,
            "--providers.kubernetesGateway.token=%s" % self.api.token,
            "--providers.kubernetesGateway.certAuthFilePath=%s" % self.api.ca_path,
            "--providers.kubernetesGateway.throttleDuration=0s"])

    def route_status(self, namespace, name, timeout=10.0):
        def written():
            obj = self.api.get(GATEWAY, "HTTPRoute", namespace, name) or {}
            parents = (obj.get("status") or {}).get("parents") or []
            return parents if parents else None
        parents = wait_until(written, timeout, message="HTTPRoute %s/%s status" % (namespace, name))
        return {c["type"]: c for c in parents[0]["conditions"]}

    def test_82a_an_http_route_routes_weighted_with_filters_and_statuses_are_written(self):
        self.pods("shop", "blue", first=2)
        self.pods("shop", "green", first=3)
        proxy = self.start_gateway_proxy()
        self.api.apply(http_route("shop", "front", ["shop.test"], [{
            "matches": [{"path": {"type": "PathPrefix", "value": "/app"}, "headers": [{"name": "X-Env", "value": "prod"}]}],
            "filters": [{"type": "RequestHeaderModifier",
                         "requestHeaderModifier": {"set": [{"name": "X-Routed-By", "value": "gateway"}]}}],
            "backendRefs": [{"name": "blue", "port": 8080, "weight": 3}, {"name": "green", "port": 8080, "weight": 1}]}]))
        def served():
            r = proxy.get("/app/x", host="shop.test", headers={"X-Env": "prod"})
            return r if r.status == 200 else None
        first = wait_until(served, 10.0, message="the HTTPRoute served")
        self.assertIn("X-Routed-By: gateway", first.text)
        self.assertEqual(proxy.get("/app/x", host="shop.test").status, 404, "the header match")
        self.assertEqual(proxy.get("/appx", host="shop.test", headers={"X-Env": "prod"}).status, 404,
                         "PathPrefix matches whole segments")
        hosts = [proxy.get("/app", host="shop.test", headers={"X-Env": "prod"}).text.split("Hostname: ")[1].split()[0]
                 for _ in range(8)]
        self.assertEqual((hosts.count("blue-0"), hosts.count("green-0")), (6, 2), hosts)
        conditions = self.route_status("shop", "front")
        self.assertEqual((conditions["Accepted"]["status"], conditions["ResolvedRefs"]["status"]), ("True", "True"))
        self.assertIn("lastTransitionTime", conditions["Accepted"])

        def gateway_status():
            status = (self.api.get(GATEWAY, "Gateway", "infra", "edge") or {}).get("status") or {}
            attached = {l["name"]: l["attachedRoutes"] for l in status.get("listeners", [])}
            return status if attached.get("web") == 1 else None
        status = wait_until(gateway_status, 10.0, message="the Gateway's status with the route attached")
        listeners = {l["name"]: l for l in status["listeners"]}
        self.assertEqual(listeners["web"]["attachedRoutes"], 1)
        self.assertEqual({c["type"]: c["status"] for c in listeners["web"]["conditions"]}["Programmed"], "True")
        self.assertEqual({c["type"]: c for c in listeners["nowhere"]["conditions"]}["Accepted"]["reason"], "PortUnavailable")
        accepted = (self.api.get(GATEWAY, "GatewayClass", None, "switchyard") or {}).get("status", {}).get("conditions", [])
        self.assertEqual([c["status"] for c in accepted if c["type"] == "Accepted"], ["True"])
        # Modified, then deleted: each within a second.
        self.api.apply(http_route("shop", "front", ["shop2.test"], [{"backendRefs": [{"name": "blue", "port": 8080}]}]))
        proxy.wait_status("shop2.test", 200, timeout=1.0)
        self.api.delete(GATEWAY, "HTTPRoute", "shop", "front")
        proxy.wait_status("shop2.test", 404, timeout=1.0)

    def test_82b_a_backend_in_another_namespace_needs_a_reference_grant(self):
        self.pods("backend", "api")
        proxy = self.start_gateway_proxy()
        self.api.apply(http_route("front", "far", ["far.test"], [{"backendRefs": [
            {"name": "api", "namespace": "backend", "port": 8080}]}]))
        conditions = self.route_status("front", "far")
        self.assertEqual((conditions["ResolvedRefs"]["status"], conditions["ResolvedRefs"]["reason"]),
                         ("False", "RefNotPermitted"))
        self.assertEqual(conditions["Accepted"]["status"], "True")
        # The route's status is written as the provider reads it, before the table with its router is live.
        self.assertEqual(proxy.wait_status("far.test", 500, timeout=5).status, 500,
                         "a rule with no usable backend answers 500")
        self.api.apply({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
                        "metadata": {"namespace": "backend", "name": "let-front-in"},
                        "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "front"}],
                                 "to": [{"group": "", "kind": "Service"}]}})
        self.assertWhoami(proxy.wait_status("far.test", 200, timeout=5), "api-0")
        wait_until(lambda: self.route_status("front", "far")["ResolvedRefs"]["status"] == "True", 5.0,
                   message="ResolvedRefs True once granted")

    def test_82c_redirect_and_rewrite_filters(self):
        self.pods("shop", "web")
        proxy = self.start_gateway_proxy()
        self.api.apply(http_route("shop", "moves", ["shop.test"], [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/old"}}],
             "filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}],
             "backendRefs": [{"name": "web", "port": 8080}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
             "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/api"}}}],
             "backendRefs": [{"name": "web", "port": 8080}]}]))
        r = proxy.wait_status("shop.test", 301, path="/old/page", timeout=10)
        self.assertEqual(r.header("Location"), "https://shop.test/old/page")
        r = proxy.wait_status("shop.test", 200, path="/v1/users", timeout=5)
        self.assertIn("GET /api/users ", r.text)


class KubernetesCRDTLSTests(E2ETestCase):
    """TLSOption and ServersTransport objects, with the CRD tests' helpers."""
    setUp = KubernetesCRDTests.setUp
    start_api = KubernetesCRDTests.start_api
    pod_service = KubernetesCRDTests.pod_service
    start_crd_proxy = KubernetesCRDTests.start_crd_proxy

    def test_81e_tls_option_and_servers_transport_objects(self):
        import base64
        import os
        from test_tls import CertificateAuthority, peer_subject
        self.start_api()
        self.pod_service("shop", "web")
        ca = CertificateAuthority(os.path.join(self.tmp, "ca"))
        cert, key = ca.issue("secure", "secure.test", sans=["secure.test"])

        def b64(path):
            with open(path, "rb") as f:
                return base64.b64encode(f.read()).decode()
        self.api.apply({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                        "metadata": {"namespace": "shop", "name": "secure-cert"},
                        "data": {"tls.crt": b64(cert), "tls.key": b64(key)}})
        self.api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "shop", "name": "origin-ca"},
                        "data": {"ca.crt": b64(ca.cert)}})
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "TLSOption",
                        "metadata": {"namespace": "shop", "name": "modern"}, "spec": {"minVersion": "VersionTLS13"}})
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "ServersTransport",
                        "metadata": {"namespace": "shop", "name": "origin"},
                        "spec": {"serverName": "origin.internal", "rootCAsSecrets": ["origin-ca"],
                                 "forwardingTimeouts": {"dialTimeout": "5s"}}})
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "ServersTransport",
                        "metadata": {"namespace": "shop", "name": "broken"},
                        "spec": {"rootCAsSecrets": ["missing-ca"]}})
        self.api.apply(ingress_route("shop", "secure", "Host(`secure.test`)",
                                     [{"name": "web", "port": "http", "serversTransport": "origin"}],
                                     tls={"secretName": "secure-cert", "options": {"name": "modern"}}))
        proxy = self.start_crd_proxy()
        # The router can be listed before the service's endpoints are (no servers yet): wait for it to be served.
        data = proxy.wait_rawdata(lambda d: any(n.startswith("shop-secure-") and r.get("status") != "disabled"
                                                for n, r in d.get("routers", {}).items()),
                                  timeout=10, message="the IngressRoute's router, served")
        router = next(r for n, r in data["routers"].items() if n.startswith("shop-secure-"))
        # Served: the test certificate's two days of life are only a warning.
        self.assertEqual(router["status"], "warning", router)
        self.assertEqual(len(router["error"]), 1, router)
        self.assertIn("expires on", router["error"][0])
        self.assertEqual(router["tls"]["options"], "shop-modern@kubernetescrd")
        port = proxy.web_port
        wait_until(lambda: peer_subject(port, "secure.test", ["-tls1_3"]), 5.0, message="the Secret's certificate served")
        self.assertIn("secure.test", peer_subject(port, "secure.test", ["-tls1_3"]))
        self.assertIsNone(peer_subject(port, "secure.test", ["-tls1_2"]), "TLS 1.2 refused by the TLSOption")
        service = next(s for n, s in data["services"].items() if n.startswith("shop-web-"))
        self.assertEqual(service["loadBalancer"]["serversTransport"], "shop-origin")
        self.assertEqual(service["status"], "enabled", service)
        issue = next(e for e in data["errors"] if "missing-ca" in e["message"])
        self.assertIn("ServersTransport shop/broken", str(issue["location"]))
        self.assertEqual(issue["keyPath"], "spec.rootCAsSecrets[0]")

    def test_81f_middleware_crd_shapes_errors_service_and_auth_secret(self):
        import base64
        import subprocess
        self.start_api()
        self.pod_service("shop", "pages")

        users = subprocess.run(["openssl", "passwd", "-apr1", "-salt", "H6uskkkW", "secret"], capture_output=True,
                               text=True, check=True, timeout=30).stdout.strip()
        self.api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "shop", "name": "admins"},
                        "data": {"users": base64.b64encode(("admin:" + users + "\n").encode()).decode()}})
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "Middleware",
                        "metadata": {"namespace": "shop", "name": "oops"},
                        "spec": {"errors": {"status": ["500-599"], "query": "/oops/{status}",
                                            "service": {"name": "pages", "port": "http"}}}})
        self.api.apply({"apiVersion": "switchyard.dev/v1alpha1", "kind": "Middleware",
                        "metadata": {"namespace": "shop", "name": "auth"},
                        "spec": {"basicAuth": {"secret": "admins"}}})
        self.api.apply(ingress_route("shop", "down", "Host(`down.test`)", [{"name": "pages", "port": "http"}],
                                     middlewares=[{"name": "oops"}]))
        self.api.apply(ingress_route("shop", "admin", "Host(`admin.test`)", [{"name": "pages", "port": "http"}],
                                     middlewares=[{"name": "auth"}]))
        proxy = self.start_crd_proxy()
        # errors.service: the Service port the CRD names, as a load balancer of this provider (the error pages
        # themselves are the errors middleware's, tested with the file provider).
        data = proxy.wait_rawdata(lambda d: d.get("middlewares", {}).get("shop-oops@kubernetescrd", {}).get("status") == "enabled",
                                  timeout=10, message="the errors Middleware enabled")
        oops = data["middlewares"]["shop-oops@kubernetescrd"]
        self.assertEqual(oops["errors"]["service"], "shop-pages-http@kubernetescrd")
        self.assertEqual(data["services"]["shop-pages-http@kubernetescrd"]["status"], "enabled")
        proxy.wait_status("admin.test", 401, timeout=5)
        r = request(proxy.web_port, "/", host="admin.test",
                    headers={"Authorization": "Basic " + base64.b64encode(b"admin:secret").decode()})
        self.assertEqual(r.status, 200)
