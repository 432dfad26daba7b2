"""Materialize a version's files from the object cache into a folder.

Read-only views hard-link cache objects (no copy; the objects are read-only files).
Mutable copies clone (reflink) where the filesystem can, else copy, so editing them never
touches the cache. Every destination is checked to stay inside the target folder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from dsops.cache.objects import ObjectCache
from dsops.errors import InvalidPath
from dsops.progress import Callback

_FICLONE = 0x40049409


def _safe_dest(root: str, path: str) -> str:
    dest = os.path.normpath(os.path.join(root, path))
    if not dest.startswith(root + os.sep):
        raise InvalidPath(
            f"Manifest path {path!r} would be written outside {root}; refusing.", path=path
        )
    return dest


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EMLINK, errno.EXDEV, errno.EPERM, errno.ENOTSUP):
            raise
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o444)


_reflink_works = True


def _clone(src: str, dst: str) -> None:
    """Reflink where the filesystem supports it (instant, copy-on-write), else copy."""
    global _reflink_works
    if _reflink_works:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            try:
                fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
                return
            except OSError:
                _reflink_works = False
    shutil.copyfile(src, dst)


def materialize(
    cache: ObjectCache,
    rows: pa.Table,
    target: Path,
    *,
    mutable: bool,
    workers: int = 8,
    progress: Callback | None = None,
) -> None:
    """Write every row's file under ``target`` (which must be a new, empty folder)."""
    progress = progress or Callback()
    root = os.path.abspath(target)
    paths = rows.column("path").to_pylist()
    hashes = rows.column("hash").to_pylist()
    sizes = rows.column("size").to_pylist()
    dests = [_safe_dest(root, p) for p in paths]
    os.makedirs(root, exist_ok=True)  # an empty version is an empty folder
    for folder in sorted({os.path.dirname(d) for d in dests}):
        os.makedirs(folder, exist_ok=True)
    place: Callable[[str, str], None] = _clone if mutable else _link
    progress.begin("materialize", len(paths), sum(sizes))
    try:

        def batch(indices: range) -> None:
            for i in indices:
                one(i)
            progress.advance(len(indices), sum(sizes[i] for i in indices))

        def one(i: int) -> None:
            if sizes[i] == 0:
                with open(dests[i], "wb"):
                    pass
                if not mutable:
                    os.chmod(dests[i], 0o444)
            else:
                place(str(cache.path(hashes[i])), dests[i])

        # Batches, not one task per file: per-task overhead exceeds a link or small copy.
        step = 512
        chunks = [range(i, min(i + step, len(paths))) for i in range(0, len(paths), step)]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(batch, chunks))
    finally:
        progress.end()
