"""Bytes of files in a version: whole files verified through the cache, ranges in place.

- A **whole file** (the range ``0..size``) is made present in the local cache by
  :meth:`LocalCache.fetch` (coalesced reads of the packs, each file hashed before it is
  admitted) and the bytes returned are hashed again against the manifest before they are
  returned, so a whole-file read never returns bytes that do not match the manifest.
- A **part** of a file is read in place: from the cached object when the file's content
  is already cached (a verified, stamp-checked object), else as a ranged GET of only
  those bytes of the pack or object the manifest names (a file in a pack is a range of
  the pack). Neighbouring ranges of one pack or object share one request
  (:func:`dsops.objects.coalesce`). A range cannot be checked on its own — the manifest
  holds one BLAKE3 of the whole file — so only its length is checked here;
  :class:`dsops.fs.DsopsFile` checks a running hash when a file is read up to its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from dsops.errors import IntegrityError
from dsops.fs.index import FileRow
from dsops.hashing import hash_bytes
from dsops.objects import ByteRange, coalesce, read_ranges
from dsops.objects.reader import COALESCE_GAP
from dsops.store import Store


def read_whole(store: Store, rows: Sequence[FileRow]) -> list[bytes]:
    """The verified bytes of each file of ``rows``, admitting what was missing to the cache."""
    out: dict[str, bytes] = {}
    todo = {row.hash: row for row in rows if row.size}
    for attempt in range(2):
        if not todo:
            break
        store.cache.fetch(store.backend, _table(todo.values()), workers=store.transfer_workers)
        for digest in list(todo):
            try:
                data = store.cache.objects.path(digest).read_bytes()
            except FileNotFoundError:
                continue  # evicted between the fetch and the read: fetched again below
            if hash_bytes(data) == digest:
                out[digest] = data
                del todo[digest]
            elif attempt == 0:
                store.cache.objects.discard(digest)  # changed in the cache: fetch it again
    if todo:
        row = next(iter(todo.values()))
        raise IntegrityError(
            f"{row.path!r} could not be read with the content its manifest names "
            f"({row.hash[:16]}…): run `dsops verify --deep` on the version.",
            path=row.path,
            hash=row.hash,
        )
    return [out[row.hash] if row.size else b"" for row in rows]


def read_parts(
    store: Store,
    parts: Sequence[tuple[FileRow, int, int]],
    *,
    gap: int = COALESCE_GAP,
) -> list[bytes]:
    """Bytes ``[start, end)`` of each ``(row, start, end)``; ranges already clipped.

    Ranges of a file whose content is cached are read from the cache; the others are
    grouped by store object and coalesced (neighbours within ``gap`` bytes share one
    ranged GET), the groups read in parallel.
    """
    out: list[bytes | None] = [None] * len(parts)
    wanted: dict[str, list[ByteRange]] = {}
    # An external file has no store object to range-read: it is fetched whole through
    # the cache (verified against its hash and validator), then read from there.
    linked = {row.hash: row for row, start, end in parts if row.link and end > start}
    if linked:
        store.cache.fetch(store.backend, _table(linked.values()), workers=store.transfer_workers)
    for i, (row, start, end) in enumerate(parts):
        if end <= start:
            out[i] = b""
        elif store.cache.objects.has(row.hash, row.size):
            with open(store.cache.objects.path(row.hash), "rb") as fh:
                fh.seek(start)
                out[i] = fh.read(end - start)
        elif row.link:  # evicted since the fetch above: fetched (and verified) again
            out[i] = read_whole(store, [row])[0][start:end]
        else:
            wanted.setdefault(row.object, []).append(
                ByteRange(row.offset + start, end - start, tag=i)
            )
    jobs = [(key, group) for key, ranges in wanted.items() for group in coalesce(ranges, gap)]

    def run(job: tuple[str, list[ByteRange]]) -> list[tuple[int, bytes]]:
        key, group = job
        return [
            (int(str(r.tag)), bytes(data)) for r, data in read_ranges(store.backend, key, group)
        ]

    if len(jobs) == 1:
        results = [run(jobs[0])]
    else:
        with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), store.transfer_workers))) as pool:
            results = list(pool.map(run, jobs))
    for found in results:
        for i, data in found:
            out[i] = data
    for (row, start, end), got in zip(parts, out):
        if got is None or len(got) != end - start:
            raise IntegrityError(
                f"{row.object} is shorter than the manifest of {row.path!r} says (asked bytes "
                f"{start}-{end} of the file, got {0 if got is None else len(got)}): the "
                "store object is damaged; run `dsops verify --deep` on the version.",
                path=row.path,
                object=row.object,
            )
    return [got for got in out if got is not None]


def _table(items: Iterable[FileRow]) -> pa.Table:
    rows = list(items)
    return pa.table(
        {
            "path": [r.path for r in rows],
            "size": pa.array([r.size for r in rows], pa.int64()),
            "hash": [r.hash for r in rows],
            "object": [r.object for r in rows],
            "offset": pa.array([r.offset for r in rows], pa.int64()),
            "length": pa.array([r.length for r in rows], pa.int64()),
            "link": pa.array([r.link for r in rows], pa.string()),
            "link_validator": pa.array([r.link_validator for r in rows], pa.string()),
        }
    )
