"""A pack being written: small files appended to a file spooled on disk, never in RAM.

Bytes are appended as they are read (and hashed) by the caller; the pack's own BLAKE3
is updated as they go, so closing a pack costs no second pass. A closed pack is
uploaded on a background thread while the next one fills (create-only, renewed when an
identical pack is already there); on the local store the spool lives in the store's own
temporary folder and is adopted by a hard link, so its bytes are written once.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import blake3

from dsops import layout
from dsops.disk import disk_full, is_no_space
from dsops.objects.writer import PACK_TARGET_SIZE, Location
from dsops.storage import ObjectStore

# Closed packs waiting for their upload at most (bounds the spool's disk use).
_UPLOADS_IN_FLIGHT = 2


@dataclass
class PackResult:
    """What :class:`PackWriter` stored: each hash's location and the bytes it cost."""

    locations: dict[str, Location] = field(default_factory=dict)
    uploaded_bytes: int = 0
    objects_written: int = 0
    files: int = 0
    bytes: int = 0


@dataclass
class _Spool:
    path: Path
    fh: BinaryIO
    hasher: blake3.blake3 = field(default_factory=blake3.blake3)
    size: int = 0
    placed: list[tuple[str, int, int]] = field(default_factory=list)


class PackWriter:
    """Append small files' bytes to packs of at most ``PACK_TARGET_SIZE``; upload each.

    Use as a context manager; :meth:`close` uploads the last pack and waits for all.
    """

    def __init__(self, store: ObjectStore, *, target_size: int = PACK_TARGET_SIZE) -> None:
        self.store = store
        self.target_size = target_size
        self.result = PackResult()
        staged = store.staging_dir()
        self._store_disk = staged is not None
        self._dir = staged if staged is not None else Path(tempfile.gettempdir())
        self._spool: _Spool | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsops-pack")
        self._uploads: list[Future[tuple[int, int, int]]] = []

    def __enter__(self) -> PackWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.abort()

    def __contains__(self, digest: str) -> bool:
        return digest in self.result.locations

    def add(self, digest: str, data: bytes | memoryview) -> None:
        """Append one file's bytes (already hashed to ``digest``) to the current pack."""
        if digest in self.result.locations:
            return
        n = len(data)
        spool = self._spool
        if spool is not None and spool.size and spool.size + n > self.target_size:
            self._seal()
            spool = None
        if spool is None:
            spool = self._spool = self._open()
        try:
            spool.fh.write(data)
        except OSError as exc:
            self._full(exc, spool.size + n)
            raise
        spool.hasher.update(data)
        spool.placed.append((digest, spool.size, n))
        # Claimed now so a duplicate later in the call is not appended again; the key is
        # filled in when the pack is sealed.
        self.result.locations[digest] = Location("", spool.size, n)
        spool.size += n

    def close(self) -> PackResult:
        """Seal and upload the last pack, wait for every upload, and return the result."""
        try:
            if self._spool is not None and self._spool.size:
                self._seal()
            for future in self._uploads:
                _size, uploaded, written = future.result()
                self.result.uploaded_bytes += uploaded
                self.result.objects_written += written
            self._uploads.clear()
        except BaseException:
            self.abort()
            raise
        finally:
            self._pool.shutdown(wait=True)
        return self.result

    def abort(self) -> None:
        """Drop the pack being written and wait for uploads already started."""
        if self._spool is not None:
            self._spool.fh.close()
            self._spool.path.unlink(missing_ok=True)
            self._spool = None
        for future in self._uploads:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # --- internals ----------------------------------------------------------------------

    def _open(self) -> _Spool:
        path = self._dir / f"pack-{uuid.uuid4().hex}"
        try:
            fh = open(path, "wb")  # noqa: SIM115 - closed when the pack is sealed
        except OSError as exc:
            self._full(exc, 0)
            raise
        return _Spool(path, fh)

    def _full(self, exc: OSError, needed: int) -> None:
        """A full disk while spooling: remove the spool, raise :class:`DiskFull`."""
        if self._spool is not None:
            self._spool.fh.close()
            self._spool.path.unlink(missing_ok=True)
            self._spool = None
        if not is_no_space(exc):
            return
        if self._store_disk:
            raise disk_full(
                self._dir.parent,
                needed,
                f"a pack (the store {self.store.url})",
                exc,
                "free space on the store's disk",
            ) from exc
        raise disk_full(
            self._dir,
            needed,
            f"a pack being staged for upload to {self.store.url}",
            exc,
            "free space there or point TMPDIR at a larger disk",
        ) from exc

    def _seal(self) -> None:
        spool = self._spool
        assert spool is not None
        self._spool = None
        try:
            spool.fh.close()
        except OSError as exc:
            spool.path.unlink(missing_ok=True)
            self._full(exc, spool.size)
            raise
        key = layout.pack_key(spool.hasher.hexdigest())
        for digest, offset, length in spool.placed:
            self.result.locations[digest] = Location(key, offset, length)
        self.result.files += len(spool.placed)
        self.result.bytes += spool.size
        # Bound the spool's disk use: wait for the oldest upload beyond the window.
        while sum(not f.done() for f in self._uploads) >= _UPLOADS_IN_FLIGHT:
            next(f for f in self._uploads if not f.done()).result()
        self._uploads.append(self._pool.submit(_upload, self.store, key, spool.path, spool.size))


def _upload(store: ObjectStore, key: str, path: Path, size: int) -> tuple[int, int, int]:
    """Store one sealed pack create-only; (size, bytes uploaded, objects written)."""
    try:
        stored = store.put_file_if_absent(key, path)
        if not stored:
            # The same bytes are there (a concurrent or crashed add): renew them so gc's
            # grace period covers them until this draft's part names them.
            store.refresh(key, path)
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    return size, size if stored else 0, 1 if stored else 0
