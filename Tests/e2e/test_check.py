"""`switchyard check` (brief item 13)."""

import os

from harness import E2ETestCase, route_yaml, run_binary


class CheckCommandTests(E2ETestCase):

    def good_files(self, directory):
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "a.yml"), "w") as f:
            f.write(route_yaml({"r1": {"rule": "Host(`a.test`)", "service": "s1"}}, {"s1": ["http://127.0.0.1:1"]}))
        with open(os.path.join(directory, "b.toml"), "w") as f:
            f.write('[http.routers.r2]\nrule = "Host(`b.test`)"\nservice = "s1"\n')

    def test_13a_good_directory_exits_0(self):
        self.good_files(self.dyn)
        code, out, err = run_binary(["check", "--providers.file.directory=%s" % self.dyn], cwd=self.tmp)
        self.assertEqual(code, 0, out + err)
        self.assertNotIn("error:", (out + err).lower().replace("0 errors", ""))

    def test_13b_broken_directory_exits_1_with_file_and_line(self):
        self.good_files(self.dyn)
        bad_yaml = os.path.join(self.dyn, "bad.yml")
        with open(bad_yaml, "w") as f:
            f.write("http:\n  routers:\n    r3:\n      rule: Host: x\n")          # line 4
        bad_key = os.path.join(self.dyn, "sub", "key.yml")
        os.makedirs(os.path.dirname(bad_key))
        with open(bad_key, "w") as f:
            f.write("http:\n  routers:\n    r4:\n      rule: \"Host(`d.test`)\"\n      servce: s1\n")  # line 5
        code, out, err = run_binary(["check", "--providers.file.directory=%s" % self.dyn], cwd=self.tmp)
        text = out + err
        self.assertEqual(code, 1, text)
        self.assertIn("%s:4" % bad_yaml, text)
        self.assertIn("%s:5" % bad_key, text)
        self.assertIn("http.routers.r4.servce", text)

    def test_13c_single_file_and_router_errors(self):
        path = os.path.join(self.tmp, "one.yml")
        with open(path, "w") as f:
            f.write(route_yaml({"r1": {"rule": "Host(`a.test`", "service": "s1"},
                                "r2": {"rule": "Host(`b.test`)", "service": "missing"}},
                               {"s1": ["http://127.0.0.1:1"]}))
        code, out, err = run_binary(["check", "--providers.file.filename=%s" % path], cwd=self.tmp)
        text = out + err
        self.assertEqual(code, 1, text)
        self.assertIn("http.routers.r1.rule", text)
        self.assertIn("missing", text)
        self.assertRegex(text, r"%s:\d+:\d+" % path.replace(".", r"\."))

    def test_13d_static_error_exits_1(self):
        code, out, err = run_binary(["check", "--providers.file.directory=%s" % self.dyn,
                                     "--providers.providersThrottleDuration=abc"], cwd=self.tmp)
        self.assertEqual(code, 1, out + err)
        self.assertIn("providersThrottleDuration", out + err)
