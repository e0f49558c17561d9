"""502 for an unreachable server, 504 for a response header timeout, 404 for no route (brief item 9)."""

import socket
import threading
import time

from harness import LOOPBACK, E2ETestCase, SilentOrigin, free_port, route_yaml


class ErrorResponseTests(E2ETestCase):

    def test_09a_unreachable_server_502(self):
        closed = free_port()  # bound then released: nothing listens there
        self.write("e.yml", route_yaml({"down": {"rule": "Host(`down.test`)", "service": "sdown"}},
                                       {"sdown": ["http://127.0.0.1:%d" % closed]}))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["down@file"])
        t0 = time.monotonic()
        r = proxy.get("/", host="down.test")
        self.assertEqual(r.status, 502, r)
        self.assertLess(time.monotonic() - t0, 5.0, "502 took too long")
        # the proxy stays up and answers again
        self.assertEqual(proxy.get("/x", host="down.test").status, 502)
        proxy.check_alive()

    def test_09b_response_header_timeout_504(self):
        silent = self.start_silent_origin(delay=None)
        self.write("e.yml", route_yaml({"slow": {"rule": "Host(`slow.test`)", "service": "sslow"}},
                                       {"sslow": [silent.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=[
            "--serversTransport.forwardingTimeouts.responseHeaderTimeout=1s"])
        proxy.wait_routers(["slow@file"])
        t0 = time.monotonic()
        r = proxy.get("/", host="slow.test", timeout=15)
        elapsed = time.monotonic() - t0
        self.assertTrue(silent.received.is_set(), "the origin never got the request")
        self.assertEqual(r.status, 504, r)
        self.assertGreaterEqual(elapsed, 0.9, "504 came before the 1s timeout")
        self.assertLess(elapsed, 3.0, "504 took %.1fs with a 1s timeout" % elapsed)
        proxy.check_alive()

    def test_09c_no_route_404(self):
        o1 = self.start_whoami("o1")
        self.write("e.yml", route_yaml({"r": {"rule": "Host(`known.test`)", "service": "s"}}, {"s": [o1.url]}))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_status("known.test", 200)
        for host, path in [("unknown.test", "/"), ("known.test.other", "/x"), (None, "/")]:
            r = proxy.get(path, host=host)
            self.assertEqual(r.status, 404, (host, path, r))
            self.assertEqual(r.text.strip(), "404 page not found", r)

    def test_09d_client_gone_cancels_the_upstream_request(self):
        silent = self.start_silent_origin(delay=None)
        self.write("e.yml", route_yaml({"slow": {"rule": "Host(`slow.test`)", "service": "sslow"}},
                                       {"sslow": [silent.url]}))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["slow@file"])
        client = socket.create_connection((LOOPBACK, proxy.web_port), timeout=5)
        client.sendall(b"GET /wait HTTP/1.1\r\nHost: slow.test\r\n\r\n")
        self.assertTrue(silent.received.wait(5), "the origin never got the request")
        self.assertFalse(silent.peer_closed.is_set())
        client.close()
        self.assertTrue(silent.peer_closed.wait(3), "the upstream connection stayed open after the client left")
        proxy.check_alive()

    def test_09e_reused_connection_closed_by_the_server_is_retried(self):
        origin = FirstRequestOnlyOrigin()
        self.addCleanup(origin.close)
        self.write("e.yml", route_yaml({"r": {"rule": "Host(`once.test`)", "service": "s"}},
                                       {"s": ["http://127.0.0.1:%d" % origin.port]}))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["r@file"])
        for i in range(5):
            r = proxy.get("/%d" % i, host="once.test")
            self.assertEqual(r.status, 200, (i, r))
        self.assertGreaterEqual(origin.connections, 5)
        # a request with a body that went out is not sent twice
        proxy.check_alive()


    def test_09f_a_named_servers_transport_has_its_own_timeouts_and_idle_limit(self):
        slow = self.start_silent_origin(delay=0.8)
        quick = self.start_silent_origin(delay=0)
        paced, paced2 = self.start_silent_origin(delay=0.6), self.start_silent_origin(delay=0.3)
        self.write("e.yml", """
http:
  routers:
    tight: {rule: "Host(`tight.test`)", service: tight}
    own: {rule: "Host(`own.test`)", service: own}
    plain: {rule: "Host(`plain.test`)", service: plain}
    brief: {rule: "Host(`brief.test`)", service: brief}
    many: {rule: "Host(`many.test`)", service: many}
  services:
    many: {loadBalancer: {servers: [{url: "%(paced2)s"}]}}
    tight: {loadBalancer: {serversTransport: tight, servers: [{url: "%(slow)s"}]}}
    own: {loadBalancer: {serversTransport: own, servers: [{url: "%(paced)s"}]}}
    plain: {loadBalancer: {servers: [{url: "%(slow)s"}]}}
    brief: {loadBalancer: {serversTransport: brief, servers: [{url: "%(quick)s"}]}}
  serversTransports:
    tight: {forwardingTimeouts: {responseHeaderTimeout: 300ms}}
    own: {maxIdleConnsPerHost: 1}
    brief: {forwardingTimeouts: {idleConnTimeout: 300ms}}
""" % {"slow": slow.url, "quick": quick.url, "paced": paced.url, "paced2": paced2.url})
        # the static serversTransport is the default transport's only: a named one keeps Traefik's defaults
        proxy = self.start_proxy(throttle="0s", env={"SWITCHYARD_EVENT_LOOPS": "1"}, extra_args=[
            "--serversTransport.forwardingTimeouts.responseHeaderTimeout=500ms"])
        proxy.wait_routers(["tight@file", "own@file", "plain@file", "brief@file"])
        t0 = time.monotonic()
        self.assertEqual(proxy.get("/", host="tight.test", timeout=10).status, 504)
        self.assertLess(time.monotonic() - t0, 0.75, "the transport's 300ms, not the origin's 800ms")
        self.assertEqual(proxy.get("/", host="plain.test", timeout=10).status, 504, "the static 500ms")
        # maxIdleConnsPerHost 1: of three connections at once, one is kept for the next three requests at once
        for host, origin, after in [("own.test", paced, 5), ("many.test", paced2, 3)]:
            for _ in range(2):
                threads = [threading.Thread(target=proxy.get, args=("/",), kwargs={"host": host, "timeout": 10})
                           for _ in range(3)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(10)
            self.assertEqual(len(origin._conns), after, host)
        self.assertEqual(paced.requests, 6, "600ms answers: the static 500ms is not the named transport's")
        # idleConnTimeout 300ms: a connection idle for longer is not used again
        for _ in range(2):
            self.assertEqual(proxy.get("/", host="brief.test").status, 200)
        self.assertEqual(len(quick._conns), 1, "kept alive between requests close together")
        # closed by the proxy once idle that long, with no request coming to find it stale
        self.assertTrue(quick.peer_closed.wait(3), "the idle connection closed after its 300ms")
        self.assertEqual(proxy.get("/", host="brief.test").status, 200)
        self.assertEqual(len(quick._conns), 2, "a new connection after the idle timeout")
        proxy.check_alive()


class FirstRequestOnlyOrigin(SilentOrigin):
    """Answers the first request of each connection with keep-alive, then closes the connection without an answer
    when the next request arrives: a server closing an idle keep-alive connection just as it is reused."""

    @property
    def connections(self):
        with self._lock:
            return len(self._conns)

    def _serve(self, c):
        c.settimeout(5)
        try:
            buf = b""
            served = 0
            while served < 2:
                chunk = c.recv(65536)
                if not chunk:
                    break
                buf += chunk
                if b"\r\n\r\n" not in buf:
                    continue
                buf = buf.split(b"\r\n\r\n", 1)[1]
                served += 1
                if served == 1:
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        finally:
            c.close()



class RespondingTimeoutTests(E2ETestCase):
    """entryPoints.<name>.transport.respondingTimeouts: idle connections closed, slow requests answered 408."""

    def test_09m_idle_and_read_timeouts(self):
        import socket
        backend = self.start_whoami("rt-backend")
        self.write("rt.yml", route_yaml({"app": {"rule": "Host(`rt.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=[
            "--entryPoints.web.transport.respondingTimeouts.idleTimeout=1s",
            "--entryPoints.web.transport.respondingTimeouts.readTimeout=1s"])
        proxy.wait_status("rt.test", 200)

        def exchange(data, wait=5.0):
            s = socket.create_connection(("127.0.0.1", proxy.web_port), timeout=wait)
            started = time.monotonic()
            if data:
                s.sendall(data)
            answer = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            finally:
                s.close()
            return answer.decode("latin-1"), time.monotonic() - started

        answer, took = exchange(b"")
        self.assertEqual(answer, "", "a silent new connection is closed after readTimeout, without a word")
        self.assertTrue(0.8 < took < 4, took)
        answer, took = exchange(b"GET / HTTP/1.1\r\nHost: rt.test\r\n")
        self.assertTrue(answer.startswith("HTTP/1.1 408"), answer)
        answer, _ = exchange(b"POST / HTTP/1.1\r\nHost: rt.test\r\nContent-Length: 100\r\n\r\n0123456789")
        self.assertTrue(answer.startswith("HTTP/1.1 408"), answer)
        answer, took = exchange(b"GET / HTTP/1.1\r\nHost: rt.test\r\n\r\n")
        self.assertTrue(answer.startswith("HTTP/1.1 200"), answer[:200])
        self.assertTrue(0.8 < took < 4, "a kept-alive connection closed after idleTimeout: %s" % took)
