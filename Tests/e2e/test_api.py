"""The API in Traefik's shape: overview, entry points, lists with search/status/provider filters and paging, one
resource by name, api@internal behind a user's router, and the dashboard's files."""

import json
import os
import signal
import socket
import time
import urllib.parse

from harness import E2ETestCase, free_port, request, route_yaml, wait_until


class APITests(E2ETestCase):

    def api(self, proxy, path, status=200):
        r = request(proxy.api_port, path, timeout=5)
        self.assertEqual(r.status, status, "%s -> %s %s" % (path, r.status, r.text[:300]))
        return r, (json.loads(r.text) if status == 200 else r.text)

    def start_with_three_routers(self):
        backend = self.start_whoami("api-backend")
        self.write("a.yml", route_yaml(
            {"alpha": {"rule": "Host(`alpha.test`)", "service": "s"},
             "beta": {"rule": "Host(`beta.test`) && PathPrefix(`/b`)", "service": "s"},
             "broken": {"rule": "Host(`broken.test`", "service": "s"}},
            {"s": [backend.url]}))
        self.write("m.yml", "http:\n  middlewares:\n    strip:\n      stripPrefix:\n        prefixes: [\"/b\"]\n")
        proxy = self.start_proxy()
        proxy.wait_routers(["alpha@file", "beta@file", "broken@file"])
        return proxy

    def test_50a_overview_counts_resources_by_status(self):
        proxy = self.start_with_three_routers()
        _, overview = self.api(proxy, "/api/overview")
        # The internal routers (api@internal, ping@internal) count too, as in Traefik.
        self.assertEqual(overview["http"]["routers"], {"total": 5, "warnings": 0, "errors": 1})
        # s@file, and the internal api@internal, ping@internal and invalid-backend@internal (as Traefik lists its own)
        self.assertEqual(overview["http"]["services"]["total"], 4)
        self.assertEqual(overview["http"]["middlewares"]["total"], 1)
        self.assertEqual(overview["providers"], ["File"])
        self.assertEqual(overview["version"], proxy.version())
        self.assertGreaterEqual(overview["issues"]["errors"], 1)
        self.assertIn("tcp", overview)
        self.assertIn("udp", overview)

    def test_50b_entry_points_list_and_one_by_name(self):
        proxy = self.start_with_three_routers()
        _, entry_points = self.api(proxy, "/api/entrypoints")
        names = [e["name"] for e in entry_points]
        self.assertEqual(names, sorted(names))
        self.assertIn("web", names)
        self.assertIn("traefik", names)
        _, web = self.api(proxy, "/api/entrypoints/web")
        self.assertEqual(web["address"], "127.0.0.1:%d" % proxy.web_port)
        self.api(proxy, "/api/entrypoints/nope", status=404)

    def test_50c_lists_filter_by_search_status_and_provider(self):
        proxy = self.start_with_three_routers()
        r, routers = self.api(proxy, "/api/http/routers")
        self.assertEqual([x["name"] for x in routers],
                         ["alpha@file", "api@internal", "beta@file", "broken@file", "ping@internal"])
        self.assertEqual({x["provider"] for x in routers}, {"file", "internal"})
        self.assertEqual(r.header("X-Next-Page"), "1")
        _, found = self.api(proxy, "/api/http/routers?search=BETA")
        self.assertEqual([x["name"] for x in found], ["beta@file"])
        _, by_rule = self.api(proxy, "/api/http/routers?search=%s" % urllib.parse.quote("PathPrefix(`/b`)"))
        self.assertEqual([x["name"] for x in by_rule], ["beta@file"], "search looks into the rule too")
        _, disabled = self.api(proxy, "/api/http/routers?status=disabled")
        self.assertEqual([x["name"] for x in disabled], ["broken@file"])
        self.assertTrue(disabled[0]["error"])
        _, enabled = self.api(proxy, "/api/http/routers?status=enabled&provider=File")
        self.assertEqual([x["name"] for x in enabled], ["alpha@file", "beta@file"])
        _, none = self.api(proxy, "/api/http/routers?provider=docker")
        self.assertEqual(none, [])
        _, by_service = self.api(proxy, "/api/http/routers?serviceName=s@file")
        self.assertEqual(len(by_service), 3)
        _, services = self.api(proxy, "/api/http/services?provider=file")
        self.assertEqual(services[0]["type"], "loadbalancer")
        self.assertEqual(sorted(services[0]["usedBy"]), ["alpha@file", "beta@file"])
        _, middlewares = self.api(proxy, "/api/http/middlewares")
        self.assertEqual([(m["name"], m["type"]) for m in middlewares], [("strip@file", "stripPrefix")])
        self.api(proxy, "/api/http/routers?status=enabled&page=0", status=400)

    def test_50d_paging_follows_x_next_page(self):
        proxy = self.start_with_three_routers()
        seen, page = [], 1
        for _ in range(5):
            r, items = self.api(proxy, "/api/http/routers?provider=file&per_page=2&page=%d" % page)
            seen += [x["name"] for x in items]
            page = int(r.header("X-Next-Page"))
            if page == 1:
                break
        self.assertEqual(seen, ["alpha@file", "beta@file", "broken@file"])
        self.assertEqual(r.header("X-Total-Count"), "3")
        self.api(proxy, "/api/http/routers?provider=file&per_page=2&page=3", status=400)

    def test_50e_one_resource_by_name(self):
        proxy = self.start_with_three_routers()
        _, alpha = self.api(proxy, "/api/http/routers/alpha%40file")
        self.assertEqual(alpha["rule"], "Host(`alpha.test`)")
        self.assertEqual(alpha["status"], "enabled")
        _, service = self.api(proxy, "/api/http/services/s@file")
        self.assertEqual(service["serverStatus"], {service["loadBalancer"]["servers"][0]["url"]: "UP"})
        self.api(proxy, "/api/http/routers/nope@file", status=404)
        self.api(proxy, "/api/http/nothing", status=404)
        _, tcp = self.api(proxy, "/api/tcp/routers")
        self.assertEqual(tcp, [])

    def test_50f_api_internal_behind_a_router_with_basic_auth(self):
        # Without api.insecure the API is not on the traefik entry point; a user's router reaches api@internal
        # through basicAuth, as in Traefik.
        self.write("api.yml", "\n".join([
            "http:",
            "  routers:",
            "    dashboard:",
            "      rule: Host(`admin.test`)",
            "      service: api@internal",
            "      middlewares: [auth]",
            "  middlewares:",
            "    auth:",
            "      basicAuth:",
            "        users: ['admin:$apr1$H6uskkkW$JlU5La5Cfy4J0mha9Y6hj1']",
            ""]))
        web_port = free_port()
        args = ["--entryPoints.web.address=127.0.0.1:%d" % web_port, "--api=true",
                "--providers.file.directory=%s" % self.dyn, "--providers.providersThrottleDuration=0s"]
        proxy = self.start_proxy(use_defaults=False, wait=False, extra_args=args, web_port=web_port)
        r = proxy.wait_status("admin.test", 401, path="/api/overview")
        self.assertIn("Basic", r.header("WWW-Authenticate"))
        r = request(proxy.web_port, "/api/overview", host="admin.test",
                    headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
        self.assertEqual(r.status, 200, r.text)
        self.assertEqual(json.loads(r.text)["http"]["routers"]["total"], 1)
        r = request(proxy.web_port, "/dashboard/", host="admin.test", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
        self.assertEqual(r.status, 200)
        self.assertIn("text/html", r.header("Content-Type"))

    def test_50g_dashboard_is_served_and_root_leads_to_it(self):
        proxy = self.start_with_three_routers()
        r = request(proxy.api_port, "/")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.header("Location"), "/dashboard/")
        r = request(proxy.api_port, "/dashboard/")
        self.assertEqual(r.status, 200)
        self.assertIn("html", r.text.lower())
        self.assertEqual(request(proxy.api_port, "/dashboard/../../etc/passwd").status, 404)
        self.assertEqual(request(proxy.api_port, "/dashboard/nope.js").status, 404)

    def test_50h_explain_names_the_winner_and_why_the_others_lost(self):
        one, two = self.start_whoami("ex-1"), self.start_whoami("ex-2")
        self.write("ex.yml", route_yaml(
            {"api": {"rule": "Host(`shop.test`) && PathPrefix(`/api`) && Header(`X-Version`, `2`)", "service": "two",
                     "priority": 30},
             "shop": {"rule": "Host(`shop.test`)", "service": "one", "priority": 20},
             "narrow": {"rule": "Host(`shop.test`) && PathPrefix(`/api/v1`)", "service": "two", "priority": 10},
             "office": {"rule": "ClientIP(`10.0.0.0/8`)", "service": "two", "priority": 40}},
            {"one": [one.url], "two": [two.url]}))
        proxy = self.start_proxy()
        proxy.wait_routers(["api@file", "shop@file", "narrow@file", "office@file"])

        def explain(**params):
            query = urllib.parse.urlencode(params, doseq=True, quote_via=urllib.parse.quote)
            return self.api(proxy, "/api/explain?" + query)[1]

        answer = explain(url="http://shop.test/api/v1/items", entryPoint="web", clientIP="192.0.2.7")
        self.assertEqual(answer["winner"], "shop@file")
        self.assertEqual(answer["request"]["host"], "shop.test")
        self.assertEqual(answer["request"]["path"], "/api/v1/items")
        candidates = {c["router"]: c for c in answer["candidates"]}
        order = [c["router"] for c in answer["candidates"]]
        self.assertLess(order.index("office@file"), order.index("api@file"))
        self.assertLess(order.index("api@file"), order.index("shop@file"))
        self.assertEqual(candidates["office@file"]["failedClause"], "ClientIP(`10.0.0.0/8`)")
        self.assertEqual(candidates["api@file"]["failedClause"], "Header(`X-Version`, `2`)")
        self.assertEqual(candidates["api@file"]["priority"], 30)
        self.assertTrue(candidates["narrow@file"]["matched"])
        self.assertFalse(candidates["narrow@file"]["evaluated"], "behind the winner")
        self.assertEqual(answer["service"], "one@file")
        self.assertEqual(answer["server"], {"url": one.url, "status": "UP"})
        # The same request, really sent, lands where explain said.
        self.assertWhoami(request(proxy.web_port, "/api/v1/items", host="shop.test"), "ex-1")

        answer = explain(url="http://shop.test/api/x", clientIP="10.1.2.3", header=["X-Version: 2"])
        self.assertEqual(answer["winner"], "office@file")
        answer = explain(url="http://shop.test/api/x", clientIP="192.0.2.7", header=["X-Version: 2"], method="post")
        self.assertEqual((answer["winner"], answer["request"]["method"]), ("api@file", "POST"))
        self.assertIsNone(explain(url="http://nowhere.test/")["winner"])
        # narrow@file can never win: shop@file takes all its requests.
        _, narrow = self.api(proxy, "/api/http/routers/narrow@file")
        self.assertEqual(narrow["status"], "warning")
        self.assertIn('router "shop@file" (priority 20) on entry point web', narrow["error"][0])
        for bad in ("url=ftp://x/", "url=http://x/&entryPoint=nope", "url=http://x/&clientIP=300.1.1.1", "method=GET"):
            r = request(proxy.api_port, "/api/explain?" + bad, timeout=5)
            self.assertEqual(r.status, 400, bad)
            self.assertIn("invalid request", r.text)


class EventReader(object):
    """Reads Server-Sent Events from /api/events over a raw socket (bounded waits)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.head = head.decode("latin-1")

    def _until(self, marker, timeout=10.0):
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no %r within %.0fs; got %r" % (marker, timeout, self.buffer[-500:]))
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("stream closed; got %r" % self.buffer[-500:])
            self.buffer += chunk
        part, self.buffer = self.buffer.split(marker, 1)
        return part

    def next_event(self, name=None, timeout=10.0):
        """The next event (of `name` when given) as (name, data); chunk-size lines and comments are skipped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            block = self._until(b"\n\n", timeout=max(0.1, deadline - time.monotonic())).decode("utf-8")
            event, data = None, None
            for line in block.split("\n"):
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
            if event and (name is None or event == name):
                return event, data
        raise AssertionError("no %s event within %.0fs" % (name, timeout))

    def close(self):
        self.sock.close()


class LiveAPITests(E2ETestCase):

    def test_50i_events_announce_versions_errors_and_health(self):
        backend = self.start_whoami("ev-backend")
        self.write("a.yml", route_yaml({"a": {"rule": "Host(`a.test`)", "service": "s"}},
                                       {"s": {"servers": [backend.url],
                                              "healthCheck": {"path": "/health", "interval": "300ms", "timeout": "300ms"}}}))
        proxy = self.start_proxy()
        proxy.wait_routers(["a@file"])
        reader = EventReader(proxy.api_port)
        self.addCleanup(reader.close)
        self.assertIn("text/event-stream", reader.head)
        _, hello = reader.next_event("hello")
        self.assertEqual(hello["version"], proxy.version())
        self.write("b.yml", route_yaml({"b": {"rule": "Host(`b.test`)", "service": "s"}}, {}))
        _, version = reader.next_event("version")
        self.assertEqual(version["version"], hello["version"] + 1)
        self.assertEqual(version["changed"], ["file"])
        self.write("broken.yml", "http:\n  routers:\n    x: [\n")
        _, errors = reader.next_event("errors")
        self.assertTrue(any("broken.yml" in str(e["location"]) for e in errors), errors)
        backend.stop()
        _, health = reader.next_event("health")
        self.assertEqual(health, {"service": "s@file", "server": backend.url, "status": "DOWN"})

    def test_50j_traffic_counts_requests_errors_and_latency_per_router(self):
        backend = self.start_whoami("tr-backend")
        dead = "http://127.0.0.1:%d" % free_port()
        self.write("t.yml", route_yaml({"ok": {"rule": "Host(`ok.test`)", "service": "good"},
                                        "bad": {"rule": "Host(`bad.test`)", "service": "dead"}},
                                       {"good": [backend.url], "dead": [dead]}))
        proxy = self.start_proxy()
        proxy.wait_routers(["ok@file", "bad@file"])
        for _ in range(10):
            self.assertEqual(proxy.get("/", host="ok.test").status, 200)
        for _ in range(3):
            self.assertEqual(proxy.get("/", host="bad.test").status, 502)

        def sampled():
            traffic = json.loads(request(proxy.api_port, "/api/traffic").text)
            ok = traffic["routers"].get("ok@file")
            return traffic if ok and sum(ok["requests"]) == 10 else None
        traffic = wait_until(sampled, 5.0, interval=0.2, message="a sample of the last second")
        ok, bad = traffic["routers"]["ok@file"], traffic["routers"].get("bad@file")
        self.assertEqual(len(ok["requests"]), 60)
        self.assertEqual((ok["total"], ok["errorRate"]), (10, 0))
        self.assertIsNotNone(ok["p50"])
        self.assertGreaterEqual(ok["p99"], ok["p50"])
        self.assertIsNotNone(ok["lastHit"])
        self.assertEqual(traffic["services"]["good@file"]["total"], 10)
        self.assertIsNotNone(bad)
        self.assertEqual(bad["total"], 3)
        self.assertEqual(bad["errorRate"], 1)
        self.assertNotIn("api@internal", traffic["routers"], "the API's own requests are not counted")

    def test_50k_an_event_listener_does_not_hold_up_shutdown(self):
        proxy = self.start_proxy(extra_args=["--entryPoints.traefik.transport.lifeCycle.graceTimeOut=30s",
                                             "--entryPoints.web.transport.lifeCycle.graceTimeOut=30s"])
        reader = EventReader(proxy.api_port)
        self.addCleanup(reader.close)
        reader.next_event("hello")
        started = time.monotonic()
        os.kill(proxy.pid, signal.SIGTERM)
        proxy.proc.wait(timeout=20)
        self.assertLess(time.monotonic() - started, 15, "the stream was closed at shutdown, not waited for")

    def test_50l_dashboard_can_be_left_out(self):
        proxy = self.start_proxy(extra_args=["--api.dashboard=false"])
        self.assertEqual(request(proxy.api_port, "/dashboard/").status, 404)
        self.assertEqual(request(proxy.api_port, "/").status, 404)
        self.assertEqual(request(proxy.api_port, "/api/overview").status, 200)
