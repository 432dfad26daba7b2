"""One process of tests/unit/test_cache_single_download.py: fetch a version, count reads.

Run as ``python -m tests.cache_single_download_worker STORE CACHE VERSION MODE COUNTS GO
[TARGET]``. Every content byte read from the store (packs and objects) is appended to
the ``COUNTS`` file as one line ``<pid> <key> <bytes>`` (``O_APPEND``: processes never
interleave a line), so the test sums the reads of all processes, including one that was
killed. ``MODE``: ``view`` (get_local_copy), ``mutable`` (get_mutable_local_copy into
TARGET), or ``hang`` (a view whose first store read never returns: the process holds the
read claim until it is killed). Prints one JSON line with the result's path and digest.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from dsops import Dataset, Store
from dsops.storage import LocalStore
from tests.cache_race_worker import tree_digest


class LoggingStore(LocalStore):
    """A local store that logs each content read to a file shared by all processes."""

    def __init__(self, root: str, counts: str, hang: bool) -> None:
        super().__init__(root)
        self.counts = counts
        self.hang = hang

    def _log(self, key: str, n: int) -> None:
        if not key.startswith(("packs/", "objects/")):
            return
        if self.hang:
            Path(self.counts).with_name(f"claimed-{os.getpid()}").touch()
            while True:  # hold the claim until SIGKILL
                time.sleep(1)
        fd = os.open(self.counts, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{os.getpid()} {key} {n}\n".encode())
        finally:
            os.close(fd)

    def get_range(self, key: str, start: int, end: int) -> bytes:
        self._log(key, max(0, end - start))
        return super().get_range(key, start, end)

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        data, etag = super().get_with_etag(key)
        self._log(key, len(data))
        return data, etag

    def get_file(self, key: str, path: Path) -> None:
        self._log(key, os.stat(self._path(key)).st_size)
        super().get_file(key, path)


def main(
    store_url: str, cache: str, version_id: str, mode: str, counts: str, go: str, *rest: str
) -> None:
    store = Store(cache_dir=cache, backend=LoggingStore(store_url, counts, mode == "hang"))
    Path(go).with_name(f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.002)
    ds = Dataset.get(version_id, store=store)
    path = str(ds.get_mutable_local_copy(rest[0])) if mode == "mutable" else ds.get_local_copy()
    sys.stdout.write(json.dumps({"path": path, "digest": tree_digest(path)}) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
