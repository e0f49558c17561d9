"""Configuration swaps under load: no request may fail (brief item 5)."""

import http.client
import threading
import time

from harness import E2ETestCase, LOOPBACK, route_yaml

CLIENTS = 64
REWRITES = 100
REWRITE_INTERVAL = 0.03      # seconds between rewrites
MAX_SECONDS = 60.0           # hard bound on the load phase
MAX_REQUESTS_PER_CLIENT = 100000


class Client(threading.Thread):
    def __init__(self, port, stop, host, expect):
        threading.Thread.__init__(self, daemon=True)
        self.port, self.stop_event, self.host, self.expect = port, stop, host, expect
        self.ok = 0
        self.failed = 0
        self.samples = []  # first few failures
        self.reconnects = 0

    def fail(self, what):
        self.failed += 1
        if len(self.samples) < 5:
            self.samples.append(what)

    def run(self):
        deadline = time.monotonic() + MAX_SECONDS
        conn = None
        n = 0
        while not self.stop_event.is_set() and time.monotonic() < deadline and n < MAX_REQUESTS_PER_CLIENT:
            n += 1
            if conn is None:
                conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=10)
                self.reconnects += 1
            try:
                conn.request("GET", "/load", headers={"Host": self.host})
                r = conn.getresponse()
                body = r.read()
                if r.status != 200 or self.expect not in body:
                    self.fail("status %s body %r" % (r.status, body[:120]))
                else:
                    self.ok += 1
                if r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                self.fail("%s: %s" % (type(e).__name__, e))
                try:
                    conn.close()
                except Exception:
                    pass
                conn = None
        if conn is not None:
            conn.close()


class SwapUnderLoadTests(E2ETestCase):

    def run_swaps(self, rewrites, interval):
        o1 = self.start_whoami("o1")
        content_a = route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1", "priority": 10},
                                "rx": {"rule": "Host(`x.test`)", "service": "s1"}},
                               {"s1": [o1.url]})
        content_b = route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1", "priority": 20}},
                               {"s1": [o1.url]})
        # the start content differs from both alternates, so the final state is a real change
        content_0 = route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1", "priority": 5}},
                               {"s1": [o1.url]})
        self.write("swap.yml", content_0)
        proxy = self.start_proxy(throttle="0s", log_level="INFO")
        proxy.wait_routers(["r1@file"])
        proxy.wait_status("a.test", 200)
        v0 = proxy.version()

        stop = threading.Event()
        clients = [Client(proxy.web_port, stop, "a.test", b"Hostname: o1") for _ in range(CLIENTS)]
        t0 = time.monotonic()
        try:
            for c in clients:
                c.start()
            time.sleep(0.5)  # load is flowing
            for i in range(rewrites):
                self.write("swap.yml", content_b if i % 2 == 0 else content_a)
                time.sleep(interval)
            time.sleep(0.5)  # the last reloads land under load
            v_load = proxy.version()
        finally:
            stop.set()
            for c in clients:
                c.join(timeout=15)
        elapsed = time.monotonic() - t0
        proxy.check_alive()

        ok = sum(c.ok for c in clients)
        failed = sum(c.failed for c in clients)
        conns = sum(c.reconnects for c in clients)
        samples = [s for c in clients for s in c.samples][:10]
        print("\n    [%d rewrites every %.2fs: %d requests ok, %d failed, %.1fs, %.0f req/s, %d connections, "
              "version %d -> %d under load]"
              % (rewrites, interval, ok, failed, elapsed, ok / elapsed, conns, v0, v_load), end="")
        self.assertFalse(any(c.is_alive() for c in clients), "client threads did not stop")
        self.assertEqual(failed, 0, "failed requests during swaps, e.g. %s" % samples)
        self.assertGreater(ok, CLIENTS, "hardly any requests were made")
        # the final content is content_a (rewrites is even): wait for it to land
        data = proxy.wait_rawdata(lambda d: "rx@file" in d["routers"] and d["routers"]["r1@file"]["priority"] == 10,
                                  message="final content applied")
        self.assertGreater(data["version"], v0, "rawdata version did not increase")
        return v0, v_load

    def test_05_swap_under_load_no_failed_requests(self):
        """64 keep-alive clients, 100 rewrites 150 ms apart (throttle 0s), each one a new table live under load
        (the file watcher settles a burst for 50 ms): zero failed requests."""
        v0, v_load = self.run_swaps(REWRITES, 0.15)
        self.assertGreaterEqual(v_load - v0, 95, "only %d of %d rewrites went live" % (v_load - v0, REWRITES))

    def test_05c_burst_of_rewrites_under_load(self):
        """Same load, 100 rewrites 30 ms apart: bursts are coalesced, nothing fails."""
        self.run_swaps(REWRITES, REWRITE_INTERVAL)

    def test_05b_continuous_rewrites_are_applied_while_they_continue(self):
        """A file rewritten every 30 ms for 3 s (throttle 0s): the new content must go live while the
        writes continue (within throttle + 1 s of the first write), not only once they stop."""
        o1 = self.start_whoami("o1")
        content_a = route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1", "priority": 10}},
                               {"s1": [o1.url]})
        self.write("swap.yml", content_a)
        proxy = self.start_proxy(throttle="0s", log_level="INFO")
        proxy.wait_routers(["r1@file"])
        v0 = proxy.version()
        t0 = time.monotonic()
        first_change = None
        versions = set()
        for i in range(100):
            # every write differs (a file under continuous change), so any read of it is a change
            self.write("swap.yml", route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1", "priority": 100 + i}},
                                              {"s1": [o1.url]}))
            time.sleep(REWRITE_INTERVAL)
            if i % 5 == 4:
                v = proxy.version()
                versions.add(v)
                if v > v0 and first_change is None:
                    first_change = time.monotonic() - t0
        total = time.monotonic() - t0
        print("\n    [%.1fs of rewrites; versions seen during them: %s; first change after %s]"
              % (total, sorted(versions), "%.2fs" % first_change if first_change is not None else "never"), end="")
        self.assertIsNotNone(first_change, "no new configuration went live during %.1fs of rewrites" % total)
        self.assertLessEqual(first_change, 1.0 + 0.2, "first change went live after %.2fs" % first_change)
