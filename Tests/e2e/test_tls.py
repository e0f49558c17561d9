"""TLS termination: certificates chosen by SNI, TLS options, client certificates, certificates replaced live."""

import http.client
import os
import socket
import ssl
import subprocess
import time

import harness
from harness import E2ETestCase, Whoami, wait_until


def openssl(cwd, *args, input=None):
    return subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, check=True, timeout=60,
                          input=input)


class CertificateAuthority(object):
    """A throwaway CA that signs server and client certificates with openssl."""

    def __init__(self, directory, name="ca"):
        self.dir = directory
        self.name = name
        os.makedirs(directory, exist_ok=True)
        openssl(directory, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s-key.pem" % name,
                "-out", "%s.pem" % name, "-days", "2", "-subj", "/CN=%s test CA" % name)
        self.cert = os.path.join(directory, "%s.pem" % name)
        self.key = os.path.join(directory, "%s-key.pem" % name)

    def issue(self, name, cn, sans=(), client=False):
        """Writes <name>.pem and <name>-key.pem; returns their paths."""
        d = self.dir
        openssl(d, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s-key.pem" % name, "-out", "%s.csr" % name,
                "-subj", "/CN=%s" % cn)
        with open(os.path.join(d, "%s.ext" % name), "w") as f:
            if sans:
                f.write("subjectAltName=%s\n" % ",".join("DNS:%s" % s for s in sans))
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
        openssl(d, "x509", "-req", "-in", "%s.csr" % name, "-CA", self.cert, "-CAkey", self.key, "-CAcreateserial",
                "-out", "%s.pem" % name, "-days", "2", "-extfile", "%s.ext" % name)
        return os.path.join(d, "%s.pem" % name), os.path.join(d, "%s-key.pem" % name)


def peer_subject(port, server_name=None, extra=()):
    """The subject of the certificate the proxy presents (openssl s_client), or None when the handshake fails."""
    args = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(extra)
    if server_name:
        args += ["-servername", server_name]
    else:
        args += ["-noservername"]
    hello = subprocess.run(args, input=b"", capture_output=True, timeout=30)
    if b"BEGIN CERTIFICATE" not in hello.stdout:
        return None
    parsed = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=hello.stdout, capture_output=True,
                            timeout=30)
    return parsed.stdout.decode().strip()


def https_get(port, host, cafile, path="/", client_cert=None, timeout=10):
    context = ssl.create_default_context(cafile=cafile)
    if client_cert:
        context.load_cert_chain(*client_cert)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=timeout)
    # the certificate is for the host, not for 127.0.0.1: connect by address, verify by name
    connection.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=timeout),
                                          server_hostname=host)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    return response.status, response.read().decode(), connection


class TLSTests(E2ETestCase):

    def setUp(self):
        super(TLSTests, self).setUp()
        # inside the watched folder: replacing a certificate there is a change the file provider sees
        self.pki = os.path.join(self.dyn, "pki")
        self.ca = CertificateAuthority(self.pki)
        self.app_cert = self.ca.issue("app", "app.tls.test", ["app.tls.test"])
        self.wild_cert = self.ca.issue("wild", "*.wild.test", ["*.wild.test"])
        self.backend = self.start_whoami("tls-backend")

    def write_config(self, extra_tls="", routers=None):
        routers = routers or {
            "app": "Host(`app.tls.test`)",
            "wild": "HostRegexp(`^[a-z]+\\\\.wild\\\\.test$`)",
        }
        lines = ["http:", "  routers:"]
        for name, rule in routers.items():
            lines.append('    %s: {rule: "%s", service: backend, tls: {}}' % (name, rule))
        lines.append('    plain: {rule: "Host(`app.tls.test`)", service: backend}')
        lines += ["  services:", '    backend: {loadBalancer: {servers: [{url: "%s"}]}}' % self.backend.url]
        lines += ["tls:", "  certificates:",
                  "    - {certFile: %s, keyFile: %s}" % self.app_cert,
                  "    - {certFile: %s, keyFile: %s}" % self.wild_cert]
        self.write("tls.yml", "\n".join(lines) + "\n" + extra_tls)

    def test_30a_sni_picks_exact_wildcard_and_default_certificates(self):
        self.write_config()
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file", "wild@file"])
        port = proxy.web_port
        self.assertIn("CN = app.tls.test", peer_subject(port, "app.tls.test"))
        self.assertIn("CN = *.wild.test", peer_subject(port, "shop.wild.test"))
        self.assertIn("SWITCHYARD DEFAULT CERT", peer_subject(port, "other.test"))
        self.assertIn("SWITCHYARD DEFAULT CERT", peer_subject(port, None))
        # HTTPS through the TLS router, verified against the CA; the backend sees https.
        status, body, _ = https_get(port, "app.tls.test", self.ca.cert)
        self.assertEqual(status, 200)
        self.assertEqual(Whoami(body).header("X-Forwarded-Proto"), "https")
        status, body, _ = https_get(port, "shop.wild.test", self.ca.cert)
        self.assertEqual(status, 200)
        # The same entry point still serves plain HTTP, with the plain router only.
        r = proxy.get("/", host="app.tls.test")
        self.assertEqual(r.status, 200)
        self.assertEqual(Whoami(r.text).header("X-Forwarded-Proto"), "http")

    def test_30b_tls_options_min_version_and_sni_strict(self):
        self.write_config(extra_tls="""  options:
    modern: {minVersion: VersionTLS13}
    default: {minVersion: VersionTLS12, sniStrict: true}
""", routers={"app": "Host(`app.tls.test`)"})
        self.write("opt.yml", """
http:
  routers:
    modern: {rule: "Host(`modern.wild.test`)", service: backend2, tls: {options: modern}}
  services:
    backend2: {loadBalancer: {servers: [{url: "%s"}]}}
""" % self.backend.url)
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["modern@file", "app@file"])
        port = proxy.web_port
        self.assertIsNotNone(peer_subject(port, "modern.wild.test", ["-tls1_3"]))
        self.assertIsNone(peer_subject(port, "modern.wild.test", ["-tls1_2"]), "TLS 1.2 refused by minVersion 1.3")
        self.assertIsNotNone(peer_subject(port, "app.tls.test", ["-tls1_2"]), "the default option takes TLS 1.2")
        self.assertIsNone(peer_subject(port, "app.tls.test", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]),
                          "TLS 1.1 refused by minVersion 1.2")
        # sniStrict on the default option: no name, or a name no certificate is for, is refused
        self.assertIsNone(peer_subject(port, None))
        self.assertIsNone(peer_subject(port, "unknown.test"))

    def test_30c_client_certificate_required_and_verified(self):
        client_ca = CertificateAuthority(os.path.join(self.pki, "clients"), name="clients")
        client = client_ca.issue("alice", "alice", client=True)
        stranger_ca = CertificateAuthority(os.path.join(self.pki, "strangers"), name="strangers")
        stranger = stranger_ca.issue("mallory", "mallory", client=True)
        self.write_config(extra_tls="""  options:
    default:
      clientAuth: {caFiles: [%s], clientAuthType: RequireAndVerifyClientCert}
""" % client_ca.cert, routers={"app": "Host(`app.tls.test`)"})
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file"])
        status, _, _ = https_get(proxy.web_port, "app.tls.test", self.ca.cert, client_cert=client)
        self.assertEqual(status, 200)
        for certificate in (None, stranger):
            with self.assertRaises((ssl.SSLError, ConnectionError, OSError)):
                https_get(proxy.web_port, "app.tls.test", self.ca.cert, client_cert=certificate)

    def test_30i_pass_tls_client_cert(self):
        import base64
        import urllib.parse
        clients = CertificateAuthority(os.path.join(self.pki, "clients"), name="clients")
        alice = clients.issue("alice", "alice", client=True)
        self.write("pass.yml", """
http:
  routers:
    pass: {rule: "Host(`pass.tls.test`)", service: backend, tls: {}, middlewares: [client-cert]}
  middlewares:
    client-cert:
      passTLSClientCert:
        pem: true
        info: {notAfter: true, subject: {commonName: true}, issuer: {commonName: true}}
""")
        pass_cert = self.ca.issue("pass", "pass.tls.test", ["pass.tls.test"])
        self.write_config(extra_tls="""    - {certFile: %s, keyFile: %s}
  options:
    default:
      clientAuth: {caFiles: [%s], clientAuthType: VerifyClientCertIfGiven}
""" % (pass_cert[0], pass_cert[1], clients.cert), routers={"app": "Host(`app.tls.test`)"})
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["pass@file"])
        status, body, _ = https_get(proxy.web_port, "pass.tls.test", self.ca.cert, client_cert=alice)
        self.assertEqual(status, 200)
        seen = Whoami(body)
        der = subprocess.run(["openssl", "x509", "-in", alice[0], "-outform", "DER"], capture_output=True,
                             check=True).stdout
        self.assertEqual(urllib.parse.unquote_plus(seen.header("X-Forwarded-Tls-Client-Cert")),
                         base64.b64encode(der).decode())
        info = urllib.parse.unquote_plus(seen.header("X-Forwarded-Tls-Client-Cert-Info"))
        self.assertTrue(info.startswith('Subject="CN=alice";Issuer="CN=clients test CA";NA="'), info)
        # no certificate: nothing passed, and what a client claims is removed
        status, body, _ = https_get(proxy.web_port, "pass.tls.test", self.ca.cert)
        self.assertEqual(status, 200)
        self.assertIsNone(Whoami(body).header("X-Forwarded-Tls-Client-Cert"))

    def test_30d_replaced_certificate_serves_the_next_handshake(self):
        self.write_config(routers={"app": "Host(`app.tls.test`)"})
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["app@file"])
        status, _, connection = https_get(proxy.web_port, "app.tls.test", self.ca.cert)
        self.assertEqual(status, 200)
        before = peer_subject(proxy.web_port, "app.tls.test")
        self.assertIn("CN = app.tls.test", before)
        # A new certificate for the same name, written over the files in the watched folder's tree.
        renewed_dir = os.path.join(self.tmp, "renewed")
        renewed_ca = CertificateAuthority(renewed_dir, name="renewed")
        cert, key = renewed_ca.issue("app2", "app.tls.test", ["app.tls.test", "renewed.tls.test"])
        os.replace(cert, self.app_cert[0] + ".new")
        os.replace(key, self.app_cert[1] + ".new")
        os.replace(self.app_cert[1] + ".new", self.app_cert[1])
        os.replace(self.app_cert[0] + ".new", self.app_cert[0])
        # no configuration file changed: the referenced files' stamps are part of the file provider's view
        wait_until(lambda: "renewed test CA" in (self.issuer(proxy.web_port) or ""), 5,
                   message="the renewed certificate served")
        # the connection opened before keeps working on its old session
        connection.request("GET", "/again", headers={"Host": "app.tls.test"})
        self.assertEqual(connection.getresponse().status, 200)

    def issuer(self, port):
        args = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "app.tls.test"]
        hello = subprocess.run(args, input=b"", capture_output=True, timeout=30)
        parsed = subprocess.run(["openssl", "x509", "-noout", "-issuer"], input=hello.stdout, capture_output=True,
                                timeout=30)
        return parsed.stdout.decode()


class EntryPointOptionTests(E2ETestCase):

    def test_30e_redirect_to_websecure_with_entry_point_tls_and_middlewares(self):
        pki = os.path.join(self.dyn, "pki")
        ca = CertificateAuthority(pki)
        cert, key = ca.issue("app", "app.tls.test", ["app.tls.test"])
        backend = self.start_whoami("ep-backend")
        self.write("ep.yml", """
http:
  routers:
    app: {rule: "Host(`app.tls.test`)", service: backend}
  middlewares:
    stamp: {headers: {customResponseHeaders: {X-Entry-Point: websecure}}}
  services:
    backend: {loadBalancer: {servers: [{url: "%s"}]}}
tls:
  certificates:
    - {certFile: %s, keyFile: %s}
""" % (backend.url, cert, key))
        secure_port = harness.free_port()
        proxy = self.start_proxy(throttle="0s", extra_args=[
            "--entryPoints.websecure.address=127.0.0.1:%d" % secure_port,
            "--entryPoints.web.http.redirections.entryPoint.to=websecure",
            "--entryPoints.websecure.http.tls=true",
            "--entryPoints.websecure.http.middlewares=stamp@file"])
        proxy.wait_routers(["app@file", "web-to-websecure@internal"])
        r = proxy.get("/path?q=1", host="app.tls.test")
        self.assertEqual(r.status, 301)
        self.assertEqual(r.header("Location"), "https://app.tls.test:%d/path?q=1" % secure_port)
        status, body, connection = https_get(secure_port, "app.tls.test", ca.cert)
        self.assertEqual(status, 200)
        self.assertEqual(Whoami(body).header("X-Forwarded-Proto"), "https")
        connection.request("GET", "/", headers={"Host": "app.tls.test"})
        response = connection.getresponse()
        response.read()
        self.assertEqual(response.getheader("X-Entry-Point"), "websecure")
        # plain HTTP on websecure finds no router: its routers are TLS routers there
        self.assertEqual(harness.request(secure_port, "/", host="app.tls.test").status, 404)
        data = proxy.rawdata()
        self.assertEqual(data["routers"]["web-to-websecure@internal"]["status"], "enabled")
        self.assertIn("app@file", data["middlewares"]["stamp@file"]["usedBy"])

    def test_30f_forwarded_headers_from_trusted_proxies_are_kept(self):
        backend = self.start_whoami("fw-backend")
        self.write("fw.yml", """
http:
  routers:
    app: {rule: "Host(`fw.test`)", service: backend}
  services:
    backend: {loadBalancer: {servers: [{url: "%s"}]}}
""" % backend.url)
        trusting = self.start_proxy(throttle="0s", extra_args=[
            "--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8,127.0.0.1/32"], name="trusting")
        trusting.wait_routers(["app@file"])
        sent = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Real-Ip": "203.0.113.7"}
        seen = Whoami(trusting.get("/", host="fw.test", headers=sent).text)
        self.assertEqual(seen.header("X-Forwarded-For"), "203.0.113.7, 127.0.0.1")
        self.assertEqual(seen.header("X-Forwarded-Proto"), "https")
        self.assertEqual(seen.header("X-Real-Ip"), "203.0.113.7")
        untrusting = self.start_proxy(throttle="0s", name="untrusting")
        untrusting.wait_routers(["app@file"])
        seen = Whoami(untrusting.get("/", host="fw.test", headers=sent).text)
        self.assertEqual(seen.header("X-Forwarded-For"), "127.0.0.1")
        self.assertEqual(seen.header("X-Forwarded-Proto"), "http")


class UpstreamTLSTests(E2ETestCase):
    """https:// servers: verified against serversTransport.rootCAs with serverName, insecureSkipVerify, and a
    client certificate for servers that require one (mTLS)."""

    def test_30g_https_servers_with_servers_transports(self):
        pki = os.path.join(self.tmp, "pki")
        ca = CertificateAuthority(pki)
        cert, key = ca.issue("origin", "origin.test", ["origin.test", "mtls.test"])
        clients = CertificateAuthority(os.path.join(pki, "clients"), name="clients")
        client_cert, client_key = clients.issue("proxy", "proxy", client=True)
        backend = self.start_whoami("tls-origin")
        # the HTTPS origin: another Switchyard, terminating TLS (client certificates required on mtls.test)
        origin_dyn = os.path.join(self.tmp, "origin-dyn")
        os.makedirs(origin_dyn)
        harness.write_file(os.path.join(origin_dyn, "o.yml"), """
http:
  routers:
    o: {rule: "PathPrefix(`/`)", priority: 1, service: b, tls: {}}
    m: {rule: "Host(`mtls.test`)", service: b, tls: {options: mtls}}
  services:
    b: {loadBalancer: {servers: [{url: "%s"}]}}
tls:
  certificates:
    - {certFile: %s, keyFile: %s}
  options:
    mtls: {clientAuth: {caFiles: [%s], clientAuthType: RequireAndVerifyClientCert}}
""" % (backend.url, cert, key, clients.cert))
        origin = self.start_proxy(dyn_dir=origin_dyn, throttle="0s", name="origin")
        origin.wait_routers(["o@file", "m@file"])
        url = "https://127.0.0.1:%d" % origin.web_port
        self.write("front.yml", """
http:
  routers:
    verified:   {rule: "Host(`verified.test`)", service: verified}
    untrusted:  {rule: "Host(`untrusted.test`)", service: untrusted}
    insecure:   {rule: "Host(`insecure.test`)", service: insecure}
    mtls:       {rule: "Host(`mtls.test`)", service: mtls}
    nocert:     {rule: "Host(`nocert.test`)", service: nocert}
  services:
    verified:  {loadBalancer: {servers: [{url: "%(url)s"}], serversTransport: trusted, passHostHeader: false}}
    untrusted: {loadBalancer: {servers: [{url: "%(url)s"}], passHostHeader: false}}
    insecure:  {loadBalancer: {servers: [{url: "%(url)s"}], serversTransport: skip, passHostHeader: false}}
    mtls:      {loadBalancer: {servers: [{url: "%(url)s"}], serversTransport: withcert}}
    nocert:    {loadBalancer: {servers: [{url: "%(url)s"}], serversTransport: mtlsnocert}}
  serversTransports:
    trusted:    {serverName: origin.test, rootCAs: [%(ca)s]}
    skip:       {insecureSkipVerify: true}
    withcert:   {serverName: mtls.test, rootCAs: [%(ca)s], certificates: [{certFile: %(cc)s, keyFile: %(ck)s}]}
    mtlsnocert: {serverName: mtls.test, rootCAs: [%(ca)s]}
""" % {"url": url, "ca": ca.cert, "cc": client_cert, "ck": client_key})
        proxy = self.start_proxy(throttle="0s")
        proxy.wait_routers(["verified@file", "mtls@file"])
        seen = Whoami(proxy.get("/", host="verified.test").text)
        self.assertEqual(seen.hostname, "tls-origin")
        self.assertEqual(seen.header("X-Forwarded-Proto"), "https", "the origin was reached over TLS")
        self.assertEqual(proxy.get("/", host="untrusted.test").status, 502, "an untrusted certificate fails")
        self.assertEqual(proxy.get("/", host="insecure.test").status, 200, "insecureSkipVerify connects")
        self.assertEqual(proxy.get("/", host="mtls.test").status, 200, "the client certificate is accepted")
        self.assertEqual(proxy.get("/", host="nocert.test").status, 502, "no client certificate: refused")

    def test_30h_proxy_protocol_from_trusted_balancers(self):
        import struct
        backend = self.start_whoami("pp-backend")
        self.write("pp.yml", """
http:
  routers:
    app: {rule: "Host(`pp.test`)", service: backend}
  services:
    backend: {loadBalancer: {servers: [{url: "%s"}]}}
""" % backend.url)
        trusting = self.start_proxy(throttle="0s", name="trusting", extra_args=[
            "--entryPoints.web.proxyProtocol.trustedIPs=127.0.0.1/32"])
        trusting.wait_routers(["app@file"])
        request = b"GET / HTTP/1.1\r\nHost: pp.test\r\nConnection: close\r\n\r\n"

        def raw(port, data):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(data)
                answer = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return answer.decode("latin-1")
                    answer += chunk
        v1 = raw(trusting.web_port, b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 80\r\n" + request)
        self.assertIn("X-Real-Ip: 203.0.113.9", v1)
        v2 = (bytes([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11])
              + struct.pack("!H", 12) + bytes([198, 51, 100, 7, 127, 0, 0, 1]) + struct.pack("!HH", 41000, 80))
        self.assertIn("X-Real-Ip: 198.51.100.7", raw(trusting.web_port, v2 + request))
        # without a header the connection's own address counts
        self.assertIn("X-Real-Ip: 127.0.0.1", raw(trusting.web_port, request))
        # an entry point that does not trust the sender does not read the header: it is a bad request
        untrusting = self.start_proxy(throttle="0s", name="untrusting", extra_args=[
            "--entryPoints.web.proxyProtocol.trustedIPs=10.0.0.0/8"])
        untrusting.wait_routers(["app@file"])
        self.assertTrue(raw(untrusting.web_port, b"PROXY TCP4 203.0.113.9 127.0.0.1 40000 80\r\n" + request)
                        .startswith("HTTP/1.1 400"))
