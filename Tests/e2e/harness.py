"""Shared helpers for the Switchyard end-to-end tests.

Standard library only. Every test starts its own processes on free loopback
ports in its own temporary folder; every process is registered here so it is
killed in tearDown (also on failure) and, as a last resort, by the runner's
watchdog or at interpreter exit.

Network rule: traffic goes to 127.0.0.1 / ::1 only. Every loop here is
bounded in count and in time.
"""

import atexit
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
LOOPBACK = "127.0.0.1"

# Generous upper bound for anything that "should be quick" (process start-up,
# a config reload): the binary is a debug build on a 2-core machine.
STARTUP_TIMEOUT = 20.0
BINARY_WAIT = 300.0  # the lead engineer may be rebuilding the binary


def binary_path():
    value = os.environ.get("SWITCHYARD_BIN", ".build/debug/switchyard")
    if os.path.isabs(value):
        return value
    here = os.path.abspath(value)
    if os.path.exists(here):
        return here
    return os.path.join(REPO_ROOT, value)


def wait_for_binary():
    """The binary may be rebuilt under us; if it is missing, wait (bounded)."""
    path = binary_path()
    deadline = time.monotonic() + BINARY_WAIT
    while True:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        if time.monotonic() > deadline:
            raise RuntimeError("switchyard binary not found at %s (set SWITCHYARD_BIN)" % path)
        time.sleep(1.0)


def child_env(extra=None):
    """Environment for child processes: no SWITCHYARD_* variables leak in
    (SWITCHYARD_BIN would otherwise be read as static configuration)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    if extra:
        env.update(extra)
    return env


# --------------------------------------------------------------------------
# process registry

_registry_lock = threading.Lock()
_registry = {}  # pid -> Popen


def _register(proc):
    with _registry_lock:
        _registry[proc.pid] = proc


def _unregister(proc):
    with _registry_lock:
        _registry.pop(proc.pid, None)


def kill_all_registered():
    """Kill every child we started, by pid (watchdog / atexit)."""
    with _registry_lock:
        procs = list(_registry.values())
    for p in procs:
        try:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=5)
        except Exception:
            pass
        _unregister(p)


atexit.register(kill_all_registered)


def stop_process(proc, sig=signal.SIGKILL, timeout=10.0):
    if proc is None:
        return
    try:
        if proc.poll() is None:
            os.kill(proc.pid, sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    finally:
        _unregister(proc)


def spawn(args, cwd, stdout_path, stderr_path, env=None):
    """Start the binary with args; retries briefly if the binary is being
    replaced (ETXTBSY, exec format error, vanished)."""
    deadline = time.monotonic() + BINARY_WAIT
    while True:
        binary = wait_for_binary()
        out = open(stdout_path, "ab")
        err = open(stderr_path, "ab")
        try:
            proc = subprocess.Popen([binary] + list(args), cwd=cwd, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL, env=child_env(env))
        except OSError:
            out.close()
            err.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
            continue
        out.close()
        err.close()
        _register(proc)
        return proc


def run_binary(args, cwd, env=None, timeout=30.0):
    """Run the binary to completion; returns (exit code, stdout, stderr)."""
    binary = wait_for_binary()
    p = subprocess.run([binary] + list(args), cwd=cwd, env=child_env(env), stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# --------------------------------------------------------------------------
# network helpers

def free_port(family=socket.AF_INET, host=LOOPBACK):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def port_open(port, host=LOOPBACK, timeout=0.5):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """Poll predicate() until truthy (returns its value) or raise AssertionError."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - keep polling
            last_exc = e
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last error: %r)"
                                 % (timeout, message, last_exc))
        time.sleep(interval)


class HeaderLookup(object):
    """header() and header_all() over a list of (name, value) pairs in self.headers."""

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Response(HeaderLookup):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %s %r>" % (self.status, self.body[:200])


def request(port, path="/", host=None, method="GET", headers=None, body=None, addr=LOOPBACK, timeout=10.0):
    """One request on a fresh connection; returns Response."""
    conn = http.client.HTTPConnection(addr, port, timeout=timeout)
    try:
        h = {}
        if host is not None:
            h["Host"] = host
        if headers:
            h.update(headers)
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data)
    finally:
        conn.close()


def try_request(*args, **kwargs):
    """request() that returns None on connection errors."""
    try:
        return request(*args, **kwargs)
    except (OSError, http.client.HTTPException):
        return None


class Whoami(HeaderLookup):
    """Parsed body of a whoami answer."""

    REQUEST_LINE = re.compile(r"^[A-Z]+ \S+ HTTP/\d\.\d$")

    def __init__(self, text):
        self.raw = text
        self.meta = {}
        self.request_line = None
        self.headers = []  # (name, value) in order
        self.body_bytes = None
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            line = lines[i].rstrip("\r")
            i += 1
            if self.REQUEST_LINE.match(line):
                self.request_line = line
                break
            if ": " in line:
                k, v = line.split(": ", 1)
                self.meta.setdefault(k, v)
        for line in lines[i:]:
            line = line.rstrip("\r")
            if not line:
                continue
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers.append((k.strip(), v.strip()))
        if self.headers and self.headers[-1][0] == "Body-Bytes":
            self.body_bytes = int(self.headers[-1][1])
            self.headers.pop()

    @property
    def hostname(self):
        return self.meta.get("Hostname")



# --------------------------------------------------------------------------
# files

def write_file(path, content, atomic=True):
    """Write a dynamic configuration file. atomic=True writes next to the
    test's folder (outside the watched directory) and renames into place, so
    the watcher never sees a half-written file."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    directory = os.path.dirname(path)
    if not atomic:
        with open(path, "wb") as f:
            f.write(content)
        return
    staging_dir = os.path.join(os.path.dirname(directory.rstrip("/")), ".staging")
    os.makedirs(staging_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=staging_dir, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.replace(tmp, path)


def route_yaml(routers, services):
    """Build a dynamic YAML document.
    routers: {name: {"rule": ..., "service": ..., "priority": n (opt)}}
    services: {name: [url, ...] or [(url, weight), ...] or dict(loadBalancer)}
    """
    out = ["http:", "  routers:"]
    if not routers:
        out[-1] = "  routers: {}"
    for name, r in routers.items():
        out.append("    %s:" % name)
        out.append("      rule: %s" % json.dumps(r["rule"]))
        out.append("      service: %s" % r["service"])
        if "priority" in r:
            out.append("      priority: %d" % r["priority"])
        if "entryPoints" in r:
            out.append("      entryPoints: [%s]" % ", ".join(r["entryPoints"]))
    out.append("  services:")
    if not services:
        out[-1] = "  services: {}"
    for name, s in services.items():
        out.append("    %s:" % name)
        out.append("      loadBalancer:")
        opts = {}
        servers = s
        if isinstance(s, dict):
            opts = dict(s)
            servers = opts.pop("servers")
        for k, v in opts.items():
            out.append("        %s: %s" % (k, json.dumps(v)))
        out.append("        servers:")
        for srv in servers:
            if isinstance(srv, tuple):
                out.append("          - url: %s" % json.dumps(srv[0]))
                out.append("            weight: %d" % srv[1])
            else:
                out.append("          - url: %s" % json.dumps(srv))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# processes under test

class WhoamiProcess(object):
    def __init__(self, workdir, name, port=None, host=LOOPBACK):
        self.name = name
        self.host = host
        self.port = port or free_port()
        self.url = "http://%s:%d" % (host, self.port)
        self.log = os.path.join(workdir, "whoami-%s.log" % name)
        self.proc = spawn(["whoami", "--address", "%s:%d" % (host, self.port), "--name", name],
                          cwd=workdir, stdout_path=self.log, stderr_path=self.log)

    def wait_ready(self, timeout=STARTUP_TIMEOUT):
        def ok():
            if self.proc.poll() is not None:
                raise AssertionError("whoami %s exited with %s: %s" % (self.name, self.proc.returncode,
                                                                       read_text(self.log)[-2000:]))
            r = try_request(self.port, "/health", timeout=2, addr=self.host)
            return r is not None and r.status == 200
        wait_until(ok, timeout, message="whoami %s on port %d" % (self.name, self.port))
        return self

    def stop(self):
        stop_process(self.proc)


class ProxyProcess(object):
    """The proxy with a `web` and a `traefik` (API/ping) entry point."""

    def __init__(self, workdir, dyn_dir=None, throttle="0s", extra_args=(), env=None, web_port=None,
                 api_port=None, web_address=None, log_level="DEBUG", use_defaults=True, name="proxy", cwd=None):
        self.workdir = workdir
        self.web_port = web_port or free_port()
        self.api_port = api_port or free_port()
        self.dyn_dir = dyn_dir
        self.stdout_path = os.path.join(workdir, "%s.stdout" % name)
        self.stderr_path = os.path.join(workdir, "%s.stderr" % name)
        args = []
        if use_defaults:
            args += [
                "--entryPoints.web.address=%s" % (web_address or "%s:%d" % (LOOPBACK, self.web_port)),
                "--entryPoints.traefik.address=%s:%d" % (LOOPBACK, self.api_port),
                "--api.insecure=true",
                "--ping=true",
                "--log.level=%s" % log_level,
            ]
            if dyn_dir is not None:
                args += ["--providers.file.directory=%s" % dyn_dir, "--providers.file.watch=true"]
            if throttle is not None:
                args += ["--providers.providersThrottleDuration=%s" % throttle]
        args += list(extra_args)
        self.args = args
        self.proc = spawn(args, cwd=cwd or workdir, stdout_path=self.stdout_path, stderr_path=self.stderr_path, env=env)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        return read_text(self.stderr_path)

    def check_alive(self):
        if self.proc.poll() is not None:
            raise AssertionError("proxy exited with %s; stderr:\n%s" % (self.proc.returncode, self.log()[-3000:]))

    def wait_ready(self, timeout=STARTUP_TIMEOUT):
        def ok():
            self.check_alive()
            r = try_request(self.api_port, "/ping", timeout=2)
            return r is not None and r.status == 200 and port_open(self.web_port)
        wait_until(ok, timeout, message="proxy /ping on port %d" % self.api_port)
        return self

    def rawdata(self):
        r = request(self.api_port, "/api/rawdata", timeout=5)
        if r.status != 200:
            raise AssertionError("GET /api/rawdata -> %s %r" % (r.status, r.body[:300]))
        return json.loads(r.text)

    def version(self):
        return self.rawdata().get("version")

    def wait_rawdata(self, predicate, timeout=10.0, message="rawdata condition"):
        """Poll /api/rawdata until predicate(data) is truthy; returns data."""
        box = {}

        def ok():
            self.check_alive()
            d = self.rawdata()
            box["last"] = d
            return d if predicate(d) else None
        try:
            return wait_until(ok, timeout, interval=0.05, message=message)
        except AssertionError as e:
            last = box.get("last")
            raise AssertionError("%s\nlast rawdata: %s" % (e, json.dumps(last, indent=1)[:4000] if last else None))

    def wait_routers(self, names, timeout=10.0):
        return self.wait_rawdata(lambda d: all(n in d.get("routers", {}) for n in names), timeout,
                                 message="routers %s" % (names,))

    def get(self, path="/", host=None, **kw):
        return request(self.web_port, path, host=host, **kw)

    def wait_status(self, host, status, path="/", timeout=10.0, body_contains=None):
        def ok():
            self.check_alive()
            r = try_request(self.web_port, path, host=host, timeout=3)
            if r is None or r.status != status:
                return None
            if body_contains is not None and body_contains not in r.text:
                return None
            return r
        return wait_until(ok, timeout, interval=0.02,
                          message="%s%s -> %s %s" % (host, path, status, body_contains or ""))

    def stop(self, sig=signal.SIGKILL):
        stop_process(self.proc, sig)


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def rss_kb(pid):
    """VmRSS of pid in kB, or None if gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RSSSampler(threading.Thread):
    """Samples VmRSS every `interval` seconds until stopped (bounded by max_seconds)."""

    def __init__(self, pid, interval=0.1, max_seconds=300.0):
        threading.Thread.__init__(self, daemon=True)
        self.pid = pid
        self.interval = interval
        self.max_seconds = max_seconds
        self.samples = []
        self._stop_event = threading.Event()

    def run(self):
        deadline = time.monotonic() + self.max_seconds
        while not self._stop_event.is_set() and time.monotonic() < deadline:
            v = rss_kb(self.pid)
            if v is not None:
                self.samples.append(v)
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(timeout=5)
        return max(self.samples) if self.samples else None


# --------------------------------------------------------------------------
# tiny in-process origins

def listening_socket():
    """A TCP socket listening on a free loopback port, whose accept() times out every 0.2 s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    sock.listen(64)
    sock.settimeout(0.2)
    return sock


class SilentOrigin(object):
    """Accepts connections and reads requests. With delay=None it never
    answers; otherwise it answers 200 after `delay` seconds. `received` is set
    when a request has arrived."""

    def __init__(self, delay=None, body=b"slow-ok"):
        self.delay = delay
        self.body = body
        self.sock = listening_socket()
        self.port = self.sock.getsockname()[1]
        self.url = "http://%s:%d" % (LOOPBACK, self.port)
        self.received = threading.Event()
        # set when a connection is closed by the peer (the proxy) while the origin still holds it
        self.peer_closed = threading.Event()
        self.peer_closes = 0
        self.requests = 0
        self._stop = threading.Event()
        self._conns = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self):
        deadline = time.monotonic() + 600
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            with self._lock:
                self._conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(0.2)
        buf = b""
        deadline = time.monotonic() + 120
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    chunk = c.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    with self._lock:
                        self.peer_closes += 1
                    self.peer_closed.set()
                    return
                buf += chunk
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    self.requests += 1
                    self.received.set()
                    if self.delay is None:
                        continue  # never answer
                    if self._stop.wait(self.delay):
                        return
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                              % (len(self.body), self.body))
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def connections(self):
        """How many connections were accepted, and how many of them the peer still holds open."""
        with self._lock:
            return len(self._conns), len(self._conns) - self.peer_closes

    def close(self):
        self._stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.close()
            except OSError:
                pass
        self._thread.join(timeout=2)



class ScriptedOrigin(object):
    """An origin on a raw socket: for each connection (one at a time) it reads a request head, then calls
    `respond(conn, head, rest)` (`rest`: what came after the head) to write whatever the test needs, byte for
    byte."""

    def __init__(self, respond):
        self.respond = respond
        self.sock = listening_socket()
        self.port = self.sock.getsockname()[1]
        self.url = "http://%s:%d" % (LOOPBACK, self.port)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(10)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if b"\r\n\r\n" in data:
                        head, rest = data.split(b"\r\n\r\n", 1)
                        self.respond(c, head, rest)
                except OSError:
                    pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self._thread.join(timeout=2)

    @staticmethod
    def read_body(c, head, rest):
        """The request's body of Content-Length bytes: `rest` and what follows on the connection."""
        length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), b"0"))
        body = rest
        while len(body) < length:
            chunk = c.recv(65536)
            if not chunk:
                break
            body += chunk
        return body


class DroppingOrigin(SilentOrigin):
    """Reads a request head and closes without answering: a network error after the request went out (a refused
    connection is not one: nothing was sent, and the proxy moves to another server)."""

    def _serve(self, c):
        c.settimeout(2)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf and len(buf) < 65536:
                chunk = c.recv(65536)
                if not chunk:
                    break
                buf += chunk
            self.requests += 1
        except OSError:
            pass
        finally:
            c.close()

# --------------------------------------------------------------------------
# base test case

class E2ETestCase(unittest.TestCase):
    """Gives each test a temp folder, a `dyn` directory, and helpers that
    register every process/origin for cleanup (run even when setUp fails)."""

    keep_temp = bool(os.environ.get("E2E_KEEP_TMP"))

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="switchyard-e2e-")
        self.dyn = os.path.join(self.tmp, "dyn")
        os.makedirs(self.dyn)
        self._proxies = []
        self.addCleanup(self._cleanup_tmp)

    def _cleanup_tmp(self):
        failed = self._outcome_failed()
        if failed or self.keep_temp:
            # keep the folder (logs) for a failed test
            print("\n    [kept %s]" % self.tmp, end="")
            return
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _outcome_failed(self):
        outcome = getattr(self, "_outcome", None)
        if outcome is None:
            return False
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        for test, _ in list(getattr(result, "failures", [])) + list(getattr(result, "errors", [])):
            if test is self:
                return True
        # errors in this test are recorded after cleanups in some versions;
        # fall back to the outcome's own flag
        return not getattr(outcome, "success", True)

    def start_whoami(self, name, wait=True, host=LOOPBACK, port=None):
        w = WhoamiProcess(self.tmp, name, port=port, host=host)
        self.addCleanup(w.stop)
        if wait:
            w.wait_ready()
        return w

    def start_proxy(self, wait=True, **kw):
        kw.setdefault("dyn_dir", self.dyn)
        p = ProxyProcess(self.tmp, **kw)
        self.addCleanup(self._dump_log_on_failure, p)
        self.addCleanup(p.stop)
        self._proxies.append(p)
        if wait:
            p.wait_ready()
        return p

    def _dump_log_on_failure(self, p):
        if self._outcome_failed() and os.environ.get("E2E_SHOW_LOGS"):
            print("\n---- proxy stderr (%s) ----\n%s" % (p.stderr_path, p.log()[-4000:]))

    def start_silent_origin(self, delay=None):
        o = SilentOrigin(delay=delay)
        self.addCleanup(o.close)
        return o

    def dyn_file(self, name):
        return os.path.join(self.dyn, name)

    def write(self, name, content, atomic=True):
        path = self.dyn_file(name)
        write_file(path, content, atomic=atomic)
        return path

    def assertWhoami(self, response, hostname, msg=None):
        self.assertIsNotNone(response, msg)
        self.assertEqual(response.status, 200, "%s: %r" % (msg or "", response))
        w = Whoami(response.text)
        self.assertEqual(w.hostname, hostname, "%s: body %r" % (msg or "", response.text[:300]))
        return w
