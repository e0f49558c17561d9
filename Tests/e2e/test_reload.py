"""Dynamic configuration: files added, changed and deleted (brief items 1, 2, 4)."""

import os
import time

from harness import E2ETestCase, route_yaml, try_request


class FileReloadTests(E2ETestCase):

    def test_01_file_added_routed_within_throttle_plus_1s(self):
        throttle = 0.5
        o1 = self.start_whoami("o1")
        proxy = self.start_proxy(throttle="500ms")
        # the empty directory serves nothing
        self.assertEqual(proxy.get("/", host="a.test").status, 404)
        # let the start-up load settle so this is a "file added later" event
        time.sleep(throttle + 0.2)

        t0 = time.monotonic()
        self.write("a.yml", route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1"}},
                                       {"s1": [o1.url]}))
        deadline = t0 + 10
        r = None
        while time.monotonic() < deadline:
            r = try_request(proxy.web_port, "/", host="a.test", timeout=2)
            if r is not None and r.status == 200:
                break
            time.sleep(0.02)
        elapsed = time.monotonic() - t0
        self.assertWhoami(r, "o1", "route never became live")
        print("\n    [routed after %.3fs, throttle %.1fs]" % (elapsed, throttle), end="")
        self.assertLessEqual(elapsed, throttle + 1.0, "new file routed only after %.2fs" % elapsed)

    def test_02_file_changed_new_route_live_and_version_increases(self):
        o1 = self.start_whoami("o1")
        o2 = self.start_whoami("o2")
        self.write("a.yml", route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1"}}, {"s1": [o1.url]}))
        proxy = self.start_proxy(throttle="200ms")
        proxy.wait_routers(["r1@file"])
        self.assertWhoami(proxy.wait_status("a.test", 200), "o1")
        v1 = proxy.version()
        self.assertIsInstance(v1, int)

        # change: r1 now goes to o2, and a new router r2 appears
        self.write("a.yml", route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s2"},
                                        "r2": {"rule": "Host(`b.test`)", "service": "s2"}},
                                       {"s1": [o1.url], "s2": [o2.url]}))
        self.assertWhoami(proxy.wait_status("b.test", 200), "o2")
        self.assertWhoami(proxy.wait_status("a.test", 200, body_contains="Hostname: o2"), "o2")
        data = proxy.wait_rawdata(lambda d: d["version"] > v1 and "r2@file" in d["routers"],
                                  message="version > %d" % v1)
        self.assertGreater(data["version"], v1)
        self.assertEqual(data["routers"]["r1@file"]["service"], "s2@file")
        self.assertEqual(data["routers"]["r2@file"]["status"], "enabled")
        self.assertEqual(data["routers"]["r2@file"]["provider"], "file")

        # change again: r2 removed
        v2 = data["version"]
        self.write("a.yml", route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s2"}}, {"s2": [o2.url]}))
        proxy.wait_status("b.test", 404)
        data = proxy.wait_rawdata(lambda d: "r2@file" not in d["routers"], message="r2 gone")
        self.assertGreater(data["version"], v2)
        self.assertWhoami(proxy.get("/", host="a.test"), "o2")

    def test_02b_in_place_edit_is_picked_up(self):
        """An editor-style in-place rewrite (truncate + write), not a rename."""
        o1 = self.start_whoami("o1")
        self.write("a.yml", route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1"}}, {"s1": [o1.url]}))
        proxy = self.start_proxy(throttle="200ms")
        proxy.wait_status("a.test", 200)
        self.write("a.yml", route_yaml({"r1": {"rule": "Host(`c.test`)", "service": "s1"}}, {"s1": [o1.url]}),
                   atomic=False)
        self.assertWhoami(proxy.wait_status("c.test", 200), "o1")
        proxy.wait_status("a.test", 404)

    def test_02c_subdirectory_file_is_read(self):
        """The directory is read recursively, including folders created later."""
        o1 = self.start_whoami("o1")
        proxy = self.start_proxy(throttle="0s")
        sub = os.path.join(self.dyn, "team", "apps")
        os.makedirs(sub)
        time.sleep(0.3)
        self.write(os.path.join("team", "apps", "deep.yml"),
                   route_yaml({"deep": {"rule": "Host(`deep.test`)", "service": "s1"}}, {"s1": [o1.url]}))
        self.assertWhoami(proxy.wait_status("deep.test", 200), "o1")

    def test_04_deleted_file_routes_gone_other_file_keeps_working(self):
        o1 = self.start_whoami("o1")
        o2 = self.start_whoami("o2")
        self.write("a.yml", route_yaml({"ra": {"rule": "Host(`a.test`)", "service": "sa"}}, {"sa": [o1.url]}))
        self.write("b.yml", route_yaml({"rb": {"rule": "Host(`b.test`)", "service": "sb"}}, {"sb": [o2.url]}))
        proxy = self.start_proxy(throttle="200ms")
        proxy.wait_routers(["ra@file", "rb@file"])
        self.assertWhoami(proxy.wait_status("a.test", 200), "o1")
        self.assertWhoami(proxy.wait_status("b.test", 200), "o2")
        v = proxy.version()

        os.remove(self.dyn_file("b.yml"))
        r = proxy.wait_status("b.test", 404)
        self.assertEqual(r.text.strip(), "404 page not found")
        data = proxy.wait_rawdata(lambda d: "rb@file" not in d["routers"], message="rb@file removed")
        self.assertNotIn("sb@file", data["services"])
        self.assertGreater(data["version"], v)
        # the other file still routes, repeatedly
        for _ in range(5):
            self.assertWhoami(proxy.get("/", host="a.test"), "o1")
