"""Broken dynamic configuration keeps the last good routes serving and is
reported in /api/rawdata and in the log (brief item 3)."""

import json
import re
import unittest

from harness import E2ETestCase, route_yaml, wait_until


GOOD_B_YAML = route_yaml({"rb": {"rule": "Host(`b.test`)", "service": "sb"}}, {"sb": ["ORIGIN"]})


class BrokenInputTests(E2ETestCase):

    def setUp(self):
        super(BrokenInputTests, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.o2 = self.start_whoami("o2")
        # a.yml is a separate, always-good file
        self.write("a.yml", route_yaml({"ra": {"rule": "Host(`a.test`)", "service": "sa"}}, {"sa": [self.o1.url]}))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_routers(["ra@file"])
        self.proxy.wait_status("a.test", 200)

    # -- helpers ---------------------------------------------------------

    def make_b_good(self, name="b.yml", content=None):
        path = self.write(name, content or GOOD_B_YAML.replace("ORIGIN", self.o2.url))
        self.proxy.wait_routers(["rb@file"])
        self.assertWhoami(self.proxy.wait_status("b.test", 200), "o2")
        return path

    def wait_error(self, source, predicate=lambda e: True, message="error"):
        def has(d):
            return [e for e in d.get("errors", []) if e.get("location", {}).get("source") == source and predicate(e)]
        data = self.proxy.wait_rawdata(lambda d: has(d), message="%s in rawdata errors for %s" % (message, source))
        return data, has(data)[0]

    def wait_log(self, pattern, message=None):
        rx = re.compile(pattern)
        wait_until(lambda: rx.search(self.proxy.log()), 10,
                   message=message or "log line matching %r" % pattern)

    def assert_still_serving(self):
        self.assertWhoami(self.proxy.get("/", host="b.test"), "o2", "last good content of the broken file")
        self.assertWhoami(self.proxy.get("/", host="a.test"), "o1", "the other file")
        self.proxy.check_alive()

    # -- cases -----------------------------------------------------------

    def test_03a_bad_yaml_syntax(self):
        path = self.make_b_good()
        # line 4 has a syntax error ("mapping values are not allowed here")
        self.write("b.yml", "http:\n  routers:\n    rb:\n      rule: Host: `b.test`\n      service: sb\n")
        data, err = self.wait_error(path)
        self.assertEqual(err["location"]["line"], 4, json.dumps(err))
        self.assertEqual(err.get("severity"), "error")
        self.assertTrue(err.get("message"))
        self.assert_still_serving()
        self.assertIn("rb@file", data["routers"])  # last good content still listed
        self.wait_log(re.escape(path) + r":4\b", "log names %s:4" % path)

    def test_03b_unknown_key(self):
        path = self.make_b_good()
        self.write("b.yml", GOOD_B_YAML.replace("ORIGIN", self.o2.url).replace("rule:", "rulee:"))
        data, err = self.wait_error(path, lambda e: e.get("keyPath"), "unknown key error")
        self.assertEqual(err["keyPath"], "http.routers.rb.rulee", json.dumps(err))
        self.assertEqual(err["location"]["line"], 4, json.dumps(err))
        self.assertIn("rulee", err["message"])
        self.assert_still_serving()
        self.wait_log(re.escape(path) + r":4(:\d+)?:.*http\.routers\.rb\.rulee", "log names file:line and key path")

    def test_03c_rule_that_does_not_parse(self):
        path = self.make_b_good()
        broken = route_yaml({"rb": {"rule": "Host(`b.test`)", "service": "sb"},
                             "rbad": {"rule": "Host(`c.test`", "service": "sb"}},
                            {"sb": [self.o2.url]})
        self.write("b.yml", broken)
        data = self.proxy.wait_rawdata(lambda d: "rbad@file" in d["routers"], message="rbad@file present")
        rbad = data["routers"]["rbad@file"]
        self.assertEqual(rbad["status"], "disabled", json.dumps(rbad))
        self.assertTrue(rbad.get("error"), json.dumps(rbad))
        text = " ".join(rbad["error"])
        # rbad is declared on line 7 of the file, its rule on line 8
        self.assertRegex(text, re.escape(path) + r":\d+:\d+", "router error names file:line:col")
        self.assertIn("http.routers.rbad.rule", text)
        errs = [e for e in data["errors"] if e.get("keyPath") == "http.routers.rbad.rule"]
        self.assertTrue(errs, json.dumps(data["errors"]))
        self.assertEqual(errs[0]["location"]["source"], path)
        self.assertIn("column", errs[0]["location"])
        self.assertIsInstance(errs[0]["location"]["column"], int)
        # the other routers keep serving, the bad one does not route
        self.assert_still_serving()
        self.assertEqual(self.proxy.get("/", host="c.test").status, 404)
        self.wait_log(re.escape(path) + r":\d+:\d+: http\.routers\.rbad\.rule", "log names the bad rule")

    def test_03d_unknown_service(self):
        path = self.make_b_good()
        broken = route_yaml({"rb": {"rule": "Host(`b.test`)", "service": "sb"},
                             "rnosvc": {"rule": "Host(`d.test`)", "service": "nope"}},
                            {"sb": [self.o2.url]})
        self.write("b.yml", broken)
        data = self.proxy.wait_rawdata(lambda d: "rnosvc@file" in d["routers"], message="rnosvc@file present")
        r = data["routers"]["rnosvc@file"]
        self.assertEqual(r["status"], "disabled", json.dumps(r))
        text = " ".join(r.get("error") or [])
        self.assertIn("nope", text)
        self.assertIn("does not exist", text)
        self.assertIn(path, text)
        self.assert_still_serving()
        self.assertEqual(self.proxy.get("/", host="d.test").status, 404)
        self.wait_log(r"nope@file.*does not exist|does not exist.*nope", "log reports the missing service")

    def test_03e_broken_toml(self):
        good = ('[http.routers.rb]\nrule = "Host(`b.test`)"\nservice = "sb"\n\n'
                '[[http.services.sb.loadBalancer.servers]]\nurl = "%s"\n' % self.o2.url)
        path = self.make_b_good("b.toml", good)
        # line 3 is broken (unterminated string)
        self.write("b.toml", '[http.routers.rb]\nrule = "Host(`b.test`)"\nservice = "sb\n\n'
                   '[[http.services.sb.loadBalancer.servers]]\nurl = "%s"\n' % self.o2.url)
        data, err = self.wait_error(path)
        self.assertEqual(err["location"]["line"], 3, json.dumps(err))
        self.assert_still_serving()
        self.wait_log(re.escape(path) + r":3\b", "log names %s:3" % path)

    def test_03e_broken_json(self):
        good = json.dumps({"http": {"routers": {"rb": {"rule": "Host(`b.test`)", "service": "sb"}},
                                    "services": {"sb": {"loadBalancer": {"servers": [{"url": self.o2.url}]}}}}},
                          indent=2)
        path = self.make_b_good("b.json", good)
        lines = good.split("\n")
        # drop the comma at the end of the "rule" line (line 5) -> error at line 5 or 6
        rule_line = [i for i, l in enumerate(lines) if '"rule"' in l][0]
        lines[rule_line] = lines[rule_line].rstrip(",")
        self.write("b.json", "\n".join(lines))
        data, err = self.wait_error(path)
        self.assertIn(err["location"].get("line"), (rule_line + 1, rule_line + 2), json.dumps(err))
        self.assert_still_serving()
        self.wait_log(re.escape(path) + r":%d\b|%s:%d\b" % (rule_line + 1, re.escape(path), rule_line + 2),
                      "log names the JSON file and line")

    def test_03e_unknown_key_in_toml_has_line(self):
        """Unknown keys are reported with file, line and key path in TOML too."""
        good_toml = ('[http.routers.rb]\nrule = "Host(`b.test`)"\nservice = "sb"\n\n'
                     '[[http.services.sb.loadBalancer.servers]]\nurl = "%s"\n' % self.o2.url)
        tpath = self.make_b_good("b.toml", good_toml)
        self.write("b.toml", good_toml.replace("service =", "servise ="))
        _, err = self.wait_error(tpath, lambda e: e.get("keyPath"), "unknown key")
        self.assertEqual(err["keyPath"], "http.routers.rb.servise", json.dumps(err))
        self.assert_still_serving()
        self.assertEqual(err["location"].get("line"), 3, json.dumps(err))
        self.wait_log(re.escape(tpath) + r":3\b", "log names %s:3" % tpath)

    def test_03e_unknown_key_in_json_has_line(self):
        """Unknown keys are reported with file, line and key path in JSON too."""
        jpath = self.write("c.json", json.dumps(
            {"http": {"routers": {"rc": {"rule": "Host(`c.test`)", "service": "sc", "prioritty": 3}},
                      "services": {"sc": {"loadBalancer": {"servers": [{"url": self.o2.url}]}}}}}, indent=2))
        _, err = self.wait_error(jpath, lambda e: e.get("keyPath"), "unknown key")
        self.assertEqual(err["keyPath"], "http.routers.rc.prioritty", json.dumps(err))
        self.assertEqual(err["location"].get("line"), 7, json.dumps(err))
        self.wait_log(re.escape(jpath) + r":7\b", "log names %s:7" % jpath)

    def test_03f_fixing_the_file_clears_the_error(self):
        path = self.make_b_good()
        self.write("b.yml", "http:\n  routers:\n    rb:\n      rule: Host: `b.test`\n      service: sb\n")
        self.wait_error(path)
        self.write("b.yml", route_yaml({"rb": {"rule": "Host(`b2.test`)", "service": "sb"}}, {"sb": [self.o2.url]}))
        self.assertWhoami(self.proxy.wait_status("b2.test", 200), "o2")
        self.proxy.wait_rawdata(lambda d: not [e for e in d["errors"] if e["location"].get("source") == path],
                                message="error for %s cleared" % path)
        self.proxy.wait_status("b.test", 404)

    def test_03g_router_error_location_is_the_value_line(self):
        content = route_yaml({"rbad": {"rule": "Host(`c.test`", "service": "sb"},
                              "rnosvc": {"rule": "Host(`d.test`)", "service": "nope"}},
                             {"sb": [self.o2.url]})
        lines = content.split("\n")
        rule_line = lines.index('      rule: "Host(`c.test`"') + 1
        service_line = [i for i, l in enumerate(lines) if l.strip() == "service: nope"][0] + 1
        path = self.write("b.yml", content)
        data = self.proxy.wait_rawdata(lambda d: "rnosvc@file" in d["routers"] and "rbad@file" in d["routers"],
                                       message="routers present")
        by_key = {e.get("keyPath"): e for e in data["errors"]}
        rule_err = by_key["http.routers.rbad.rule"]
        svc_err = by_key["http.routers.rnosvc.service"]
        self.assertEqual(rule_err["location"]["source"], path)
        self.assertEqual((rule_err["location"]["line"], svc_err["location"]["line"]), (rule_line, service_line),
                         json.dumps([rule_err, svc_err]))
