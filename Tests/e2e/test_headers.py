"""Forwarded headers, hop-by-hop removal and passHostHeader (brief item 8)."""

import socket

from harness import E2ETestCase, LOOPBACK, ScriptedOrigin, Whoami, route_yaml


class HeaderTests(E2ETestCase):

    def setUp(self):
        super(HeaderTests, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.write("h.yml", route_yaml(
            {"pass": {"rule": "Host(`hdr.test`)", "service": "spass"},
             "nopass": {"rule": "Host(`nopass.test`)", "service": "snopass"}},
            {"spass": [self.o1.url],
             "snopass": {"passHostHeader": False, "servers": [self.o1.url]}}))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["pass@file", "nopass@file"])
        self.proxy.wait_status("hdr.test", 200)

    def test_08a_x_forwarded_headers(self):
        host = "hdr.test:%d" % self.proxy.web_port
        r = self.proxy.get("/fwd?q=1", host=host, headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Real-Ip": "203.0.113.10",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Server": "evil",
        })
        w = self.assertWhoami(r, "o1")
        self.assertEqual(w.request_line, "GET /fwd?q=1 HTTP/1.1")
        self.assertEqual(w.header_all("X-Forwarded-For"), ["127.0.0.1"], w.raw)
        self.assertEqual(w.header_all("X-Real-Ip"), ["127.0.0.1"], w.raw)
        self.assertEqual(w.header_all("X-Forwarded-Host"), [host], w.raw)
        self.assertEqual(w.header_all("X-Forwarded-Port"), [str(self.proxy.web_port)], w.raw)
        self.assertEqual(w.header_all("X-Forwarded-Proto"), ["http"], w.raw)
        servers = w.header_all("X-Forwarded-Server")
        self.assertEqual(len(servers), 1, w.raw)
        self.assertTrue(servers[0] and servers[0] != "evil", w.raw)
        self.assertEqual(w.header("Host"), host, "passHostHeader defaults to true")

    def test_08b_x_forwarded_port_defaults_to_80_without_port_in_host(self):
        w = self.assertWhoami(self.proxy.get("/", host="hdr.test"), "o1")
        self.assertEqual(w.header("X-Forwarded-Host"), "hdr.test", w.raw)
        self.assertEqual(w.header("X-Forwarded-Port"), "80", w.raw)

    def test_08c_hop_by_hop_headers_not_forwarded(self):
        r = self.proxy.get("/hop", host="hdr.test", headers={
            "Connection": "keep-alive, X-Secret",
            "X-Secret": "1",
            "Keep-Alive": "timeout=5",
            "TE": "deflate",
            "Proxy-Connection": "keep-alive",
            "X-Kept": "yes",
        })
        w = self.assertWhoami(r, "o1")
        names = [k.lower() for k, _ in w.headers]
        self.assertNotIn("x-secret", names, w.raw)
        self.assertNotIn("keep-alive", names, w.raw)
        self.assertNotIn("te", names, w.raw)
        self.assertNotIn("upgrade", names, w.raw)
        # the proxy may set its own Connection header for its hop, but not relay the client's
        for v in w.header_all("Connection"):
            self.assertNotIn("x-secret", v.lower(), w.raw)
        self.assertEqual(w.header("X-Kept"), "yes", "end-to-end headers are forwarded")

    def test_08d_pass_host_header_false(self):
        w = self.assertWhoami(self.proxy.get("/", host="nopass.test"), "o1")
        self.assertEqual(w.header("Host"), "%s:%d" % (LOOPBACK, self.o1.port), w.raw)
        # X-Forwarded-Host still carries the client's host
        self.assertEqual(w.header("X-Forwarded-Host"), "nopass.test", w.raw)

    def test_08e_raw_request_with_duplicate_xff_and_body(self):
        """Several client X-Forwarded-For lines are all replaced; a request body is forwarded."""
        s = socket.create_connection((LOOPBACK, self.proxy.web_port), timeout=10)
        try:
            s.sendall(b"POST /raw HTTP/1.1\r\nHost: hdr.test\r\nX-Forwarded-For: 1.1.1.1\r\n"
                      b"X-Forwarded-For: 2.2.2.2, 3.3.3.3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            data = b""
            for _ in range(1000):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head)
        w = Whoami(body.decode())
        self.assertEqual(w.header_all("X-Forwarded-For"), ["127.0.0.1"], w.raw)
        self.assertEqual(w.body_bytes, 5, w.raw)

    def test_08f_chunked_response_trailers_are_forwarded(self):
        def trailers(c, head, rest):
            c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                      b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc123\r\n\r\n")
            c.recv(1)  # hold the connection until the proxy closes it or the test ends
        origin = ScriptedOrigin(trailers)
        self.addCleanup(origin.close)
        port = origin.port
        self.write("t.yml", route_yaml({"t": {"rule": "Host(`trailers.test`)", "service": "st"}},
                                       {"st": ["http://%s:%d" % (LOOPBACK, port)]}))
        self.proxy.wait_routers(["t@file"])
        s = socket.create_connection((LOOPBACK, self.proxy.web_port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\nHost: trailers.test\r\nTE: trailers\r\n\r\n")
        data = b""
        while not data.endswith(b"\r\n\r\n") or b"0\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"transfer-encoding: chunked", head.lower())
        self.assertIn(b"hello", body)
        self.assertIn(b" world", body)
        # the last chunk, then the trailer, then the end of the message
        self.assertTrue(body.endswith(b"\r\n0\r\nX-Checksum: abc123\r\n\r\n"), body)
