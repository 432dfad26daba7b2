"""The object-store interface every backend implements.

A backend implements a handful of primitives with object-storage semantics — no rename,
no append, no directories — and inherits everything else from here, written once.
Keys are ``/``-separated relative strings (``versions/abc.json``).
"""

from __future__ import annotations

import builtins
import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsops.errors import ConfigError, CorruptRecord, ObjectExists, ObjectNotFound


@dataclass(frozen=True)
class ObjectInfo:
    """What ``head`` and ``list`` report of one object."""

    key: str
    size: int
    etag: str
    modified: float = 0.0  # POSIX seconds; 0.0 when the backend does not say


def check_key(key: str) -> str:
    """Refuse keys that could address something outside the store root."""
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(f"Invalid store key {key!r}: keys are relative, without '.' or '..'.")
    return key


class ObjectStore(ABC):
    """Primitives a backend provides; conditional writes make the commit protocol safe."""

    url: str

    # --- primitives -------------------------------------------------------------------

    @abstractmethod
    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        """Whole object and its etag. Raises :class:`ObjectNotFound`."""

    @abstractmethod
    def get_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` (clipped at the object's end). Raises ObjectNotFound."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> str:
        """Write (or overwrite) atomically; return the new etag."""

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes) -> str:
        """Create-only write. Raises :class:`ObjectExists` if the key exists."""

    @abstractmethod
    def put_if_match(self, key: str, data: bytes, etag: str) -> str:
        """Compare-and-swap: write only if the current etag is ``etag``.

        Raises :class:`PreconditionFailed` if the object changed, ObjectNotFound if gone.
        """

    @abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Size and etag. Raises :class:`ObjectNotFound`."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (a plain string prefix)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the key; a missing key is not an error."""

    # --- derived ----------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        return self.get_with_etag(key)[0]

    def exists(self, key: str) -> bool:
        # Only "not found" means absent: an auth or network error must propagate.
        try:
            self.head(key)
        except ObjectNotFound:
            return False
        return True

    def put_file(self, key: str, path: Path) -> str:
        """Upload a local file (backends override this with streaming/multipart)."""
        return self.put(key, Path(path).read_bytes())

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        """Upload a file unless the key exists; True if this call stored it."""
        if self.exists(key):
            return False
        try:
            self.put_if_absent(key, Path(path).read_bytes())
        except ObjectExists:
            return False
        return True

    def staging_dir(self) -> Path | None:
        """A local folder where a writer may spool a file it will upload, so that
        :meth:`put_file_if_absent` adopts it without copying its bytes (the local store:
        a hard link). None: the backend copies or streams, spool anywhere."""
        return None

    def refresh(self, key: str, source: Path | bytes) -> None:
        """Make the existing object ``key`` (whose bytes ``source`` holds) count as new.

        Its modified time becomes now, so gc's grace period protects content a writer
        reuses instead of uploading. The default uploads the same bytes again; backends
        override it with something cheaper (a touch, a server-side copy).
        """
        if isinstance(source, bytes):
            self.put(key, source)
        else:
            self.put_file(key, source)

    def renew(self, key: str, size: int) -> bool:
        """Renew the existing object ``key`` (``size`` bytes) without its bytes at hand.

        As :meth:`refresh`, for a writer that reuses content it does not hold (a squash):
        True if the backend renewed it in place (a touch, a server-side copy); False if
        it cannot without sending the bytes again, and then nothing was done.
        """
        return False

    def get_file(self, key: str, path: Path) -> None:
        """Download to a local file (backends override with parallel ranged GETs)."""
        Path(path).write_bytes(self.get(key))

    def _own_write(self, key: str, data: bytes) -> str | None:
        """After a refused conditional write: the etag if ``key`` now holds ``data``.

        A remote client retries a request whose reply was lost; the retry is then
        refused because of the write the first attempt made. Every create-only document
        dsops writes carries a fresh timestamp or is named by its content, and every
        compare-and-swap document a new history entry, so finding exactly the bytes we
        sent after a retried request means the write was this call's own. Backends call
        it only where a retry may have happened (S3 reports retries; for create-only
        writes through fsspec identical bytes are the same state either way).
        """
        try:
            current, etag = self.get_with_etag(key)
        except ObjectNotFound:
            return None
        return etag if current == data else None

    def get_json(self, key: str) -> Any:
        """The JSON document at ``key``; :class:`CorruptRecord` if it is not JSON."""
        return self._parse_json(key, self.get(key))

    def get_json_with_etag(self, key: str) -> tuple[Any, str]:
        data, etag = self.get_with_etag(key)
        return self._parse_json(key, data), etag

    def _parse_json(self, key: str, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptRecord(
                f"{self.url}/{key} is not valid JSON ({exc}): the record is corrupt; restore "
                "it from a backup, or delete it if it is not needed.",
                key=key,
                store=self.url,
            ) from exc

    def list_keys(self, prefix: str = "") -> builtins.list[str]:
        return sorted(info.key for info in self.list(prefix))

    def close(self) -> None:  # noqa: B027 - optional hook, default holds nothing
        """Release connections; the default holds none."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def dump_json(value: Any) -> bytes:
    """Stable JSON bytes for store records."""
    return json.dumps(value, indent=1, sort_keys=True, default=str).encode()
