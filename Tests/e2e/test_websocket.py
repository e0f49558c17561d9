"""WebSocket upgrade tunnelled through the proxy (brief item 7), with a
minimal raw-socket client (RFC 6455)."""

import base64
import hashlib
import os
import socket
import struct
import time
import unittest

from harness import E2ETestCase, LOOPBACK, route_yaml

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WSClient(object):
    def __init__(self, port, path, host, timeout=10.0, addr=LOOPBACK, tls_context=None):
        self.sock = socket.create_connection((addr, port), timeout=timeout)
        if tls_context is not None:
            self.sock = tls_context.wrap_socket(self.sock, server_hostname=host)
        self.buf = b""
        self.key = base64.b64encode(os.urandom(16))
        req = (b"GET " + path.encode() + b" HTTP/1.1\r\n"
               b"Host: " + host.encode() + b"\r\n"
               b"Upgrade: websocket\r\n"
               b"Connection: Upgrade\r\n"
               b"Sec-WebSocket-Key: " + self.key + b"\r\n"
               b"Sec-WebSocket-Version: 13\r\n"
               b"Origin: http://" + host.encode() + b"\r\n\r\n")
        self.sock.sendall(req)
        head = self._read_until(b"\r\n\r\n", limit=65536)
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        self.headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                self.headers[k.strip().lower()] = v.strip()

    def expected_accept(self):
        return base64.b64encode(hashlib.sha1(self.key + GUID).digest()).decode()

    def _recv_more(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by peer (buffered %d bytes)" % len(self.buf))
        self.buf += data

    def _read_until(self, marker, limit):
        deadline = time.monotonic() + 10
        while marker not in self.buf:
            if len(self.buf) > limit or time.monotonic() > deadline:
                raise AssertionError("no %r in %r" % (marker, self.buf[:200]))
            self._recv_more()
        head, self.buf = self.buf.split(marker, 1)
        return head

    def _read_exact(self, n):
        deadline = time.monotonic() + 10
        while len(self.buf) < n:
            if time.monotonic() > deadline:
                raise AssertionError("timed out reading %d bytes" % n)
            self._recv_more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_frame(self, opcode, payload, fin=True):
        header = bytearray([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header.append(0x80 | 126)
            header += struct.pack("!H", n)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", n)
        mask = os.urandom(4)
        header += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
        self.sock.sendall(bytes(header) + masked)

    def recv_frame(self):
        b0, b1 = self._read_exact(2)
        fin = bool(b0 & 0x80)
        opcode = b0 & 0x0F
        masked = bool(b1 & 0x80)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read_exact(8))[0]
        mask = self._read_exact(4) if masked else None
        payload = self._read_exact(n)
        if mask:
            payload = _mask_fast(payload, mask)
        return fin, opcode, masked, payload

    def recv_message(self):
        """Reassembles fragments; returns (opcode, payload); control frames are returned as they come."""
        fin, opcode, masked, payload = self.recv_frame()
        if masked:
            raise AssertionError("server frames must not be masked")
        if opcode >= 0x8 or fin:
            return opcode, payload
        parts = [payload]
        for _ in range(10000):
            fin, op, masked, payload = self.recv_frame()
            if op != OP_CONT:
                raise AssertionError("expected a continuation frame, got opcode %d" % op)
            parts.append(payload)
            if fin:
                break
        return opcode, b"".join(parts)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _mask_fast(payload, mask):
    n = len(payload)
    m = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""


class WebSocketSession(object):
    """A whoami origin `s1` behind a proxy at ws.test, and a whole WebSocket session through it."""

    def setUp(self):
        super(WebSocketSession, self).setUp()
        self.o1 = self.start_whoami("o1")
        self.write("ws.yml", route_yaml({"ws": {"rule": "Host(`ws.test`)", "service": "s1"}}, {"s1": [self.o1.url]}))
        self.proxy = self.start_proxy(throttle="0s")
        self.proxy.wait_status("ws.test", 200)

    def session(self, port, path, host, tls_context=None):
        c = WSClient(port, path, host, tls_context=tls_context)
        self.addCleanup(c.close)
        self.assertEqual(c.status, 101, "handshake answer: %s %s" % (c.status_line, c.headers))
        self.assertEqual(c.headers.get("upgrade", "").lower(), "websocket", c.headers)
        self.assertIn("upgrade", c.headers.get("connection", "").lower(), c.headers)
        self.assertEqual(c.headers.get("sec-websocket-accept"), c.expected_accept(), c.headers)

        # text frames with 7-bit and 16-bit lengths (whoami's frame limit is 16 KB, see test_07e)
        for text in ["hello", "é" * 100, "z" * 16000]:
            c.send_frame(OP_TEXT, text.encode("utf-8"))
            op, payload = c.recv_message()
            self.assertEqual(op, OP_TEXT)
            self.assertEqual(payload.decode("utf-8"), text)
        # binary
        blob = os.urandom(3000)
        c.send_frame(OP_BINARY, blob)
        self.assertEqual(c.recv_message(), (OP_BINARY, blob))
        # many small messages back to back, then read them all
        for i in range(50):
            c.send_frame(OP_TEXT, ("msg-%d" % i).encode())
        for i in range(50):
            self.assertEqual(c.recv_message(), (OP_TEXT, ("msg-%d" % i).encode()))
        # ping -> pong with the same payload
        c.send_frame(OP_PING, b"are-you-there")
        self.assertEqual(c.recv_message(), (OP_PONG, b"are-you-there"))
        # close handshake
        c.send_frame(OP_CLOSE, struct.pack("!H", 1000) + b"bye")
        op, payload = c.recv_message()
        self.assertEqual(op, OP_CLOSE)
        if payload:
            self.assertEqual(struct.unpack("!H", payload[:2])[0], 1000)
        # after the close handshake the server (through the proxy) closes the TCP connection
        c.sock.settimeout(5)
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline:
            try:
                if not c.sock.recv(4096):
                    closed = True
                    break
            except socket.timeout:
                break
            except OSError:
                closed = True
                break
        self.assertTrue(closed, "TCP connection not closed after the close handshake")


class WebSocketTests(WebSocketSession, E2ETestCase):

    def test_07_websocket_echo_through_proxy(self):
        self.session(self.proxy.web_port, "/ws", "ws.test")
        self.proxy.check_alive()
        self.assertWhoami(self.proxy.get("/", host="ws.test"), "o1", "plain HTTP after a WebSocket session")

    def test_07b_websocket_echo_path_through_proxy(self):
        self.session(self.proxy.web_port, "/echo", "ws.test")
        self.proxy.check_alive()

    def test_07c_websocket_direct_to_whoami(self):
        """The same session against the origin directly (tells origin bugs from proxy bugs)."""
        self.session(self.o1.port, "/ws", "ws.test")

    def test_07d_concurrent_websockets_and_http_on_other_connections(self):
        clients = [WSClient(self.proxy.web_port, "/ws", "ws.test") for _ in range(10)]
        for c in clients:
            self.addCleanup(c.close)
            self.assertEqual(c.status, 101)
        for i, c in enumerate(clients):
            c.send_frame(OP_TEXT, ("client-%d" % i).encode())
        # plain HTTP still works while the tunnels are open
        self.assertWhoami(self.proxy.get("/", host="ws.test"), "o1")
        for i, c in enumerate(clients):
            self.assertEqual(c.recv_message(), (OP_TEXT, ("client-%d" % i).encode()))

    def test_07e_websocket_large_frame_direct_to_whoami(self):
        c = WSClient(self.o1.port, "/ws", "ws.test")
        self.addCleanup(c.close)
        self.assertEqual(c.status, 101)
        text = "z" * 70000
        c.send_frame(OP_TEXT, text.encode())
        op, payload = c.recv_message()
        self.assertEqual(op, OP_TEXT, "answer %d %r" % (op, payload[:20]))
        self.assertEqual(payload.decode(), text)
