#!/usr/bin/python3
"""A WebSocket client for the tests, independent of .NET: RFC 6455 framing by hand, carried over
HTTP/2 extended CONNECT (RFC 8441, python3-h2) or an HTTP/1.1 upgrade, with or without TLS.

  ws_client.py URL --http 2|1.1 viewer N          read N binary messages; one JSON line each, then close
  ws_client.py URL --http 2|1.1 flood KIND SECS   read one frame, then flood pong|ping|fragment frames
  ws_client.py URL --http 2|1.1 push FILE N FPS   send FILE (a JPEG) N times at FPS; report the texts heard

URL is http(s)://host:port/path?query. Every result is a JSON line on stdout; the last one is the summary.
"""
import argparse
import json
import hashlib
import os
import select
import socket
import ssl
import struct
import sys
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events
import h2.settings


def ws_frame(opcode, payload=b"", fin=True):
    """A masked client frame."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n <= 0xFFFF:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


class Closed(Exception):
    pass


class Refused(Exception):
    """The server answered the handshake with this status instead of accepting the WebSocket."""


def tls_socket(host, port, alpn):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the tests' certificate is self-signed
    context.set_alpn_protocols([alpn])
    sock = context.wrap_socket(socket.create_connection((host, port), timeout=30), server_hostname=host)
    return sock


class H2Transport:
    """One WebSocket on one HTTP/2 stream opened with an extended CONNECT."""

    def __init__(self, url, headers):
        self.sock = tls_socket(url.hostname, url.port, "h2") if url.scheme == "https" else socket.create_connection((url.hostname, url.port), timeout=30)
        if url.scheme == "https" and self.sock.selected_alpn_protocol() != "h2":
            raise SystemExit("server did not negotiate h2: %r" % self.sock.selected_alpn_protocol())
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 22})
        self.conn.increment_flow_control_window(1 << 28)
        self.flush()
        self.buffer = bytearray()
        self.closed = None
        self.status = None
        deadline = time.monotonic() + 30
        while self.conn.remote_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL, 0) != 1:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not offer SETTINGS_ENABLE_CONNECT_PROTOCOL")
            self.pump(1)
        self.stream = self.conn.get_next_available_stream_id()
        path = url.path + ("?" + url.query if url.query else "")
        self.conn.send_headers(self.stream, [
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", url.scheme),
            (":path", path), (":authority", "%s:%d" % (url.hostname, url.port)),
            ("sec-websocket-version", "13")] + headers)
        self.flush()
        while self.status is None or self.status != 200:
            if self.status is not None:
                raise Refused(self.status)
            if self.closed:
                raise SystemExit("stream ended before a response: " + self.closed)
            if time.monotonic() > deadline:
                raise SystemExit("no response to CONNECT")
            self.pump(1)

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def pump(self, timeout):
        """Reads what the server sent within timeout and handles it."""
        if not (self.sock.pending() if isinstance(self.sock, ssl.SSLSocket) else 0):
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionError, ssl.SSLError) as e:
            self.closed = self.closed or "connection error: %s" % e
            return
        if not data:
            self.closed = self.closed or "connection closed"
            return
        for event in self.conn.receive_data(data):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == self.stream:
                self.status = int(dict(event.headers)[":status"])
                if self.status != 200:
                    self.closed = "status %d" % self.status
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == self.stream:
                self.buffer += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == self.stream:
                self.closed = "stream reset (error %s)" % event.error_code
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == self.stream:
                self.closed = self.closed or "stream ended"
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.closed = "connection terminated"
        self.flush()

    def send(self, data):
        while data:
            if self.closed:
                raise Closed(self.closed)
            room = min(self.conn.local_flow_control_window(self.stream), self.conn.max_outbound_frame_size)
            if room <= 0:
                self.pump(0.05)
                continue
            self.conn.send_data(self.stream, data[:room])
            data = data[room:]
            self.flush()


class H1Transport:
    """One WebSocket on an HTTP/1.1 upgrade, over TLS (https) or plain TCP (http)."""

    def __init__(self, url, headers):
        self.sock = tls_socket(url.hostname, url.port, "http/1.1") if url.scheme == "https" else socket.create_connection((url.hostname, url.port), timeout=30)
        path = url.path + ("?" + url.query if url.query else "")
        extra = "".join("%s: %s\r\n" % h for h in headers)
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, url.hostname, url.port, extra)).encode())
        self.buffer = bytearray()
        self.closed = None
        while b"\r\n\r\n" not in self.buffer:
            self.pump(30)
            if self.closed:
                raise SystemExit("no upgrade: " + self.closed)
        end = self.buffer.index(b"\r\n\r\n") + 4
        head = bytes(self.buffer[:end]).decode("latin-1")
        del self.buffer[:end]
        self.status = int(head.split(" ", 2)[1])
        if self.status != 101:
            raise Refused(self.status)

    def pump(self, timeout):
        if not (self.sock.pending() if isinstance(self.sock, ssl.SSLSocket) else 0):
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return
        try:
            data = self.sock.recv(1 << 16)
        except (ConnectionError, ssl.SSLError, OSError) as e:
            self.closed = self.closed or "connection error: %s" % e
            return
        if not data:
            self.closed = self.closed or "connection closed"
            return
        self.buffer += data

    def send(self, data):
        if self.closed:
            raise Closed(self.closed)
        # Keep reading while sending, so the server's frames never block it from reading ours.
        view = memoryview(data)
        while view:
            _, writable, _ = select.select([], [self.sock], [], 0.05)
            if writable:
                try:
                    n = self.sock.send(view[:16384])
                except (ConnectionError, ssl.SSLError, OSError) as e:
                    self.closed = "connection error: %s" % e
                    raise Closed(self.closed)
                view = view[n:]
            else:
                self.pump(0)
                if self.closed:
                    raise Closed(self.closed)


def next_frame(t, timeout):
    """The next whole server frame (opcode, payload), or None when the connection or stream ended."""
    deadline = time.monotonic() + timeout
    while True:
        b = t.buffer
        if len(b) >= 2:
            n = b[1] & 0x7F
            at = 2
            if n == 126 and len(b) >= 4:
                n, at = struct.unpack(">H", b[2:4])[0], 4
            elif n == 127 and len(b) >= 10:
                n, at = struct.unpack(">Q", b[2:10])[0], 10
            if n < 126 or at > 2:
                if b[1] & 0x80:
                    raise SystemExit("the server masked a frame")
                if len(b) >= at + n:
                    opcode, payload = b[0] & 0x0F, bytes(b[at:at + n])
                    del b[:at + n]
                    return opcode, payload
        if t.closed:
            return None
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for a frame")
        t.pump(1)


def emit(**fields):
    print(json.dumps(fields), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--http", choices=["2", "1.1"], required=True)
    parser.add_argument("--header", action="append", default=[], help="NAME: VALUE")
    parser.add_argument("mode", choices=["viewer", "flood", "push"])
    parser.add_argument("args", nargs="*")
    a = parser.parse_args()
    url = urllib.parse.urlsplit(a.url)
    headers = [tuple(x.strip() for x in h.split(":", 1)) for h in a.header]
    headers = [(k.lower(), v) for k, v in headers]
    t = (H2Transport if a.http == "2" else H1Transport)(url, headers)
    protocol = "h2" if a.http == "2" else "http/1.1"

    if a.mode == "viewer":
        wanted, got = int(a.args[0]), 0
        while got < wanted:
            frame = next_frame(t, 30)
            if frame is None:
                emit(summary=True, protocol=protocol, frames=got, ended=t.closed)
                return
            opcode, payload = frame
            if opcode == 2:
                got += 1
                emit(bytes=len(payload), jpeg=payload[:2] == b"\xff\xd8" and payload[-2:] == b"\xff\xd9",
                     md5=hashlib.md5(payload).hexdigest())
        t.send(ws_frame(8, struct.pack(">H", 1000)))
        status = None
        while True:
            frame = next_frame(t, 10)
            if frame is None:
                break
            if frame[0] == 8:
                status = struct.unpack(">H", frame[1][:2])[0] if len(frame[1]) >= 2 else 1005
                # The server ends the connection (or stream) after the closing handshake.
                deadline = time.monotonic() + 10
                while not t.closed and time.monotonic() < deadline:
                    t.pump(1)
                break
        emit(summary=True, protocol=protocol, frames=got, closeStatus=status, ended=t.closed)

    elif a.mode == "flood":
        kind, seconds = a.args[0], float(a.args[1])
        first = next_frame(t, 30)
        if first is None:
            raise SystemExit("no first frame: %s" % t.closed)
        frame = {"pong": ws_frame(10, b"p" * 125), "ping": ws_frame(9, b"q" * 125),
                 "fragment": None}[kind]
        batch = ws_frame(2, b"", fin=False) + b"".join(ws_frame(0, b"", fin=False) for _ in range(99)) if kind == "fragment" else frame * 100
        start = time.monotonic()
        sent = 0
        try:
            while time.monotonic() - start < seconds:
                t.send(batch)
                sent += 100
                if kind == "fragment":
                    batch = b"".join(ws_frame(0, b"", fin=False) for _ in range(100))
                t.pump(0)
                while next_frame_nowait(t):
                    pass
                if t.closed:
                    break
        except Closed:
            pass
        # Whatever the server still had in flight may arrive before its end.
        while not t.closed and time.monotonic() - start < seconds:
            t.pump(0.2)
            while next_frame_nowait(t):
                pass
        emit(summary=True, protocol=protocol, sent=sent,
             closedAfter=round(time.monotonic() - start, 3) if t.closed else None, ended=t.closed)

    elif a.mode == "push":
        jpeg = open(a.args[0], "rb").read()
        count, fps = int(a.args[1]), float(a.args[2])
        texts = []
        for i in range(count):
            t.send(ws_frame(2, jpeg))
            until = time.monotonic() + 1 / fps
            while time.monotonic() < until:
                t.pump(max(0, until - time.monotonic()))
                while (frame := next_frame_nowait(t)) is not None:
                    if frame[0] == 1:
                        texts.append(frame[1].decode())
            if t.closed:
                break
        emit(summary=True, protocol=protocol, sent=count, texts=texts, ended=t.closed)


def next_frame_nowait(t):
    """A whole frame already buffered, or None."""
    if t.closed and not t.buffer:
        return None
    saved = t.closed
    try:
        t.closed = t.closed or "peek"
        return next_frame(t, 0)
    finally:
        t.closed = saved


if __name__ == "__main__":
    try:
        main()
    except Closed as e:
        emit(summary=True, error="closed: %s" % e)
    except Refused as e:
        emit(summary=True, refused=e.args[0])
