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
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa

from dsops.cache.objects import ObjectCache, is_stamped, stamp
from dsops.errors import InvalidPath
from dsops.hashing import hash_file
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
        shutil.copy2(src, dst)  # keeps the read-only mode and the admission stamp
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


def damaged_files(rows: pa.Table, target: Path) -> list[str]:
    """Paths of a built view whose file is missing or no longer holds its content.

    One ``lstat`` per file: a file whose size and admission stamp (mtime, see
    :func:`dsops.cache.objects.stamp`) are unchanged is trusted; any other is re-hashed,
    and re-stamped if its bytes are still right. Files the view holds beyond ``rows``
    are not looked for.
    """
    root = os.path.abspath(target)
    bad: list[str] = []
    for path, digest, size in zip(
        rows.column("path").to_pylist(),
        rows.column("hash").to_pylist(),
        rows.column("size").to_pylist(),
    ):
        dest = _safe_dest(root, path)
        try:
            st = os.lstat(dest)
        except FileNotFoundError:
            bad.append(path)
            continue
        if not stat.S_ISREG(st.st_mode):
            bad.append(path)
        elif size == 0:
            if st.st_size != 0:
                bad.append(path)
        elif not is_stamped(st, digest, size):
            if st.st_size == size and hash_file(dest, size) == digest:
                stamp(dest, digest)
            else:
                bad.append(path)
    return bad


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
