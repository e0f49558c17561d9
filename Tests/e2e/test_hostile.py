"""Hostile clients: request smuggling and framing errors, limits and slow clients, path tricks, spoofed and
hop-by-hop headers, HTTP/2 floods, upgrade tricks. Every case checks what the client got AND what the upstream
received (a recording raw-socket origin), then that the proxy is still alive and serving."""

import base64
import hashlib
import socket
import struct
import threading
import time
import urllib.parse

from harness import LOOPBACK, E2ETestCase, HeaderLookup, ScriptedOrigin, SilentOrigin, request, rss_kb


# --------------------------------------------------------------------------
# a recording origin

class Recorded(HeaderLookup):
    """One request as the origin read it off the wire."""

    def __init__(self, head, conn_id):
        self.raw_head = head
        self.conn_id = conn_id
        lines = head.split(b"\r\n")
        self.request_line = lines[0].decode("latin-1")
        parts = self.request_line.split(" ")
        self.method = parts[0]
        self.target = parts[1] if len(parts) > 1 else ""
        self.version = parts[2] if len(parts) > 2 else ""
        self.headers = []
        self.malformed_lines = []
        for line in lines[1:]:
            if b":" not in line or line[:1] in (b" ", b"\t"):
                self.malformed_lines.append(line)
                continue
            k, v = line.split(b":", 1)
            self.headers.append((k.decode("latin-1"), v.strip(b" \t").decode("latin-1")))
        self.body = b""
        self.complete = False
        self.framing_error = None

    def __repr__(self):
        headers = repr(self.headers)
        if len(headers) > 600:
            headers = headers[:300] + " ... " + headers[-300:]
        return "<%s%s %s body=%r>" % (self.request_line[:200], "" if self.complete else " (incomplete)",
                                      headers, self.body[:80])


class RecordingOrigin(SilentOrigin):
    """An HTTP/1.1 origin on a raw socket that records every request head and body it receives (framing read
    strictly: Content-Length, or chunked as the last transfer coding) and every connection, and answers
    `200 origin:<name>` with a Content-Length, keeping the connection alive. The listening and closing are
    SilentOrigin's."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.raw = []  # bytes received, per connection
        self.closed_by_peer = []  # connection ids the proxy closed
        super(RecordingOrigin, self).__init__()
        self.requests = []  # (SilentOrigin counts them; this one keeps them)

    @property
    def connections(self):
        with self.lock:
            return len(self.raw)

    def reset(self):
        with self.lock:
            del self.requests[:]

    def complete_requests(self):
        with self.lock:
            return [r for r in self.requests if r.complete]

    def all_bytes(self):
        with self.lock:
            return b"".join(bytes(b) for b in self.raw)

    def _serve(self, c):
        with self.lock:
            conn_id = len(self.raw)
            self.raw.append(bytearray())
        c.settimeout(0.2)
        buf = bytearray()
        deadline = time.monotonic() + 120

        def more():
            while not self._stop.is_set() and time.monotonic() < deadline:
                try:
                    chunk = c.recv(65536)
                except socket.timeout:
                    continue
                if not chunk:
                    with self.lock:
                        self.closed_by_peer.append(conn_id)
                    raise EOFError()
                with self.lock:
                    self.raw[conn_id] += chunk
                buf.extend(chunk)
                return
            raise EOFError()

        def read_line():
            while b"\r\n" not in buf:
                if len(buf) > 1 << 20:
                    raise ValueError("line too long")
                more()
            i = buf.index(b"\r\n")
            line = bytes(buf[:i])
            del buf[:i + 2]
            return line

        def read_exact(n):
            while len(buf) < n:
                more()
            out = bytes(buf[:n])
            del buf[:n]
            return out

        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    if len(buf) > 4 << 20:
                        return
                    more()
                i = buf.index(b"\r\n\r\n")
                head = bytes(buf[:i])
                del buf[:i + 4]
                r = Recorded(head, conn_id)
                with self.lock:
                    self.requests.append(r)
                te = ",".join(r.header_all("Transfer-Encoding")).lower()
                lengths = r.header_all("Content-Length")
                if te and lengths:
                    r.framing_error = "Content-Length and Transfer-Encoding"
                    return
                if te:
                    codings = [t.strip() for t in te.split(",")]
                    if codings[-1] != "chunked":
                        r.framing_error = "chunked not last"
                        return
                    body = b""
                    while True:
                        size_line = read_line()
                        size_text = size_line.split(b";", 1)[0].strip()
                        try:
                            size = int(size_text, 16)
                        except ValueError:
                            r.framing_error = "chunk size %r" % size_line
                            return
                        if size == 0:
                            while read_line():
                                pass  # trailers
                            break
                        body += read_exact(size)
                        if read_exact(2) != b"\r\n":
                            r.framing_error = "no CRLF after chunk"
                            return
                    r.body = body
                elif lengths:
                    if len(lengths) != 1 or not lengths[0].isdigit():
                        r.framing_error = "Content-Length %r" % lengths
                        return
                    r.body = read_exact(int(lengths[0]))
                r.complete = True
                answer = b"origin:" + self.name.encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                          % (len(answer), answer))
        except (EOFError, OSError, ValueError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass


# --------------------------------------------------------------------------
# a raw HTTP/1.1 client

class Answer(HeaderLookup):
    def __init__(self, status_line, headers, body):
        self.status_line = status_line
        parts = status_line.split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = headers
        self.body = body
        self.partial = False

    def __repr__(self):
        return "<%s %r>" % (self.status_line, self.body[:120])


def recv_chunk(s, timeout):
    """One recv within `timeout`: (bytes, closed); no bytes and not closed when nothing came in time."""
    s.settimeout(timeout)
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        return b"", False
    except OSError:
        return b"", True
    return chunk, not chunk


def read_until_quiet(s, idle=1.0, total=6.0, done=None):
    """Read until the peer closes (closed=True), is quiet for `idle` seconds, or `done(data)`; bounded by
    `total`."""
    out = b""
    closed = False
    deadline = time.monotonic() + total
    while time.monotonic() < deadline and not (done and done(out)):
        chunk, closed = recv_chunk(s, max(0.05, min(idle, deadline - time.monotonic())))
        if not chunk:
            break
        out += chunk
    return out, closed


def complete_answers(n):
    return lambda data: len([a for a in parse_answers(data) if not a.partial]) >= n


def talk(port, data, idle=1.0, total=6.0, done=None):
    """Send raw bytes on a fresh connection; returns (answers, closed, raw bytes)."""
    s = socket.create_connection((LOOPBACK, port), timeout=total)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        raw, closed = read_until_quiet(s, idle, total, done)
    finally:
        s.close()
    return parse_answers(raw), closed, raw


def parse_answers(data):
    """The HTTP/1.1 responses in `data`, in order (framed by Content-Length or chunked)."""
    answers = []
    for _ in range(100):
        if not data:
            break
        if b"\r\n\r\n" not in data:
            answers.append(Answer("<partial> %r" % data[:80], [], b""))
            break
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
        answer = Answer(lines[0], headers, b"")
        if "chunked" in (answer.header("Transfer-Encoding") or "").lower():
            body = b""
            answer.partial = True
            while b"\r\n" in data:
                size_line, data = data.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    answer.partial = b"\r\n\r\n" not in b"\r\n" + data
                    data = (b"\r\n" + data).split(b"\r\n\r\n", 1)[1] if not answer.partial else b""
                    break
                body, data = body + data[:size], data[size + 2:]
            answer.body = body
        elif answer.header("Content-Length") is not None:
            n = int(answer.header("Content-Length"))
            answer.partial = len(data) < n
            answer.body, data = data[:n], data[n:]
        elif answer.status not in (101, 204, 304):
            answer.body, data = data, b""
        answers.append(answer)
    return answers


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: rec.test\r\n\r\n"


def resolved(path):
    """How a lenient origin may read a path: fragment dropped, percent-decoded (%2e, %2f), dot segments
    removed (RFC 3986 5.2.4)."""
    path = path.split("#", 1)[0].split("?", 1)[0]
    path = urllib.parse.unquote(path)
    out = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        if seg == "..":
            if len(out) > 1:
                out.pop()
            if i == len(segments) - 1:
                out.append("")
        elif seg == ".":
            if i == len(segments) - 1:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out) or "/"


# --------------------------------------------------------------------------
# HTTP/2 frames by hand

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, CONTINUATION = 0, 1, 3, 4, 6, 7, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
ENHANCE_YOUR_CALM = 11


def h2_frame(kind, flags, stream, payload=b""):
    return struct.pack("!I", len(payload))[1:] + bytes([kind, flags]) + struct.pack("!I", stream) + payload


def hpack_request(authority, path=b"/"):
    """GET http://authority/path in HPACK: static-table method and scheme, literals without indexing."""
    block = b"\x82\x86"  # :method GET, :scheme http
    block += b"\x84" if path == b"/" else b"\x04" + bytes([len(path)]) + path
    return block + b"\x01" + bytes([len(authority)]) + authority


def h2_read_frames(s, total=5.0, stop=None, after_goaway=2.0):
    """Frames (kind, flags, stream, payload) until the peer closes, `stop(frames)` is true, `after_goaway` s
    after the first GOAWAY, or `total` s."""
    frames, buf, closed = [], b"", False
    deadline = time.monotonic() + total
    while time.monotonic() < deadline:
        chunk, closed = recv_chunk(s, max(0.05, deadline - time.monotonic()))
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
            n = int.from_bytes(buf[:3], "big")
            frames.append((buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF, buf[9:9 + n]))
            buf = buf[9 + n:]
            if frames[-1][0] == GOAWAY and len([f for f in frames if f[0] == GOAWAY]) == 1:
                deadline = min(deadline, time.monotonic() + after_goaway)
        if stop is not None and stop(frames):
            break
    return frames, closed


def goaway_codes(frames):
    return [struct.unpack("!I", p[4:8])[0] for k, _, _, p in frames if k == GOAWAY and len(p) >= 8]


# --------------------------------------------------------------------------

class HostileBase(E2ETestCase):
    """Recording origins behind one proxy: rec.test (and limited.test, with a 1000-byte body limit), paths.test
    with /admin on its own origin, abs.test and other.test."""

    extra_args = ()

    def setUp(self):
        super(HostileBase, self).setUp()
        self.rec, self.admin, self.public, self.other = (RecordingOrigin(n) for n in ("rec", "admin", "public", "other"))
        for o in (self.rec, self.admin, self.public, self.other):
            self.addCleanup(o.close)
        self.write("hostile.yml", """
http:
  routers:
    rec:     {rule: "Host(`rec.test`)", service: rec}
    limited: {rule: "Host(`limited.test`)", service: rec, middlewares: [limit]}
    admin:   {rule: "Host(`paths.test`) && PathPrefix(`/admin`)", service: admin, priority: 100}
    public:  {rule: "Host(`paths.test`)", service: public, priority: 10}
    abs:     {rule: "Host(`abs.test`)", service: admin}
    other:   {rule: "Host(`other.test`)", service: other}
  middlewares:
    limit: {buffering: {maxRequestBodyBytes: 1000}}
  services:
    rec:    {loadBalancer: {servers: [{url: "%s"}]}}
    admin:  {loadBalancer: {servers: [{url: "%s"}]}}
    public: {loadBalancer: {servers: [{url: "%s"}]}}
    other:  {loadBalancer: {servers: [{url: "%s"}]}}
""" % (self.rec.url, self.admin.url, self.public.url, self.other.url))
        self.proxy = self.start_proxy(throttle="0s", extra_args=list(self.extra_args))
        self.proxy.wait_routers(["rec@file", "limited@file", "admin@file", "public@file", "abs@file", "other@file"])
        self.port = self.proxy.web_port
        self.proxy.wait_status("rec.test", 200)
        self.rec.reset()

    def scripted_route(self, name, respond):
        """A router for Host `<name>.test` to a ScriptedOrigin calling `respond`; returns a client socket to the
        proxy."""
        origin = ScriptedOrigin(respond)
        self.addCleanup(origin.close)
        self.write("%s.yml" % name, """
http:
  routers:
    %(n)s: {rule: "Host(`%(n)s.test`)", service: %(n)s}
  services:
    %(n)s: {loadBalancer: {servers: [{url: "%(u)s"}]}}
""" % {"n": name, "u": origin.url})
        self.proxy.wait_routers(["%s@file" % name])
        s = socket.create_connection((LOOPBACK, self.port), timeout=5)
        self.addCleanup(s.close)
        return s

    def assertServing(self, context=""):
        """The proxy is alive and a normal request on a new connection is forwarded."""
        self.proxy.check_alive()
        r = request(self.port, "/alive", host="rec.test", timeout=10)
        self.assertEqual((r.status, r.body), (200, b"origin:rec"), "after %s" % context)

    def assertRejected(self, label, raw, statuses=(400,), head_may_reach=False, pipelined=True):
        """`raw` (followed by a pipelined request) is answered with one of `statuses` or a bare close; the
        connection is closed; the pipelined request is not served; the origin gets no complete request (and,
        unless the error is in the body, not even a head)."""
        self.rec.reset()
        answers, closed, data = talk(self.port, raw + (SMUGGLED if pipelined else b""))
        time.sleep(0.2)  # let anything forwarded land at the origin
        got = list(self.rec.requests)
        where = "%s: client got %r (closed=%s); origin got %r" % (label, data[:300], closed, got)
        self.assertLessEqual(len(answers), 1, "the pipelined request was served: " + where)
        if answers:
            self.assertIn(answers[0].status, statuses, where)
        self.assertTrue(closed, "connection left open after a framing error: " + where)
        self.assertEqual(self.rec.complete_requests(), [], "the origin got a complete request: " + where)
        self.assertFalse([r for r in got if "/smuggled" in r.target], "smuggled request forwarded: " + where)
        if not head_may_reach:
            self.assertEqual(got, [], "the origin got something: " + where)
        self.assertServing(label)
        return answers

    def assertForwardedOnce(self, label, raw, body, allowed_rejections=()):
        """`raw` is either rejected (one of `allowed_rejections`, connection closed, origin gets nothing) or
        forwarded as exactly one complete, unambiguously framed request whose body is `body`."""
        self.rec.reset()
        answers, closed, data = talk(self.port, raw, done=complete_answers(1))
        time.sleep(0.2)
        got = list(self.rec.requests)
        where = "%s: client got %r (closed=%s); origin got %r" % (label, data[:300], closed, got)
        self.assertEqual(len(answers), 1, where)
        if answers[0].status in allowed_rejections:
            self.assertEqual(got, [], where)
            self.assertServing(label)
            return None
        self.assertEqual((answers[0].status, answers[0].body), (200, b"origin:rec"), where)
        self.assertEqual(len(got), 1, where)
        r = got[0]
        self.assertTrue(r.complete, where)
        self.assertIsNone(r.framing_error, where)
        self.assertEqual(r.malformed_lines, [], where)
        self.assertEqual(r.body, body, where)
        self.assertLessEqual(len(r.header_all("Content-Length")) + len(r.header_all("Transfer-Encoding")), 1, where)
        self.assertNotIn(b"\n", r.raw_head.replace(b"\r\n", b""), "bare LF forwarded: " + where)
        self.assertServing(label)
        return r


class HostileFramingTests(HostileBase):
    """Request smuggling and framing errors on HTTP/1.1."""

    def test_90a_well_formed_bodies_are_forwarded_once_with_sane_framing(self):
        for label, raw, body in [
            ("content-length", b"POST /cl HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
            ("chunked", b"POST /ch HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            ("chunk extension", b"POST /ext HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"5;name=value\r\nhello\r\n0\r\n\r\n", b"hello"),
        ]:
            with self.subTest(label):
                self.assertForwardedOnce(label, raw, body)

    def test_90b_content_length_with_transfer_encoding_is_rejected(self):
        for label, raw in [
            ("CL then TE", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                           b"0\r\n\r\n"),
            ("TE then CL", b"POST / HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n"
                           b"0\r\n\r\n"),
        ]:
            with self.subTest(label):
                self.assertRejected(label, raw)

    def test_90c_conflicting_content_lengths_are_rejected(self):
        for label, raw in [
            ("two values", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            ("list", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 5, 6\r\n\r\nhello!"),
            ("sign", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: +5\r\n\r\nhello"),
            ("hex", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 0x5\r\n\r\nhello"),
        ]:
            with self.subTest(label):
                self.assertRejected(label, raw)

    def test_90d_bad_chunked_bodies_close_the_connection(self):
        head = b"POST / HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: chunked\r\n\r\n"
        for label, body in [
            ("invalid size", b"zz\r\nhello\r\n0\r\n\r\n"),
            ("size overflow", b"fffffffffffffffffffffff1\r\nhello\r\n0\r\n\r\n"),
            ("extension with control bytes", b"5;a=\x01\x7f\x00\r\nhello\r\n0\r\n\r\n"),
            ("extension with bare LF", b"5;a\nb\r\nhello\r\n0\r\n\r\n"),
            ("missing CRLF after data", b"5\r\nhelloXX0\r\n\r\n"),
        ]:
            with self.subTest(label):
                self.assertRejected(label, head + body, head_may_reach=True)

    def test_90e_transfer_codings(self):
        # chunked not last, an unknown coding, identity: the framing is unknown -> rejected
        for label, te in [("chunked, gzip", b"chunked, gzip"), ("identity", b"identity"), ("chunked twice", b"chunked, chunked")]:
            with self.subTest(label):
                self.assertRejected(label, b"POST / HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: " + te +
                                    b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n", statuses=(400, 501))
        with self.subTest("identity with Content-Length"):
            self.assertRejected("identity+CL", b"POST / HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: identity\r\n"
                                b"Content-Length: 5\r\n\r\nhello", statuses=(400, 501))
        # gzip, chunked: chunked is last, so the framing is known: refused (501) or forwarded chunked
        with self.subTest("gzip, chunked"):
            r = self.assertForwardedOnce("gzip, chunked", b"POST / HTTP/1.1\r\nHost: rec.test\r\nTransfer-Encoding: gzip, chunked\r\n"
                                         b"Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"hello",
                                         allowed_rejections=(400, 501))
            if r is not None:
                self.assertEqual(r.header("Transfer-Encoding").replace(" ", "").lower(), "gzip,chunked", r)

    def test_90f_http10_with_transfer_encoding_is_rejected(self):
        self.assertRejected("HTTP/1.0 chunked", b"POST / HTTP/1.0\r\nHost: rec.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"5\r\nhello\r\n0\r\n\r\n")

    def test_90g_malformed_header_lines_are_rejected(self):
        for label, line in [
            ("space before colon", b"Transfer-Encoding : chunked"),
            ("tab before colon", b"Content-Length\t: 5"),
            ("NUL in value", b"X-A: a\x00b"),
            ("bare CR in value", b"X-A: a\rb"),
            ("control byte in value", b"X-A: a\x01b"),
            ("DEL in value", b"X-A: a\x7fb"),
            ("NUL in name", b"X-\x00A: b"),
            ("control byte in name", b"X-\x01A: b"),
            ("no colon", b"X-A b"),
            ("empty name", b": b"),
        ]:
            with self.subTest(label):
                self.assertRejected(label, b"GET / HTTP/1.1\r\nHost: rec.test\r\n" + line + b"\r\n\r\n")

    def test_90h_obsolete_line_folding_is_rejected_or_unfolded(self):
        """RFC 9112 5.2: obs-fold is rejected (400) or replaced with spaces; never forwarded as a fold."""
        for label, raw in [
            ("space fold", b"GET / HTTP/1.1\r\nHost: rec.test\r\nX-A: a\r\n b\r\n\r\n"),
            ("tab fold", b"GET / HTTP/1.1\r\nHost: rec.test\r\nX-A: a\r\n\tb\r\n\r\n"),
        ]:
            with self.subTest(label):
                r = self.assertForwardedOnce(label, raw, b"", allowed_rejections=(400,))
                if r is not None:
                    self.assertIn(r.header("X-A"), ("a b", "a  b", "a   b"), r)
        with self.subTest("fold before the first header"):
            self.assertRejected("first-line fold", b"GET / HTTP/1.1\r\n Host: rec.test\r\n\r\n")
        with self.subTest("folded Transfer-Encoding"):
            self.assertRejected("folded TE", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 5\r\nTransfer-Encoding:\r\n"
                                b" chunked\r\n\r\n0\r\n\r\n")

    def test_90i_bare_lf_line_endings(self):
        """A bare LF ends a line for the proxy or the request is refused; the origin sees CRLF only."""
        self.assertForwardedOnce("bare LF everywhere", b"GET /lf HTTP/1.1\nHost: rec.test\nX-A: 1\n\n", b"",
                                 allowed_rejections=(400,))
        r = self.assertForwardedOnce("bare LF in one line", b"POST /lf HTTP/1.1\r\nHost: rec.test\r\nX-A: 1\n"
                                     b"Content-Length: 5\r\n\r\nhello", b"hello", allowed_rejections=(400,))
        if r is not None:
            self.assertEqual(r.header("X-A"), "1", r)


class HostileLimitTests(HostileBase):

    def test_90j_oversized_request_line_and_header_block(self):
        cases = [
            ("100 KB URI", b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: rec.test\r\n\r\n", (400, 414)),
            ("100 KB header", b"GET / HTTP/1.1\r\nHost: rec.test\r\nX-Big: " + b"b" * 100000 + b"\r\n\r\n", (400, 431)),
            ("2000 headers", b"GET / HTTP/1.1\r\nHost: rec.test\r\n" +
             b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\n", (400, 431)),
            ("1 MB of headers", b"GET / HTTP/1.1\r\nHost: rec.test\r\n" +
             b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(1000)) + b"\r\n", (400, 431)),
        ]
        for label, raw, statuses in cases:
            with self.subTest(label):
                self.assertRejected(label, raw, statuses=statuses, pipelined=False)

    def test_90k_buffering_body_limit_413(self):
        """buffering.maxRequestBodyBytes 1000: a larger body gets 413 and never reaches the origin."""
        for label, raw in [
            ("Content-Length", b"POST / HTTP/1.1\r\nHost: limited.test\r\nContent-Length: 2000\r\n\r\n" + b"x" * 2000),
            ("chunked", b"POST / HTTP/1.1\r\nHost: limited.test\r\nTransfer-Encoding: chunked\r\n\r\n" +
             b"3e8\r\n" + b"x" * 1000 + b"\r\n3e8\r\n" + b"x" * 1000 + b"\r\n0\r\n\r\n"),
        ]:
            with self.subTest(label):
                self.rec.reset()
                answers, closed, data = talk(self.port, raw, done=complete_answers(1))
                time.sleep(0.2)
                self.assertTrue(answers and answers[0].status == 413, "%s: %r" % (label, data[:300]))
                self.assertEqual(self.rec.requests, [], "%s: the origin got %r" % (label, self.rec.requests))
                self.assertServing(label)
        # under the limit: forwarded whole
        self.rec.reset()
        answers, _, data = talk(self.port, b"POST / HTTP/1.1\r\nHost: limited.test\r\nContent-Length: 500\r\n\r\n" + b"y" * 500,
                                done=complete_answers(1))
        self.assertEqual(answers[0].status, 200, data[:300])
        got = self.rec.complete_requests()
        self.assertEqual([(r.body, r.header("Content-Length")) for r in got], [(b"y" * 500, "500")], got)


class HostileTimeoutTests(HostileBase):
    extra_args = ("--entryPoints.web.transport.respondingTimeouts.readTimeout=1s",
                  "--entryPoints.web.transport.respondingTimeouts.idleTimeout=1s")

    def timed(self, first, trickle=b"", every=0.25, total=6.0):
        """Send `first`, then `trickle` one byte every `every` s; returns (answers, closed, seconds)."""
        s = socket.create_connection((LOOPBACK, self.port), timeout=total)
        self.addCleanup(s.close)
        t0 = time.monotonic()
        s.sendall(first)
        data, closed = b"", False
        for i in range(int(total / every)):
            if trickle:
                try:
                    s.sendall(trickle[i % len(trickle):i % len(trickle) + 1])
                except OSError:
                    closed = True
                    break
            chunk, closed = read_until_quiet(s, idle=every, total=every)
            data += chunk
            if closed:
                break
        return parse_answers(data), closed, time.monotonic() - t0

    def test_90l_slowloris_headers_are_cut_off(self):
        for label, first, trickle in [
            ("stalled header block", b"GET / HTTP/1.1\r\nHost: rec.test\r\nX-A: 1\r\n", b""),
            ("header block trickled a byte at a time", b"GET / HTTP/1.1\r\nHost: rec.test\r\n", b"X-Slow: aaaaaaaaaa\r\n"),
        ]:
            with self.subTest(label):
                self.rec.reset()
                answers, closed, took = self.timed(first, trickle)
                where = "%s: %r closed=%s after %.2fs" % (label, answers, closed, took)
                self.assertTrue(closed, "still open: " + where)
                self.assertTrue(0.8 < took < 3.0, where)
                self.assertTrue(not answers or answers[0].status == 408, where)
                self.assertEqual(self.rec.requests, [], where)
        self.assertServing("slowloris")

    def test_90m_slow_body_is_cut_off(self):
        for label, first, trickle in [
            ("stalled body", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 100\r\n\r\n0123456789", b""),
            ("body trickled a byte at a time", b"POST / HTTP/1.1\r\nHost: rec.test\r\nContent-Length: 100\r\n\r\n", b"z"),
        ]:
            with self.subTest(label):
                self.rec.reset()
                answers, closed, took = self.timed(first, trickle)
                time.sleep(0.3)
                where = "%s: %r closed=%s after %.2fs; origin %r" % (label, answers, closed, took, self.rec.requests)
                self.assertTrue(closed, "still open: " + where)
                self.assertTrue(0.8 < took < 3.0, where)
                self.assertTrue(not answers or answers[0].status == 408, where)
                self.assertEqual(self.rec.complete_requests(), [], where)
        self.assertServing("slow body")

    def test_90n_idle_keep_alive_is_closed(self):
        s = socket.create_connection((LOOPBACK, self.port), timeout=6)
        self.addCleanup(s.close)
        s.sendall(b"GET /idle HTTP/1.1\r\nHost: rec.test\r\n\r\n")
        t0 = time.monotonic()
        data, closed = read_until_quiet(s, idle=5.0, total=6.0)
        took = time.monotonic() - t0
        self.assertEqual([a.status for a in parse_answers(data)], [200], data)
        self.assertTrue(closed and 0.8 < took < 3.0, "closed=%s after %.2fs" % (closed, took))
        self.assertEqual([r.target for r in self.rec.complete_requests()], ["/idle"])
        self.assertServing("idle keep-alive")


class HostilePathTests(HostileBase):
    """Routing and forwarding agree: an origin never receives a path the router that sent it there did not match
    (read as a lenient origin would: percent-decoded, dot segments removed)."""

    def route(self, target, host=b"paths.test"):
        for o in (self.admin, self.public, self.other, self.rec):
            o.reset()
        raw = b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
        answers, closed, data = talk(self.port, raw, idle=2.0)
        time.sleep(0.2)
        seen = [(o.name, r.target, r.header("Host")) for o in (self.admin, self.public, self.other, self.rec)
                for r in o.complete_requests()]
        return (answers[0].status if answers else None), seen, data

    def test_90o_dot_segments_and_encoded_slashes_do_not_bypass_routing(self):
        for target in [b"/admin/secret", b"/public", b"/public/../admin/secret", b"/public/./../admin/secret",
                       b"/public/%2e%2e/admin/secret", b"/%2e%2e/admin/secret", b"/public/%2E%2E/admin/secret",
                       b"/public%2f..%2fadmin%2fsecret", b"/public/..%2fadmin/secret", b"/admin%2fsecret",
                       b"/a/../b", b"//double", b"//admin/secret", b"/p;param", b"/admin;x/secret", b"/public/..;/admin"]:
            with self.subTest(target.decode()):
                status, seen, data = self.route(target)
                where = "%s -> %s, origins saw %r" % (target.decode(), data[:200], seen)
                self.assertIn(status, (200, 400, 404), where)
                if status != 200:
                    self.assertEqual(seen, [], where)
                    continue
                self.assertEqual(len(seen), 1, where)
                name, path, _ = seen[0]
                self.assertIn(name, ("admin", "public"), where)
                self.assertEqual(name == "admin", resolved(path).startswith("/admin"),
                                 "the %s router sent a path that reads as %s: %s" % (name, resolved(path), where))
        self.assertServing("paths")

    def test_90p_plain_paths_are_forwarded_unchanged(self):
        for target, origin in [(b"/admin/secret", "admin"), (b"/p;param", "public"), (b"/a%20b?q=%2f", "public"),
                               (b"/x?a=1&b=%2e%2e", "public")]:
            with self.subTest(target.decode()):
                status, seen, data = self.route(target)
                self.assertEqual((status, seen), (200, [(origin, target.decode(), "paths.test")]), data[:200])

    def test_90q_fragment_in_the_request_line(self):
        """A fragment is not part of a request target: refused, or dropped before forwarding."""
        for target in [b"/public#frag", b"/public#/../admin/secret", b"/admin#x"]:
            with self.subTest(target.decode()):
                status, seen, data = self.route(target)
                where = "%s -> %r, origins saw %r" % (target.decode(), data[:200], seen)
                self.assertIn(status, (200, 400, 404), where)
                if status == 200:
                    self.assertEqual(len(seen), 1, where)
                    self.assertNotIn("#", seen[0][1], where)
                    self.assertEqual(seen[0][0] == "admin", resolved(seen[0][1]).startswith("/admin"), where)
                else:
                    self.assertEqual(seen, [], where)
        self.assertServing("fragment")

    def test_90r_absolute_form_takes_the_host_from_the_target(self):
        """RFC 9112 3.2.2: with an absolute-form target the Host header is ignored (or a mismatch refused); the
        origin gets origin-form and a Host that agrees with the router that matched."""
        for label, target, host in [("agreeing", b"http://abs.test/path?q=1", b"abs.test"),
                                    ("mismatching", b"http://abs.test/path?q=1", b"other.test"),
                                    ("with port", b"http://abs.test:%d/path?q=1" % self.port, b"other.test")]:
            with self.subTest(label):
                status, seen, data = self.route(target, host=host)
                where = "%s: %s with Host %s -> %r, origins saw %r" % (label, target, host, data[:200], seen)
                if status == 400 and label != "agreeing":
                    self.assertEqual(seen, [], where)
                    continue
                self.assertEqual(status, 200, where)
                self.assertEqual(len(seen), 1, where)
                name, path, origin_host = seen[0]
                self.assertEqual(name, "admin", "routed by the Host header, not the target: " + where)
                self.assertEqual(path, "/path?q=1", where)
                self.assertEqual(origin_host.split(":")[0], "abs.test", where)
        self.assertServing("absolute-form")

    def test_90s_connect_is_refused_never_tunnelled(self):
        for target, host in [(b"abs.test:443", b"abs.test:443"), (b"127.0.0.1:%d" % self.rec.port, b"rec.test")]:
            with self.subTest(target.decode()):
                for o in (self.admin, self.rec):
                    o.reset()
                s = socket.create_connection((LOOPBACK, self.port), timeout=5)
                self.addCleanup(s.close)
                s.sendall(b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
                data, closed = read_until_quiet(s, idle=1.0, total=4.0)
                answers = parse_answers(data)
                # bytes a tunnel would carry
                try:
                    s.sendall(b"GET /through-tunnel HTTP/1.1\r\nHost: rec.test\r\n\r\n")
                    more, _ = read_until_quiet(s, idle=1.0, total=3.0)
                except OSError:
                    more = b""
                time.sleep(0.2)
                where = "CONNECT %s -> %r then %r; admin saw %r, rec saw %r" % (
                    target, data[:200], more[:200], self.admin.requests, self.rec.requests)
                self.assertTrue(not answers or answers[0].status in (400, 404, 405, 501), where)
                self.assertEqual(self.admin.requests + self.rec.requests, [], where)
                self.assertNotIn(b"through-tunnel", self.admin.all_bytes() + self.rec.all_bytes(), where)
        self.assertServing("CONNECT")


class HostileHeaderTests(HostileBase):

    def forward(self, extra_lines, host=b"rec.test"):
        self.rec.reset()
        raw = b"GET /h HTTP/1.1\r\nHost: " + host + b"\r\n" + b"".join(l + b"\r\n" for l in extra_lines) + b"\r\n"
        answers, _, data = talk(self.port, raw, done=complete_answers(1))
        time.sleep(0.1)
        got = self.rec.complete_requests()
        self.assertEqual([a.status for a in answers], [200], data[:300])
        self.assertEqual(len(got), 1, got)
        return got[0]

    def assertProxyForwardedHeaders(self, r):
        self.assertEqual(r.header_all("X-Forwarded-For"), ["127.0.0.1"], r)
        self.assertEqual(r.header_all("X-Real-Ip"), ["127.0.0.1"], r)
        self.assertEqual(r.header_all("X-Forwarded-Host"), ["rec.test"], r)
        self.assertEqual(r.header_all("X-Forwarded-Proto"), ["http"], r)
        self.assertEqual(r.header_all("X-Forwarded-Port"), ["80"], r)
        self.assertEqual(r.header_all("Host"), ["rec.test"], r)

    def test_90t_spoofed_forwarded_headers_are_overwritten(self):
        r = self.forward([b"X-Forwarded-For: 1.2.3.4", b"X-Forwarded-For: 5.6.7.8", b"X-Forwarded-Host: evil.test",
                          b"X-Forwarded-Proto: https", b"X-Forwarded-Port: 443", b"X-Real-Ip: 1.2.3.4",
                          b"x-forwarded-for: 9.9.9.9"])
        self.assertProxyForwardedHeaders(r)
        self.assertNotIn(b"1.2.3.4", r.raw_head, r)
        self.assertServing("spoofed X-Forwarded-*")

    def test_90u_connection_listed_headers(self):
        with self.subTest("Connection: close, X-Secret"):
            r = self.forward([b"Connection: close, X-Secret", b"X-Secret: 1", b"X-Kept: yes"])
            self.assertIsNone(r.header("X-Secret"), r)
            self.assertEqual(r.header("X-Kept"), "yes", r)
            for v in r.header_all("Connection"):
                self.assertNotIn("x-secret", v.lower(), r)
        with self.subTest("Connection: Host"):
            r = self.forward([b"Connection: Host"])
            self.assertEqual(r.header_all("Host"), ["rec.test"], r)
        with self.subTest("Connection lists the proxy's own headers"):
            r = self.forward([b"Connection: X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Port, "
                              b"X-Real-Ip, Host", b"X-Forwarded-For: 1.2.3.4"])
            self.assertProxyForwardedHeaders(r)
        with self.subTest("Connection: Content-Length"):
            self.rec.reset()
            answers, closed, data = talk(self.port, b"POST /h HTTP/1.1\r\nHost: rec.test\r\nConnection: Content-Length\r\n"
                                         b"Content-Length: 5\r\n\r\nhello" + SMUGGLED)
            time.sleep(0.2)
            got = self.rec.complete_requests()
            # either refused, or forwarded with a body framed as the proxy read it
            if answers and answers[0].status == 200:
                self.assertEqual(got[0].body, b"hello", got)
                self.assertTrue(got[0].header("Content-Length") == "5" or got[0].header("Transfer-Encoding"), got)
        self.assertServing("Connection-listed headers")

    def test_90v_underscore_header_is_not_x_forwarded_for(self):
        r = self.forward([b"X_Forwarded_For: 1.2.3.4", b"X_Real_Ip: 1.2.3.4"])
        self.assertProxyForwardedHeaders(r)
        for name, value in r.headers:
            if "1.2.3.4" in value:
                self.assertIn(name, ("X_Forwarded_For", "X_Real_Ip"), "passed on, but renamed: %r" % r)
        self.assertServing("underscore header")


class HostileUpgradeTests(HostileBase):

    def test_90w_h2c_upgrade_over_http11_is_not_performed(self):
        with self.subTest("origin answering 200"):
            self.h2c_upgrade_to_plain_origin()
        with self.subTest("origin accepting the upgrade (h2c smuggling)"):
            self.h2c_upgrade_to_accepting_origin()

    def h2c_upgrade_to_accepting_origin(self):
        """An origin that would switch to h2c: the proxy must not relay a 101 and tunnel the client's HTTP/2
        straight to it (past the routers and middlewares)."""
        seen = {"heads": [], "after": b""}

        def switch(c, head, rest):
            seen["heads"].append(head)
            if b"upgrade: h2c" not in head.lower():
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                return
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
            c.settimeout(2)
            try:
                seen["after"] = rest + c.recv(65536)
            except OSError:
                pass
        s = self.scripted_route("h2c", switch)
        s.sendall(b"GET /h2c HTTP/1.1\r\nHost: h2c.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                  b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
        data, closed = read_until_quiet(s, idle=1.0, total=4.0)
        try:
            s.sendall(H2_PREFACE + h2_frame(SETTINGS, 0, 0))
            more, _ = read_until_quiet(s, idle=1.0, total=3.0)
        except OSError:
            more = b""
        time.sleep(0.3)
        where = "client got %r then %r; origin got %r then %r" % (data[:200], more[:100], seen["heads"], seen["after"][:100])
        self.assertFalse(data.startswith(b"HTTP/1.1 101"), "h2c upgrade relayed: " + where)
        self.assertNotIn(H2_PREFACE, seen["after"], "HTTP/2 tunnelled to the origin: " + where)
        self.assertServing("h2c upgrade to an accepting origin")

    def h2c_upgrade_to_plain_origin(self):
        self.rec.reset()
        s = socket.create_connection((LOOPBACK, self.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET /h2c HTTP/1.1\r\nHost: rec.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                  b"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
        data, closed = read_until_quiet(s, idle=1.0, total=4.0)
        answers = parse_answers(data)
        time.sleep(0.1)
        got = list(self.rec.requests)
        where = "client got %r; origin got %r" % (data[:300], got)
        self.assertTrue(answers, where)
        self.assertTrue(answers[0].status_line.startswith("HTTP/1.1 "), where)
        self.assertNotEqual(answers[0].status, 101, where)
        for r in got:
            self.assertNotIn("h2c", " ".join(r.header_all("Upgrade")).lower(), where)
            self.assertEqual(r.header_all("HTTP2-Settings"), [], where)
        if not closed:
            # still HTTP/1.1 on this connection, not HTTP/2
            s.sendall(b"GET /after HTTP/1.1\r\nHost: rec.test\r\n\r\n")
            data, _ = read_until_quiet(s, idle=1.0, total=4.0)
            self.assertEqual([(a.status, a.body) for a in parse_answers(data)], [(200, b"origin:rec")], data[:300])
        self.assertServing("h2c upgrade")

    def test_90x_websocket_upgrade_answered_200_leaves_no_tunnel(self):
        self.rec.reset()
        s = socket.create_connection((LOOPBACK, self.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: rec.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        data, closed = read_until_quiet(s, idle=1.0, total=4.0)
        answers = parse_answers(data)
        self.assertTrue(answers and answers[0].status in (200, 502), data[:300])
        if answers[0].status == 200:
            self.assertEqual(answers[0].body, b"origin:rec")
        # bytes a tunnel would carry to the origin: the proxy must read them as HTTP (or have closed)
        more = b""
        if not closed:
            try:
                s.sendall(b"NOT-HTTP tunnel bytes\r\n\r\n")
                more, closed = read_until_quiet(s, idle=1.0, total=4.0)
            except OSError:
                closed = True
        time.sleep(0.2)
        where = "client got %r then %r; origin got %r" % (data[:200], more[:200], self.rec.all_bytes()[-300:])
        self.assertNotIn(b"NOT-HTTP", self.rec.all_bytes(), "tunnelled: " + where)
        self.assertTrue(not more or parse_answers(more)[0].status == 400, where)
        self.assertServing("WebSocket upgrade answered 200")

    def test_90y_half_closed_websocket_tunnel_is_closed(self):
        """The client shuts its write side after the upgrade: the origin sees EOF and the tunnel closes."""
        state = {"eof": threading.Event(), "echoed": 0}

        def serve(c, head, rest):
            key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key:")]
            if not key:  # a plain request (the liveness check)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                return
            accept = base64.b64encode(hashlib.sha1(key[0] + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    state["eof"].set()
                    break
                state["echoed"] += len(chunk)
                c.sendall(chunk)  # raw echo: the tunnel carries bytes
        s = self.scripted_route("half", serve)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: half.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            self.assertTrue(chunk, buf)
            buf += chunk
        self.assertTrue(buf.startswith(b"HTTP/1.1 101"), buf)
        rest = buf.split(b"\r\n\r\n", 1)[1]
        frame = b"\x81\x85" + b"\x01\x02\x03\x04" + bytes(b ^ m for b, m in zip(b"hello", b"\x01\x02\x03\x04"))
        s.sendall(frame)
        while len(rest) < len(frame):
            chunk = s.recv(4096)
            self.assertTrue(chunk, rest)
            rest += chunk
        self.assertEqual(rest, frame)
        t0 = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        self.assertTrue(state["eof"].wait(3), "the origin never saw the client's half-close")
        data, closed = read_until_quiet(s, idle=5.0, total=5.0)
        took = time.monotonic() - t0
        self.assertTrue(closed, "the tunnel stayed open %.1fs after both sides finished (got %r)" % (took, data))
        self.assertLess(took, 4.0)
        self.assertServing("half-closed tunnel")


class HostileHTTP2Tests(HostileBase):
    """HTTP/2 by prior knowledge on the web entry point, frames written by hand."""

    def h2_connect(self, rcvbuf=None):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(5)
        s.connect((LOOPBACK, self.port))
        self.addCleanup(s.close)
        s.sendall(H2_PREFACE + h2_frame(SETTINGS, 0, 0))
        return s

    def assertH2Serving(self, context):
        """A fresh HTTP/2 connection gets a response from the origin."""
        s = self.h2_connect()
        s.sendall(h2_frame(HEADERS, END_HEADERS | END_STREAM, 1, hpack_request(b"rec.test", b"/h2-alive")))
        frames, _ = h2_read_frames(s, total=5.0, stop=lambda fs: any(k == DATA and f & END_STREAM for k, f, _, _ in fs))
        body = b"".join(p for k, _, sid, p in frames if k == DATA and sid == 1)
        self.assertEqual(body, b"origin:rec", "HTTP/2 after %s: frames %r" % (context, [(k, f, sid) for k, f, sid, _ in frames]))
        self.assertServing(context)

    def assertCutOff(self, frames, closed, where):
        """The connection error is reported (GOAWAY ENHANCE_YOUR_CALM or another error code) and the connection
        then closed (RFC 9113 5.4.1: after a GOAWAY for an error the endpoint MUST close the connection)."""
        codes = goaway_codes(frames)
        self.assertTrue(not codes or codes[0] != 0, "GOAWAY NO_ERROR for an attack: " + where)
        self.assertTrue(closed, ("GOAWAY sent but the connection left open: " if codes else "not cut off: ") + where)

    def send_all(self, s, data, chunk=65536):
        """Send as much of `data` as the proxy takes; returns 'sent', 'closed' or 'blocked' (a 5 s send stall)."""
        for i in range(0, len(data), chunk):
            try:
                s.sendall(data[i:i + chunk])
            except socket.timeout:
                return "blocked"
            except OSError:
                return "closed"
        return "sent"

    def test_90z1_rapid_reset_gets_goaway_and_the_proxy_keeps_serving(self):
        self.assertH2Serving("start")
        self.rec.reset()
        s = self.h2_connect()
        streams = 1000
        burst = b"".join(h2_frame(HEADERS, END_HEADERS | END_STREAM, 2 * i + 1, hpack_request(b"rec.test", b"/reset")) +
                         h2_frame(RST_STREAM, 0, 2 * i + 1, struct.pack("!I", 8)) for i in range(streams))
        outcome = self.send_all(s, burst)
        frames, closed = h2_read_frames(s, total=5.0)
        codes = goaway_codes(frames)
        where = "send %s; GOAWAY codes %s; closed=%s; origin got %d requests" % (
            outcome, codes, closed, len(self.rec.requests))
        self.assertTrue(not codes or codes[0] == ENHANCE_YOUR_CALM, where)
        self.assertCutOff(frames, closed, where)
        self.assertLess(len(self.rec.requests), streams // 2, "most reset streams still went upstream: " + where)
        self.assertH2Serving("rapid reset")

    def test_90z2_continuation_flood_closes_the_connection(self):
        self.rec.reset()
        s = self.h2_connect()
        header = b"\x00\x03x-f" + bytes([100]) + b"a" * 100
        flood = h2_frame(HEADERS, END_STREAM, 1, hpack_request(b"rec.test", b"/cont")) + \
            b"".join(h2_frame(CONTINUATION, 0, 1, header) for _ in range(20000))
        t0 = time.monotonic()
        outcome = self.send_all(s, flood)
        frames, closed = h2_read_frames(s, total=5.0)
        where = "send %s; GOAWAY codes %s; closed=%s after %.1fs; origin got %r" % (
            outcome, goaway_codes(frames), closed, time.monotonic() - t0, self.rec.requests)
        self.assertCutOff(frames, closed, where)
        self.assertEqual(self.rec.requests, [], where)
        self.assertH2Serving("CONTINUATION flood")

    def test_90z3_settings_and_ping_floods_are_cut_off(self):
        for label, frame, count in [("SETTINGS", h2_frame(SETTINGS, 0, 0), 300000),
                                    ("PING", h2_frame(PING, 0, 0, b"12345678"), 200000)]:
            with self.subTest(label):
                before = rss_kb(self.proxy.pid)
                s = self.h2_connect(rcvbuf=4096)  # the flooding client never reads
                outcome = self.send_all(s, frame * count)
                after = rss_kb(self.proxy.pid)
                frames, closed = h2_read_frames(s, total=5.0)
                where = "%s x%d: send %s; GOAWAY codes %s; closed=%s; RSS %s -> %s kB" % (
                    label, count, outcome, goaway_codes(frames), closed, before, after)
                if outcome != "blocked":  # throttled: the proxy stopped reading the flood
                    self.assertCutOff(frames, closed, where)
                self.assertLess(after - before, 64 * 1024, where)
                s.close()
                self.assertH2Serving("%s flood" % label)
