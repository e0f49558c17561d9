"""A real Docker Engine for the end-to-end tests: its own dockerd on a private socket and data root (no iptables, no
bridge, live-restore so containers outlive a daemon restart), and a busybox image imported from the host's
busybox-static, so no registry is needed. Containers run with --network host and listen on 127.0.0.1 ports."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import harness

IMAGE = "switchyard-test/busybox:latest"


class DockerEngine(object):
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="switchyard-dockerd-")
        self.socket = os.path.join(self.root, "docker.sock")
        self.endpoint = "unix://" + self.socket
        self.proc = None
        self.log_path = os.path.join(self.root, "dockerd.log")
        self.tls_dir = os.path.join(self.root, "tls")
        self.tcp_port = None

    def make_certificates(self):
        """A CA, a server certificate for 127.0.0.1 and a client certificate: dockerd's TCP endpoint verifies
        clients with them (--tlsverify), as a remote Engine or a socket proxy would."""
        os.makedirs(self.tls_dir, exist_ok=True)
        d = self.tls_dir

        def openssl(*args):
            subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True, timeout=60)
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem",
                "-days", "2", "-subj", "/CN=switchyard test CA")
        for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                          ("client", "extendedKeyUsage=clientAuth")):
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s-key.pem" % name, "-out", "%s.csr" % name,
                    "-subj", "/CN=%s" % name)
            with open(os.path.join(d, "%s.ext" % name), "w") as f:
                f.write(ext + "\n")
            openssl("x509", "-req", "-in", "%s.csr" % name, "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                    "-CAcreateserial", "-out", "%s.pem" % name, "-days", "2", "-extfile", "%s.ext" % name)

    # -- daemon

    def start(self, timeout=60.0):
        for tool in ("dockerd", "docker"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is not installed (scripts/test installs docker.io)" % tool)
        if self.tcp_port is None:
            self.make_certificates()
            self.tcp_port = harness.free_port()
        t = self.tls_dir
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["dockerd", "--host", self.endpoint, "--data-root", os.path.join(self.root, "data"),
             "--exec-root", os.path.join(self.root, "exec"), "--pidfile", os.path.join(self.root, "pid"),
             "--iptables=false", "--bridge=none", "--live-restore",
             "--host", "tcp://127.0.0.1:%d" % self.tcp_port, "--tlsverify",
             "--tlscacert", os.path.join(t, "ca.pem"), "--tlscert", os.path.join(t, "server.pem"),
             "--tlskey", os.path.join(t, "server-key.pem")],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("dockerd exited with %s:\n%s" % (self.proc.returncode, self.log_tail()))
            if self.docker("info", check=False, timeout=10).returncode == 0:
                return self
            time.sleep(0.2)
        raise AssertionError("dockerd did not answer within %ss:\n%s" % (timeout, self.log_tail()))

    def stop(self, timeout=30.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def destroy(self):
        try:
            ids = self.docker("ps", "-aq", check=False, timeout=20).stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False, timeout=60)
        except Exception:
            pass
        self.stop()
        subprocess.run(["umount", "-R", os.path.join(self.root, "exec")], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self):
        return harness.read_text(self.log_path)[-3000:]

    # -- CLI

    def docker(self, *args, check=True, timeout=60, input=None):
        env = dict(os.environ, DOCKER_HOST=self.endpoint)
        result = subprocess.run(["docker"] + list(args), env=env, capture_output=True, text=True, timeout=timeout,
                                input=input)
        if check and result.returncode != 0:
            raise AssertionError("docker %s failed (%s): %s" % (" ".join(args), result.returncode, result.stderr))
        return result

    def import_busybox(self):
        """A busybox root filesystem imported as an image: sh, sleep and httpd."""
        busybox = shutil.which("busybox") or "/bin/busybox"
        rootfs = tempfile.mkdtemp(prefix="rootfs-", dir=self.root)
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy(busybox, os.path.join(rootfs, "bin", "busybox"))
        for tool in ("sh", "sleep", "httpd", "echo", "cat", "test"):
            os.symlink("busybox", os.path.join(rootfs, "bin", tool))
        tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], capture_output=True, check=True)
        env = dict(os.environ, DOCKER_HOST=self.endpoint)
        subprocess.run(["docker", "import", "-", IMAGE], input=tar.stdout, env=env, capture_output=True, check=True,
                       timeout=120)

    def remove_all(self):
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        ids = self.docker("ps", "-aq", timeout=20).stdout.split()
        if ids:
            self.docker("rm", "-f", *ids, timeout=60)

    def run_web(self, name, port, labels, www_root, extra=()):
        """A container serving `<name>` at http://127.0.0.1:<port>/ (busybox httpd on the host network)."""
        www = os.path.join(www_root, name)
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write(name + "\n")
        args = ["run", "-d", "--name", name, "--network", "host", "-v", "%s:/www:ro" % www]
        for key, value in labels.items():
            args += ["--label", "%s=%s" % (key, value)]
        args += list(extra) + [IMAGE, "/bin/httpd", "-f", "-p", "127.0.0.1:%d" % port, "-h", "/www"]
        return self.docker(*args).stdout.strip()

    def run_sleeper(self, name, labels):
        args = ["run", "-d", "--name", name, "--network", "host"]
        for key, value in labels.items():
            args += ["--label", "%s=%s" % (key, value)]
        args += [IMAGE, "/bin/sleep", "600"]
        return self.docker(*args).stdout.strip()
