"""HTTP middlewares through the real binary: what the upstream saw and what the client saw."""

import http.client
import json
import os
import select
import socket
import time

from harness import LOOPBACK, E2ETestCase, ScriptedOrigin, Whoami, free_port

DYNAMIC = """
http:
  routers:
    add:      {rule: "Host(`add.test`)", service: s, middlewares: [add]}
    strip:    {rule: "Host(`strip.test`)", service: s, middlewares: [strip]}
    stripre:  {rule: "Host(`stripre.test`)", service: s, middlewares: [stripre]}
    replace:  {rule: "Host(`replace.test`)", service: s, middlewares: [replace]}
    replacere: {rule: "Host(`replacere.test`)", service: s, middlewares: [replacere]}
    scheme:   {rule: "Host(`scheme.test`)", service: s, middlewares: [secure, to-https]}
    regex:    {rule: "Host(`regex.test`)", service: s, middlewares: [moved]}
    headers:  {rule: "Host(`headers.test`)", service: s, middlewares: [custom, secure]}
    cors:     {rule: "Host(`cors.test`)", service: s, middlewares: [cors]}
    chained:  {rule: "Host(`chain.test`)", service: s, middlewares: [api-chain]}
    broken:   {rule: "Host(`broken.test`)", service: s, middlewares: [bad-regex]}
    pending:  {rule: "Host(`pending.test`)", service: s, middlewares: [limit]}
  middlewares:
    add:       {addPrefix: {prefix: /api}}
    strip:     {stripPrefix: {prefixes: [/api, /v1]}}
    stripre:   {stripPrefixRegex: {regex: ["/users/[0-9]+"]}}
    replace:   {replacePath: {path: /fixed}}
    replacere: {replacePathRegex: {regex: "^/old/(.*)", replacement: "/new/$1"}}
    to-https:  {redirectScheme: {scheme: https, permanent: true}}
    moved:     {redirectRegex: {regex: "^http://regex\\\\.test(:[0-9]+)?/blog/(.*)", replacement: "http://blog.test/${2}"}}
    custom:
      headers:
        customRequestHeaders: {X-Script-Name: app, X-Drop: ""}
        customResponseHeaders: {X-Served-By: switchyard, Content-Type: ""}
    secure:    {headers: {frameDeny: true, contentTypeNosniff: true, forceSTSHeader: true, stsSeconds: 60}}
    cors:
      headers:
        accessControlAllowMethods: [GET, PUT]
        accessControlAllowOriginList: ["https://app.test"]
        accessControlMaxAge: 60
        addVaryHeader: true
    api-chain: {chain: {middlewares: [strip, custom]}}
    bad-regex: {replacePathRegex: {regex: "(", replacement: /x}}
    limit:     {encodedCharacters: {allowEncodedSlash: true}}
  services:
    s:
      loadBalancer:
        servers: [{url: "%s"}]
"""


class MiddlewareCase(E2ETestCase):
    """A proxy with one whoami origin; `call` sends one request on a new connection."""

    def start_status_origin(self, status):
        import http.server
        import threading

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = b"busy\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return "http://%s:%d" % (LOOPBACK, self.serve(Handler))

    def serve(self, handler, tls=None):
        """Runs a Python HTTP server with `handler` on a loopback port until the test ends; returns the port.
        `tls`: (certificate, key) paths to serve HTTPS."""
        import http.server
        import ssl
        import threading
        server = http.server.ThreadingHTTPServer((LOOPBACK, 0), handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server.server_address[1]


    def send(self, host, method, body, chunked=False, path="/up"):
        """Sends a request with a body (in two chunks when `chunked`) on a new connection; returns the status,
        the headers as (name, value) pairs and the body as bytes."""
        conn = http.client.HTTPConnection(LOOPBACK, self.proxy.web_port, timeout=10)
        try:
            if chunked:
                conn.request(method, path, body=iter([body[:10], body[10:]]), headers={"Host": host}, encode_chunked=True)
            else:
                conn.request(method, path, body=body, headers={"Host": host})
            r = conn.getresponse()
            return r.status, r.getheaders(), r.read()
        finally:
            conn.close()

    def call(self, host, path="/", method="GET", headers=None):
        conn = http.client.HTTPConnection(LOOPBACK, self.proxy.web_port, timeout=10)
        try:
            all_headers = {"Host": host}
            all_headers.update(headers or {})
            conn.request(method, path, headers=all_headers)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
        finally:
            conn.close()

    def seen(self, host, path, **kw):
        status, headers, body = self.call(host, path, **kw)
        self.assertEqual(status, 200, body)
        return Whoami(body), headers



class MiddlewareTests(MiddlewareCase):

    def setUp(self):
        super(MiddlewareTests, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.write("m.yml", DYNAMIC % self.o1.url)
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["add@file", "chained@file"])

    def test_16a_path_rewrites(self):
        cases = [
            ("add.test", "/users?x=1", "GET /api/users?x=1 HTTP/1.1", None),
            ("strip.test", "/api/users", "GET /users HTTP/1.1", ("X-Forwarded-Prefix", "/api")),
            ("strip.test", "/other", "GET /other HTTP/1.1", None),
            ("stripre.test", "/users/42/profile", "GET /profile HTTP/1.1", ("X-Forwarded-Prefix", "/users/42")),
            ("replace.test", "/anything?q=2", "GET /fixed?q=2 HTTP/1.1", ("X-Replaced-Path", "/anything")),
            ("replacere.test", "/old/a/b", "GET /new/a/b HTTP/1.1", ("X-Replaced-Path", "/old/a/b")),
        ]
        for host, path, line, header in cases:
            seen, _ = self.seen(host, path)
            self.assertEqual(seen.request_line, line, (host, path))
            if header:
                self.assertEqual(seen.header(header[0]), header[1], (host, path))

    def test_16b_redirects(self):
        status, headers, _ = self.call("scheme.test:8000", "/x?y=1")
        self.assertEqual(status, 301)
        self.assertEqual(headers["location"], "https://scheme.test/x?y=1")
        self.assertEqual(headers.get("x-frame-options"), "DENY", "the headers middleware before it decorates the answer")
        status, headers, _ = self.call("scheme.test", "/form", method="POST")
        self.assertEqual(status, 308)
        status, headers, _ = self.call("regex.test", "/blog/post-1")
        self.assertEqual(status, 302)
        self.assertEqual(headers["location"], "http://blog.test/post-1")
        status, _, body = self.call("regex.test", "/not-blog")
        self.assertEqual(status, 200)
        self.assertEqual(Whoami(body).request_line, "GET /not-blog HTTP/1.1")

    def test_16c_headers(self):
        seen, headers = self.seen("headers.test", "/", headers={"X-Drop": "secret"})
        self.assertEqual(seen.header("X-Script-Name"), "app")
        self.assertIsNone(seen.header("X-Drop"))
        self.assertEqual(headers.get("x-served-by"), "switchyard")
        self.assertNotIn("content-type", headers)
        self.assertEqual(headers.get("x-frame-options"), "DENY")
        self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertEqual(headers.get("strict-transport-security"), "max-age=60")

    def test_16d_cors_preflight_answered_by_the_proxy(self):
        status, headers, body = self.call(
            "cors.test", "/api", method="OPTIONS",
            headers={"Origin": "https://app.test", "Access-Control-Request-Method": "PUT"})
        self.assertEqual(status, 200)
        self.assertEqual(body, "", "a preflight is not forwarded")
        self.assertEqual(headers.get("access-control-allow-origin"), "https://app.test")
        self.assertEqual(headers.get("access-control-allow-methods"), "GET,PUT")
        self.assertEqual(headers.get("access-control-max-age"), "60")
        seen, headers = self.seen("cors.test", "/api", headers={"Origin": "https://app.test"})
        self.assertEqual(headers.get("access-control-allow-origin"), "https://app.test")
        self.assertEqual(headers.get("vary"), "Origin")
        _, headers = self.seen("cors.test", "/api", headers={"Origin": "https://evil.test"})
        self.assertNotIn("access-control-allow-origin", headers)

    def test_16e_chain(self):
        seen, headers = self.seen("chain.test", "/v1/items")
        self.assertEqual(seen.request_line, "GET /items HTTP/1.1")
        self.assertEqual(seen.header("X-Script-Name"), "app")
        self.assertEqual(headers.get("x-served-by"), "switchyard")

    def test_16f_broken_and_unimplemented_middlewares_disable_their_routers(self):
        raw = self.proxy.rawdata()
        bad = raw["middlewares"]["bad-regex@file"]
        self.assertEqual(bad["status"], "disabled")
        self.assertIn("invalid regular expression", " ".join(bad["error"]))
        self.assertIn("m.yml:", " ".join(bad["error"]))
        self.assertEqual(raw["routers"]["broken@file"]["status"], "disabled")
        self.assertIn("'encodedCharacters' is not supported yet", " ".join(raw["middlewares"]["limit@file"]["error"]))
        self.assertEqual(raw["routers"]["pending@file"]["status"], "disabled")
        self.assertEqual(self.call("broken.test")[0], 404)
        self.assertEqual(raw["middlewares"]["strip@file"]["type"], "stripPrefix")
        self.assertEqual(sorted(raw["middlewares"]["strip@file"]["usedBy"]), ["api-chain@file", "strip@file"])


TRAFFIC = """
http:
  routers:
    allowed:  {rule: "Host(`allowed.test`)", service: s, middlewares: [local-only]}
    denied:   {rule: "Host(`denied.test`)", service: s, middlewares: [private-only]}
    behind:   {rule: "Host(`behind.test`)", service: s, middlewares: [by-forwarded-for]}
    limited:  {rule: "Host(`limited.test`)", service: s, middlewares: [limit]}
    %s
  middlewares:
    local-only:       {ipAllowList: {sourceRange: [127.0.0.1/32, "::1"]}}
    private-only:     {ipAllowList: {sourceRange: [10.0.0.0/8]}}
    by-forwarded-for: {ipAllowList: {sourceRange: [10.0.0.0/8], ipStrategy: {depth: 1}}}
    limit:            {rateLimit: {average: 1, period: 1m, burst: 5}}
  services:
    s:
      loadBalancer:
        servers: [{url: "%s"}]
"""


class TrafficMiddlewareTests(MiddlewareCase):

    def setUp(self):
        super(TrafficMiddlewareTests, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.write("m.yml", TRAFFIC % ("", self.o1.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["allowed@file", "limited@file"])

    def test_17a_ip_allow_list(self):
        self.assertEqual(self.call("allowed.test")[0], 200)
        status, _, body = self.call("denied.test")
        self.assertEqual(status, 403)
        self.assertEqual(body.strip(), "Forbidden")
        # the client-sent X-Forwarded-For counts only with an ipStrategy
        self.assertEqual(self.call("denied.test", headers={"X-Forwarded-For": "10.0.0.1"})[0], 403)
        self.assertEqual(self.call("behind.test", headers={"X-Forwarded-For": "8.8.8.8, 10.1.2.3"})[0], 200)
        self.assertEqual(self.call("behind.test", headers={"X-Forwarded-For": "10.1.2.3, 8.8.8.8"})[0], 403)

    def test_17b_rate_limit_and_its_buckets_survive_a_table_swap(self):
        statuses = [self.call("limited.test")[0] for _ in range(5)]
        self.assertEqual(statuses, [200] * 5, "the burst of 5 passes")
        status, headers, _ = self.call("limited.test")
        self.assertEqual(status, 429)
        self.assertTrue(50 <= int(headers["retry-after"]) <= 60, headers)
        self.assertIn("x-retry-in", headers)
        # a change elsewhere in the file makes a new table; the unchanged limiter keeps its empty bucket
        before = self.proxy.version()
        extra = 'other: {rule: "Host(`other.test`)", service: s}'
        self.write("m.yml", TRAFFIC % (extra, self.o1.url))
        self.proxy.wait_rawdata(lambda d: d["version"] > before and "other@file" in d["routers"],
                                message="the new table")
        self.assertEqual(self.call("other.test")[0], 200)
        self.assertEqual(self.call("limited.test")[0], 429, "the bucket was reset by the swap")
        # changing the limiter's own definition starts it afresh
        self.write("m.yml", (TRAFFIC % (extra, self.o1.url)).replace("burst: 5", "burst: 6"))
        self.proxy.wait_rawdata(lambda d: d["middlewares"]["limit@file"]["rateLimit"]["burst"] == 6,
                                message="the new limiter")
        self.assertEqual(self.call("limited.test")[0], 200)


AUTH = """
http:
  routers:
    auth:  {rule: "Host(`auth.test`)", service: s, middlewares: [secure, users]}
  middlewares:
    secure: {headers: {frameDeny: true}}
    users:
      basicAuth:
        users:
          - "alice:$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"
          - "bob:$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/"
        headerField: X-Authenticated-User
        removeHeader: true
  services:
    s:
      loadBalancer:
        servers: [{url: "%s"}]
"""


class BasicAuthTests(MiddlewareCase):

    def setUp(self):
        super(BasicAuthTests, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.write("a.yml", AUTH % self.o1.url)
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["auth@file"])

    @staticmethod
    def basic(credentials):
        import base64
        return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}

    def test_18a_basic_auth(self):
        status, headers, body = self.call("auth.test")
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("www-authenticate"), 'Basic realm="traefik"')
        self.assertEqual(headers.get("x-frame-options"), "DENY", "the refusal passes back through headers")
        self.assertEqual(self.call("auth.test", headers=self.basic("alice:wrong"))[0], 401)
        for user in ("alice", "bob", "alice"):
            seen, _ = self.seen("auth.test", "/", headers=self.basic(user + ":secret"))
            self.assertEqual(seen.header("X-Authenticated-User"), user)
            self.assertIsNone(seen.header("Authorization"), "removeHeader")

    def test_18b_a_body_waits_while_a_password_is_checked_off_the_loop(self):
        body = b"x" * (256 * 1024)
        conn = http.client.HTTPConnection(LOOPBACK, self.proxy.web_port, timeout=10)
        self.addCleanup(conn.close)
        headers = {"Host": "auth.test"}
        headers.update(self.basic("alice:secret"))
        conn.request("POST", "/upload", body=body, headers=headers)
        response = conn.getresponse()
        seen = Whoami(response.read().decode())
        self.assertEqual(response.status, 200)
        self.assertEqual(seen.body_bytes, len(body))


class InFlightReqTests(MiddlewareCase):

    def test_19a_in_flight_requests_limited_per_client(self):
        import threading
        slow = self.start_silent_origin(delay=1.0)
        self.write("f.yml", """
http:
  routers:
    slow: {rule: "Host(`slow.test`)", service: s, middlewares: [one-at-a-time]}
  middlewares:
    one-at-a-time: {inFlightReq: {amount: 1}}
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
""" % slow.url)
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["slow@file"])
        results = []
        first = threading.Thread(target=lambda: results.append(self.call("slow.test")[0]))
        first.start()
        self.assertTrue(slow.received.wait(5))
        status, _, body = self.call("slow.test")
        self.assertEqual(status, 429, body)
        first.join(timeout=10)
        self.assertEqual(results, [200])
        self.assertEqual(self.call("slow.test")[0], 200, "the count went back down when the first ended")


class RetryTests(MiddlewareCase):

    def test_20a_retry_on_network_errors_and_statuses(self):
        from harness import DroppingOrigin
        alive = self.start_whoami("alive")
        dropping = DroppingOrigin()
        self.addCleanup(dropping.close)
        dead = dropping.url
        busy = self.start_status_origin(503)
        self.write("r.yml", """
http:
  routers:
    net:    {rule: "Host(`net.test`)", service: net, middlewares: [retry]}
    status: {rule: "Host(`status.test`)", service: status, middlewares: [retry-503]}
    plain:  {rule: "Host(`plain.test`)", service: net}
  middlewares:
    retry:     {retry: {attempts: 2, initialInterval: 10ms}}
    retry-503: {retry: {attempts: 3, status: ["503"]}}
  services:
    net:    {loadBalancer: {servers: [{url: "%s"}, {url: "%s"}]}}
    status: {loadBalancer: {servers: [{url: "%s"}, {url: "%s"}]}}
""" % (dead, alive.url, busy, alive.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["net@file", "status@file", "plain@file"])
        self.assertEqual([self.call("net.test")[0] for _ in range(6)], [200] * 6, "the dead server is retried past")
        self.assertEqual([self.call("status.test")[0] for _ in range(6)], [200] * 6, "503 is retried on the next")
        # without retry, an idempotent request the server dropped unanswered goes on to the other server (as
        # nginx's proxy_next_upstream error), a POST does not
        self.assertEqual([self.call("plain.test")[0] for _ in range(4)], [200] * 4, "GETs go on to the other server")
        self.assertIn(502, [self.call("plain.test", method="POST")[0] for _ in range(4)], "a dropped POST shows")
        # a POST is not repeated unless retryNonIdempotentMethod
        statuses = [self.call("net.test", method="POST")[0] for _ in range(4)]
        self.assertIn(502, statuses)


class ErrorPagesTests(MiddlewareCase):

    def test_21a_error_pages_from_another_service(self):
        pages = self.start_whoami("pages")
        busy = self.start_status_origin(503)
        self.write("e.yml", """
http:
  routers:
    app:  {rule: "Host(`err.test`)", service: busy, middlewares: [pages]}
    down: {rule: "Host(`down.test`)", service: dead, middlewares: [pages]}
    fine: {rule: "Host(`fine.test`)", service: pages-svc, middlewares: [pages]}
    re:   {rule: "Host(`re.test`)", service: busy, middlewares: [rewrite]}
    only: {rule: "Host(`only.test`)", service: busy, middlewares: [some-headers, ct]}
  middlewares:
    pages:   {errors: {status: ["500-599"], service: pages-svc, query: "/errors/{status}?from={url}"}}
    some-headers: {errors: {status: ["503"], service: pages-svc, errorRequestHeaders: [X-Keep]}}
    ct:      {contentType: {}}
    rewrite: {errors: {status: ["503"], service: pages-svc, query: "/e/{status}/{originalStatus}", statusRewrites: {"503": 500}}}
    broken:  {errors: {status: ["5xx"], service: pages-svc}}
    orphan:  {errors: {status: ["500"], service: nowhere}}
  services:
    busy:      {loadBalancer: {servers: [{url: "%s"}]}}
    dead:      {loadBalancer: {servers: [{url: "http://127.0.0.1:%d"}]}}
    pages-svc: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (busy, free_port(), pages.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file", "fine@file"])
        status, _, body = self.call("err.test", "/page?x=1", method="GET")
        self.assertEqual(status, 503)
        seen = Whoami(body)
        self.assertEqual(seen.hostname, "pages")
        self.assertEqual(seen.request_line, "GET /errors/503?from=http%3A%2F%2Ferr.test%2Fpage%3Fx%3D1 HTTP/1.1")
        status, _, body = self.call("down.test", "/gone", method="GET")
        self.assertEqual(status, 502, "a 502 the proxy makes itself gets the page too")
        self.assertEqual(Whoami(body).request_line, "GET /errors/502?from=http%3A%2F%2Fdown.test%2Fgone HTTP/1.1")
        status, _, body = self.call("fine.test", "/ok")
        self.assertEqual(status, 200, "answers not in the list pass as they are")
        self.assertEqual(Whoami(body).request_line, "GET /ok HTTP/1.1")
        status, _, body = self.call("re.test", "/x")
        self.assertEqual(status, 500)
        self.assertEqual(Whoami(body).request_line, "GET /e/500/503 HTTP/1.1")
        # errorRequestHeaders: only the listed headers go with the page request
        status, _, body = self.call("only.test", "/x", headers={"X-Keep": "1", "X-Drop": "2"})
        self.assertEqual(status, 503)
        self.assertEqual(Whoami(body).header("X-Keep"), "1")
        self.assertIsNone(Whoami(body).header("X-Drop"))
        raw = self.proxy.rawdata()
        self.assertIn("'5xx' is not a status", " ".join(raw["middlewares"]["broken@file"]["error"]))
        self.assertIn('the service "nowhere@file" does not exist', " ".join(raw["middlewares"]["orphan@file"]["error"]))
        self.assertIn("pages@file", raw["services"]["pages-svc@file"]["usedBy"])


class CompressTests(MiddlewareCase):

    def test_22a_gzip_streams_large_responses(self):
        import gzip
        self.o1 = self.start_whoami("o1")
        self.write("c.yml", """
http:
  routers:
    app: {rule: "Host(`gz.test`)", service: s, middlewares: [gz]}
  middlewares:
    gz: {compress: {minResponseBodyBytes: 1024}}
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
""" % self.o1.url)
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file"])
        size = 3 * 1024 * 1024
        conn = http.client.HTTPConnection(LOOPBACK, self.proxy.web_port, timeout=20)
        self.addCleanup(conn.close)
        conn.request("GET", "/data?size=%d" % size, headers={"Host": "gz.test", "Accept-Encoding": "gzip"})
        response = conn.getresponse()
        raw = response.read()
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Encoding"), "gzip")
        self.assertIn("Accept-Encoding", response.getheader("Vary") or "")
        self.assertLess(len(raw), size // 100, "3 MB of 'x' compresses to a few KB")
        self.assertEqual(gzip.decompress(raw), b"x" * size)
        # the connection is still good for the next request
        conn.request("GET", "/health", headers={"Host": "gz.test", "Accept-Encoding": "gzip"})
        small = conn.getresponse()
        self.assertEqual(small.read(), b"OK", "under minResponseBodyBytes: as it is")
        self.assertIsNone(small.getheader("Content-Encoding"))
        status, headers, body = self.call("gz.test", "/data?size=5000")
        self.assertNotIn("content-encoding", headers, "no Accept-Encoding, no compression")
        self.assertEqual(len(body), 5000)


    def test_22b_brotli_and_zstd_by_preference_decoded_by_curl_and_streamed(self):
        import subprocess
        import threading
        self.o1 = self.start_whoami("o1")
        # an origin that sends a first part, then waits for the test to have decoded it before sending the rest
        gate = threading.Event()

        def drip(c, head, rest):
            part = b"first-part " * 200
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            c.sendall(b"%x\r\n%s\r\n" % (len(part), part))
            gate.wait(20)
            gate.clear()
            rest = b"second-part\n"
            c.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(rest), rest))
        origin = ScriptedOrigin(drip)
        self.addCleanup(origin.close)
        self.write("c.yml", """
http:
  routers:
    app: {rule: "Host(`cz.test`)", service: s, middlewares: [cz]}
    zfirst: {rule: "Host(`zfirst.test`)", service: s, middlewares: [zfirst]}
    drip: {rule: "Host(`drip.test`)", service: drip, middlewares: [cz]}
  middlewares:
    cz: {compress: {}}
    zfirst: {compress: {encodings: [zstd, br]}}
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
    drip: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (self.o1.url, origin.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file", "zfirst@file", "drip@file"])
        size = 1024 * 1024
        url = "http://%s:%d/data?size=%d" % (LOOPBACK, self.proxy.web_port, size)

        def curl(host, accept, decode):
            args = ["curl", "-sS", "--max-time", "20", "-D", "-", "-H", "Host: " + host, "-H", "Accept-Encoding: " + accept]
            out = subprocess.run(args + (["--compressed"] if decode else []) + [url], capture_output=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            head, _, body = out.stdout.partition(b"\r\n\r\n")
            encoding = [line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-encoding:")]
            return (encoding[0] if encoding else None), body

        for host, accept, expected in [("cz.test", "br;q=1.0, gzip;q=0.5", "br"), ("cz.test", "zstd", "zstd"),
                                       ("cz.test", "gzip, br, zstd", "gzip"), ("zfirst.test", "gzip, br, zstd", "zstd"),
                                       ("zfirst.test", "gzip", None)]:
            encoding, raw = curl(host, accept, decode=False)
            self.assertEqual(encoding, expected, (host, accept))
            if expected:
                self.assertLess(len(raw), size // 100, "%s: 1 MB of 'x' to a few KB" % expected)
            encoding, body = curl(host, accept, decode=True)
            self.assertEqual(body, b"x" * size, "curl decodes %s" % expected)
        # streamed: the first part decodes before the origin sends the second
        for accept in ["br", "zstd", "gzip", "identity"]:
            proc = subprocess.Popen(["curl", "-sS", "-N", "--compressed", "--max-time", "30", "-H", "Host: drip.test",
                                     "-H", "Accept-Encoding: " + accept,
                                     "http://%s:%d/" % (LOOPBACK, self.proxy.web_port)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            seen = b""
            deadline = time.monotonic() + 5
            while b"first-part " * 200 not in seen and time.monotonic() < deadline:
                # the origin holds the rest back until the gate opens: reading must not wait for it
                if not select.select([proc.stdout], [], [], 0.2)[0]:
                    continue
                chunk = proc.stdout.read1(65536)
                if not chunk:
                    break
                seen += chunk
            self.assertIn(b"first-part " * 200, seen, "%s: the first part came through before the rest" % accept)
            self.assertNotIn(b"second-part", seen)
            gate.set()
            rest, err = proc.communicate(timeout=25)
            self.assertEqual(seen + rest, b"first-part " * 200 + b"second-part\n", err)


class ServiceMiddlewareTests(MiddlewareCase):

    def test_16g_service_middlewares_run_after_the_routers(self):
        backend = self.start_whoami("svc-mw")
        self.write("s.yml", """
http:
  routers:
    app:    {rule: "Host(`svc.test`)", service: app, middlewares: [add]}
    canary: {rule: "Host(`canary.test`)", service: split}
    ghost:  {rule: "Host(`ghost.test`)", service: haunted}
  middlewares:
    add: {addPrefix: {prefix: /api}}
    strip: {stripPrefix: {prefixes: [/api]}}
    tag: {headers: {customRequestHeaders: {X-Service: app}}}
  services:
    app:
      middlewares: [strip, tag]
      loadBalancer: {servers: [{url: "%s"}]}
    split: {weighted: {services: [{name: app}]}}
    haunted:
      middlewares: [nowhere]
      loadBalancer: {servers: [{url: "%s"}]}
""" % (backend.url, backend.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file"])
        who, _ = self.seen("svc.test", "/v1/items")
        # the router adds /api, then the service strips it: in that order the server sees the path it was asked
        self.assertTrue(who.request_line.startswith("GET /v1/items "), who.request_line)
        self.assertEqual(who.header("X-Service"), "app")
        raw = self.proxy.rawdata()
        self.assertEqual(raw["routers"]["ghost@file"]["status"], "disabled")
        self.assertIn('the middleware "nowhere@file" of the service "haunted@file" does not exist',
                      " ".join(raw["routers"]["ghost@file"]["error"]))
        self.assertIn("has middlewares, which apply only when a router names it",
                      " ".join(raw["services"]["split@file"]["error"]))


class BufferingTests(MiddlewareCase):

    def test_22c_buffering_limits_holds_and_replays(self):
        from harness import DroppingOrigin, ScriptedOrigin
        backend = self.start_whoami("buf")
        arrivals = []

        def record(c, head, rest):
            arrivals.append(time.monotonic())
            body = ScriptedOrigin.read_body(c, head, rest)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        slow_reader = ScriptedOrigin(record)
        self.addCleanup(slow_reader.close)
        dropping = DroppingOrigin()
        self.addCleanup(dropping.close)
        self.write("b.yml", """
http:
  routers:
    app:    {rule: "Host(`buf.test`)", service: s, middlewares: [limits]}
    gate:   {rule: "Host(`gate.test`)", service: gate, middlewares: [limits]}
    replay: {rule: "Host(`replay.test`)", service: flaky, middlewares: [again]}
    retry:  {rule: "Host(`retry.test`)", service: flaky, middlewares: [copies]}
  middlewares:
    limits: {buffering: {maxRequestBodyBytes: 1000, maxResponseBodyBytes: 5000}}
    again: {buffering: {retryExpression: "IsNetworkError() && Attempts() < 2"}}
    copies: {retry: {attempts: 2, maxRequestBodyBytes: 10000}}
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
    gate: {loadBalancer: {servers: [{url: "%s"}]}}
    flaky: {loadBalancer: {servers: [{url: "%s"}, {url: "%s"}]}}
""" % (backend.url, slow_reader.url, dropping.url, backend.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file", "gate@file", "replay@file", "retry@file"])

        def send(host, method, body, chunked=False):
            status, _, answer = self.send(host, method, body, chunked=chunked)
            return status, answer

        status, body = send("buf.test", "POST", b"a" * 500)
        self.assertEqual(status, 200)
        self.assertEqual(Whoami(body.decode()).body_bytes, 500)
        status, body = send("buf.test", "POST", b"a" * 500, chunked=True)
        self.assertEqual((status, Whoami(body.decode()).body_bytes), (200, 500), "a chunked body, read whole first")
        self.assertEqual(send("buf.test", "POST", b"a" * 2000)[0], 413, "over maxRequestBodyBytes by Content-Length")
        self.assertEqual(send("buf.test", "POST", b"a" * 2000, chunked=True)[0], 413, "over it, chunked")
        self.assertEqual(self.call("buf.test", "/data?size=4000")[0], 200)
        self.assertEqual(self.call("buf.test", "/data?size=6000")[0], 500, "over maxResponseBodyBytes")
        # the server sees the request only once its body is whole
        client = socket.create_connection((LOOPBACK, self.proxy.web_port), timeout=10)
        self.addCleanup(client.close)
        client.sendall(b"POST /slow HTTP/1.1\r\nHost: gate.test\r\nContent-Length: 600\r\n\r\n" + b"x" * 300)
        time.sleep(0.5)
        self.assertEqual(arrivals, [], "half a body: the server has not been asked yet")
        client.sendall(b"y" * 300)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < 600:
            chunk = client.recv(65536)
            if not chunk:
                break
            answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer[:100])
        self.assertEqual(answer.split(b"\r\n\r\n", 1)[1], b"x" * 300 + b"y" * 300)
        self.assertEqual(len(arrivals), 1)
        # a POST whose body went to a server that dropped it goes again, body and all (retryExpression), and
        # so does a PUT under retry.maxRequestBodyBytes
        for host, method in [("replay.test", "POST"), ("retry.test", "PUT")]:
            for i in range(4):
                status, body = send(host, method, b"z" * (300 + i))
                self.assertEqual(status, 200, (host, i, body[:200]))
                self.assertEqual(Whoami(body.decode()).body_bytes, 300 + i)
        self.assertGreaterEqual(dropping.requests, 4, "the dropping server had its turns")


class CircuitBreakerTests(MiddlewareCase):

    def test_23a_breaker_opens_on_errors_and_recovers(self):
        failing = self.start_status_origin(500)
        self.write("b.yml", """
http:
  routers:
    app: {rule: "Host(`cb.test`)", service: s, middlewares: [breaker]}
  middlewares:
    breaker:
      circuitBreaker:
        expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5"
        checkPeriod: 50ms
        fallbackDuration: 3s
        recoveryDuration: 500ms
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
""" % failing)
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file"])
        bodies = []
        opened_at = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(bodies) < 40:
            status, _, body = self.call("cb.test")
            bodies.append((status, body.strip()))
            if opened_at is None and bodies[-1] == (503, "Service Unavailable"):
                opened_at = time.monotonic()
            if opened_at is not None and time.monotonic() - opened_at > 1.0:
                break
            time.sleep(0.05)
        self.assertEqual(bodies[0], (500, "busy"), "closed: the server's answer")
        self.assertIsNotNone(opened_at, "open: the breaker answers")
        opened = bodies.index((503, "Service Unavailable"))
        self.assertTrue(all(b == (503, "Service Unavailable") for b in bodies[opened:]),
                        "it stays open within the fallback duration: %s" % bodies[opened:])
        time.sleep(max(0.0, opened_at + 3.8 - time.monotonic()))  # fallback (3 s) and recovery (0.5 s) are over
        self.assertEqual(self.call("cb.test")[2].strip(), "busy", "closed again: requests reach the server")


class DigestAuthTests(MiddlewareCase):

    def test_24a_digest_auth_with_curl(self):
        import hashlib
        import subprocess
        o1 = self.start_whoami("o1")
        ha1 = hashlib.md5(b"alice:staff:secret").hexdigest()
        self.write("d.yml", """
http:
  routers:
    app: {rule: "Host(`digest.test`)", service: s, middlewares: [digest]}
  middlewares:
    digest: {digestAuth: {realm: staff, users: ["alice:staff:%s"], headerField: X-User}}
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (ha1, o1.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file"])
        url = "http://%s:%d/private" % (LOOPBACK, self.proxy.web_port)

        def curl(*extra):
            out = subprocess.run(["curl", "-s", "-H", "Host: digest.test", "-w", "\n%{http_code}"] + list(extra) + [url],
                                 capture_output=True, text=True, timeout=20)
            body, _, code = out.stdout.rpartition("\n")
            return int(code), body

        code, body = curl("--digest", "-u", "alice:secret")
        self.assertEqual(code, 200, body)
        self.assertEqual(Whoami(body).header("X-User"), "alice")
        self.assertEqual(curl("--digest", "-u", "alice:wrong")[0], 401)
        self.assertEqual(curl()[0], 401)


class ForwardAuthTests(MiddlewareCase):

    def start_auth_server(self):
        import http.server
        import threading
        seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                seen.append({k.lower(): v for k, v in self.headers.items()})
                if self.headers.get("Authorization") == "Bearer good":
                    body = b""
                    self.send_response(200)
                    self.send_header("X-Auth-User", "alice")
                    self.send_header("X-Auth-Role", "admin")
                    self.send_header("X-Other", "no")
                else:
                    body = b"denied\n"
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Bearer realm="switchyard"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return "http://%s:%d/check" % (LOOPBACK, self.serve(Handler)), seen

    def test_25a_forward_auth(self):
        from harness import free_port
        backend = self.start_whoami("fa-backend")
        auth, seen = self.start_auth_server()
        self.write("fa.yml", """
http:
  routers:
    app:  {rule: "Host(`fa.test`)", service: s, middlewares: [auth]}
    down: {rule: "Host(`down.test`)", service: s, middlewares: [gone]}
  middlewares:
    auth: {forwardAuth: {address: "%s", authResponseHeaders: [X-Auth-User], authResponseHeadersRegex: "^X-Auth-R"}}
    gone: {forwardAuth: {address: "http://%s:%d/check"}}
  services:
    s: {loadBalancer: {servers: [{url: "%s"}]}}
""" % (auth, LOOPBACK, free_port(), backend.url))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["app@file", "down@file"])
        status, headers, body = self.call("fa.test", "/path?q=1")
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("www-authenticate"), 'Bearer realm="switchyard"')
        self.assertEqual(body, "denied\n")
        self.assertEqual(seen[-1]["x-forwarded-uri"], "/path?q=1")
        self.assertEqual(seen[-1]["x-forwarded-method"], "GET")
        self.assertEqual(seen[-1]["x-forwarded-host"], "fa.test")
        self.assertEqual(seen[-1]["x-forwarded-for"], LOOPBACK)
        who, _ = self.seen("fa.test", "/ok", headers={"Authorization": "Bearer good", "X-Auth-User": "mallory"})
        self.assertEqual(who.header("X-Auth-User"), "alice")
        self.assertEqual(who.header("X-Auth-Role"), "admin")
        self.assertIsNone(who.header("X-Other"))
        self.assertEqual(self.call("down.test")[0], 500, "an unreachable authentication server")

    def test_25b_forward_auth_body_cookies_signin_and_tls(self):
        import http.server
        from test_tls import CertificateAuthority
        backend = self.start_whoami("fa-backend")
        bodies = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                bodies.append(body)
                if b"let-me-in" in body:
                    self.send_response(200)
                    self.send_header("Set-Cookie", "session=abc; Path=/")
                    self.send_header("Set-Cookie", "tracker=x")
                else:
                    self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                self.send_response(401 if "/deny" in self.headers.get("X-Forwarded-Uri", "") else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ca = CertificateAuthority(os.path.join(self.tmp, "ca"))
        cert, key = ca.issue("auth", "localhost", sans=["localhost"])
        plain = "http://%s:%d/check" % (LOOPBACK, self.serve(Handler))
        secure = "https://localhost:%d/check" % self.serve(Handler, tls=(cert, key))
        self.write("fa.yml", """
http:
  routers:
    body:   {rule: "Host(`body.test`)", service: s, middlewares: [body]}
    signin: {rule: "Host(`signin.test`)", service: s, middlewares: [signin]}
    tls:    {rule: "Host(`tls.test`)", service: s, middlewares: [tls]}
    notls:  {rule: "Host(`notls.test`)", service: s, middlewares: [notls]}
  middlewares:
    body:
      forwardAuth:
        address: "%(plain)s"
        preserveRequestMethod: true
        forwardBody: true
        maxBodySize: 100
        addAuthCookiesToResponse: [session]
    signin: {forwardAuth: {address: "%(plain)s", authSigninURL: "https://login.example/start"}}
    tls: {forwardAuth: {address: "%(secure)s", tls: {ca: "%(ca)s"}}}
    notls: {forwardAuth: {address: "%(secure)s"}}
  services:
    s: {loadBalancer: {servers: [{url: "%(backend)s"}]}}
""" % {"plain": plain, "secure": secure, "ca": ca.cert, "backend": backend.url})
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["body@file", "signin@file", "tls@file", "notls@file"])

        def post(body, chunked=False):
            status, headers, answer = self.send("body.test", "POST", body, chunked=chunked)
            return status, headers, answer.decode()

        status, headers, text = post(b"let-me-in please")
        self.assertEqual(status, 200, text)
        self.assertEqual(bodies[-1], b"let-me-in please", "the authentication server got the body")
        self.assertEqual(Whoami(text).body_bytes, 16, "and so did the service")
        self.assertEqual([v for k, v in headers if k.lower() == "set-cookie"], ["session=abc; Path=/"])
        status, _, text = post(b"let-me-in, chunked", chunked=True)
        self.assertEqual((status, bodies[-1]), (200, b"let-me-in, chunked"), text)
        self.assertEqual(post(b"no entry")[0], 403)
        before = len(bodies)
        self.assertEqual(post(b"let-me-in" + b"x" * 200)[0], 401, "over maxBodySize")
        self.assertEqual(post(b"let-me-in" + b"x" * 200, chunked=True)[0], 401, "over maxBodySize, chunked")
        self.assertEqual(len(bodies), before, "a body over the limit never reaches the authentication server")
        status, headers, _ = self.call("signin.test", "/deny")
        self.assertEqual((status, headers.get("location")), (302, "https://login.example/start"))
        self.assertEqual(self.call("signin.test", "/fine")[0], 200)
        self.assertEqual(self.call("tls.test")[0], 200, "the authentication server's certificate checked against tls.ca")
        self.assertEqual(self.call("notls.test")[0], 500, "not trusted without tls.ca")
