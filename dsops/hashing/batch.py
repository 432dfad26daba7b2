"""Hash many files on a thread pool, skipping those the stat cache already knows."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from dsops.hashing.statcache import Key, StatCache
from dsops.progress import Callback


def default_workers() -> int:
    return min(16, (os.cpu_count() or 2) * 2)


def hash_files(
    files: Sequence[tuple[str, int, Key]],
    statcache: StatCache,
    *,
    algo: str,
    progress: Callback | None = None,
    workers: int | None = None,
) -> list[str]:
    """Digest of each ``(path, size, stat_key)``; reads only files the cache misses."""
    from dsops.hashing import hash_file

    progress = progress or Callback()
    known = statcache.lookup([key for _, _, key in files], algo)
    todo = [i for i, digest in enumerate(known) if digest is None]
    progress.begin("hash", len(todo), sum(files[i][1] for i in todo))
    try:

        def work(i: int) -> str:
            path, size, _ = files[i]
            digest = hash_file(path, size)
            progress.advance(1, size)
            return digest

        with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
            for i, digest in zip(todo, pool.map(work, todo)):
                known[i] = digest
        statcache.store(((files[i][2], known[i] or "") for i in todo), algo)
    finally:
        progress.end()
    return [d or "" for d in known]
