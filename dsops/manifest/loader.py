"""Load immutable manifests from a store, through a local file cache and a small LRU.

The local copy (``cache/manifests/<id>.parquet``) is never trusted blindly: a copy that
does not parse or validate (truncated by a full disk, edited) is dropped and read again
from the store, and the bytes are checked on every load, local or downloaded, against
the BLAKE3 of the manifest file that the version record carries (``expected_hash``, or
the loader's resolver of it; an empty hash — a record that predates it — is not checked).
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from dsops import layout
from dsops.disk import is_no_space
from dsops.errors import IntegrityError, InvalidPath, ManifestError, ObjectNotFound, VersionNotFound
from dsops.hashing import hash_bytes
from dsops.manifest.io import read_manifest
from dsops.storage import ObjectStore

Loaded = tuple[pa.Table, dict[str, Any]]


def check_manifest_hash(data: bytes, expected: str | None, what: str) -> str:
    """The BLAKE3 hex of ``data``; raises :class:`IntegrityError` if not ``expected``."""
    digest = hash_bytes(data)
    if expected and digest != expected:
        raise IntegrityError(
            f"{what} does not match the hash in its version record ({digest[:16]}… instead "
            f"of {expected[:16]}…): the manifest was damaged or replaced. Run `dsops verify` "
            "and restore it from a backup.",
            what=what,
            hash=expected,
        )
    return digest


class ManifestLoader:
    """Finalized manifests never change, so each is downloaded at most once per machine."""

    def __init__(
        self,
        store: ObjectStore,
        local_dir: Path | None,
        memory_items: int = 4,
        expected_hash: Callable[[str], str] | None = None,
        mkdirs: Callable[[Path], None] | None = None,
        file_mode: int | None = None,
        missing: Callable[[str], Exception | None] | None = None,
    ) -> None:
        self.store = store
        # version id → the error to raise when its manifest is gone (None: the default).
        self._missing = missing
        self._mkdirs = mkdirs or (lambda path: path.mkdir(parents=True, exist_ok=True))
        self._file_mode = file_mode  # a team cache's copies are readable by the group
        # version id → the manifest hash its record carries, used when a call gives none.
        self._expected = expected_hash
        self.local_dir = local_dir
        # version id → (table, metadata, BLAKE3 of the manifest bytes)
        self._memory: OrderedDict[str, tuple[pa.Table, dict[str, Any], str]] = OrderedDict()
        self._limit = memory_items
        self._lock = threading.Lock()

    def _local_path(self, version_id: str) -> Path | None:
        return self.local_dir / f"{version_id}.parquet" if self.local_dir else None

    def _download(self, version_id: str) -> bytes:
        try:
            return self.store.get(layout.manifest_key(version_id))
        except ObjectNotFound:
            known = self._missing(version_id) if self._missing is not None else None
            if known is not None:
                raise known from None
            raise VersionNotFound(
                f"The manifest of version {version_id} is missing from {self.store.url}; "
                "the version may be incomplete or garbage-collected.",
                version_id=version_id,
            ) from None

    def _want(self, version_id: str, given: str | None) -> str | None:
        if given is None and self._expected is not None:
            return self._expected(version_id) or None
        return given or None

    def raw(self, version_id: str, expected_hash: str | None = None) -> bytes:
        """The manifest file's bytes, checked against its record's hash."""
        return self._read(version_id, self._want(version_id, expected_hash))[1]

    def _read(self, version_id: str, expected_hash: str | None) -> tuple[Loaded, bytes, str]:
        what = f"manifest of {version_id}"
        local = self._local_path(version_id)
        if local is not None:
            try:
                data = local.read_bytes()
            except (FileNotFoundError, PermissionError):
                pass  # not cached, or cached unreadably by another user: read the store
            else:
                try:
                    digest = check_manifest_hash(data, expected_hash, f"cached {what}")
                    return read_manifest(data, what=f"cached {what}"), data, digest
                except (ManifestError, InvalidPath, IntegrityError):
                    # A damaged local copy: the store holds the truth; read it again.
                    with contextlib.suppress(FileNotFoundError):
                        local.unlink()
        data = self._download(version_id)
        digest = check_manifest_hash(data, expected_hash, what)
        loaded = read_manifest(data, what=what)
        if local is not None:  # cached only once it parsed and validated
            self._keep(local, data)
        return loaded, data, digest

    def _keep(self, local: Path, data: bytes) -> None:
        """Cache the manifest's bytes; only a speed-up, so a full disk or a folder this
        user may not write skips it (the fetch that follows reports a full disk)."""
        tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}")
        try:
            self._mkdirs(local.parent)
            tmp.write_bytes(data)
            if self._file_mode is not None:
                os.chmod(tmp, self._file_mode)
            os.replace(tmp, local)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if not (is_no_space(exc) or isinstance(exc, PermissionError)):
                raise

    def load(self, version_id: str, expected_hash: str | None = None) -> Loaded:
        """The manifest table and its lineage metadata.

        ``expected_hash``: the BLAKE3 hex of the manifest file (from the version
        record); a manifest whose bytes differ raises :class:`IntegrityError`.
        """
        expected_hash = self._want(version_id, expected_hash)
        with self._lock:
            if version_id in self._memory:
                table, metadata, digest = self._memory[version_id]
                if expected_hash is None or digest == expected_hash:
                    self._memory.move_to_end(version_id)
                    return table, metadata
        loaded, _, digest = self._read(version_id, expected_hash)
        with self._lock:
            self._memory[version_id] = (*loaded, digest)
            while len(self._memory) > self._limit:
                self._memory.popitem(last=False)
        return loaded

    def table(self, version_id: str, expected_hash: str | None = None) -> pa.Table:
        return self.load(version_id, expected_hash)[0]
