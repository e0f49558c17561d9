"""The README's first command: `switchyard` with no configuration serves the examples under
providers/file/examples on :8000 with the API on :8080, and the example route reaches the example backends."""

import json
import unittest

from harness import REPO_ROOT, E2ETestCase, ProxyProcess, WhoamiProcess, port_open, request, wait_until


class ReadmeDefaultTests(E2ETestCase):

    def test_15a_built_in_default_serves_the_examples(self):
        busy = [p for p in (8000, 8080, 9001, 9002) if port_open(p)]
        if busy:
            raise unittest.SkipTest("ports in use on this machine: %s" % busy)
        backends = [WhoamiProcess(self.tmp, "whoami-%d" % i, port=9000 + i).wait_ready() for i in (1, 2)]
        for backend in backends:
            self.addCleanup(backend.stop)
        proxy = ProxyProcess(self.tmp, use_defaults=False, log_level=None, cwd=REPO_ROOT, web_port=8000, api_port=8080)
        self.addCleanup(proxy.stop)
        wait_until(lambda: port_open(8000) and port_open(8080), 15, message="the default entry points")
        # the entry points listen before the first table from the files is live
        wait_until(lambda: request(8000, "/hello").status == 200, 10, message="the example route")
        names = set()
        for _ in range(4):
            r = request(8000, "/hello")
            self.assertEqual(r.status, 200, r)
            names.add(r.text.splitlines()[0])
        self.assertEqual(names, {"Hostname: whoami-1", "Hostname: whoami-2"})
        weighted = request(8000, "/", host="weighted.localhost")
        self.assertEqual(weighted.status, 200, weighted)
        self.assertEqual(request(8080, "/ping").text, "OK")
        raw = json.loads(request(8080, "/api/rawdata").body)
        self.assertEqual(raw["routers"]["whoami@file"]["status"], "enabled")
        self.assertEqual(raw["errors"], [])
        self.assertIn("built-in default", proxy.log())
