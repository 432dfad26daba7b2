"""Materialize a version's files from the object cache into a folder.

Read-only views hard-link cache objects (no copy; the objects are read-only files).
Mutable copies clone (reflink) where the filesystem can, else copy, so editing them never
touches the cache. Every destination is checked to stay inside the target folder.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dsops.cache.objects import ObjectCache, is_stamped, stamp
from dsops.errors import InvalidPath
from dsops.hashing import hash_file
from dsops.manifest.scalars import string
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


def _makedirs(path: str) -> None:
    os.makedirs(path, exist_ok=True)


def damaged_files(rows: pa.Table, target: Path) -> list[str]:
    """Paths of a built view whose file is missing or no longer holds its content.

    One ``lstat`` per file: a file whose size and admission stamp (mtime, see
    :func:`dsops.cache.objects.stamp`) are unchanged is trusted; any other is re-hashed,
    and re-stamped if its bytes are still right. Files the view holds beyond ``rows``
    are not looked for. Rows come from a validated manifest, so their paths are safe.
    """
    root = os.path.abspath(target)
    # Scalars from buffers: a Python str here would make pyarrow import pandas.
    dests = pc.binary_join_element_wise(string(root), rows.column("path"), string("/"))
    dests = dests.to_pylist()
    hashes = rows.column("hash").to_pylist()
    sizes = rows.column("size").to_pylist()
    lstat, is_reg = os.lstat, stat.S_ISREG
    suspects: list[int] = []
    for i, dest in enumerate(dests):
        try:
            st = lstat(dest)
        except FileNotFoundError:
            suspects.append(i)
            continue
        size = sizes[i]
        if (
            not is_reg(st.st_mode)
            or (size and not is_stamped(st, hashes[i], size))
            or (not size and st.st_size)
        ):
            suspects.append(i)
    bad: list[str] = []
    for i in suspects:
        dest, digest, size = dests[i], hashes[i], sizes[i]
        try:
            st = os.lstat(dest)
            intact = is_reg(st.st_mode) and st.st_size == size
            intact = intact and (size == 0 or hash_file(dest, size) == digest)
        except FileNotFoundError:
            intact = False
        if intact and size:
            with contextlib.suppress(PermissionError):  # not ours: checked again next time
                stamp(dest, digest)
        if not intact:
            bad.append(str(rows.column("path")[i].as_py()))
    return bad


def materialize(
    cache: ObjectCache,
    rows: pa.Table,
    target: Path,
    *,
    mutable: bool,
    workers: int = 8,
    progress: Callback | None = None,
    mkdirs: Callable[[str], None] | None = None,
) -> None:
    """Write every row's file under ``target`` (which must be a new, empty folder).

    ``mkdirs`` makes a folder and its parents (the cache's, for a team cache's modes).
    """
    make = mkdirs or _makedirs
    progress = progress or Callback()
    root = os.path.abspath(target)
    paths = rows.column("path").to_pylist()
    hashes = rows.column("hash").to_pylist()
    sizes = rows.column("size").to_pylist()
    dests = [_safe_dest(root, p) for p in paths]
    make(root)  # an empty version is an empty folder
    for folder in sorted({os.path.dirname(d) for d in dests}):
        make(folder)
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
