"""Hash many files, skipping those the stat cache already knows.

Small files are hashed in batches (one task per few hundred files): a task per file
costs more in thread hand-offs than BLAKE3 spends hashing a 30 KiB file. Large files
are hashed one per task with BLAKE3's own threads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import dsops.hashing as _hashing
from dsops.hashing.statcache import Key, StatCache
from dsops.progress import Callback

_BATCH_FILES = 256
_BATCH_BYTES = 32 * 1024 * 1024
_LARGE = 8 * 1024 * 1024


def default_workers() -> int:
    return min(16, (os.cpu_count() or 2) * 2)


def _batches(todo: Sequence[int], files: Sequence[tuple[str, int, Key]]) -> list[list[int]]:
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    for i in todo:
        file_size = files[i][1]
        if file_size >= _LARGE:
            batches.append([i])
            continue
        if current and (len(current) >= _BATCH_FILES or size + file_size > _BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(i)
        size += file_size
    if current:
        batches.append(current)
    return batches


def hash_files(
    files: Sequence[tuple[str, int, Key]],
    statcache: StatCache,
    *,
    algo: str,
    progress: Callback | None = None,
    workers: int | None = None,
    keep: dict[str, bytes] | None = None,
    keep_budget: int = 0,
    keep_limit: int = 4 * 1024 * 1024,
) -> list[str]:
    """Digest of each ``(path, size, stat_key)``; reads only files the cache misses.

    With ``keep``, the bytes of files smaller than ``keep_limit`` read here are kept in
    it (path → bytes, up to ``keep_budget`` bytes in all), so a following upload does
    not read them again.
    """
    progress = progress or Callback()
    known = statcache.lookup([key for _, _, key in files], algo)
    todo = [i for i, digest in enumerate(known) if digest is None]
    progress.begin("hash", len(todo), sum(files[i][1] for i in todo))
    budget = [keep_budget if keep is not None else 0]

    def work(batch: list[int]) -> list[str]:
        digests = []
        for i in batch:
            path, size, _ = files[i]
            if size < keep_limit and size <= budget[0]:
                with open(path, "rb") as fh:
                    data = fh.read()
                digests.append(_hashing.hash_bytes(data))
                if keep is not None and len(data) == size:
                    budget[0] -= size
                    keep[path] = data
            else:
                digests.append(_hashing.hash_file(path, size))
        progress.advance(len(batch), sum(files[i][1] for i in batch))
        return digests

    try:
        with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool:
            for batch, digests in zip(b := _batches(todo, files), pool.map(work, b)):
                for i, digest in zip(batch, digests):
                    known[i] = digest
        statcache.store(((files[i][2], known[i] or "") for i in todo), algo)
    finally:
        progress.end()
    return [d or "" for d in known]
