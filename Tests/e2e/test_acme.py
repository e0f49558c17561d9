"""ACME against a real Pebble (the tests start it with pebble-challtestsrv answering every name with 127.0.0.1):
HTTP-01 and TLS-ALPN-01 issuance for hosts named in router rules, certificates that chain to Pebble's root and
survive a restart (SQLite), and a failing challenge reported with a back-off while the default certificate serves."""

import atexit
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.request

import harness
from harness import E2ETestCase, Whoami, wait_until
from test_tls import https_get, openssl, peer_subject

HTTP_CHALLENGE_PORT = 5002  # where Pebble's VA checks HTTP-01
TLS_CHALLENGE_PORT = 5001   # and TLS-ALPN-01

_pebble = None


class Pebble(object):
    def __init__(self, validity=None):
        self.dir = tempfile.mkdtemp(prefix="switchyard-pebble-")
        self.port = harness.free_port()
        self.management = harness.free_port()
        self.dns = harness.free_port()
        self.dns_management = harness.free_port()
        self.cert = os.path.join(self.dir, "cert.pem")
        openssl(self.dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
        with open(os.path.join(self.dir, "pebble.json"), "w") as f:
            json.dump({"pebble": {
                "listenAddress": "127.0.0.1:%d" % self.port, "managementListenAddress": "127.0.0.1:%d" % self.management,
                "certificate": self.cert, "privateKey": os.path.join(self.dir, "key.pem"),
                "httpPort": HTTP_CHALLENGE_PORT, "tlsPort": TLS_CHALLENGE_PORT, "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
                "certificateValidityPeriod": validity or 5 * 365 * 86400}}, f)
        self.procs = []
        for tool in ("pebble", "pebble-challtestsrv"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is not installed (scripts/test installs pebble)" % tool)
        log = open(os.path.join(self.dir, "challtestsrv.log"), "w")
        self.procs.append(subprocess.Popen(
            ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", "127.0.0.1:%d" % self.dns,
             "-http01", "", "-https01", "", "-tlsalpn01", "",
             "-management", "127.0.0.1:%d" % self.dns_management], stdout=log, stderr=log, start_new_session=True))
        log = open(os.path.join(self.dir, "pebble.log"), "w")
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1")
        self.procs.append(subprocess.Popen(
            ["pebble", "-config", os.path.join(self.dir, "pebble.json"), "-dnsserver", "127.0.0.1:%d" % self.dns],
            stdout=log, stderr=log, env=env, start_new_session=True))
        self.directory = "https://127.0.0.1:%d/dir" % self.port
        context = ssl.create_default_context(cafile=self.cert)
        wait_until(lambda: self._answers(context), 30, message="pebble's directory")
        root = urllib.request.urlopen("https://127.0.0.1:%d/roots/0" % self.management, context=context, timeout=5).read()
        self.root = os.path.join(self.dir, "pebble-root.pem")
        with open(self.root, "wb") as f:
            f.write(root)

    def _answers(self, context):
        for proc in self.procs:
            if proc.poll() is not None:
                raise AssertionError("pebble exited:\n" + harness.read_text(os.path.join(self.dir, "pebble.log"))[-2000:])
        try:
            return urllib.request.urlopen(self.directory, context=context, timeout=2).status == 200
        except OSError:
            return False

    def destroy(self):
        for proc in self.procs:
            harness.stop_process(proc, signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)


def pebble():
    global _pebble
    if _pebble is None:
        started = Pebble()
        atexit.register(started.destroy)
        _pebble = started
    return _pebble


_short_lived = None


def short_lived_pebble():
    """A second Pebble whose certificates live 15 s, to see renewals."""
    global _short_lived
    if _short_lived is None:
        started = Pebble(validity=15)
        atexit.register(started.destroy)
        _short_lived = started
    return _short_lived


class ACMETests(E2ETestCase):

    def setUp(self):
        super(ACMETests, self).setUp()
        self.pebble = pebble()
        self.backend = self.start_whoami("acme-backend")
        self.db = os.path.join(self.tmp, "switchyard.db")

    def start_acme_proxy(self, resolver_args, secure_port, name="proxy", extra=(), web_port=None):
        return self.start_proxy(throttle="0s", name=name, web_port=web_port, extra_args=[
            "--entryPoints.websecure.address=127.0.0.1:%d" % secure_port,
            "--history.path=%s" % self.db,
        ] + resolver_args + list(extra))

    def resolver(self, name, *challenge, ca=None):
        ca = ca or self.pebble
        return ["--certificatesResolvers.%s.acme.caServer=%s" % (name, ca.directory),
                "--certificatesResolvers.%s.acme.caCertificates=%s" % (name, ca.cert),
                "--certificatesResolvers.%s.acme.email=ops@switchyard.test" % name] + list(challenge)

    def route(self, host, resolver):
        self.write("acme-%s.yml" % resolver, """
http:
  routers:
    app-%(r)s: {rule: "Host(`%(h)s`)", service: backend, entryPoints: [websecure], tls: {certResolver: %(r)s}}
  services:
    backend: {loadBalancer: {servers: [{url: "%(u)s"}]}}
""" % {"r": resolver, "h": host, "u": self.backend.url})

    def wait_for_pebble_certificate(self, port, host, timeout=60):
        return wait_until(lambda: "Pebble Intermediate CA" in (self.issuer(port, host) or "") or None, timeout,
                          interval=0.5, message="a Pebble certificate for %s" % host)

    def issuer(self, port, host):
        hello = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", host],
                               input=b"", capture_output=True, timeout=30)
        parsed = subprocess.run(["openssl", "x509", "-noout", "-issuer", "-serial"], input=hello.stdout,
                                capture_output=True, timeout=30)
        return parsed.stdout.decode()

    def test_32a_http01_certificate_chains_to_pebble_and_survives_a_restart(self):
        secure = harness.free_port()
        self.route("acme-http.test", "le")
        args = self.resolver("le", "--certificatesResolvers.le.acme.httpChallenge.entryPoint=web")
        proxy = self.start_acme_proxy(args, secure, web_port=HTTP_CHALLENGE_PORT)
        first = self.wait_for_pebble_certificate(secure, "acme-http.test")
        # the chain the proxy serves verifies against Pebble's root
        status, body, _ = https_get(secure, "acme-http.test", self.pebble.root)
        self.assertEqual(status, 200)
        self.assertEqual(Whoami(body).hostname, "acme-backend")
        self.assertIn("certificate obtained", proxy.log())
        inventory = json.loads(harness.request(proxy.api_port, "/api/tls/certificates").text)
        served = [c for c in inventory["certificates"] if "acme-http.test" in c["names"]]
        self.assertEqual(len(served), 1, inventory)
        self.assertEqual(served[0]["source"], "inline, provider acme")
        self.assertIn("Pebble Intermediate CA", served[0]["issuer"])
        self.assertTrue(inventory["certificates"][0]["isDefault"])
        proxy.stop(signal.SIGTERM)
        # a restart serves the stored certificate at once, without a new order
        again = self.start_acme_proxy(args, secure, name="restarted", web_port=HTTP_CHALLENGE_PORT)
        again.wait_routers(["app-le@file"])
        self.assertEqual(self.wait_for_pebble_certificate(secure, "acme-http.test", timeout=10), first)
        time.sleep(1)
        self.assertNotIn("obtaining a certificate", again.log())

    def test_32b_tlsalpn01_certificate_with_an_rsa_key(self):
        self.route("acme-tls.test", "alpn")
        args = self.resolver("alpn", "--certificatesResolvers.alpn.acme.tlsChallenge=true",
                             "--certificatesResolvers.alpn.acme.keyType=RSA2048")
        proxy = self.start_acme_proxy(args, TLS_CHALLENGE_PORT)
        self.wait_for_pebble_certificate(TLS_CHALLENGE_PORT, "acme-tls.test")
        status, _, _ = https_get(TLS_CHALLENGE_PORT, "acme-tls.test", self.pebble.root)
        self.assertEqual(status, 200)
        self.assertIn("certificate obtained", proxy.log())
        # keyType RSA2048: the certificate's key is a 2048-bit RSA key
        hello = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % TLS_CHALLENGE_PORT,
                                "-servername", "acme-tls.test"], input=b"", capture_output=True, timeout=30)
        text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=hello.stdout, capture_output=True,
                              timeout=30).stdout.decode()
        self.assertIn("rsaEncryption", text)
        self.assertIn("(2048 bit)", text)

    def test_32c_unreachable_challenge_is_an_error_with_backoff(self):
        secure = harness.free_port()
        self.route("acme-fail.test", "le")
        # the HTTP challenge entry point is not where Pebble looks (port 5002): the challenge fails
        args = self.resolver("le", "--certificatesResolvers.le.acme.httpChallenge.entryPoint=web")
        proxy = self.start_acme_proxy(args, secure)
        data = proxy.wait_rawdata(
            lambda d: any("cannot obtain a certificate for acme-fail.test" in e.get("message", "")
                          for e in d.get("errors", [])), timeout=60, message="the ACME failure reported")
        message = next(e["message"] for e in data["errors"] if "acme-fail.test" in e.get("message", ""))
        self.assertIn("next try in 60s", message)
        self.assertIn("SWITCHYARD DEFAULT CERT", peer_subject(secure, "acme-fail.test"))
        time.sleep(3)
        self.assertEqual(proxy.log().count("obtaining a certificate"), 1, "no retry before the back-off ends")

    def test_32d_traefik_acme_json_is_imported(self):
        import base64
        from test_tls import CertificateAuthority
        ca = CertificateAuthority(os.path.join(self.tmp, "pki"), name="old-traefik")
        cert, key = ca.issue("imported", "imported.test", ["imported.test"])
        storage = os.path.join(self.tmp, "acme.json")
        with open(storage, "w") as f:
            json.dump({"le": {"Account": {"Email": "ops@switchyard.test"}, "Certificates": [{
                "domain": {"main": "imported.test"},
                "certificate": base64.b64encode(open(cert, "rb").read()).decode(),
                "key": base64.b64encode(open(key, "rb").read()).decode(), "Store": "default"}]}}, f)
        secure = harness.free_port()
        self.route("imported.test", "le")
        args = self.resolver("le", "--certificatesResolvers.le.acme.httpChallenge.entryPoint=web",
                             "--certificatesResolvers.le.acme.storage=%s" % storage)
        proxy = self.start_acme_proxy(args, secure)
        wait_until(lambda: "CN = imported.test" in (peer_subject(secure, "imported.test") or ""), 10,
                   message="the imported certificate served")
        self.assertIn("imported certificates from Traefik's storage", proxy.log())
        self.assertNotIn("obtaining a certificate", proxy.log())

    def test_32e_renewal_when_a_third_of_the_lifetime_is_left(self):
        short = short_lived_pebble()
        secure = harness.free_port()
        self.route("acme-renew.test", "short")
        args = self.resolver("short", "--certificatesResolvers.short.acme.httpChallenge.entryPoint=web", ca=short)
        proxy = self.start_acme_proxy(args, secure, web_port=HTTP_CHALLENGE_PORT)
        first = self.wait_for_pebble_certificate(secure, "acme-renew.test")
        # 15 s of life: renewed 10 s after issuance, served to the next handshake
        wait_until(lambda: "renewing a certificate" in proxy.log(), 20, interval=0.5, message="the renewal")
        wait_until(lambda: proxy.log().count("certificate obtained") >= 2, 20, interval=0.5, message="the renewed certificate")
        wait_until(lambda: (lambda now: "Pebble Intermediate CA" in now and now != first)(
            self.issuer(secure, "acme-renew.test")), 10, interval=0.5, message="the renewed certificate served")
