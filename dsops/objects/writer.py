"""Store new content: small files concatenated into packs, large files as whole objects.

Packs are named by the BLAKE3 hash of their bytes and written create-only, so a retried
call writes the same keys and stores nothing twice. Large objects are keyed by content
hash store-wide: a file any version already stored is never uploaded again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from dsops import layout
from dsops.errors import FileChangedError
from dsops.hashing import hash_bytes
from dsops.progress import Callback
from dsops.storage import ObjectStore

SMALL_FILE_LIMIT = 4 * 1024 * 1024
PACK_TARGET_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Location:
    """Where a content hash lives in the store."""

    object: str
    offset: int
    length: int


@dataclass(frozen=True)
class PendingFile:
    """A local file whose content (``hash``) is not yet in the store.

    ``data`` holds its bytes when they were already read (and hashed) by the caller.
    """

    source: str
    hash: str
    size: int
    data: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class StoreResult:
    """Outcome of :func:`store_files`: where each hash landed and what it cost."""

    locations: dict[str, Location] = field(default_factory=dict)
    uploaded_bytes: int = 0
    objects_written: int = 0


def _read_verified(item: PendingFile) -> bytes:
    if item.data is not None:
        return item.data  # read and hashed by the caller already
    with open(item.source, "rb") as fh:
        data = fh.read()
    if len(data) != item.size or hash_bytes(data) != item.hash:
        raise FileChangedError(
            f"{item.source} changed while it was being added; run the add again once the "
            "file is stable.",
            path=item.source,
        )
    return data


def _plan_packs(small: Sequence[PendingFile]) -> Iterator[list[PendingFile]]:
    batch: list[PendingFile] = []
    size = 0
    for item in small:
        if batch and size + item.size > PACK_TARGET_SIZE:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item.size
    if batch:
        yield batch


def store_files(
    store: ObjectStore,
    files: Sequence[PendingFile],
    *,
    workers: int = 8,
    progress: Callback | None = None,
) -> StoreResult:
    """Upload the content of ``files`` (unique hashes, not stored yet) and locate it."""
    progress = progress or Callback()
    result = StoreResult()
    unique: dict[str, PendingFile] = {}
    for item in files:
        unique.setdefault(item.hash, item)
    small = sorted(
        (f for f in unique.values() if f.size < SMALL_FILE_LIMIT), key=lambda f: f.source
    )
    large = [f for f in unique.values() if f.size >= SMALL_FILE_LIMIT]
    progress.begin("upload", len(unique), sum(f.size for f in unique.values()))
    try:

        def write_pack(batch: list[PendingFile]) -> tuple[str, list[tuple[str, Location]], int]:
            chunks = []
            placed = []
            offset = 0
            for item in batch:
                data = _read_verified(item)
                chunks.append(data)
                placed.append((item.hash, offset, len(data)))
                offset += len(data)
            blob = b"".join(chunks)
            key = layout.pack_key(hash_bytes(blob))
            written = 0
            try:
                if not store.exists(key):
                    store.put_if_absent(key, blob)
                    written = len(blob)
            except FileExistsError:
                pass  # an identical pack was written concurrently: same bytes, same key
            if not written:
                # The same bytes are there (a concurrent or crashed add): renew them so
                # gc's grace period covers them until this draft's part names them.
                store.refresh(key, blob)
            progress.advance(len(batch), len(blob))
            return key, [(h, Location(key, o, n)) for h, o, n in placed], written

        def write_large(item: PendingFile) -> tuple[str, list[tuple[str, Location]], int]:
            key = layout.object_key(item.hash)
            source = Path(_checked(item))
            stored = store.put_file_if_absent(key, source)
            if not stored:
                # Reused, maybe an old orphan: renew it so gc's grace period covers it
                # until the part naming it is written (see dsops.gc).
                store.refresh(key, source)
            progress.advance(1, item.size)
            return key, [(item.hash, Location(key, 0, item.size))], item.size if stored else 0

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(write_pack, batch) for batch in _plan_packs(small)]
            futures += [pool.submit(write_large, item) for item in large]
            for future in futures:
                _key, placed, written = future.result()
                result.locations.update(placed)
                result.uploaded_bytes += written
                result.objects_written += 1 if written else 0
    finally:
        progress.end()
    return result


def _checked(item: PendingFile) -> str:
    st = os.stat(item.source)
    if st.st_size != item.size:
        raise FileChangedError(
            f"{item.source} changed size while it was being added; run the add again.",
            path=item.source,
        )
    return item.source
