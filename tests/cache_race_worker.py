"""One process of the concurrent cold-fetch test: wait for a start signal, fetch, report.

Run as ``python -m tests.cache_race_worker STORE CACHE VERSION GO_FILE``; prints one JSON
line: the view's path, the store bytes this process read from packs and objects, and a
digest of the view's contents.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

from dsops import Dataset, Store
from dsops.storage import LocalStore


class CountingStore(LocalStore):
    """A local store that counts the content bytes (packs and objects) read from it."""

    read_bytes = 0

    def _count(self, key: str, n: int) -> None:
        if key.startswith(("packs/", "objects/")):
            CountingStore.read_bytes += n

    def get_range(self, key: str, start: int, end: int) -> bytes:
        data = super().get_range(key, start, end)
        self._count(key, len(data))
        return data

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        data, etag = super().get_with_etag(key)
        self._count(key, len(data))
        return data, etag

    def get_file(self, key: str, path: Path) -> None:
        super().get_file(key, path)
        self._count(key, os.stat(path).st_size)


def tree_digest(folder: str) -> str:
    """One digest of every relative path and file content below ``folder``."""
    digest = hashlib.sha256()
    for dirpath, _, names in sorted(os.walk(folder)):
        for name in sorted(names):
            full = os.path.join(dirpath, name)
            digest.update(os.path.relpath(full, folder).encode())
            with open(full, "rb") as fh:
                digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()


def main(store_url: str, cache: str, version_id: str, go_file: str) -> None:
    store = Store(cache_dir=cache, backend=CountingStore(store_url))
    Path(go_file).with_name(f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not os.path.exists(go_file) and time.monotonic() < deadline:
        time.sleep(0.002)
    path = Dataset.get(version_id, store=store).get_local_copy()
    sys.stdout.write(
        json.dumps(
            {"path": path, "read_bytes": CountingStore.read_bytes, "digest": tree_digest(path)}
        )
        + "\n"
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
