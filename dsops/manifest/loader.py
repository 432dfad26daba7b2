"""Load immutable manifests from a store, through a local file cache and a small LRU.

Every load is checked against the manifest hash its version record carries (given by
``expected_hash``): a local copy that does not match is dropped and read again from the
store; a store object that does not match is refused with :class:`IntegrityError`.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from dsops import layout
from dsops.errors import IntegrityError, ManifestError, ObjectNotFound, VersionNotFound
from dsops.hashing import hash_bytes
from dsops.manifest.io import read_manifest
from dsops.storage import ObjectStore


class ManifestLoader:
    """Finalized manifests never change, so each is downloaded at most once per machine."""

    def __init__(
        self,
        store: ObjectStore,
        local_dir: Path | None,
        memory_items: int = 4,
        expected_hash: Callable[[str], str] | None = None,
    ) -> None:
        self.store = store
        self.local_dir = local_dir
        self._memory: OrderedDict[str, tuple[pa.Table, dict[str, Any]]] = OrderedDict()
        self._limit = memory_items
        self._lock = threading.Lock()
        # version id -> BLAKE3 of its manifest bytes ("" when the record predates it).
        self._expected = expected_hash

    def _local_path(self, version_id: str) -> Path | None:
        return self.local_dir / f"{version_id}.parquet" if self.local_dir else None

    def raw(self, version_id: str) -> bytes:
        """The manifest file's bytes, verified against the version record's hash."""
        want = self._expected(version_id) if self._expected is not None else ""
        local = self._local_path(version_id)
        if local is not None:
            try:
                data = local.read_bytes()
            except FileNotFoundError:
                pass
            else:
                if not want or hash_bytes(data) == want:
                    return data
                local.unlink(missing_ok=True)  # a damaged local copy: fetch it again
        try:
            data = self.store.get(layout.manifest_key(version_id))
        except ObjectNotFound:
            raise VersionNotFound(
                f"The manifest of version {version_id} is missing from {self.store.url}; "
                "the version may be incomplete or garbage-collected.",
                version_id=version_id,
            ) from None
        if want and hash_bytes(data) != want:
            raise IntegrityError(
                f"The manifest of version {version_id} in {self.store.url} does not match "
                "the hash in its version record: the store object was damaged or changed. "
                f"Restore manifests/{version_id}.parquet from a backup; it was not used.",
                version_id=version_id,
                key=layout.manifest_key(version_id),
            )
        if local is not None:
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.{uuid.uuid4().hex}")
            tmp.write_bytes(data)
            os.replace(tmp, local)
        return data

    def load(self, version_id: str) -> tuple[pa.Table, dict[str, Any]]:
        """The manifest table and its lineage metadata."""
        with self._lock:
            if version_id in self._memory:
                self._memory.move_to_end(version_id)
                return self._memory[version_id]
        what = f"manifest of {version_id}"
        try:
            loaded = read_manifest(self.raw(version_id), what=what)
        except ManifestError:
            # Unchecked (old record) and unreadable: a local copy may be truncated.
            local = self._local_path(version_id)
            if local is None or not local.exists():
                raise
            local.unlink(missing_ok=True)
            loaded = read_manifest(self.raw(version_id), what=what)
        with self._lock:
            self._memory[version_id] = loaded
            while len(self._memory) > self._limit:
                self._memory.popitem(last=False)
        return loaded

    def table(self, version_id: str) -> pa.Table:
        return self.load(version_id)[0]
