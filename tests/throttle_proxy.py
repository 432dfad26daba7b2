"""A fault-injecting HTTP proxy for an S3 endpoint: throttling, timeouts, resets.

It sits between a client and a real S3 server (SeaweedFS in the integration tier) and,
for a seeded fraction of requests — or for every request during a burst — answers in one
of the ways a throttled or flaky S3 does:

- ``slowdown``: ``503 SlowDown`` with S3's XML error body (the request never reaches the
  server);
- ``reset``: the connection is reset (TCP RST) before the request reaches the server;
- ``timeout``: the request reaches the server, which does it, and the answer is held
  back longer than the client's read timeout (the client cannot know whether a write
  happened: it must retry safely);
- ``lost``: the request reaches the server, then the connection is reset instead of the
  answer (the same doubt, sooner).

Every request is forwarded on its own upstream connection (``Connection: close``), so
request boundaries are known without understanding more HTTP than the request head and a
``Content-Length`` or chunked body. ``Expect: 100-continue`` is answered by the proxy.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

FAULTS = ("slowdown", "reset", "timeout", "lost")
_SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


@dataclass
class ThrottleProxy:
    """``with ThrottleProxy(("127.0.0.1", port), rate=0.1) as proxy: proxy.endpoint``."""

    upstream: tuple[str, int]
    rate: float = 0.1
    faults: tuple[str, ...] = FAULTS
    seed: int = 0
    hold_seconds: float = 2.0  # how long a "timeout" answer is held back
    latency: float = 0.0  # seconds added to every forwarded request (a slow link)
    bytes_per_second: float = 0.0  # request bodies throttled to this rate (0: no limit)
    stats: Counter[str] = field(default_factory=Counter)
    ops: Counter[str] = field(default_factory=Counter)  # requests by kind: GET, PUT, LIST…
    _burst_until: float = 0.0
    _rng: random.Random = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: socket.socket | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # --- control ----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.getsockname()[:2]
        return f"http://{host}:{port}"

    def burst(self, seconds: float) -> None:
        """Fail every request for the next ``seconds``."""
        self._burst_until = time.monotonic() + seconds

    def __enter__(self) -> ThrottleProxy:
        server = socket.create_server(("127.0.0.1", 0))
        server.settimeout(0.2)
        self._server = server
        threading.Thread(target=self._accept, name="throttle-proxy", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        if self._server is not None:
            self._server.close()

    # --- serving ----------------------------------------------------------------------

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _fault(self) -> str | None:
        with self._lock:
            self.stats["requests"] += 1
            bursting = time.monotonic() < self._burst_until
            if bursting or self._rng.random() < self.rate:
                kind = self._rng.choice(self.faults)
                self.stats[kind] += 1
                self.stats["burst" if bursting else "random"] += 1
                return kind
            return None

    def _serve(self, conn: socket.socket) -> None:
        reader = _Reader(conn)
        try:
            while not self._stopped.is_set():
                head = reader.head()
                if head is None:
                    return
                request = reader.body(head, conn)
                with self._lock:
                    self.ops[_op(head[0])] += 1
                kind = self._fault()
                if kind == "slowdown":
                    conn.sendall(
                        b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                        % (len(_SLOWDOWN), _SLOWDOWN)
                    )
                    return
                if kind == "reset":
                    _reset(conn)
                    return
                self._delay(len(request))
                response = self._forward(request)
                if kind == "lost":
                    _reset(conn)
                    return
                if kind == "timeout":
                    self._stopped.wait(self.hold_seconds)
                    return
                conn.sendall(response)
                if b"\r\nconnection: close" in response.split(b"\r\n\r\n", 1)[0].lower():
                    return
        except OSError:
            return
        finally:
            conn.close()

    def _delay(self, size: int) -> None:
        seconds = self.latency + (size / self.bytes_per_second if self.bytes_per_second else 0)
        if seconds > 0:
            self._stopped.wait(seconds)

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as up:
            up.sendall(request)
            chunks = []
            while chunk := up.recv(1 << 16):
                chunks.append(chunk)
        return b"".join(chunks)


class _Reader:
    """Reads one request at a time from a client connection."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        # A bytearray: appending is amortized O(1), so a 64 MiB body costs one copy, not
        # a quadratic series of them.
        self.buffer = bytearray()

    def _fill(self) -> bool:
        chunk = self.conn.recv(1 << 20)
        self.buffer += chunk
        return bool(chunk)

    def head(self) -> list[bytes] | None:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        end = self.buffer.index(b"\r\n\r\n")
        raw = bytes(self.buffer[:end])
        del self.buffer[: end + 4]
        return raw.split(b"\r\n")

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not self._fill():
                raise ConnectionError("client closed mid-body")
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionError("client closed mid-body")
        end = self.buffer.index(b"\r\n")
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    def body(self, head: list[bytes], conn: socket.socket) -> bytes:
        """The whole request, re-headed for a one-shot upstream connection."""
        lines = [head[0]]
        length, chunked, expect = 0, False, False
        for line in head[1:]:
            name, _, value = line.partition(b":")
            lower = name.strip().lower()
            if lower == b"content-length":
                length = int(value.strip())
            elif lower == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif lower == b"expect":
                expect = True
                continue
            elif lower == b"connection":
                continue
            lines.append(line)
        lines.append(b"Connection: close")
        if expect:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if chunked:
            parts = []
            while True:
                size_line = self._line()
                size = int(size_line.split(b";")[0], 16)
                if size == 0:  # the last chunk, then trailers up to an empty line
                    parts.append(size_line + b"\r\n")
                    while (trailer := self._line()) != b"":
                        parts.append(trailer + b"\r\n")
                    parts.append(b"\r\n")
                    break
                parts.append(size_line + b"\r\n" + self._take(size + 2))
            payload = b"".join(parts)
        else:
            payload = self._take(length)
        return b"\r\n".join(lines) + b"\r\n\r\n" + payload


def _op(request_line: bytes) -> str:
    """The S3 request kind: the HTTP method, or LIST for a listing GET."""
    method, _, rest = request_line.partition(b" ")
    target = rest.split(b" ", 1)[0]
    if method == b"GET" and (b"list-type=" in target or b"delimiter=" in target):
        return "LIST"
    return method.decode("ascii", "replace")


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
