#!/usr/bin/python3
"""A viewer for slow-link tests and the bench, run inside a network namespace (ip netns exec NS ...).

  slow_client.py mjpeg|ws URL SECONDS [--size N]

Reads /stream.mjpg (multipart) or /ws (HTTP/1.1 upgrade; add ?meta=1 to the URL for capture times)
for SECONDS. One JSON line per frame on stdout: arrival (this machine's clock, Unix seconds), ts
(capture time from X-Timestamp / meta "ts"), bytes, seq, width, height (from the JPEG's SOF). The last
line is the summary: {"end": "time"|"closed"|"error", "frames": N, "detail": ...}.
Reads in small chunks (the socket's receive buffer is left to the kernel) so the link, not this
process, is the bottleneck.
"""
import json
import os
import socket
import struct
import sys
import time
import urllib.parse


def fakecam_stamp(data):
    """The bench's fake camera writes 'fakecam seq=N t=<CLOCK_REALTIME ns>' into a comment: the same
    capture clock for every server (µStreamer's X-Timestamp is not wall-clock time)."""
    i = data.find(b"fakecam seq=", 0, 400)
    if i < 0:
        return None
    j = data.find(b" t=", i)
    k = j + 3
    while k < len(data) and 48 <= data[k] <= 57:
        k += 1
    return int(data[j + 3:k]) / 1e9


def jpeg_size(data):
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return (0, 0)
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return (w, h)
        seg = struct.unpack(">H", data[i + 2:i + 4])[0]
        i += 2 + seg
    return (0, 0)


class Reader:
    def __init__(self, sock, deadline):
        self.sock = sock
        self.buf = bytearray()
        self.deadline = deadline

    def fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError()
        self.sock.settimeout(min(left, 60))
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError()
        self.buf += chunk

    def exactly(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return out.decode("latin-1")
            self.fill()


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def request(sock, url, extra):
    path = url.path + ("?" + url.query if url.query else "")
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (path, url.hostname, url.port, extra)).encode())


def head(reader):
    status = reader.line()
    headers = {}
    while True:
        l = reader.line()
        if not l:
            return status, headers
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()


def mjpeg(reader):
    n = 0
    while True:
        l = reader.line()
        if not l.startswith("--"):
            continue
        headers = {}
        while True:
            h = reader.line()
            if not h:
                break
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers["content-length"])
        body = reader.exactly(length)
        n += 1
        w, h = jpeg_size(body)
        stamp = fakecam_stamp(body)
        emit(arrival=time.time(), ts=stamp if stamp is not None else float(headers.get("x-timestamp", "0")), bytes=length,
             seq=int(headers.get("x-frame-sequence", "0")), width=w, height=h)
    return n


def ws(reader):
    ts, seq = 0.0, 0
    while True:
        b0, b1 = reader.exactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", reader.exactly(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", reader.exactly(8))[0]
        payload = reader.exactly(n)
        op = b0 & 0x0F
        if op == 1:
            meta = json.loads(payload)
            ts, seq = meta.get("ts", 0.0), meta.get("seq", 0)
        elif op == 2:
            w, h = jpeg_size(payload)
            stamp = fakecam_stamp(payload)
            emit(arrival=time.time(), ts=stamp if stamp is not None else ts, bytes=n, seq=seq, width=w, height=h)
        elif op == 8:
            raise EOFError()


def main():
    kind, raw, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    url = urllib.parse.urlsplit(raw)
    deadline = time.monotonic() + seconds
    frames = 0
    try:
        sock = socket.create_connection((url.hostname, url.port), timeout=30)
        reader = Reader(sock, deadline)
        if kind == "ws":
            key = "dGhlIHNhbXBsZSBub25jZQ=="
            request(sock, url, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n" % key)
        else:
            request(sock, url, "")
        status, headers = head(reader)
        emit(status=int(status.split()[1]), headers=headers)
        if kind == "ws":
            ws(reader)
        else:
            mjpeg(reader)
    except TimeoutError:
        emit(end="time", detail="")
    except (EOFError, ConnectionError) as e:
        emit(end="closed", detail=repr(e))
    except Exception as e:  # noqa: BLE001 - the summary says what went wrong
        emit(end="error", detail=repr(e))


if __name__ == "__main__":
    main()
