"""File bytes for the web app: fetched through the store's local cache, read in chunks.

The SDK's ``Dataset.read_file`` returns a whole file as ``bytes``; a web server must not
hold a multi-GiB file in memory, so this module makes the content present in the cache
(``Store.cache.fetch``) and hands out the cached object's path, to be read in chunks.
A path only ever comes from a manifest row, never from the request, so nothing here can
address a file outside the version.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from dsops.store import Store

CHUNK = 1024 * 1024


def fetch(store: Store, rows: pa.Table) -> None:
    """Make the content of ``rows`` present in the local cache (coalesced reads)."""
    if rows.num_rows:
        store.cache.fetch(store.backend, rows, workers=store.transfer_workers)


def open_row(store: Store, row: pa.Table) -> BinaryIO:
    """A binary file object with the content of a one-row manifest table."""
    if int(row.column("size")[0].as_py()) == 0:
        return io.BytesIO(b"")
    fetch(store, row)
    return cached_path(store, str(row.column("hash")[0].as_py())).open("rb")


def cached_path(store: Store, digest: str) -> Path:
    """Where already fetched content lives in the local cache."""
    return store.cache.objects.path(digest)


def read_head(store: Store, row: pa.Table, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of the file."""
    with open_row(store, row) as fh:
        return fh.read(limit)


def iter_chunks(handle: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    with contextlib.closing(handle):
        while True:
            data = handle.read(chunk)
            if not data:
                return
            yield data
