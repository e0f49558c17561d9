"""The history store: every published routing table is recorded in SQLite and served by /api/history."""

import json
import os

from harness import E2ETestCase, request, route_yaml


class HistoryTests(E2ETestCase):

    def history(self, proxy, suffix=""):
        r = request(proxy.api_port, "/api/history" + suffix, timeout=5)
        return r.status, (json.loads(r.text) if r.status == 200 else r.text)

    def test_40a_versions_are_recorded_with_their_cause_and_configuration(self):
        backend = self.start_whoami("h-backend")
        db = os.path.join(self.tmp, "h.db")
        self.write("a.yml", route_yaml({"a": {"rule": "Host(`a.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=["--history.path=%s" % db, "--history.keep=3"])
        proxy.wait_routers(["a@file"])
        for name in ("b", "c", "d"):
            self.write("%s.yml" % name, route_yaml({name: {"rule": "Host(`%s.test`)" % name, "service": "s%s" % name}},
                                                  {"s%s" % name: [backend.url]}))
            proxy.wait_routers(["%s@file" % name])
        status, versions = self.history(proxy)
        self.assertEqual(status, 200)
        self.assertEqual(len(versions), 3, "history.keep=3 keeps the newest three: %s" % versions)
        numbers = [v["version"] for v in versions]
        self.assertEqual(numbers, sorted(numbers, reverse=True))
        self.assertEqual(versions[0]["version"], proxy.version())
        self.assertEqual(versions[0]["changed"], ["file"])
        status, newest = self.history(proxy, "/%d" % versions[0]["version"])
        self.assertEqual(status, 200)
        self.assertEqual(sorted(newest["configuration"]["http"]["routers"]), ["a@file", "b@file", "c@file", "d@file"])
        status, older = self.history(proxy, "/%d" % versions[-1]["version"])
        self.assertNotIn("d@file", older["configuration"]["http"]["routers"])
        self.assertEqual(self.history(proxy, "/999999")[0], 404)
        self.assertTrue(os.path.exists(db))

    def test_40b_diff_names_exactly_what_changed(self):
        backend = self.start_whoami("d-backend")
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"},
                                          "gone": {"rule": "Host(`gone.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file", "gone@file"])
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app2.test`)", "service": "s"},
                                          "new": {"rule": "Host(`new.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy.wait_routers(["new@file"])
        version = proxy.version()
        status, diff = self.history(proxy, "/%d/diff" % version)
        self.assertEqual(status, 200, diff)
        self.assertEqual(diff["version"], version)
        self.assertEqual(diff["changed"], ["file"])
        changes = {(c["kind"], c["name"]): c for c in diff["changes"]}
        self.assertEqual(set(changes), {("http.routers", "app@file"), ("http.routers", "gone@file"),
                                        ("http.routers", "new@file")}, diff)
        self.assertEqual(changes[("http.routers", "app@file")]["change"], "changed")
        self.assertEqual(changes[("http.routers", "app@file")]["fields"], ["rule"])
        self.assertEqual(changes[("http.routers", "gone@file")]["change"], "removed")
        self.assertEqual(changes[("http.routers", "new@file")]["change"], "added")
        self.assertEqual(self.history(proxy, "/999999/diff")[0], 404)

    def test_40c_a_restart_serves_the_last_version_and_numbers_go_on(self):
        import signal
        backend = self.start_whoami("r-backend")
        db = os.path.join(self.tmp, "restart.db")
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"}}, {"s": [backend.url]}))
        first = self.start_proxy(throttle="0s", extra_args=["--history.path=%s" % db])
        first.wait_routers(["app@file"])
        before = [v["version"] for v in self.history(first)[1]]
        first.stop(signal.SIGTERM)
        second = self.start_proxy(throttle="0s", name="second", extra_args=["--history.path=%s" % db])
        second.wait_status("app.test", 200)
        self.assertIn("serving version %d from the history" % before[0], second.log())
        harness_wait = __import__("harness").wait_until
        harness_wait(lambda: self.history(second)[1][0]["version"] > before[0], 5, message="a new version recorded")
        after = [v["version"] for v in self.history(second)[1]]
        self.assertEqual(after[-len(before):], before, "the versions of the first run are kept, not overwritten")

    def test_40d_a_version_keeps_its_diff_after_the_one_before_it_is_gone(self):
        backend = self.start_whoami("k-backend")
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=["--history.keep=1"])
        proxy.wait_routers(["app@file"])
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app2.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy.wait_status("app2.test", 200)
        status, versions = self.history(proxy)
        self.assertEqual(len(versions), 1, "keep=1")
        status, diff = self.history(proxy, "/%d/diff" % versions[0]["version"])
        self.assertEqual(status, 200, diff)
        self.assertNotIn("previous", diff, "the version before it is no longer kept")
        self.assertEqual(diff["changes"], [{"kind": "http.routers", "name": "app@file", "change": "changed",
                                            "fields": ["rule"]}], "the diff was recorded with the version")

    def test_40e_a_restart_with_its_provider_unreachable_serves_the_last_table(self):
        import signal
        backend = self.start_whoami("u-backend")
        db = os.path.join(self.tmp, "unreachable.db")
        self.write("app.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"}}, {"s": [backend.url]}))
        first = self.start_proxy(throttle="0s", extra_args=["--history.path=%s" % db])
        first.wait_routers(["app@file"])
        first.stop(signal.SIGTERM)
        # Now the file provider's folder is gone (an unmounted volume) and the Docker Engine is not there.
        second = self.start_proxy(dyn_dir=None, throttle="0s", name="second", extra_args=[
            "--history.path=%s" % db, "--providers.file.directory=%s" % os.path.join(self.tmp, "unmounted"),
            "--providers.docker.endpoint=unix://%s" % os.path.join(self.tmp, "no-docker.sock")])
        self.assertWhoami(second.wait_status("app.test", 200), "u-backend")
        # Still served once both providers have reported that they cannot read their source.
        data = second.wait_rawdata(
            lambda d: any("Docker Engine" in e.get("message", "") for e in d.get("errors", []))
            and any("does not exist" in e.get("message", "") for e in d.get("errors", [])),
            message="both providers' errors")
        self.assertTrue(any("from the history" in e["message"] for e in data["errors"]), data["errors"])
        self.assertGreater(data["version"], 0)
        self.assertWhoami(second.get("/", host="app.test"), "u-backend")
