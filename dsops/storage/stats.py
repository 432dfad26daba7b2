"""Request counters a remote backend keeps, so benchmarks can count PUTs, GETs and bytes."""

from __future__ import annotations

import threading

KINDS = ("PUT", "GET", "LIST", "HEAD", "DELETE", "POST")


class RequestStats:
    """Thread-safe counters: requests by kind, HTTP attempts and bytes each way.

    ``PUT``/``GET``/``LIST``/``HEAD``/``DELETE``/``POST`` count logical requests (one per
    API call, whatever its outcome); ``attempts`` counts HTTP requests actually sent, so
    ``attempts - requests`` is the number of retries. ``bytes_sent`` and
    ``bytes_received`` count object payloads, not headers.

    Example:
        >>> stats = RequestStats()
        >>> stats.count("PUT", sent=10)
        >>> stats.snapshot()["PUT"], stats.snapshot()["bytes_sent"]
        (1, 10)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self._lock:
            self._counts = dict.fromkeys(
                (*KINDS, "requests", "attempts", "bytes_sent", "bytes_received"), 0
            )

    def count(self, kind: str, *, sent: int = 0, received: int = 0) -> None:
        """Record one logical request of ``kind`` and the payload bytes it carried."""
        with self._lock:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._counts["requests"] += 1
            self._counts["bytes_sent"] += sent
            self._counts["bytes_received"] += received

    def add(self, name: str, amount: int = 1) -> None:
        """Add to one counter without counting a request (attempts, late byte counts)."""
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + amount

    def snapshot(self) -> dict[str, int]:
        """A copy of the counters, consistent at one instant."""
        with self._lock:
            return dict(self._counts)
