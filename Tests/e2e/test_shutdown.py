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
