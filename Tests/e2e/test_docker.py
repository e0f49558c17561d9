"""The Docker provider against a real Docker Engine (a dockerd the tests start): routes follow containers' labels."""

import atexit
import json
import os
import threading
import time

import harness
from dockerd import DockerEngine

_engine = None


def engine():
    """One dockerd for all Docker tests, started on first use, removed at exit."""
    global _engine
    if _engine is None:
        started = DockerEngine()
        atexit.register(started.destroy)
        started.start()
        started.import_busybox()
        _engine = started
    return _engine


def web_labels(name, port, prefix="traefik"):
    return {
        "%s.http.routers.%s.rule" % (prefix, name): "Host(`%s.docker.test`)" % name,
        "%s.http.services.%s.loadbalancer.server.port" % (prefix, name): str(port),
    }


class DockerCase(harness.E2ETestCase):
    def setUp(self):
        super(DockerCase, self).setUp()
        self.engine = engine()
        self.engine.remove_all()
        self.addCleanup(self.engine.remove_all)
        self.www = os.path.join(self.tmp, "www")

    def start_docker_proxy(self, *extra):
        return self.start_proxy(dyn_dir=None, extra_args=[
            "--providers.docker.endpoint=%s" % self.engine.endpoint,
            "--providers.docker.pollInterval=30s"] + list(extra))

    def served_by(self, proxy, host, count):
        names = []
        for _ in range(count):
            r = proxy.get("/", host=host)
            self.assertEqual(r.status, 200, r)
            names.append(r.text.strip())
        return names

    def test_90a_run_stop_start_follow_the_container(self):
        proxy = self.start_docker_proxy()
        port = harness.free_port()
        t0 = time.monotonic()
        self.engine.run_web("web1", port, web_labels("web1", port), self.www)
        started = time.monotonic()
        proxy.wait_status("web1.docker.test", 200, body_contains="web1", timeout=1.0)
        print("\n    route live %.0f ms after `docker run` returned (%.0f ms after it began)"
              % ((time.monotonic() - started) * 1000, (time.monotonic() - t0) * 1000), end="")

        self.engine.docker("stop", "-t", "1", "web1")
        stopped = time.monotonic()
        proxy.wait_status("web1.docker.test", 404, timeout=1.0)
        print("; gone %.0f ms after `docker stop` returned" % ((time.monotonic() - stopped) * 1000), end="")

        self.engine.docker("start", "web1")
        proxy.wait_status("web1.docker.test", 200, body_contains="web1", timeout=1.0)
        data = proxy.rawdata()
        self.assertEqual(data["routers"]["web1@docker"]["status"], "enabled")
        self.assertEqual(data["services"]["web1@docker"]["loadBalancer"]["servers"],
                         [{"url": "http://127.0.0.1:%d" % port}])

    def test_90b_replicas_share_a_service_and_one_stops_without_failures(self):
        proxy = self.start_docker_proxy()
        labels = {
            "traefik.http.routers.app.rule": "Host(`app.docker.test`)",
            "traefik.http.services.app.loadbalancer.server.port": None,
        }
        ports = {}
        for name in ("app1", "app2", "app3"):
            ports[name] = harness.free_port()
            labels["traefik.http.services.app.loadbalancer.server.port"] = str(ports[name])
            self.engine.run_web(name, ports[name], dict(labels), self.www)
        proxy.wait_rawdata(
            lambda d: len(d["services"].get("app@docker", {}).get("loadBalancer", {}).get("servers", [])) == 3,
            timeout=5, message="three servers in app@docker")
        names = self.served_by(proxy, "app.docker.test", 30)
        self.assertEqual(sorted(set(names)), ["app1", "app2", "app3"])
        self.assertEqual(names.count("app1"), 10, names)

        # Requests run while app2 stops; none may fail.
        failures, answers, stop = [], [], threading.Event()

        def load():
            deadline = time.monotonic() + 30
            while not stop.is_set() and time.monotonic() < deadline and len(answers) < 20000:
                r = harness.try_request(proxy.web_port, "/", host="app.docker.test", timeout=5)
                if r is None or r.status != 200:
                    failures.append(r)
                else:
                    answers.append(r.text.strip())
        worker = threading.Thread(target=load)
        worker.start()
        try:
            time.sleep(0.3)
            self.engine.docker("stop", "-t", "1", "app2")
            proxy.wait_rawdata(
                lambda d: len(d["services"]["app@docker"]["loadBalancer"]["servers"]) == 2,
                timeout=3, message="app2 gone from app@docker")
            time.sleep(0.3)
        finally:
            stop.set()
            worker.join(35)
        self.assertEqual(failures, [], "failed requests while a replica stopped")
        self.assertGreater(len(answers), 50)
        after = self.served_by(proxy, "app.docker.test", 10)
        self.assertNotIn("app2", after)
        self.assertEqual(sorted(set(after)), ["app1", "app3"])

    def test_90c_broken_labels_name_container_and_label_and_spare_the_rest(self):
        proxy = self.start_docker_proxy()
        self.engine.run_sleeper("badrule", {
            "traefik.http.routers.badrule.rule": "Host(`badrule.docker.test`",
            "traefik.http.services.badrule.loadbalancer.server.port": "8080",
        })
        self.engine.run_sleeper("badmw", {
            "traefik.http.routers.badmw.rule": "Host(`badmw.docker.test`)",
            "traefik.http.routers.badmw.middlewares": "does-not-exist",
            "traefik.http.services.badmw.loadbalancer.server.port": "8080",
        })
        self.engine.run_sleeper("badport", {
            "traefik.http.routers.badport.rule": "Host(`badport.docker.test`)",
            "traefik.http.services.badport.loadbalancer.server.port": "eighty",
        })
        port = harness.free_port()
        self.engine.run_web("good", port, web_labels("good", port), self.www)
        proxy.wait_status("good.docker.test", 200, body_contains="good", timeout=5)
        data = proxy.wait_rawdata(
            lambda d: all(n in d["routers"] for n in ("badrule@docker", "badmw@docker", "badport@docker")),
            timeout=5, message="the three broken routers")

        def error_of(kind, name):
            item = data[kind][name]
            self.assertEqual(item["status"], "disabled", item)
            return " ".join(item.get("error", []))

        rule_error = error_of("routers", "badrule@docker")
        self.assertIn("container badrule label traefik.http.routers.badrule.rule", rule_error)
        mw_error = error_of("routers", "badmw@docker")
        self.assertIn("container badmw label traefik.http.routers.badmw.middlewares", mw_error)
        self.assertIn("does-not-exist@docker", mw_error)
        port_error = error_of("services", "badport@docker")
        self.assertIn("container badport label traefik.http.services.badport.loadbalancer.server.port", port_error)
        self.assertIn("eighty", port_error)
        self.assertIn("container badport", error_of("routers", "badport@docker"))
        self.assertEqual(proxy.get("/", host="badrule.docker.test").status, 404)
        self.assertEqual(proxy.get("/", host="good.docker.test").text.strip(), "good")
        self.assertIn("traefik.http.services.badport.loadbalancer.server.port", proxy.log())

    def test_90d_switchyard_labels_win_over_traefik_labels(self):
        proxy = self.start_docker_proxy()
        port = harness.free_port()
        labels = web_labels("dual", port)
        labels["switchyard.http.routers.dual.rule"] = "Host(`ours.docker.test`)"
        self.engine.run_web("dual", port, labels, self.www)
        proxy.wait_status("ours.docker.test", 200, body_contains="dual", timeout=5)
        self.assertEqual(proxy.get("/", host="dual.docker.test").status, 404)

    def test_90e_default_rule_and_exposed_by_default(self):
        proxy = self.start_docker_proxy(
            "--providers.docker.exposedByDefault=false",
            "--providers.docker.defaultRule=Host(`{{ normalize .Name }}.apps.test`)")
        port, hidden_port = harness.free_port(), harness.free_port()
        self.engine.run_web("shown_app", port, {
            "switchyard.enable": "true",
            "switchyard.http.services.x.loadbalancer.server.port": str(port)}, self.www)
        self.engine.run_web("hidden", hidden_port, {
            "switchyard.http.services.y.loadbalancer.server.port": str(hidden_port)}, self.www)
        proxy.wait_status("shown-app.apps.test", 200, body_contains="shown_app", timeout=5)
        data = proxy.rawdata()
        self.assertEqual(data["routers"]["shown-app@docker"]["service"], "x@docker")
        self.assertNotIn("hidden@docker", data["routers"])

    def test_90g_tcp_endpoint_with_tls_client_certificates(self):
        t = self.engine.tls_dir
        proxy = self.start_proxy(dyn_dir=None, extra_args=[
            "--providers.docker.endpoint=tcp://127.0.0.1:%d" % self.engine.tcp_port,
            "--providers.docker.tls.ca=%s" % os.path.join(t, "ca.pem"),
            "--providers.docker.tls.cert=%s" % os.path.join(t, "client.pem"),
            "--providers.docker.tls.key=%s" % os.path.join(t, "client-key.pem")])
        port = harness.free_port()
        self.engine.run_web("remote", port, web_labels("remote", port), self.www)
        proxy.wait_status("remote.docker.test", 200, body_contains="remote", timeout=5)
        # Without a client certificate the Engine refuses the provider, which says so. (Its own history: with the
        # first proxy's, it would serve that proxy's containers from it while the Engine refuses it.)
        refused = self.start_proxy(dyn_dir=None, name="refused", extra_args=[
            "--history.path=%s" % os.path.join(self.tmp, "refused.db"),
            "--providers.docker.endpoint=tcp://127.0.0.1:%d" % self.engine.tcp_port,
            "--providers.docker.tls.ca=%s" % os.path.join(t, "ca.pem")])
        refused.wait_rawdata(
            lambda d: any("cannot reach the Docker Engine" in e.get("message", "") for e in d.get("errors", [])),
            timeout=10, message="the refused TLS connection reported")
        self.assertEqual(refused.get("/", host="remote.docker.test").status, 404)

    def test_90h_containers_serve_once_healthy(self):
        proxy = self.start_docker_proxy()
        port = harness.free_port()
        www = os.path.join(self.www, "checked")
        self.engine.run_web("checked", port, web_labels("checked", port), self.www, extra=[
            "--health-cmd", "test -f /www/ready", "--health-interval", "300ms", "--health-retries", "1",
            "--health-start-period", "0s"])
        # starting, then unhealthy: not served
        self.engine_health("checked", ("starting", "unhealthy"))
        time.sleep(0.5)
        self.assertEqual(proxy.get("/", host="checked.docker.test").status, 404)
        with open(os.path.join(www, "ready"), "w") as f:
            f.write("ok\n")
        proxy.wait_status("checked.docker.test", 200, body_contains="checked", timeout=5)
        os.remove(os.path.join(www, "ready"))
        proxy.wait_status("checked.docker.test", 404, timeout=5)

    def engine_health(self, name, states):
        harness.wait_until(
            lambda: self.engine.docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip() in states,
            10, message="health of %s in %s" % (name, states))

    def test_90z_engine_restart_keeps_the_last_good_view(self):
        proxy = self.start_docker_proxy()
        port = harness.free_port()
        self.engine.run_web("steady", port, web_labels("steady", port), self.www)
        proxy.wait_status("steady.docker.test", 200, body_contains="steady", timeout=5)

        self.engine.stop()
        down_until = time.monotonic() + 5
        served = 0
        while time.monotonic() < down_until:
            r = proxy.get("/", host="steady.docker.test")
            self.assertEqual(r.status, 200, "a route must keep serving while the Engine is away: %r" % r)
            served += 1
            time.sleep(0.05)
        self.assertGreater(served, 20)
        data = proxy.wait_rawdata(
            lambda d: any("cannot reach the Docker Engine" in e.get("message", "") for e in d.get("errors", [])),
            timeout=5, message="the Engine's absence reported")
        self.assertEqual(data["routers"]["steady@docker"]["status"], "enabled")

        self.engine.start()
        later = harness.free_port()
        self.engine.run_web("later", later, web_labels("later", later), self.www)
        proxy.wait_status("later.docker.test", 200, body_contains="later", timeout=10)
        self.assertEqual(proxy.get("/", host="steady.docker.test").text.strip(), "steady")
        data = proxy.wait_rawdata(
            lambda d: not any("cannot reach" in e.get("message", "") for e in d.get("errors", [])),
            timeout=5, message="the error cleared once the Engine is back")
        self.assertIn("the Docker Engine is back", proxy.log())


class ComposeExampleTest(harness.E2ETestCase):
    def test_90f_compose_files_are_valid(self):
        import shutil
        import subprocess
        self.assertIsNotNone(shutil.which("docker-compose"), "docker-compose is not installed")
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        result = subprocess.run(["docker-compose", "-f", os.path.join(root, "compose.example.yml"), "config"],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("/var/run/docker.sock:/var/run/docker.sock:ro", result.stdout)
        self.assertIn("replicas: 3", result.stdout)
        examples = os.path.join(root, "providers", "docker", "examples")
        for name in sorted(os.listdir(examples)):
            result = subprocess.run(["docker-compose", "-f", os.path.join(examples, name), "config"],
                                    capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, "%s: %s" % (name, result.stderr))
