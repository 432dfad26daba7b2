"""Re-hash what the local cache would serve for a version (``dsops verify --deep``).

The cheap checks on the fetch path trust an object whose size and admission stamp are
unchanged; this one trusts nothing. Every cached object the rows name is re-hashed, and
so is every file of the version's views that is not a link to an object just verified.
Damaged objects are discarded (and the caller removes the damaged views), so the next
fetch downloads and rebuilds them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa

from dsops.cache.objects import ObjectCache
from dsops.hashing import hash_file


def damaged_cache_content(
    objects: ObjectCache, views_dir: Path, version_id: str, rows: pa.Table
) -> tuple[list[str], list[Path]]:
    """Paths of ``rows`` whose cached object or view file holds the wrong bytes, and
    the views holding such files."""
    entries = list(
        zip(
            rows.column("path").to_pylist(),
            rows.column("hash").to_pylist(),
            rows.column("size").to_pylist(),
        )
    )
    good_inodes: set[tuple[int, int]] = set()
    bad_digests: set[str] = set()
    for digest in {d for _, d, size in entries if size}:
        path = objects.path(digest)
        try:
            st = os.stat(path)
            intact = hash_file(path) == digest
        except FileNotFoundError:
            continue  # not cached: nothing would be served from here
        if intact:
            good_inodes.add((st.st_dev, st.st_ino))
        else:
            bad_digests.add(digest)
            objects.discard(digest)
    bad = {p for p, d, _ in entries if d in bad_digests}
    damaged_views: list[Path] = []
    for view in _views_of(views_dir, version_id):
        damaged = False
        for rel, digest, size in entries:
            dest = os.path.join(view, rel)
            try:
                st = os.lstat(dest)
            except FileNotFoundError:
                continue  # a selection view holds only some paths
            if (st.st_dev, st.st_ino) in good_inodes:
                continue
            if st.st_size != size or (size and hash_file(dest, size) != digest):
                bad.add(rel)
                damaged = True
        if damaged:
            damaged_views.append(Path(view))
    return sorted(bad), damaged_views


def _views_of(views_dir: Path, version_id: str) -> list[str]:
    if not views_dir.is_dir():
        return []
    return [
        e.path
        for e in os.scandir(views_dir)
        if e.is_dir() and (e.name == version_id or e.name.startswith(f"{version_id}-"))
    ]
