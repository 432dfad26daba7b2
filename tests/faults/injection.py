"""Deterministic fault injection for store tests.

:class:`FaultyStore` wraps any :class:`ObjectStore` and makes a seeded fraction of its
requests fail, at one of two layers:

- ``layer="http"`` (S3 stores only): faults are injected below botocore's retry loop,
  through the client's ``before-send`` event — a synthetic ``500 InternalError`` or
  ``503 SlowDown`` response, a read timeout, or a connection reset. The store's own
  retries must absorb them, so operations succeed unless the rate is too high for
  ``max_attempts``, when they fail with the backend's translated error.
- ``layer="store"`` (any backend): a request fails as a backend reports a failure it
  gave up on (:class:`StoreUnavailable` for timeouts/resets/503, :class:`StoreError` for
  500). The ``lost_response`` fault applies the request and *then* fails, the case where
  a retry must be idempotent (a retried create-only write then sees ``ObjectExists``).

The same seed gives the same sequence of faults for the same sequence of requests; with
several threads the sequence is shared, so only the fraction is deterministic.
"""

from __future__ import annotations

import io
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

from dsops.errors import StoreError, StoreUnavailable
from dsops.storage.base import ObjectInfo, ObjectStore

T = TypeVar("T")

KINDS = ("PUT", "GET", "HEAD", "LIST", "DELETE", "POST")
HTTP_FAULTS = ("500", "503", "timeout", "reset")
STORE_FAULTS = (*HTTP_FAULTS, "lost_response")

_ERROR_BODY = {
    "500": b"<Error><Code>InternalError</Code><Message>injected fault</Message></Error>",
    "503": b"<Error><Code>SlowDown</Code><Message>injected fault</Message></Error>",
}


class FaultPlan:
    """A seeded coin: for each request of a selected kind, which fault (if any) to raise."""

    def __init__(
        self,
        failure_rate: float,
        seed: int,
        kinds: Sequence[str] = KINDS,
        faults: Sequence[str] = HTTP_FAULTS,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError(f"failure_rate must be within [0, 1], not {failure_rate}")
        self.failure_rate = failure_rate
        self.kinds = frozenset(kinds)
        self.faults = tuple(faults)
        self.injected: Counter[str] = Counter()
        self.seen = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self, kind: str) -> str | None:
        """The fault to inject for one request of ``kind``, or None to let it through."""
        if kind not in self.kinds:
            return None
        with self._lock:
            self.seen += 1
            if self._random.random() >= self.failure_rate:
                return None
            fault = self._random.choice(self.faults)
            self.injected[fault] += 1
            return fault


class _RawBody(io.BytesIO):
    """What botocore reads a response body from (urllib3's ``stream`` interface)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def _http_kind(request: Any) -> str:
    method = str(request.method).upper()
    if method == "GET" and "list-type=" in str(request.url):
        return "LIST"
    return method


class FaultyStore(ObjectStore):
    """Wrap ``inner`` so that ``failure_rate`` of its requests fail (see module doc).

    Args:
        inner: The store to wrap.
        failure_rate: Fraction of selected requests that fail, 0.0 … 1.0.
        seed: Seed of the fault sequence.
        kinds: Request kinds that may fail (``PUT``, ``GET``, ``HEAD``, ``LIST``,
            ``DELETE``, ``POST``).
        faults: Which faults to draw from (``500``, ``503``, ``timeout``, ``reset``, and
            at the store layer ``lost_response``).
        layer: ``"http"`` (below the client's retries; S3 stores) or ``"store"``.
    """

    def __init__(
        self,
        inner: ObjectStore,
        failure_rate: float,
        seed: int = 0,
        *,
        kinds: Sequence[str] = KINDS,
        faults: Sequence[str] | None = None,
        layer: str = "store",
    ) -> None:
        if layer not in ("http", "store"):
            raise ValueError(f"layer must be 'http' or 'store', not {layer!r}")
        if faults is None:
            faults = HTTP_FAULTS if layer == "http" else STORE_FAULTS
        if layer == "http" and "lost_response" in faults:
            raise ValueError("lost_response is a store-layer fault")
        self.inner = inner
        self.url = inner.url
        self.layer = layer
        self.plan = FaultPlan(failure_rate, seed, kinds, faults)
        if layer == "http":
            client = getattr(inner, "client", None)
            if client is None or not hasattr(client, "meta"):
                raise TypeError(f"layer='http' needs a botocore-backed store, not {inner!r}")
            client.meta.events.register("before-send.s3", self._before_send)

    # --- http layer ---------------------------------------------------------------------

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        fault = self.plan.draw(_http_kind(request))
        if fault is None:
            return None
        if fault == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        if fault == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        body = b"" if request.method == "HEAD" else _ERROR_BODY[fault]
        return AWSResponse(request.url, int(fault), {}, _RawBody(body))

    # --- store layer --------------------------------------------------------------------

    def _call(self, kind: str, key: str, op: Callable[[], T]) -> T:
        fault = self.plan.draw(kind) if self.layer == "store" else None
        if fault is None:
            return op()
        if fault == "lost_response":
            op()
            raise StoreUnavailable(
                f"Connection reset after sending {kind} {self.url}/{key} (injected fault).",
                key=key,
                store=self.url,
            )
        if fault == "500":
            raise StoreError(
                f"{kind} {self.url}/{key} failed: InternalError (HTTP 500, injected fault).",
                key=key,
                store=self.url,
            )
        raise StoreUnavailable(
            f"{kind} {self.url}/{key} failed: {fault} (injected fault).",
            key=key,
            store=self.url,
        )

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        return self._call("GET", key, lambda: self.inner.get_with_etag(key))

    def get_range(self, key: str, start: int, end: int) -> bytes:
        return self._call("GET", key, lambda: self.inner.get_range(key, start, end))

    def put(self, key: str, data: bytes) -> str:
        return self._call("PUT", key, lambda: self.inner.put(key, data))

    def put_if_absent(self, key: str, data: bytes) -> str:
        return self._call("PUT", key, lambda: self.inner.put_if_absent(key, data))

    def put_if_match(self, key: str, data: bytes, etag: str) -> str:
        return self._call("PUT", key, lambda: self.inner.put_if_match(key, data, etag))

    def head(self, key: str) -> ObjectInfo:
        return self._call("HEAD", key, lambda: self.inner.head(key))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        # Listed eagerly, so that a fault fires at the call like a failed first page.
        return self._call("LIST", prefix, lambda: iter(list(self.inner.list(prefix))))

    def delete(self, key: str) -> None:
        self._call("DELETE", key, lambda: self.inner.delete(key))

    def put_file(self, key: str, path: Path) -> str:
        return self._call("PUT", key, lambda: self.inner.put_file(key, path))

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        return self._call("PUT", key, lambda: self.inner.put_file_if_absent(key, path))

    def refresh(self, key: str, source: Path | bytes) -> None:
        self._call("PUT", key, lambda: self.inner.refresh(key, source))

    def get_file(self, key: str, path: Path) -> None:
        self._call("GET", key, lambda: self.inner.get_file(key, path))

    def close(self) -> None:
        self.inner.close()


def exercise_store(store: ObjectStore, tmp_path: Path) -> None:
    """Every primitive a few times on a fresh store, checking what comes back."""
    for i in range(10):
        store.put(f"k/{i}", f"value-{i}".encode())
    etag = store.put_if_absent("once", b"first")
    store.put_if_match("once", b"second", etag)
    assert store.get("once") == b"second"
    for i in range(10):
        assert store.get(f"k/{i}") == f"value-{i}".encode()
        assert store.get_range(f"k/{i}", 0, 5) == b"value"
        assert store.head(f"k/{i}").size == len(f"value-{i}")
    assert len(store.list_keys("k/")) == 10
    src = tmp_path / "src.bin"
    src.write_bytes(b"f" * 10_000)
    store.put_file("file", src)
    store.get_file("file", tmp_path / "dst.bin")
    assert (tmp_path / "dst.bin").read_bytes() == src.read_bytes()
    store.delete("k/0")
    assert not store.exists("k/0")


class LostReplies:
    """Every conditional PUT is applied on the server, then its reply is lost, once.

    Registered below botocore's retry loop (``before-send``): the request is sent for
    real, then a connection reset is raised, so botocore retries it and the retry meets
    the first attempt's write (``412``). ``lost`` counts the replies dropped.
    """

    def __init__(self, client: Any) -> None:
        import urllib3

        self._http = urllib3.PoolManager()
        self._seen: set[tuple[str, bytes]] = set()
        self._lock = threading.Lock()
        self.lost = 0
        client.meta.events.register("before-send.s3", self._before_send)

    def _before_send(self, request: Any, **_: Any) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        conditional = "if-none-match" in headers or "if-match" in headers
        if request.method != "PUT" or not conditional:
            return None
        body = request.body
        if hasattr(body, "read"):
            start = body.tell()
            body, _ = body.read(), body.seek(start)
        if not isinstance(body, (bytes, bytearray)):
            return None
        marker = (str(request.url), bytes(body))
        with self._lock:
            if marker in self._seen:
                return None  # the retry goes through (and is refused by our own write)
            self._seen.add(marker)
            self.lost += 1
        sent = {k: v for k, v in request.headers.items() if k.lower() != "expect"}
        self._http.request("PUT", request.url, body=bytes(body), headers=sent, retries=False)
        raise ConnectionClosedError(endpoint_url=request.url)
