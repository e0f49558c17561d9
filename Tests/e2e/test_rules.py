"""Router rules, priorities and weighted round robin (brief item 10).

Three origins (o1, o2, o3) tell which router answered."""

import http.client
import time

from harness import LOOPBACK, E2ETestCase, Whoami, route_yaml


def app_route(options, *urls):
    """A dynamic file with router `app` (Host `app.test`) to load balancer `app` with `options` and `urls`."""
    servers = ", ".join('{url: "%s"}' % u for u in urls)
    return (
        "http:\n  routers:\n    app: {rule: \"Host(`app.test`)\", service: app}\n"
        "  services:\n    app:\n      loadBalancer:\n        %s\n        servers: [%s]\n" % (options, servers))


class RuleTests(E2ETestCase):

    @classmethod
    def routers(cls):
        return {
            # Host: case-insensitive, port ignored
            "host": {"rule": "Host(`host.test`)", "service": "s1"},
            # PathPrefix (no segment boundary) with a Host-only fallback
            "pp_api": {"rule": "Host(`rules.test`) && PathPrefix(`/api`)", "service": "s2"},
            "pp_any": {"rule": "Host(`rules.test`)", "service": "s1"},
            # Method
            "m_post": {"rule": "Host(`m.test`) && Method(`POST`)", "service": "s2"},
            "m_any": {"rule": "Host(`m.test`)", "service": "s1"},
            # Header
            "h_prod": {"rule": "Host(`h.test`) && Header(`X-Env`, `prod`)", "service": "s2"},
            "h_any": {"rule": "Host(`h.test`)", "service": "s1"},
            # Query
            "q_v2": {"rule": "Host(`q.test`) && Query(`v`, `2`)", "service": "s2"},
            "q_any": {"rule": "Host(`q.test`)", "service": "s1"},
            # ClientIP: the 10/8 rule is longer so it is tried first, but it never matches loopback
            "ip_ten": {"rule": "Host(`ip.test`) && ClientIP(`10.0.0.0/8`)", "service": "s2"},
            "ip_local": {"rule": "Host(`ip.test`) && ClientIP(`127.0.0.1`)", "service": "s3"},
            # explicit priority beats a longer rule
            "prio_short": {"rule": "Host(`p.test`)", "service": "s3", "priority": 1000},
            "prio_long": {"rule": "Host(`p.test`) && PathPrefix(`/`) && Method(`GET`)", "service": "s2"},
            # operators
            "ops": {"rule": "Host(`ops.test`) && (Path(`/a`) || PathPrefix(`/b/`)) && !Method(`DELETE`)",
                    "service": "s2"},
            "ops_any": {"rule": "Host(`ops.test`)", "service": "s1"},
            "hre": {"rule": "HostRegexp(`^[a-z]+\\.re\\.test$`)", "service": "s3"},
            "pre": {"rule": "Host(`pre.test`) && PathRegexp(`^/items/[0-9]+$`)", "service": "s2"},
            # weighted round robin 3:1
            "wrr": {"rule": "Host(`wrr.test`)", "service": "swrr"},
        }

    def setUp(self):
        super(RuleTests, self).setUp()
        self.o = {n: self.start_whoami(n) for n in ("o1", "o2", "o3")}
        services = {"s1": [self.o["o1"].url], "s2": [self.o["o2"].url], "s3": [self.o["o3"].url],
                    "swrr": [(self.o["o1"].url, 3), (self.o["o2"].url, 1)]}
        self.write("rules.yml", route_yaml(self.routers(), services))
        self.proxy = self.start_proxy(throttle="0s")
        names = ["%s@file" % n for n in self.routers()]
        data = self.proxy.wait_routers(names)
        # prio_long can never win (prio_short takes every request it matches): served, with a warning.
        bad = {n: data["routers"][n] for n in names
               if data["routers"][n].get("status") != ("warning" if n == "prio_long@file" else "enabled")}
        self.assertEqual(bad, {}, "routers not enabled")

    def who(self, host, path="/", method="GET", headers=None):
        r = self.proxy.get(path, host=host, method=method, headers=headers)
        if r.status != 200:
            return r.status
        return Whoami(r.text).hostname

    def test_10a_host_case_insensitive_port_ignored(self):
        self.assertEqual(self.who("host.test"), "o1")
        self.assertEqual(self.who("HOST.Test"), "o1")
        self.assertEqual(self.who("host.test:%d" % self.proxy.web_port), "o1")
        self.assertEqual(self.who("HoSt.TeSt:1234"), "o1")
        self.assertEqual(self.who("other.test"), 404)
        self.assertEqual(self.who("host.test.evil"), 404)

    def test_10b_path_prefix(self):
        self.assertEqual(self.who("rules.test", "/api"), "o2")
        self.assertEqual(self.who("rules.test", "/api/v1/x?y=1"), "o2")
        self.assertEqual(self.who("rules.test", "/apix"), "o2")  # no segment boundary (Traefik semantics)
        self.assertEqual(self.who("rules.test", "/ap"), "o1")
        self.assertEqual(self.who("rules.test", "/other/api"), "o1")

    def test_10c_method(self):
        self.assertEqual(self.who("m.test", method="POST"), "o2")
        self.assertEqual(self.who("m.test", method="GET"), "o1")
        self.assertEqual(self.who("m.test", method="PUT"), "o1")

    def test_10d_header(self):
        self.assertEqual(self.who("h.test", headers={"X-Env": "prod"}), "o2")
        self.assertEqual(self.who("h.test", headers={"x-env": "prod"}), "o2")  # names are case-insensitive
        self.assertEqual(self.who("h.test", headers={"X-Env": "Prod"}), "o1")  # values are not
        self.assertEqual(self.who("h.test", headers={"X-Env": "dev"}), "o1")
        self.assertEqual(self.who("h.test"), "o1")

    def test_10e_query(self):
        self.assertEqual(self.who("q.test", "/?v=2"), "o2")
        self.assertEqual(self.who("q.test", "/x?a=1&v=2"), "o2")
        self.assertEqual(self.who("q.test", "/?v=3"), "o1")
        self.assertEqual(self.who("q.test", "/?vv=2"), "o1")
        self.assertEqual(self.who("q.test", "/"), "o1")

    def test_10f_client_ip(self):
        self.assertEqual(self.who("ip.test"), "o3")
        # ClientIP uses the remote address, never X-Forwarded-For / X-Real-Ip
        self.assertEqual(self.who("ip.test", headers={"X-Forwarded-For": "10.1.2.3", "X-Real-Ip": "10.1.2.3"}), "o3")

    def test_10g_explicit_priority_beats_longer_rule(self):
        data = self.proxy.rawdata()
        self.assertEqual(data["routers"]["prio_short@file"]["priority"], 1000)
        long_rule = self.routers()["prio_long"]["rule"]
        self.assertEqual(data["routers"]["prio_long@file"]["priority"], len(long_rule), "default priority = rule length")
        self.assertIn('router "prio_short@file" (priority 1000) on entry point web', data["routers"]["prio_long@file"]["error"][0])
        for _ in range(5):
            self.assertEqual(self.who("p.test"), "o3")

    def test_10h_operators_and_regexps(self):
        self.assertEqual(self.who("ops.test", "/a"), "o2")
        self.assertEqual(self.who("ops.test", "/b/c"), "o2")
        self.assertEqual(self.who("ops.test", "/b"), "o1")
        self.assertEqual(self.who("ops.test", "/a", method="DELETE"), "o1")
        self.assertEqual(self.who("abc.re.test"), "o3")
        self.assertEqual(self.who("ABC.re.test"), "o3")
        self.assertEqual(self.who("ab1.re.test"), 404)
        self.assertEqual(self.who("pre.test", "/items/42"), "o2")
        self.assertEqual(self.who("pre.test", "/items/x"), 404)

    def test_10i_weighted_round_robin_3_to_1(self):
        counts = {}
        for _ in range(40):
            name = self.who("wrr.test")
            counts[name] = counts.get(name, 0) + 1
        self.assertEqual(counts, {"o1": 30, "o2": 10})


class WeightedServiceTests(E2ETestCase):

    def test_10j_canary_split_over_2000_requests(self):
        stable, canary = self.start_whoami("stable"), self.start_whoami("canary")
        self.write("w.yml", """
http:
  routers:
    app: {rule: "Host(`app.test`)", service: app}
  services:
    app:
      weighted:
        services:
          - {name: v1, weight: 9}
          - {name: v2, weight: 1}
    v1: {loadBalancer: {servers: [{url: "%s"}]}}
    v2: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (stable.url, canary.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)
        counts = {}
        conn = http.client.HTTPConnection(LOOPBACK, proxy.web_port, timeout=10)
        self.addCleanup(conn.close)
        for _ in range(2000):
            conn.request("GET", "/", headers={"Host": "app.test"})
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            name = Whoami(response.read().decode()).hostname
            counts[name] = counts.get(name, 0) + 1
        share = counts.get("canary", 0) / 2000.0
        # 9:1 within ±5 % of the weights (smooth weighted round robin gives exactly 1800 / 200)
        self.assertTrue(0.095 <= share <= 0.105, "canary share %.3f of %s" % (share, counts))
        raw = proxy.rawdata()
        self.assertEqual(raw["services"]["app@file"]["status"], "enabled")
        self.assertEqual(sorted(raw["services"]["v1@file"]["usedBy"]), ["app@file"])


class HealthCheckTests(E2ETestCase):

    def test_10k_unhealthy_server_drained_and_back_503_when_none(self):
        from harness import WhoamiProcess, wait_until
        a, b = self.start_whoami("a"), self.start_whoami("b")
        self.write("h.yml", app_route('healthCheck: {path: /health, interval: 200ms, timeout: 500ms}', a.url, b.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)

        def hostnames(n=10):
            names = []
            for _ in range(n):
                r = proxy.get("/", host="app.test")
                names.append(Whoami(r.text).hostname if r.status == 200 else r.status)
            return names

        self.assertEqual(set(hostnames()), {"a", "b"})
        b.stop()
        wait_until(lambda: proxy.rawdata()["services"]["app@file"]["serverStatus"].get(b.url) == "DOWN", 5,
                   message="b reported DOWN")
        self.assertEqual(set(hostnames(20)), {"a"}, "no request goes to the server that is down")
        a.stop()
        wait_until(lambda: proxy.rawdata()["services"]["app@file"]["serverStatus"].get(a.url) == "DOWN", 5,
                   message="a reported DOWN")
        r = proxy.get("/", host="app.test")
        self.assertEqual(r.status, 503)
        self.assertEqual(r.text.strip(), "no available server")
        back = WhoamiProcess(self.tmp, "b2", port=b.port).wait_ready()
        self.addCleanup(back.stop)
        wait_until(lambda: proxy.rawdata()["services"]["app@file"]["serverStatus"].get(b.url) == "UP", 5,
                   message="b back UP")
        self.assertEqual(set(hostnames()), {"b2"})
        self.assertIn("health check: server down", proxy.log())
        self.assertIn("health check: server up", proxy.log())


    def test_10r_a_server_that_never_answers_is_not_left_a_connection_per_check(self):
        from harness import SilentOrigin, wait_until
        silent = SilentOrigin(delay=None)
        self.addCleanup(silent.close)
        self.write("h.yml", app_route('healthCheck: {path: /health, interval: 100ms, timeout: 100ms}', silent.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_rawdata(lambda d: d["services"].get("app@file", {}).get("serverStatus", {}).get(silent.url) == "DOWN",
                           message="the silent server is DOWN")
        wait_until(lambda: silent.connections()[0] >= 8, 10, message="eight checks made")
        accepted, still_open = silent.connections()
        # each timed-out check closes its connection: at most the one in flight (and one closing) stay open
        self.assertLessEqual(still_open, 2, "%d of %d probe connections still open" % (still_open, accepted))

    def test_10q_health_checks_follow_redirects_unless_told_not_to(self):
        from harness import ScriptedOrigin

        def answer(c, head, rest):
            path = head.split(b" ")[1]
            if path == b"/moved":
                c.sendall(b"HTTP/1.1 302 Found\r\nLocation: /gone\r\nContent-Length: 0\r\n\r\n")
            elif path == b"/gone":
                c.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            else:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        origin = ScriptedOrigin(answer)
        self.addCleanup(origin.close)
        self.write("h.yml", """
http:
  routers:
    follow: {rule: "Host(`follow.test`)", service: follow}
    stay:   {rule: "Host(`stay.test`)", service: stay}
  services:
    follow: {loadBalancer: {healthCheck: {path: /moved, interval: 200ms}, servers: [{url: "%s"}]}}
    stay: {loadBalancer: {healthCheck: {path: /moved, interval: 200ms, followRedirects: false}, servers: [{url: "%s"}]}}
""" % (origin.url, origin.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_rawdata(lambda d: d["services"].get("follow@file", {}).get("serverStatus", {}).get(origin.url) == "DOWN",
                           message="the redirect followed to a 404: DOWN")
        self.assertEqual(proxy.rawdata()["services"]["stay@file"]["serverStatus"][origin.url], "UP", "a 302 is healthy")
        self.assertEqual(proxy.get("/", host="follow.test").status, 503)
        self.assertEqual(proxy.get("/", host="stay.test").status, 200)


class StickyTests(E2ETestCase):

    def test_10l_sticky_clients_stay_put_across_a_table_swap(self):
        a, b = self.start_whoami("a"), self.start_whoami("b")
        config = """
http:
  routers:
    app: {rule: "Host(`app.test`)", service: app}
    %s
  services:
    app:
      loadBalancer:
        sticky: {cookie: {name: lb, httpOnly: true}}
        servers: [{url: "%s"}, {url: "%s"}]
"""
        self.write("s.yml", config % ("", a.url, b.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)
        first = proxy.get("/", host="app.test")
        cookie = first.header("Set-Cookie")
        self.assertTrue(cookie and cookie.startswith("lb=") and "HttpOnly" in cookie, cookie)
        stuck_to = Whoami(first.text).hostname
        jar = {"Cookie": cookie.split(";")[0]}
        for _ in range(6):
            r = proxy.get("/", host="app.test", headers=jar)
            self.assertEqual(Whoami(r.text).hostname, stuck_to)
            self.assertIsNone(r.header("Set-Cookie"))
        before = proxy.version()
        self.write("s.yml", config % ('other: {rule: "Host(`other.test`)", service: app}', a.url, b.url))
        proxy.wait_rawdata(lambda d: d["version"] > before, message="a new table")
        for _ in range(6):
            self.assertEqual(Whoami(proxy.get("/", host="app.test", headers=jar).text).hostname, stuck_to)
        # without the cookie, round robin as usual
        self.assertEqual({Whoami(proxy.get("/", host="app.test").text).hostname for _ in range(4)}, {"a", "b"})


    def test_10n_weighted_sticky_holds_the_canary_and_its_server(self):
        s1, s2, c = self.start_whoami("s1"), self.start_whoami("s2"), self.start_whoami("c")
        config = """
http:
  routers:
    app: {rule: "Host(`app.test`)", service: split}
    %s
  services:
    split:
      weighted:
        sticky: {cookie: {name: split, secure: true}}
        healthCheck: {}
        services: [{name: stable, weight: 1}, {name: canary, weight: 1}]
    stable:
      loadBalancer:
        sticky: {cookie: {name: server}}
        servers: [{url: "%s"}, {url: "%s"}]
    canary:
      loadBalancer:
        servers: [{url: "%s"}]
"""
        self.write("s.yml", config % ("", s1.url, s2.url, c.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)
        # find a client that lands on the stable service: it gets both cookies
        for _ in range(4):
            first = proxy.get("/", host="app.test")
            cookies = first.header_all("Set-Cookie")
            if Whoami(first.text).hostname != "c":
                break
        self.assertEqual(len(cookies), 2, cookies)
        split_cookie = next(x for x in cookies if x.startswith("split="))
        self.assertIn("Secure", split_cookie)
        self.assertTrue(any(x.startswith("server=") for x in cookies), cookies)
        stuck_to = Whoami(first.text).hostname
        jar = {"Cookie": "; ".join(x.split(";")[0] for x in cookies)}
        for _ in range(6):
            r = proxy.get("/", host="app.test", headers=jar)
            self.assertEqual(Whoami(r.text).hostname, stuck_to)
            self.assertEqual(r.header_all("Set-Cookie"), [])
        before = proxy.version()
        self.write("s.yml", config % ('other: {rule: "Host(`other.test`)", service: split}', s1.url, s2.url, c.url))
        proxy.wait_rawdata(lambda d: d["version"] > before, message="a new table")
        for _ in range(6):
            self.assertEqual(Whoami(proxy.get("/", host="app.test", headers=jar).text).hostname, stuck_to)
        # only the split cookie: held on the stable service, round robin over its servers
        only_split = {"Cookie": split_cookie.split(";")[0]}
        seen = {Whoami(proxy.get("/", host="app.test", headers=only_split).text).hostname for _ in range(4)}
        self.assertEqual(seen, {"s1", "s2"})


class PowerOfTwoChoicesTests(E2ETestCase):

    def test_10m_p2c_sends_less_to_the_slow_server(self):
        import threading
        slow = self.start_silent_origin(delay=0.5)
        fast = self.start_whoami("fast")
        self.write("p.yml", app_route('strategy: p2c', slow.url, fast.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file"])
        statuses = []
        lock = threading.Lock()

        def one():
            r = proxy.get("/", host="app.test", timeout=10)
            with lock:
                statuses.append(r.status)

        threads = [threading.Thread(target=one) for _ in range(20)]
        for t in threads:
            t.start()
            time.sleep(0.01)
        for t in threads:
            t.join(timeout=15)
        self.assertEqual(statuses, [200] * 20)
        self.assertLessEqual(slow.requests, 5, "round robin would send 10 of 20 to the slow server")


class PassiveHealthCheckTests(E2ETestCase):

    def test_10n_failing_server_ejected_for_the_failure_window(self):
        from harness import free_port, wait_until
        alive = self.start_whoami("alive")
        dead = "http://127.0.0.1:%d" % free_port()
        self.write("p.yml", app_route('passiveHealthCheck: {failureWindow: 1500ms, maxFailedAttempts: 1}', dead, alive.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file"])
        first = [proxy.get("/", host="app.test").status for _ in range(2)]
        # The try that reaches the dead server is refused before anything is sent: it goes on to the live one.
        self.assertEqual(first, [200, 200], "a refused connection moves to the other server")
        self.assertIn("connecting to another server", proxy.log())
        self.assertEqual([proxy.get("/", host="app.test").status for _ in range(10)], [200] * 10,
                         "ejected after its failure")
        self.assertEqual(proxy.rawdata()["services"]["app@file"]["serverStatus"][dead], "DOWN")
        self.assertIn("passive health check: server ejected", proxy.log())
        wait_until(lambda: proxy.rawdata()["services"]["app@file"]["serverStatus"][dead] == "UP", 5,
                   message="back in rotation after the window")


class FailoverTests(E2ETestCase):

    def test_10o_failover_to_the_fallback_while_main_is_down(self):
        from harness import wait_until
        main, spare = self.start_whoami("main"), self.start_whoami("spare")
        self.write("f.yml", """
http:
  routers:
    app: {rule: "Host(`app.test`)", service: app}
  services:
    app: {failover: {service: main, fallback: spare}}
    main:
      loadBalancer:
        healthCheck: {path: /health, interval: 200ms, timeout: 500ms}
        servers: [{url: "%s"}]
    spare: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (main.url, spare.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)
        self.assertEqual({Whoami(proxy.get("/", host="app.test").text).hostname for _ in range(4)}, {"main"})
        main.stop()
        wait_until(lambda: proxy.rawdata()["services"]["main@file"]["serverStatus"].get(main.url) == "DOWN", 5,
                   message="main DOWN")
        self.assertEqual({Whoami(proxy.get("/", host="app.test").text).hostname for _ in range(4)}, {"spare"})


    def test_10r_failover_on_the_main_services_status_with_the_body(self):
        from harness import ScriptedOrigin
        seen = []

        def busy(c, head, rest):
            seen.append(ScriptedOrigin.read_body(c, head, rest))
            c.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n")
        main = ScriptedOrigin(busy)
        self.addCleanup(main.close)
        spare = self.start_whoami("spare")
        self.write("f.yml", """
http:
  routers:
    app:   {rule: "Host(`app.test`)", service: app}
    small: {rule: "Host(`small.test`)", service: small}
  services:
    app: {failover: {service: main, fallback: spare, errors: {status: ["500-504"]}}}
    small: {failover: {service: main, fallback: spare, errors: {status: ["503"], maxRequestBodyBytes: 10}}}
    main: {loadBalancer: {servers: [{url: "%s"}]}}
    spare: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (main.url, spare.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file", "small@file"])
        r = proxy.get("/get", host="app.test")
        self.assertEqual((r.status, Whoami(r.text).hostname), (200, "spare"))
        r = proxy.get("/post", method="POST", host="app.test", body=b"p" * 500)
        self.assertEqual((r.status, Whoami(r.text).hostname, Whoami(r.text).body_bytes), (200, "spare", 500))
        self.assertEqual(seen[-1], b"p" * 500, "the main service had the body first")
        # a body over the failover's maxRequestBodyBytes is not kept: the main service's answer stands
        r = proxy.get("/post", method="POST", host="small.test", body=b"q" * 100)
        self.assertEqual((r.status, r.text), (503, "busy\n"))
        self.assertEqual(proxy.get("/post", method="POST", host="small.test", body=b"q" * 5).status, 200)


class RendezvousTests(E2ETestCase):

    def test_10p_highest_random_weight_keeps_a_client_on_one_service(self):
        one, two = self.start_whoami("one"), self.start_whoami("two")
        self.write("h.yml", """
http:
  routers:
    app: {rule: "Host(`app.test`)", service: app}
  services:
    app:
      highestRandomWeight:
        services: [{name: v1, weight: 1}, {name: v2, weight: 1}]
    v1: {loadBalancer: {servers: [{url: "%s"}]}}
    v2: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (one.url, two.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)
        names = {Whoami(proxy.get("/", host="app.test").text).hostname for _ in range(10)}
        self.assertEqual(len(names), 1, "one client address, one service: %s" % names)
        self.assertEqual(proxy.rawdata()["services"]["app@file"]["status"], "enabled")


class MirroringTests(E2ETestCase):

    def test_10q_mirrors_get_copies_and_never_slow_the_main_request(self):
        from harness import wait_until
        main = self.start_whoami("main")
        silent = self.start_silent_origin(delay=None)   # takes copies, never answers
        unused = self.start_silent_origin(delay=None)   # percent 0: never gets a copy
        self.write("m.yml", """
http:
  routers:
    app: {rule: "Host(`app.test`)", service: app}
  services:
    app:
      mirroring:
        service: main
        mirrors: [{name: copy, percent: 100}, {name: none, percent: 0}]
    main: {loadBalancer: {servers: [{url: "%s"}]}}
    copy: {loadBalancer: {servers: [{url: "%s"}]}}
    none: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (main.url, silent.url, unused.url))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("app.test", 200)
        started = time.monotonic()
        for i in range(10):
            r = proxy.get("/item/%d" % i, host="app.test", timeout=5)
            self.assertEqual(r.status, 200)
            self.assertEqual(Whoami(r.text).hostname, "main")
        r = proxy.get("/upload", host="app.test", method="POST", body=b"y" * 100000, timeout=5)
        self.assertEqual(Whoami(r.text).body_bytes, 100000)
        self.assertLess(time.monotonic() - started, 5.0, "a mirror that never answers does not slow the main requests")
        wait_until(lambda: silent.requests >= 11, 5, message="the mirror got a copy of every request")
        self.assertEqual(unused.requests, 0)
        self.assertEqual(proxy.rawdata()["services"]["app@file"]["status"], "enabled")
