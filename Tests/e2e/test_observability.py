"""Prometheus metrics on /metrics and the access log (common and JSON, filters, header modes, rotation)."""

import json
import os
import re
import shutil
import signal
import subprocess
import time

from harness import E2ETestCase, free_port, read_text, request, route_yaml, run_binary, wait_until

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_exposition(text):
    """Parses Prometheus' text format strictly: {(name, frozenset(labels)): value}; raises on a malformed line."""
    samples, types = {}, {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, "line %d is not a sample: %r" % (number, line)
        labels, rest = {}, match.group(3) or ""
        while rest:
            label = LABEL.match(rest)
            assert label, "line %d: bad labels %r" % (number, rest)
            labels[label.group(1)] = label.group(2)
            rest = rest[label.end():]
        samples[(match.group(1), frozenset(labels.items()))] = float(match.group(4))
    return samples, types


class MetricsTests(E2ETestCase):

    def test_55a_prometheus_metrics_count_requests_by_entry_point_router_and_service(self):
        backend = self.start_whoami("m-backend")
        dead = "http://127.0.0.1:%d" % free_port()
        self.write("m.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"},
                                        "down": {"rule": "Host(`down.test`)", "service": "d"}},
                                       {"s": [backend.url], "d": [dead]}))
        proxy = self.start_proxy(extra_args=["--metrics.prometheus=true", "--metrics.prometheus.addRoutersLabels=true"])
        proxy.wait_routers(["app@file", "down@file", "prometheus@internal"])
        for _ in range(5):
            self.assertEqual(proxy.get("/", host="app.test").status, 200)
        self.assertEqual(proxy.get("/", host="down.test").status, 502)
        self.assertEqual(proxy.get("/", host="nowhere.test").status, 404)
        r = request(proxy.api_port, "/metrics")
        self.assertEqual(r.status, 200)
        self.assertIn("text/plain", r.header("Content-Type"))
        samples, types = parse_exposition(r.text)

        def value(name, **labels):
            return samples.get((name, frozenset(labels.items())))
        common = {"method": "GET", "protocol": "http"}
        self.assertEqual(value("switchyard_entrypoint_requests_total", code="200", entrypoint="web", **common), 5)
        self.assertEqual(value("switchyard_entrypoint_requests_total", code="502", entrypoint="web", **common), 1)
        self.assertEqual(value("switchyard_entrypoint_requests_total", code="404", entrypoint="web", **common), 1, r.text)
        self.assertEqual(value("switchyard_router_requests_total", code="200", router="app@file", service="s@file", **common), 5)
        self.assertEqual(value("switchyard_service_requests_total", code="200", service="s@file", **common), 5)
        self.assertEqual(value("switchyard_service_request_duration_seconds_count", code="200", service="s@file", **common), 5)
        self.assertEqual(value("switchyard_service_request_duration_seconds_bucket", code="200", service="s@file",
                               le="+Inf", **common), 5)
        self.assertIsNotNone(value("switchyard_service_request_duration_seconds_bucket", code="200", service="s@file",
                                   le="0.1", **common), "Traefik's buckets: 0.1, 0.3, 1.2, 5")
        self.assertEqual(types.get("switchyard_service_request_duration_seconds"), "histogram")
        self.assertGreater(value("switchyard_entrypoint_responses_bytes_total", code="200", entrypoint="web", **common), 0)
        self.assertEqual(value("switchyard_service_server_up", service="s@file", url=backend.url), 1)
        self.assertGreaterEqual(value("switchyard_config_reloads_total"), 1)
        self.assertGreater(value("switchyard_config_last_reload_success"), time.time() - 3600)
        self.assertIsNotNone(value("switchyard_open_connections", entrypoint="web", protocol="TCP"))
        self.assertTrue(any(name == "switchyard_tls_certs_not_after" for name, _ in samples), "the default certificate")
        promtool = shutil.which("promtool")
        if promtool:
            check = subprocess.run([promtool, "check", "metrics"], input=r.body, capture_output=True, timeout=30)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)


class AccessLogTests(E2ETestCase):

    def lines(self, path, count, timeout=5.0):
        def enough():
            text = read_text(path)
            lines = [line for line in text.splitlines() if line]
            return lines if len(lines) >= count else None
        return wait_until(enough, timeout, message="%d access-log lines in %s" % (count, path))

    def test_55b_json_lines_carry_traefiks_fields_the_router_and_the_table_version(self):
        backend = self.start_whoami("al-backend")
        self.write("a.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"}}, {"s": [backend.url]}))
        log = os.path.join(self.tmp, "access.json")
        proxy = self.start_proxy(extra_args=[
            "--accessLog=true", "--accessLog.filePath=%s" % log, "--accessLog.format=json",
            "--accessLog.fields.headers.defaultMode=keep", "--accessLog.fields.headers.names.Authorization=redact",
            "--accessLog.fields.names.ClientPort=drop"])
        proxy.wait_routers(["app@file"])
        r = proxy.get("/hello?x=1", host="app.test", headers={"Authorization": "Bearer secret", "User-Agent": "e2e"})
        self.assertEqual(r.status, 200)
        self.assertEqual(proxy.get("/", host="nowhere.test").status, 404)
        def both():
            entries = [json.loads(line) for line in read_text(log).splitlines() if line]
            statuses = {e["DownstreamStatus"] for e in entries if e["entryPointName"] == "web"}
            return entries if {200, 404} <= statuses else None
        entries = wait_until(both, 5.0, message="the 200 and the 404 in the access log")
        hit = next(e for e in entries if e.get("RouterName") == "app@file")
        self.assertEqual(hit["DownstreamStatus"], 200)
        self.assertEqual(hit["OriginStatus"], 200)
        self.assertEqual(hit["RequestMethod"], "GET")
        self.assertEqual(hit["RequestPath"], "/hello")
        self.assertEqual(hit["RequestHost"], "app.test")
        self.assertEqual(hit["ServiceName"], "s@file")
        self.assertEqual(hit["ServiceURL"], backend.url)
        self.assertEqual(hit["ClientHost"], "127.0.0.1")
        self.assertEqual(hit["entryPointName"], "web")
        self.assertEqual(hit["TableVersion"], proxy.version())
        self.assertGreater(hit["Duration"], 0)
        self.assertGreater(hit["DownstreamContentSize"], 0)
        self.assertEqual(hit["request_Authorization"], "REDACTED")
        self.assertEqual(hit["request_User-Agent"], "e2e")
        self.assertIn("downstream_Content-Type", hit, "header names in canonical form, as Traefik logs them")
        self.assertNotIn("ClientPort", hit)
        missed = next(e for e in entries if e["DownstreamStatus"] == 404)
        self.assertNotIn("RouterName", missed)

    def test_55c_common_format_filters_and_reopening_after_rotation(self):
        backend = self.start_whoami("al2-backend")
        dead = "http://127.0.0.1:%d" % free_port()
        self.write("a.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"},
                                        "down": {"rule": "Host(`down.test`)", "service": "d"}},
                                       {"s": [backend.url], "d": [dead]}))
        log = os.path.join(self.tmp, "access.log")
        proxy = self.start_proxy(extra_args=[
            "--accessLog=true", "--accessLog.filePath=%s" % log, "--accessLog.filters.statusCodes=500-599"])
        proxy.wait_routers(["app@file", "down@file"])
        for _ in range(3):
            self.assertEqual(proxy.get("/", host="app.test").status, 200)
        self.assertEqual(proxy.get("/fail", host="down.test").status, 502)
        line = self.lines(log, 1)[0]
        self.assertRegex(line, r'^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET /fail HTTP/1\.1" 502 \d+ '
                               r'"-" "[^"]*" \d+ "down@file" "%s" \d+ms v\d+$' % re.escape(dead))
        time.sleep(0.3)
        self.assertEqual(len(self.lines(log, 1)), 1, "only 5xx answers pass the filter")
        # Rotation: the file is moved away, SIGUSR1 reopens the path.
        os.rename(log, log + ".1")
        os.kill(proxy.pid, signal.SIGUSR1)
        wait_until(lambda: os.path.exists(log), 5.0, message="the access log reopened")
        self.assertEqual(proxy.get("/again", host="down.test").status, 502)
        self.assertIn('"GET /again HTTP/1.1" 502', self.lines(log, 1)[0])
        self.assertEqual(len(self.lines(log + ".1", 1)), 1)

    def test_55d_bad_access_log_options_stop_start_up_with_the_key(self):
        code, out, err = run_binary(["check", "--entryPoints.web.address=127.0.0.1:%d" % free_port(),
                                     "--accessLog.format=xml"], cwd=self.tmp)
        self.assertNotEqual(code, 0)
        self.assertIn("accessLog.format", out + err)


class StartupPagesTests(E2ETestCase):

    def test_55e_start_up_pages_are_released_once_start_up_settled_and_serving_goes_on(self):
        backend = self.start_whoami("sp-backend")
        self.write("sp.yml", route_yaml({"app": {"rule": "Host(`app.test`)", "service": "s"}}, {"s": [backend.url]}))
        proxy = self.start_proxy()
        proxy.wait_routers(["app@file"])
        line = re.compile(r"start-up pages released advisedMiB=([0-9.]+) residentAfterMiB=([0-9.]+) "
                          r"residentBeforeMiB=([0-9.]+)")
        # Not while start-up settles (10 s after the first table): a change then would wait for code read back.
        time.sleep(5)
        self.assertIsNone(line.search(proxy.log()), "released 5 s after the first table")
        wait_until(lambda: line.search(proxy.log()), 15, message="the start-up pages' release in the log")
        advised, after, before = (float(v) for v in line.search(proxy.log()).groups())
        self.assertGreater(advised, 1.0, "the binary's code is among the mappings handed back")
        self.assertLess(after, before, "the resident set shrinks")
        # The code that serves faults back in: requests, a new route and the API all work afterwards.
        for _ in range(5):
            self.assertEqual(proxy.get("/", host="app.test").status, 200)
        self.write("sp2.yml", route_yaml({"two": {"rule": "Host(`two.test`)", "service": "t"}}, {"t": [backend.url]}))
        proxy.wait_routers(["app@file", "two@file"])
        self.assertEqual(proxy.get("/", host="two.test").status, 200)
        self.assertEqual(request(proxy.api_port, "/api/rawdata").status, 200)
        self.assertEqual(len(line.findall(proxy.log())), 1, "released once, not on every table")
