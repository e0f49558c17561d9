"""HTTP/2: negotiated by ALPN inside TLS and with prior knowledge (h2c) on plain connections, on the same entry
point as HTTP/1.1; many streams at once (h2load); bodies streamed both ways with flow control; WebSocket over
HTTP/1.1 behind TLS."""

import os
import shutil
import socket
import ssl
import subprocess
import time

import harness
from harness import E2ETestCase, Whoami
from test_tls import CertificateAuthority
from test_websocket import WebSocketSession


def curl(*args, timeout=60):
    result = subprocess.run(["curl", "-sS"] + list(args), capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError("curl %s failed: %s" % (" ".join(args), result.stderr.decode()))
    return result.stdout


class HTTP2Tests(E2ETestCase):

    def setUp(self):
        super(HTTP2Tests, self).setUp()
        self.ca = CertificateAuthority(os.path.join(self.dyn, "pki"))
        cert, key = self.ca.issue("h2", "h2.test", ["h2.test"])
        self.backend = self.start_whoami("h2-backend")
        self.write("h2.yml", """
http:
  routers:
    plain:  {rule: "Host(`h2.test`) || PathPrefix(`/load`)", service: backend}
    secure: {rule: "Host(`h2.test`) || PathPrefix(`/load`)", service: backend, tls: {}}
  services:
    backend: {loadBalancer: {servers: [{url: "%s"}]}}
tls:
  certificates:
    - {certFile: %s, keyFile: %s}
""" % (self.backend.url, cert, key))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["plain@file", "secure@file"])
        self.port = self.proxy.web_port
        self.resolve = "--resolve"
        self.resolve_to = "h2.test:%d:127.0.0.1" % self.port
        self.https = "https://h2.test:%d" % self.port

    def test_31a_h2_by_alpn_and_h2c_by_prior_knowledge(self):
        out = curl("--http2", "--cacert", self.ca.cert, self.resolve, self.resolve_to, self.https + "/a",
                   "-w", "\n%{http_version} %{http_code}")
        body, _, last = out.decode().rpartition("\n")
        self.assertEqual(last, "2 200")
        self.assertEqual(Whoami(body).header("X-Forwarded-Proto"), "https")
        out = curl("--http2-prior-knowledge", "-H", "Host: h2.test", "http://127.0.0.1:%d/b" % self.port,
                   "-w", "\n%{http_version} %{http_code}")
        body, _, last = out.decode().rpartition("\n")
        self.assertEqual(last, "2 200")
        self.assertEqual(Whoami(body).header("X-Forwarded-Proto"), "http")
        # HTTP/1.1 still answers on the same port, with and without TLS
        self.assertEqual(curl("--http1.1", "--cacert", self.ca.cert, self.resolve, self.resolve_to, self.https + "/c", "-o",
                              "/dev/null", "-w", "%{http_version}").decode(), "1.1")
        self.assertEqual(self.proxy.get("/", host="h2.test").status, 200)

    def test_31b_many_concurrent_streams_with_h2load(self):
        self.assertIsNotNone(shutil.which("h2load"), "h2load is not installed (nghttp2-client)")
        for url in ("https://127.0.0.1:%d/load" % self.port, "http://127.0.0.1:%d/load" % self.port):
            result = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "32", url],
                                    capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("2000 succeeded, 0 failed, 0 errored", result.stdout, result.stdout)
            self.assertIn("status codes: 2000 2xx", result.stdout, result.stdout)
        self.proxy.check_alive()

    def test_31c_large_bodies_both_ways_with_flow_control(self):
        size = 64 * 1024 * 1024
        out = curl("--http2", "--cacert", self.ca.cert, self.resolve, self.resolve_to, self.https + "/data?size=%d" % size,
                   "-o", "/dev/null", "-w", "%{size_download} %{http_version}", timeout=120)
        self.assertEqual(out.decode(), "%d 2" % size)
        upload = os.path.join(self.tmp, "upload.bin")
        with open(upload, "wb") as f:
            f.write(os.urandom(1024 * 1024) * 24)
        out = curl("--http2", "--cacert", self.ca.cert, self.resolve, self.resolve_to, self.https + "/upload",
                   "--data-binary", "@" + upload, timeout=120)
        self.assertIn("Body-Bytes: %d\n" % (24 * 1024 * 1024), out.decode())
        out = curl("--http2-prior-knowledge", "-H", "Host: h2.test", "http://127.0.0.1:%d/upload" % self.port,
                   "--data-binary", "@" + upload, timeout=120)
        self.assertIn("Body-Bytes: %d\n" % (24 * 1024 * 1024), out.decode())

    def test_31i_a_refused_request_after_a_proxied_one_over_tls_gets_no_second_answer(self):
        # A request and garbage in one TLS read: the request goes upstream, the garbage is refused with 400, and
        # the connection stays open until the client's close_notify. The server's answer must not follow the 400.
        context = ssl.create_default_context(cafile=self.ca.cert)
        context.set_alpn_protocols(["http/1.1"])
        raw = socket.create_connection((harness.LOOPBACK, self.port), timeout=5)
        tls = context.wrap_socket(raw, server_hostname="h2.test")
        self.addCleanup(tls.close)
        tls.sendall(b"GET /first HTTP/1.1\r\nHost: h2.test\r\n\r\n\x00garbage\r\n\r\n")
        received = b""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                data = tls.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError):
                break
            if not data:
                break
            received += data
        self.assertEqual(received.count(b"HTTP/1.1 "), 1, received)
        self.assertTrue(received.startswith(b"HTTP/1.1 400"), received)
        self.proxy.check_alive()
        self.assertIn(b"h2-backend", curl("--http1.1", "--cacert", self.ca.cert, self.resolve, self.resolve_to, self.https + "/after"))


class WebSocketOverTLSTests(WebSocketSession, E2ETestCase):
    """The WebSocket session of test_websocket, over TLS (HTTP/1.1 by ALPN)."""

    def setUp(self):
        super(WebSocketOverTLSTests, self).setUp()
        self.ca = CertificateAuthority(os.path.join(self.dyn, "pki"))
        cert, key = self.ca.issue("ws", "ws.test", ["ws.test"])
        self.write("ws-tls.yml", """
http:
  routers:
    ws-tls: {rule: "Host(`ws.test`)", service: s1, tls: {}}
tls:
  certificates:
    - {certFile: %s, keyFile: %s}
""" % (cert, key))
        self.proxy.wait_routers(["ws-tls@file"])

    def test_31d_websocket_over_tls(self):
        context = ssl.create_default_context(cafile=self.ca.cert)
        context.set_alpn_protocols(["http/1.1"])
        self.session(self.proxy.web_port, "/ws", "ws.test", tls_context=context)
        self.proxy.check_alive()


def grpc_python():
    """A Python that has grpcio: the one running the tests, else Debian's (python3-grpcio)."""
    import sys
    for candidate in (sys.executable, "/usr/bin/python3"):
        if candidate and subprocess.run([candidate, "-c", "import grpc"], capture_output=True).returncode == 0:
            return candidate
    return None


class GRPCTests(E2ETestCase):
    """gRPC through the proxy to an h2c server: unary with trailers, bidirectional streaming, a non-OK status."""

    def setUp(self):
        super(GRPCTests, self).setUp()
        self.python = grpc_python()
        self.assertIsNotNone(self.python, "grpcio is not installed (scripts/test installs python3-grpcio)")
        self.peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_peer.py")
        port = harness.free_port()
        log = open(os.path.join(self.tmp, "grpc-server.log"), "w")
        self.server = subprocess.Popen([self.python, self.peer, "serve", str(port)], stdout=subprocess.PIPE,
                                       stderr=log, text=True)
        self.addCleanup(harness.stop_process, self.server)
        self.addCleanup(log.close)
        self.assertEqual(self.server.stdout.readline().strip(), "ready")
        self.ca = CertificateAuthority(os.path.join(self.dyn, "pki"))
        cert, key = self.ca.issue("grpc", "grpc.test", ["grpc.test"])
        self.write("grpc.yml", """
http:
  routers:
    grpc:     {rule: "PathPrefix(`/test.Echo/`)", service: grpc}
    grpc-tls: {rule: "PathPrefix(`/test.Echo/`)", service: grpc, tls: {}}
    grpc-web: {rule: "Host(`grpcweb.test`)", priority: 100, service: grpc, middlewares: [web]}
  middlewares:
    web: {grpcWeb: {allowOrigins: ["https://app.test"]}}
  services:
    grpc: {loadBalancer: {servers: [{url: "h2c://127.0.0.1:%d"}]}}
    grpc-checked:
      loadBalancer:
        healthCheck: {path: /test.Echo/Unary, method: POST, headers: {Content-Type: application/grpc}, interval: 200ms}
        servers: [{url: "h2c://127.0.0.1:%d"}, {url: "h2c://127.0.0.1:%d"}]
tls:
  certificates:
    - {certFile: %s, keyFile: %s}
""" % (port, port, harness.free_port(), cert, key))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["grpc@file", "grpc-tls@file"])
        self.h2c_port = port

    def call(self, *args):
        import json
        result = subprocess.run([self.python, self.peer, "call"] + list(args), capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def check(self, result):
        self.assertEqual(result["unary"], "echo:hello")
        self.assertEqual(result["trailers"].get("x-served-by"), "grpc-peer")
        self.assertEqual(result["chat"], ["re:" + ("m%d" % i) * (i + 1) for i in range(20)])
        self.assertEqual(result["fail"], ["NOT_FOUND", "no such thing"])
        self.assertEqual(result["unknown"], "UNIMPLEMENTED")

    def test_31e_grpc_over_h2c_and_tls(self):
        self.check(self.call("127.0.0.1:%d" % self.proxy.web_port))
        self.check(self.call("127.0.0.1:%d" % self.proxy.web_port, self.ca.cert, "grpc.test"))
        # health checks of h2c:// servers go over HTTP/2 with prior knowledge, as the requests do
        checked = lambda: self.proxy.rawdata()["services"].get("grpc-checked@file", {}).get("serverStatus", {})
        harness.wait_until(lambda: sorted(checked().values()) == ["DOWN", "UP"], 10, message="one UP, one DOWN")
        self.assertEqual(checked()["h2c://127.0.0.1:%d" % self.h2c_port], "UP")

    def test_31f_grpc_web_from_http11(self):
        import http.client
        import struct

        def call(method, payload):
            connection = http.client.HTTPConnection("127.0.0.1", self.proxy.web_port, timeout=10)
            connection.request("POST", "/test.Echo/" + method, body=b"\x00" + struct.pack("!I", len(payload)) + payload,
                               headers={"Host": "grpcweb.test", "Content-Type": "application/grpc-web+proto",
                                        "X-Grpc-Web": "1", "Origin": "https://app.test"})
            response = connection.getresponse()
            body = response.read()
            frames = []
            while body:
                flag, length = body[0], struct.unpack("!I", body[1:5])[0]
                frames.append((flag, body[5:5 + length]))
                body = body[5 + length:]
            return response, frames

        response, frames = call("Unary", b"hello")
        self.assertEqual(response.status, 200)
        self.assertTrue(response.getheader("Content-Type").startswith("application/grpc-web"), response.getheaders())
        self.assertEqual(response.getheader("Access-Control-Allow-Origin"), "https://app.test")
        self.assertEqual(frames[0], (0, b"echo:hello"))
        self.assertEqual(frames[-1][0], 0x80)
        self.assertIn(b"grpc-status: 0\r\n", frames[-1][1])
        self.assertIn(b"x-served-by: grpc-peer\r\n", frames[-1][1])
        response, frames = call("Fail", b"x")
        self.assertEqual(response.status, 200)
        self.assertEqual(frames[-1][0], 0x80)
        self.assertIn(b"grpc-status: 5\r\n", frames[-1][1])
        self.assertIn(b"grpc-message: no such thing\r\n", frames[-1][1])
        # a CORS preflight is answered by the proxy, for allowed origins only
        preflight = harness.request(self.proxy.web_port, "/test.Echo/Unary", host="grpcweb.test", method="OPTIONS",
                                    headers={"Origin": "https://app.test", "Access-Control-Request-Method": "POST"})
        self.assertEqual(preflight.status, 204)
        self.assertIn("x-grpc-web", preflight.header("Access-Control-Allow-Headers"))
        refused = harness.request(self.proxy.web_port, "/test.Echo/Unary", host="grpcweb.test", method="OPTIONS",
                                  headers={"Origin": "https://evil.test", "Access-Control-Request-Method": "POST"})
        self.assertEqual(refused.status, 403)

    def test_31g_grpc_to_a_tls_server_over_http2_by_alpn(self):
        cert, key = self.ca.issue("grpc-origin", "grpc-origin.test", ["grpc-origin.test"])
        port = harness.free_port()
        log = open(os.path.join(self.tmp, "grpc-tls-server.log"), "w")
        server = subprocess.Popen([self.python, self.peer, "serve", str(port), cert, key], stdout=subprocess.PIPE,
                                  stderr=log, text=True)
        self.addCleanup(harness.stop_process, server)
        self.addCleanup(log.close)
        self.assertEqual(server.stdout.readline().strip(), "ready")
        self.write("grpc-tls-origin.yml", """
http:
  routers:
    to-tls:   {rule: "Host(`to-tls.test`)", priority: 100, service: tls-origin}
    to-h1:    {rule: "Host(`to-h1.test`)", priority: 100, service: h1-origin}
  services:
    tls-origin: {loadBalancer: {servers: [{url: "https://127.0.0.1:%(p)d"}], serversTransport: verified}}
    h1-origin:  {loadBalancer: {servers: [{url: "https://127.0.0.1:%(p)d"}], serversTransport: http1}}
    checked:
      loadBalancer:
        serversTransport: verified
        healthCheck: {path: /test.Echo/Unary, method: POST, headers: {Content-Type: application/grpc}, interval: 200ms}
        servers: [{url: "https://127.0.0.1:%(p)d"}, {url: "https://127.0.0.1:%(closed)d"}]
  serversTransports:
    verified: {serverName: grpc-origin.test, rootCAs: [%(ca)s]}
    http1:    {serverName: grpc-origin.test, rootCAs: [%(ca)s], disableHTTP2: true}
""" % {"p": port, "ca": self.ca.cert, "closed": harness.free_port()})
        self.proxy.wait_routers(["to-tls@file", "to-h1@file"])
        # health checks of https:// servers go over the transport's TLS (HTTP/2 by ALPN here)
        checked = lambda: self.proxy.rawdata()["services"].get("checked@file", {}).get("serverStatus", {})
        harness.wait_until(lambda: sorted(checked().values()) == ["DOWN", "UP"], 10, message="one UP, one DOWN")
        self.assertEqual(checked()["https://127.0.0.1:%d" % port], "UP")
        # gRPC needs HTTP/2: through the proxy to a TLS-only gRPC server, ALPN picks h2
        import json

        def call(authority):
            return subprocess.run([self.python, self.peer, "call", "127.0.0.1:%d" % self.proxy.web_port],
                                  capture_output=True, text=True, timeout=60,
                                  env=dict(os.environ, GRPC_PEER_AUTHORITY=authority))
        result = call("to-tls.test")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.check(json.loads(result.stdout))
        # with disableHTTP2 the proxy speaks HTTP/1.1 to it, which a gRPC server does not answer
        self.assertNotEqual(call("to-h1.test").returncode, 0)


class HTTP2IdleTests(E2ETestCase):

    def test_31h_an_idle_http2_connection_gets_goaway_and_closes(self):
        import socket
        import time
        proxy = self.start_proxy(throttle="0s", extra_args=[
            "--entryPoints.web.transport.respondingTimeouts.idleTimeout=1s"])
        s = socket.create_connection((harness.LOOPBACK, proxy.web_port), timeout=10)
        self.addCleanup(s.close)
        # prior knowledge: the preface and an empty SETTINGS frame, then no stream; PINGs are answered
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        t0 = time.monotonic()
        buffer, frames, closed = b"", [], False
        while time.monotonic() - t0 < 8 and not closed:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            buffer += chunk
            while len(buffer) >= 9 and len(buffer) >= 9 + int.from_bytes(buffer[:3], "big"):
                length = int.from_bytes(buffer[:3], "big")
                kind, flags, payload = buffer[3], buffer[4], buffer[9:9 + length]
                buffer = buffer[9 + length:]
                frames.append((kind, time.monotonic() - t0))
                if kind == 6 and not flags & 1:
                    s.sendall(b"\x00\x00\x08\x06\x01\x00\x00\x00\x00" + payload)
                elif kind == 4 and not flags & 1:
                    s.sendall(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00")
        goaways = [at for kind, at in frames if kind == 7]
        self.assertTrue(goaways, "a GOAWAY frame (frames %s)" % frames)
        self.assertTrue(0.8 < goaways[0] < 4, "GOAWAY after the 1 s idle timeout, not at %.2fs" % goaways[0])
        self.assertTrue(closed, "then the connection closes")
