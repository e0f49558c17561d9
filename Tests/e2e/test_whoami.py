"""`switchyard whoami`, the origin every other test relies on (brief item 14)."""

from harness import E2ETestCase, Whoami, request


class WhoamiTests(E2ETestCase):

    def setUp(self):
        super(WhoamiTests, self).setUp()
        self.w = self.start_whoami("who1")

    def test_14a_health(self):
        r = request(self.w.port, "/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.text.strip(), "OK")

    def test_14b_echo_body(self):
        r = request(self.w.port, "/some/path?x=1", host="h.test", method="POST", body=b"abcdef",
                    headers={"X-Test": "v1"})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("Content-Type").startswith("text/plain"), r.headers)
        w = Whoami(r.text)
        self.assertEqual(w.hostname, "who1")
        self.assertIn("IP", w.meta)
        self.assertRegex(w.meta.get("RemoteAddr", ""), r"^127\.0\.0\.1:\d+$")
        self.assertEqual(w.request_line, "POST /some/path?x=1 HTTP/1.1")
        self.assertEqual(w.header("Host"), "h.test")
        self.assertEqual(w.header("X-Test"), "v1")
        self.assertEqual(w.body_bytes, 6)

    def test_14c_bench_and_data(self):
        self.assertEqual(request(self.w.port, "/bench").text.strip(), "1")
        r = request(self.w.port, "/data?size=100000")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "100000")
        self.assertEqual(r.body, b"x" * 100000)
