"""Graceful shutdown on SIGTERM / SIGINT (brief item 11)."""

import signal
import socket
import threading
import time

from harness import E2ETestCase, LOOPBACK, free_port, port_open, request, route_yaml, wait_until

GRACE = 10.0
ORIGIN_DELAY = 2.0


class GracefulShutdownTests(E2ETestCase):

    def run_shutdown(self, sig, single_entry_point=False):
        slow = self.start_silent_origin(delay=ORIGIN_DELAY)
        self.write("g.yml", route_yaml({"slow": {"rule": "Host(`slow.test`)", "service": "sslow"}},
                                       {"sslow": [slow.url]}))
        if single_entry_point:
            web = free_port()
            proxy = self.start_proxy(use_defaults=False, web_port=web, wait=False, extra_args=[
                "--entryPoints.web.address=127.0.0.1:%d" % web, "--providers.file.directory=%s" % self.dyn,
                "--providers.providersThrottleDuration=0s", "--lifeCycle.graceTimeOut=%ds" % GRACE])
            wait_until(lambda: proxy.check_alive() or port_open(web), 15, message="web entry point")
            time.sleep(0.5)  # the file provider's first load
        else:
            proxy = self.start_proxy(throttle="0s", extra_args=["--lifeCycle.graceTimeOut=%ds" % GRACE])
            proxy.wait_routers(["slow@file"])

        box = {}

        def client():
            try:
                box["response"] = request(proxy.web_port, "/slow", host="slow.test", timeout=15)
            except Exception as e:  # noqa: BLE001
                box["error"] = e
            box["done_at"] = time.monotonic()

        t = threading.Thread(target=client, daemon=True)
        t.start()
        self.assertTrue(slow.received.wait(5), "the slow request never reached the origin")
        t_sig = time.monotonic()
        proxy.proc.send_signal(sig)

        # new connections are refused shortly after the signal (poll briefly: the listener closes asynchronously)
        def refused():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(0.5)
            try:
                s.connect((LOOPBACK, proxy.web_port))
            except ConnectionRefusedError:
                return True
            except OSError:
                return False
            finally:
                s.close()
            return False
        wait_until(refused, 1.0, interval=0.02, message="new connections refused after the signal")
        refused_at = time.monotonic() - t_sig
        self.assertTrue(t.is_alive() or "response" in box, "the in-flight request ended early: %r" % box)

        t.join(timeout=15)
        self.assertFalse(t.is_alive())
        self.assertNotIn("error", box, "in-flight request failed: %r" % box.get("error"))
        r = box["response"]
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"slow-ok")

        try:
            code = proxy.proc.wait(timeout=GRACE + 2)
        except Exception:
            self.fail("proxy did not exit within the grace time; log:\n%s" % proxy.log()[-2000:])
        exit_after = time.monotonic() - t_sig
        print("\n    [refused after %.2fs, request done after %.2fs, exit %s after %.2fs]"
              % (refused_at, box["done_at"] - t_sig, code, exit_after), end="")
        self.assertEqual(code, 0, "exit code; log:\n%s" % proxy.log()[-2000:])
        self.assertLess(exit_after, GRACE, "exit took longer than the grace time")
        return proxy

    def test_11a_sigterm_finishes_in_flight_and_exits_0(self):
        self.run_shutdown(signal.SIGTERM)

    def test_11b_sigint_finishes_in_flight_and_exits_0(self):
        self.run_shutdown(signal.SIGINT)

    def test_11d_sigterm_single_entry_point(self):
        """Same as 11a with only the `web` entry point (no API/ping entry point)."""
        self.run_shutdown(signal.SIGTERM, single_entry_point=True)

    def test_11c_idle_proxy_exits_promptly_and_cleanly(self):
        proxy = self.start_proxy(throttle="0s")
        t0 = time.monotonic()
        proxy.proc.send_signal(signal.SIGTERM)
        code = proxy.proc.wait(timeout=GRACE + 2)
        self.assertEqual(code, 0)
        self.assertLess(time.monotonic() - t0, 2.0, "an idle proxy should not wait out the grace time")
        log = proxy.log()
        # nothing after "stopped" should look like an error
        self.assertNotIn("Cannot schedule tasks on an EventLoop that has already shut down", log)
        self.assertNotRegex(log, r"(?m)^ERROR", "stderr after shutdown:\n%s" % log[-1500:])

    def test_11e_request_accept_grace_then_per_entry_point_grace(self):
        """`requestAcceptGraceTimeout`: new requests are served for that long after the signal while /ping says the
        process is stopping; then `graceTimeOut` of each entry point bounds its requests in flight."""
        silent = self.start_silent_origin(delay=None)  # never answers
        backend = self.start_whoami("accept")
        self.write("g.yml", route_yaml({"hang": {"rule": "Host(`hang.test`)", "service": "shang"},
                                        "ok": {"rule": "Host(`ok.test`)", "service": "sok"}},
                                       {"shang": [silent.url], "sok": [backend.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=[
            "--entryPoints.web.transport.lifeCycle.requestAcceptGraceTimeout=1500ms",
            "--entryPoints.web.transport.lifeCycle.graceTimeOut=1s", "--lifeCycle.graceTimeOut=30s"])
        proxy.wait_routers(["hang@file", "ok@file"])
        box = {}

        def hang():
            try:
                box["response"] = request(proxy.web_port, "/", host="hang.test", timeout=20)
            except Exception as e:  # noqa: BLE001
                box["error"] = e
        t = threading.Thread(target=hang, daemon=True)
        t.start()
        self.assertTrue(silent.received.wait(5))
        t_sig = time.monotonic()
        proxy.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # still accepting: a new request is served; /ping reports the stop
        self.assertEqual(request(proxy.web_port, "/", host="ok.test").status, 200)
        self.assertEqual(request(proxy.api_port, "/ping").status, 503)
        code = proxy.proc.wait(timeout=20)
        elapsed = time.monotonic() - t_sig
        self.assertEqual(code, 0)
        # 1.5 s of accepting, then the web entry point's 1 s grace (not the global 30 s) for the hanging request
        self.assertGreater(elapsed, 2.3, "exited before the accept grace and the entry point's grace")
        self.assertLess(elapsed, 8.0, "the entry point's graceTimeOut, not the global one, bounds its requests")
        t.join(timeout=5)


class WriteTimeoutTests(E2ETestCase):

    def test_11f_write_timeout_cuts_a_response_still_being_written(self):
        from harness import ScriptedOrigin

        def drip(c, head, rest):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            for _ in range(30):
                try:
                    c.sendall(b"5\r\ndrip\n\r\n")
                except OSError:
                    return
                time.sleep(0.1)
            c.sendall(b"0\r\n\r\n")
        origin = ScriptedOrigin(drip)
        self.addCleanup(origin.close)
        backend = self.start_whoami("quick")
        self.write("w.yml", route_yaml({"drip": {"rule": "Host(`drip.test`)", "service": "sdrip"},
                                        "quick": {"rule": "Host(`quick.test`)", "service": "squick"}},
                                       {"sdrip": [origin.url], "squick": [backend.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=[
            "--entryPoints.web.transport.respondingTimeouts.writeTimeout=1s"])
        proxy.wait_routers(["drip@file", "quick@file"])
        s = socket.create_connection((LOOPBACK, proxy.web_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\nHost: drip.test\r\n\r\n")
        t0 = time.monotonic()
        received = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            received += chunk
        elapsed = time.monotonic() - t0
        self.assertIn(b"drip", received, "the response started")
        self.assertNotIn(b"0\r\n\r\n", received, "and was cut before its end")
        self.assertTrue(0.8 < elapsed < 2.5, "closed after the 1 s write timeout, not at %.2fs" % elapsed)
        # a quick exchange on a kept-alive connection is not affected, however long the connection lives
        conn = socket.create_connection((LOOPBACK, proxy.web_port), timeout=10)
        self.addCleanup(conn.close)
        for _ in range(3):
            conn.sendall(b"GET / HTTP/1.1\r\nHost: quick.test\r\n\r\n")
            self.assertTrue(conn.recv(65536).startswith(b"HTTP/1.1 200"))
            time.sleep(0.6)
