"""Stream a zip of many files without building it on disk or in memory.

Python's ``zipfile`` writes to an unseekable stream on its own: it then puts each
entry's CRC and sizes in a data descriptor after the data, and ZIP64 records where
needed. Here it writes into a small in-memory sink that the generator empties after
every chunk, so memory stays at about one chunk plus the central directory (one small
entry per file). No extra dependency is needed; a streaming-zip library would only add
what the standard library already does correctly.

Already-compressed formats are stored; everything else is deflated at level 1, which
costs little CPU and still shrinks text-like data severalfold.
"""

from __future__ import annotations

import io
import posixpath
import time
import zipfile
from collections.abc import Iterator

import pyarrow as pa

from dsops.store import Store
from dsops.ui import files

# Fetch content in groups so rows of one pack are read with coalesced requests.
BATCH_ROWS = 512
BATCH_BYTES = 64 * 1024 * 1024
FLUSH_AT = 256 * 1024

_STORED = {
    "7z", "avif", "bz2", "flac", "gif", "gz", "heic", "jpeg", "jpg", "lz4", "m4a", "mkv",
    "mov", "mp3", "mp4", "npz", "ogg", "parquet", "pdf", "png", "rar", "tgz", "webm",
    "webp", "xz", "zip", "zst",
}  # fmt: skip
_EPOCH_1980 = 315532800  # zip timestamps cannot be older than 1980-01-01


class _Sink(io.RawIOBase):
    """An unseekable byte sink: what ``zipfile`` writes waits here to be yielded."""

    def __init__(self) -> None:
        super().__init__()
        self._buffer = bytearray()
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def pending(self) -> int:
        return len(self._buffer)

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _info(path: str, size: int, mtime_ns: int) -> zipfile.ZipInfo:
    seconds = max(mtime_ns // 1_000_000_000, _EPOCH_1980) if mtime_ns else time.time()
    info = zipfile.ZipInfo(path, date_time=time.gmtime(seconds)[:6])
    extension = posixpath.splitext(path)[1].lower().lstrip(".")
    if extension in _STORED:
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.compress_type = zipfile.ZIP_DEFLATED
        # ``compress_level`` is public from Python 3.13; ``_compresslevel`` works in all.
        info._compresslevel = 1  # type: ignore[attr-defined]
    info.file_size = size
    info.external_attr = 0o644 << 16
    return info


def _batches(rows: pa.Table) -> Iterator[pa.Table]:
    sizes = rows.column("size").to_pylist()
    start = 0
    total = 0
    for i, size in enumerate(sizes):
        total += size
        if i + 1 - start >= BATCH_ROWS or total >= BATCH_BYTES:
            yield rows.slice(start, i + 1 - start)
            start, total = i + 1, 0
    if start < len(sizes):
        yield rows.slice(start)


def stream_zip(store: Store, rows: pa.Table, strip: str = "") -> Iterator[bytes]:
    """Yield the bytes of a zip holding ``rows`` (manifest rows), named by their path.

    ``strip`` is a folder prefix removed from every name (``"a/"`` turns ``a/b/c`` into
    ``b/c``), so that a folder's zip opens on that folder's contents.
    """
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as archive:
        for batch in _batches(rows):
            files.fetch(store, batch)
            columns = [batch.column(c).to_pylist() for c in ("path", "size", "mtime", "hash")]
            for path, size, mtime, digest in zip(*columns):
                info = _info(path.removeprefix(strip), size, mtime)
                with archive.open(info, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as out:
                    if size:
                        for chunk in files.iter_chunks(files.cached_path(store, digest).open("rb")):
                            out.write(chunk)
                            if sink.pending() >= FLUSH_AT:
                                yield sink.take()
                if sink.pending() >= FLUSH_AT:
                    yield sink.take()
    yield sink.take()
