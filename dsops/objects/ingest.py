"""Ingest local files in one pass and bounded memory: read, hash, dedup, pack.

Each small file (< ``SMALL_FILE_LIMIT``) is read once: its bytes are hashed, the hash
decides whether the content is needed (``skip``: unchanged at its path or empty;
``locate``: already stored where the caller knows, e.g. by an ancestor; or already
packed by this call), and only then are they appended to the pack being spooled on disk
(:class:`~dsops.objects.packer.PackWriter`) and dropped. Reading and hashing run on a
thread pool over batches of files; at most ``window`` batches (a few MiB each) are in
memory at once, and they are consumed in a fixed order (by source path) so a retried
call writes the same packs. Large files are hashed in blocks and, if new, uploaded from
the file (a second read: the key is their hash, so it must be known first).

Measured on W1 (10,000 files of 1–64 KiB): deciding dedup after reading costs nothing
(the decision is a set lookup per file), so the bytes of a duplicate are simply not
appended; nothing is ever rolled back.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dsops import layout
from dsops.errors import FileChangedError
from dsops.hashing import StatCache, empty_digest, hash_bytes, hash_stream
from dsops.hashing.statcache import Key
from dsops.objects.packer import PackWriter
from dsops.objects.writer import SMALL_FILE_LIMIT, Location
from dsops.progress import Callback
from dsops.storage import ObjectStore

_BATCH_FILES = 256
_BATCH_BYTES = 8 * 1024 * 1024


@dataclass
class IngestResult:
    """Each file's hash, where the new content landed, and what it cost."""

    hashes: list[str]
    locations: dict[str, Location] = field(default_factory=dict)
    uploaded_bytes: int = 0
    objects_written: int = 0
    read_bytes: int = 0


def _batches(todo: Sequence[int], sizes: Sequence[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    size = 0
    for i in todo:
        if batch and (len(batch) >= _BATCH_FILES or size + sizes[i] > _BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(i)
        size += sizes[i]
    if batch:
        yield batch


def _changed(source: str) -> FileChangedError:
    return FileChangedError(
        f"{source} changed while it was being added; run the add again once the file is stable.",
        path=source,
    )


def _read_small(source: str, size: int, expected: str | None) -> tuple[str, bytes]:
    with open(source, "rb") as fh:
        data = fh.read(size + 1)
    digest = hash_bytes(data)
    if len(data) != size or (expected is not None and digest != expected):
        raise _changed(source)
    return digest, data


def ingest_files(
    store: ObjectStore,
    files: Sequence[tuple[str, int, Key]],
    statcache: StatCache,
    *,
    algo: str,
    skip: Callable[[int, str], bool],
    locate: Callable[[Sequence[str]], dict[str, Location]],
    workers: int,
    progress: Callback | None = None,
) -> IngestResult:
    """Hash ``files`` (``(source, size, stat_key)``) and store the content they need.

    ``skip(i, digest)``: file ``i`` needs no stored content (unchanged, empty).
    ``locate(digests)``: where the caller already stores some of ``digests``; those are
    not stored again. Returns every file's hash and the location of every hash that is
    neither skipped nor empty (located or stored by this call).
    """
    progress = progress or Callback()
    known = statcache.lookup([key for _, _, key in files], algo)
    hashes = [d or "" for d in known]
    result = IngestResult(hashes)
    empty = empty_digest()

    def needed(items: Sequence[int]) -> list[int]:
        """Of ``items`` (hashed), those whose content must be stored by this call."""
        wanted = [i for i in items if hashes[i] != empty and not skip(i, hashes[i])]
        fresh = {hashes[i] for i in wanted if hashes[i] not in result.locations}
        if fresh:
            result.locations.update(locate(sorted(fresh)))
        return [i for i in wanted if hashes[i] not in result.locations]

    # Files the stat cache knows are read only if their content is needed.
    expected: dict[int, str] = {}
    for i in needed([i for i, d in enumerate(known) if d is not None]):
        expected[i] = hashes[i]
    todo = [i for i, d in enumerate(known) if d is None] + sorted(expected)
    sizes = [size for _, size, _ in files]
    large = [i for i in todo if sizes[i] >= SMALL_FILE_LIMIT]
    small = sorted((i for i in todo if sizes[i] < SMALL_FILE_LIMIT), key=lambda i: files[i][0])
    progress.begin("hash", len(todo), sum(sizes[i] for i in todo))
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            _hash_large(files, large, hashes, expected, pool, progress)
            to_upload = needed(large)
            with PackWriter(store) as packer:
                _pack_small(files, small, hashes, expected, needed, packer, pool, workers, progress)
            progress.end()
            uploads = {hashes[i]: i for i in to_upload}
            packed = packer.result
            progress.begin(
                "upload",
                packed.files + len(uploads),
                packed.bytes + sum(sizes[i] for i in uploads.values()),
            )
            progress.advance(packed.files, packed.bytes)
            result.locations.update(packed.locations)
            result.uploaded_bytes += packed.uploaded_bytes
            result.objects_written += packed.objects_written
            stored = pool.map(
                lambda i: _store_large(store, files[i][0], hashes[i], sizes[i]), uploads.values()
            )
            for i, written in zip(uploads.values(), stored):
                result.locations[hashes[i]] = Location(layout.object_key(hashes[i]), 0, sizes[i])
                result.uploaded_bytes += written
                result.objects_written += 1 if written else 0
                progress.advance(1, sizes[i])
        statcache.store(((files[i][2], hashes[i]) for i in todo if i not in expected), algo)
    finally:
        progress.end()
    result.read_bytes = sum(sizes[i] for i in todo)
    return result


def _hash_large(
    files: Sequence[tuple[str, int, Key]],
    large: Sequence[int],
    hashes: list[str],
    expected: dict[int, str],
    pool: ThreadPoolExecutor,
    progress: Callback,
) -> None:
    def work(i: int) -> str:
        source, size, _ = files[i]
        digest, count = hash_stream(source)
        if count != size or (i in expected and digest != expected[i]):
            raise _changed(source)
        progress.advance(1, size)
        return digest

    for i, digest in zip(large, pool.map(work, large)):
        hashes[i] = digest


def _pack_small(
    files: Sequence[tuple[str, int, Key]],
    small: Sequence[int],
    hashes: list[str],
    expected: dict[int, str],
    needed: Callable[[Sequence[int]], list[int]],
    packer: PackWriter,
    pool: ThreadPoolExecutor,
    workers: int,
    progress: Callback,
) -> None:
    def work(batch: list[int]) -> list[bytes]:
        datas = []
        for i in batch:
            source, size, _ = files[i]
            hashes[i], data = _read_small(source, size, expected.get(i))
            datas.append(data)
        progress.advance(len(batch), sum(files[i][1] for i in batch))
        return datas

    # A bounded window of batches in flight, consumed in order: memory stays at about
    # ``window × _BATCH_BYTES`` whatever the dataset's size.
    window = min(8, max(2, 2 * workers))
    pending: deque[tuple[list[int], Future[list[bytes]]]] = deque()
    batches = _batches(small, [size for _, size, _ in files])

    def drain_one() -> None:
        batch, future = pending.popleft()
        datas = future.result()
        keep = set(needed(batch))
        for i, data in zip(batch, datas):
            if i in keep:
                packer.add(hashes[i], data)

    try:
        for batch in batches:
            pending.append((batch, pool.submit(work, batch)))
            if len(pending) >= window:
                drain_one()
        while pending:
            drain_one()
    except BaseException:
        for _, future in pending:
            future.cancel()
        raise


def _store_large(store: ObjectStore, source: str, digest: str, size: int) -> int:
    """Upload one large file as a whole object create-only; the bytes it cost."""
    key = layout.object_key(digest)
    st = os.stat(source)
    if st.st_size != size:
        raise _changed(source)
    path = Path(source)
    if store.put_file_if_absent(key, path):
        return size
    # Reused, maybe an old orphan: renew it so gc's grace period covers it until the
    # part naming it is written (see dsops.gc).
    store.refresh(key, path)
    return 0
