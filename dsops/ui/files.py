"""File bytes for the web app: opened through the SDK, read in chunks, in byte ranges.

A web server must not hold a multi-GiB file in memory, so downloads read the file
object :meth:`Dataset.open` returns (content fetched into the store's local cache and
verified) one chunk at a time, from the offset a ``Range`` header asks for. A path only
ever comes from a manifest row, never from the request, so nothing here can address a
file outside the version.

The zip stream fetches many files at once with coalesced reads, which the SDK does not
offer yet (``fetch`` and ``cached_path`` below).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from dsops.store import Store

CHUNK = 1024 * 1024


class RangeNotSatisfiable(ValueError):
    """A ``Range`` starts at or past the end of the file (HTTP 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) of the one range ``header`` asks for.

    None means the whole file: no header, another unit, several ranges, or a malformed
    one (RFC 9110 lets a server ignore a ``Range`` it does not serve). A range that
    starts past the end raises :class:`RangeNotSatisfiable`.

    Example:
        >>> byte_range("bytes=2-4", 10), byte_range("bytes=7-", 10), byte_range("bytes=-3", 10)
        ((2, 4), (7, 9), (7, 9))
        >>> byte_range("bytes=0-1,4-5", 10) is None, byte_range("bytes=5-2", 10) is None
        (True, True)
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash:
        return None
    if not (first.isdigit() or first == "") or not (last.isdigit() or last == ""):
        return None  # also several ranges ("0-1,4-5") and "--5"
    if first == "":  # the last N bytes
        if last == "":
            return None
        if int(last) == 0:
            raise RangeNotSatisfiable(f"bytes=-0 of a {size}-byte file")
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), int(last) if last else size - 1
        if last and end < start:
            return None
    if start >= size:
        raise RangeNotSatisfiable(f"bytes={start}- of a {size}-byte file")
    return start, min(end, size - 1)


def fetch(store: Store, rows: pa.Table) -> None:
    """Make the content of ``rows`` present in the local cache (coalesced reads)."""
    if rows.num_rows:
        store.cache.fetch(store.backend, rows, workers=store.transfer_workers)


def cached_path(store: Store, digest: str) -> Path:
    """Where already fetched content lives in the local cache."""
    return store.cache.objects.path(digest)


def iter_chunks(
    handle: BinaryIO, start: int = 0, length: int | None = None, chunk: int = CHUNK
) -> Iterator[bytes]:
    """The bytes of ``handle`` from ``start`` (``length`` of them, or to the end), in
    chunks; the handle is closed at the end."""
    with contextlib.closing(handle):
        if start:
            handle.seek(start)
        while length is None or length > 0:
            data = handle.read(chunk if length is None else min(chunk, length))
            if not data:
                return
            if length is not None:
                length -= len(data)
            yield data
