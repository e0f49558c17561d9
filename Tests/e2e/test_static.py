"""Static configuration: flags, environment, configFile, errors, listen addresses (brief item 12)."""

import os
import socket
import time

from harness import (E2ETestCase, LOOPBACK, ProxyProcess, ipv6_loopback_available, free_port, port_open,
                     request, route_yaml, run_binary, wait_until, Whoami)


class StaticConfigErrorTests(E2ETestCase):

    def run_bad(self, args, env=None):
        code, out, err = run_binary(args, cwd=self.tmp, env=env, timeout=20)
        self.assertEqual(code, 1, "exit code for %s; stdout %r stderr %r" % (args, out, err))
        return out + err

    def test_12a_misspelled_flag_named_with_suggestion(self):
        text = self.run_bad(["--entryPoints.web.adress=127.0.0.1:%d" % free_port()])
        self.assertIn("adress", text)
        self.assertIn("address", text.replace("adress", ""), "suggests the right name: %r" % text)

    def test_12b_unknown_flag_named(self):
        text = self.run_bad(["--entryPoints.web.address=127.0.0.1:%d" % free_port(), "--nosuchsection.value=1"])
        self.assertIn("nosuchsection", text)

    def test_12c_bad_duration_names_the_key(self):
        for flag, key in [("--providers.providersThrottleDuration=abc", "providersThrottleDuration"),
                          ("--lifeCycle.graceTimeOut=10x", "graceTimeOut"),
                          ("--serversTransport.forwardingTimeouts.responseHeaderTimeout=soon",
                           "responseHeaderTimeout")]:
            text = self.run_bad(["--entryPoints.web.address=127.0.0.1:%d" % free_port(), flag])
            self.assertIn(key.lower(), text.lower(), "%s -> %r" % (flag, text))

    def test_12c2_unknown_acme_key_type_lists_the_key_types(self):
        text = self.run_bad(["--entryPoints.web.address=127.0.0.1:%d" % free_port(),
                             "--certificatesResolvers.le.acme.httpChallenge.entryPoint=web",
                             "--certificatesResolvers.le.acme.keyType=RSA1024"])
        self.assertIn("keyType", text)
        self.assertIn("'RSA1024' is not a key type; use one of EC256, EC384, RSA2048, RSA3072, RSA4096, RSA8192", text)

    def test_12d_bad_env_value_names_the_variable(self):
        text = self.run_bad(["--entryPoints.web.address=127.0.0.1:%d" % free_port()],
                            env={"SWITCHYARD_PROVIDERS_PROVIDERSTHROTTLEDURATION": "abc"})
        self.assertIn("SWITCHYARD_PROVIDERS_PROVIDERSTHROTTLEDURATION", text)

    def test_12e_bad_value_in_config_file_names_file_and_line(self):
        path = os.path.join(self.tmp, "static.yml")
        with open(path, "w") as f:
            f.write("entryPoints:\n  web:\n    address: \"127.0.0.1:%d\"\nlog:\n  level: LOUD\n" % free_port())
        text = self.run_bad(["--configFile=%s" % path])
        self.assertIn("%s:5" % path, text)
        self.assertIn("log.level", text)

    def test_12f_bad_log_level_flag_names_the_flag(self):
        text = self.run_bad(["--entryPoints.web.address=127.0.0.1:%d" % free_port(), "--log.level=LOUD"])
        self.assertIn("log.level", text)
        self.assertIn("--log.level", text, "the message should say the value came from the flag: %r" % text)


class StaticConfigSourcesTests(E2ETestCase):

    def start_and_find(self, args, env, candidates):
        """Starts the proxy (no defaults) and returns which candidate port answers with a 404."""
        p = ProxyProcess(self.tmp, use_defaults=False, extra_args=args, env=env, name="proxy-%d" % len(self._proxies))
        self.addCleanup(p.stop)
        self._proxies.append(p)

        def listening():
            p.check_alive()
            return [port for port in candidates if port_open(port)]
        open_ports = wait_until(listening, 15, message="any of %s listening" % candidates)
        # give the other candidates a moment, in case several listeners come up
        time.sleep(0.3)
        open_ports = listening()
        r = request(open_ports[0], "/", host="none.test")
        self.assertEqual(r.status, 404)
        p.stop()
        return open_ports

    def test_12g_precedence_file_env_flag(self):
        p_file, p_env, p_flag = free_port(), free_port(), free_port()
        cfg = os.path.join(self.tmp, "static.yml")
        with open(cfg, "w") as f:
            f.write("entryPoints:\n  web:\n    address: \"127.0.0.1:%d\"\n"
                    "providers:\n  file:\n    directory: %s\n  providersThrottleDuration: 0s\n"
                    "log:\n  level: DEBUG\n" % (p_file, self.dyn))
        ports = [p_file, p_env, p_flag]
        env = {"SWITCHYARD_ENTRYPOINTS_WEB_ADDRESS": "127.0.0.1:%d" % p_env}
        flag = "--entryPoints.web.address=127.0.0.1:%d" % p_flag

        self.assertEqual(self.start_and_find(["--configFile=%s" % cfg], None, ports), [p_file], "file only")
        self.assertEqual(self.start_and_find(["--configFile=%s" % cfg], env, ports), [p_env], "env over file")
        self.assertEqual(self.start_and_find(["--configFile=%s" % cfg, flag], env, ports), [p_flag],
                         "flag over env over file")

    def test_12h_toml_config_file(self):
        port = free_port()
        cfg = os.path.join(self.tmp, "static.toml")
        with open(cfg, "w") as f:
            f.write('[entryPoints.web]\naddress = "127.0.0.1:%d"\n\n[providers.file]\ndirectory = "%s"\n'
                    % (port, self.dyn))
        self.assertEqual(self.start_and_find(["--configFile=%s" % cfg], None, [port]), [port])

    def test_12i_env_only_settings_apply(self):
        """Static configuration from environment variables alone."""
        o1 = self.start_whoami("o1")
        self.write("a.yml", route_yaml({"r": {"rule": "Host(`a.test`)", "service": "s"},
                                        "down": {"rule": "Host(`down.test`)", "service": "sdown"}},
                                       {"s": [o1.url], "sdown": ["http://127.0.0.1:%d" % free_port()]}))
        web, api = free_port(), free_port()
        env = {"SWITCHYARD_ENTRYPOINTS_WEB_ADDRESS": "127.0.0.1:%d" % web,
               "SWITCHYARD_ENTRYPOINTS_TRAEFIK_ADDRESS": "127.0.0.1:%d" % api,
               "SWITCHYARD_PROVIDERS_FILE_DIRECTORY": self.dyn,
               "SWITCHYARD_PROVIDERS_PROVIDERSTHROTTLEDURATION": "0s",
               "SWITCHYARD_API_INSECURE": "true",
               "SWITCHYARD_PING": "true",
               "SWITCHYARD_LOG_LEVEL": "DEBUG"}
        p = self.start_proxy(use_defaults=False, env=env, web_port=web, api_port=api)
        self.assertWhoami(p.wait_status("a.test", 200), "o1")
        # a failed upstream connection is logged at debug level
        self.assertEqual(p.get("/", host="down.test").status, 502)
        wait_until(lambda: "DBG" in p.log(), 5, message="a DBG line (SWITCHYARD_LOG_LEVEL=DEBUG)")

    def test_12j_ipv6_loopback_entry_point(self):
        if not ipv6_loopback_available():
            self.skipTest("no IPv6 loopback")
        o1 = self.start_whoami("o1")
        self.write("a.yml", route_yaml({"r": {"rule": "Host(`v6.test`)", "service": "s"}}, {"s": [o1.url]}))
        web = free_port(family=socket.AF_INET6, host="::1")
        p = self.start_proxy(web_port=web, web_address="[::1]:%d" % web, wait=False)

        def ok():
            p.check_alive()
            r = request(web, "/", host="v6.test", addr="::1", timeout=2)
            return r if r.status == 200 else None
        r = wait_until(ok, 15, message="GET over [::1]:%d" % web)
        w = self.assertWhoami(r, "o1")
        self.assertEqual(w.header("X-Forwarded-For"), "::1", w.raw)
        self.assertFalse(port_open(web, LOOPBACK), "[::1] entry point should not listen on 127.0.0.1")

    def test_12k_port_only_address(self):
        """`:PORT` listens on every interface; only loopback is contacted here."""
        o1 = self.start_whoami("o1")
        self.write("a.yml", route_yaml({"r": {"rule": "Host(`any.test`)", "service": "s"}}, {"s": [o1.url]}))
        web = free_port()
        p = self.start_proxy(web_port=web, web_address=":%d" % web)
        self.assertWhoami(p.wait_status("any.test", 200), "o1")
        if ipv6_loopback_available():
            r = request(web, "/", host="any.test", addr="::1", timeout=5)
            self.assertEqual(Whoami(r.text).hostname, "o1")


class StaticConfigBehaviourTests(E2ETestCase):

    def test_12l_json_log_format(self):
        import json
        o1 = self.start_whoami("o1")
        self.write("r.yml", route_yaml({"r": {"rule": "Host(`a.test`)", "service": "s"}}, {"s": [o1.url]}))
        proxy = self.start_proxy(throttle="0s", log_level="INFO", extra_args=["--log.format=json"])
        proxy.wait_status("a.test", 200)
        lines = [line for line in proxy.log().splitlines() if line.strip()]
        self.assertTrue(lines)
        for line in lines:
            entry = json.loads(line)
            self.assertIn(entry["level"], ("info", "warn", "error", "debug"))
            self.assertIn("message", entry)
            self.assertIn("time", entry)
        self.assertTrue(any(json.loads(line)["message"] == "routing table live" for line in lines))

    def test_12m_watch_false_reads_once(self):
        o1 = self.start_whoami("o1")
        self.write("r.yml", route_yaml({"r": {"rule": "Host(`a.test`)", "service": "s"}}, {"s": [o1.url]}))
        proxy = self.start_proxy(throttle="0s", extra_args=["--providers.file.watch=false"])
        proxy.wait_status("a.test", 200)
        self.write("r2.yml", route_yaml({"r2": {"rule": "Host(`b.test`)", "service": "s2"}}, {"s2": [o1.url]}))
        time.sleep(1.0)
        self.assertEqual(proxy.get("/", host="b.test").status, 404)
        self.assertEqual(proxy.get("/", host="a.test").status, 200)
