"""200 MB uploads and downloads stream through the proxy with bounded memory (brief item 6)."""

import http.client
import socket
import time

from harness import E2ETestCase, LOOPBACK, RSSSampler, Whoami, route_yaml, rss_kb

SIZE = 200 * 1024 * 1024          # 209715200
CHUNK = 256 * 1024
RSS_LIMIT_KB = 100 * 1024          # 100 MB
TRANSFER_TIMEOUT = 120.0           # per transfer, hard bound
STALL_TIMEOUT = 15                 # socket timeout: no progress for this long fails the test


def body_chunks(total, chunk=CHUNK, deadline=None):
    block = b"y" * chunk
    sent = 0
    while sent < total:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError("upload exceeded its time bound")
        n = min(chunk, total - sent)
        yield block if n == chunk else block[:n]
        sent += n


class StreamingTests(E2ETestCase):

    def setUp(self):
        super(StreamingTests, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.write("s.yml", route_yaml({"r1": {"rule": "Host(`big.test`)", "service": "s1"}}, {"s1": [self.o1.url]}))
        self.proxy = self.start_proxy(throttle="0s", log_level="INFO")
        self.proxy.wait_status("big.test", 200)

    def sampled(self, fn):
        """Runs fn() while sampling the proxy's RSS every 100 ms; returns (fn(), max RSS kB, baseline kB, seconds)."""
        sampler = RSSSampler(self.proxy.pid, interval=0.1, max_seconds=TRANSFER_TIMEOUT + 10)
        baseline = rss_kb(self.proxy.pid)
        sampler.start()
        t0 = time.monotonic()
        try:
            result = fn()
        finally:
            peak = sampler.stop()
        return result, peak, baseline, time.monotonic() - t0

    def report(self, what, peak, baseline, secs):
        print("\n    [%s: %.1fs, %.0f MB/s, proxy RSS baseline %.1f MB, peak %.1f MB]"
              % (what, secs, SIZE / 1048576.0 / secs, (baseline or 0) / 1024.0, (peak or 0) / 1024.0), end="")

    def upload(self, chunked):
        conn = http.client.HTTPConnection(LOOPBACK, self.proxy.web_port, timeout=STALL_TIMEOUT)
        try:
            headers = {"Host": "big.test", "Content-Type": "application/octet-stream"}
            deadline = time.monotonic() + TRANSFER_TIMEOUT
            if chunked:
                # an iterable body without Content-Length is sent with Transfer-Encoding: chunked
                conn.request("POST", "/upload", body=body_chunks(SIZE, deadline=deadline), headers=headers,
                             encode_chunked=True)
            else:
                headers["Content-Length"] = str(SIZE)
                conn.request("POST", "/upload", body=body_chunks(SIZE, deadline=deadline), headers=headers)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def test_06a_upload_200mb_chunked(self):
        (status, body), peak, base, secs = self.sampled(lambda: self.upload(chunked=True))
        self.report("chunked upload", peak, base, secs)
        self.assertEqual(status, 200, body[:300])
        w = Whoami(body.decode())
        self.assertEqual(w.hostname, "o1")
        self.assertEqual(w.body_bytes, SIZE, body[:600])
        self.assertLess(peak, RSS_LIMIT_KB, "proxy RSS peaked at %.1f MB" % (peak / 1024.0))
        self.proxy.check_alive()

    def test_06b_upload_200mb_content_length(self):
        (status, body), peak, base, secs = self.sampled(lambda: self.upload(chunked=False))
        self.report("Content-Length upload", peak, base, secs)
        self.assertEqual(status, 200, body[:300])
        w = Whoami(body.decode())
        self.assertEqual(w.hostname, "o1")
        self.assertEqual(w.header("Content-Length"), str(SIZE))
        self.assertEqual(w.body_bytes, SIZE, body[:600])
        self.assertLess(peak, RSS_LIMIT_KB, "proxy RSS peaked at %.1f MB" % (peak / 1024.0))
        self.proxy.check_alive()

    def test_06c_download_200mb(self):
        def download():
            conn = http.client.HTTPConnection(LOOPBACK, self.proxy.web_port, timeout=STALL_TIMEOUT)
            try:
                conn.request("GET", "/data?size=%d" % SIZE, headers={"Host": "big.test"})
                r = conn.getresponse()
                total = 0
                bad = 0
                deadline = time.monotonic() + TRANSFER_TIMEOUT
                while time.monotonic() < deadline:
                    try:
                        chunk = r.read(CHUNK)
                    except socket.timeout:
                        raise AssertionError("download stalled: no data for %ds after %d of %d bytes"
                                             % (STALL_TIMEOUT, total, SIZE))
                    if not chunk:
                        break
                    total += len(chunk)
                    if chunk.strip(b"x"):
                        bad += 1
                return r.status, r.getheader("Content-Length"), total, bad
            finally:
                conn.close()
        (status, clen, total, bad), peak, base, secs = self.sampled(download)
        self.report("download", peak, base, secs)
        self.assertEqual(status, 200)
        self.assertEqual(clen, str(SIZE))
        self.assertEqual(total, SIZE)
        self.assertEqual(bad, 0, "chunks with bytes other than 'x'")
        self.assertLess(peak, RSS_LIMIT_KB, "proxy RSS peaked at %.1f MB" % (peak / 1024.0))
        self.proxy.check_alive()
