"""Content-addressed blobs: packs of small files and whole objects for large ones."""

from __future__ import annotations

from dsops.objects.ingest import IngestResult, ingest_files
from dsops.objects.packer import PackResult, PackWriter
from dsops.objects.reader import ByteRange, coalesce, group_by_object, read_ranges
from dsops.objects.writer import (
    PACK_TARGET_SIZE,
    SMALL_FILE_LIMIT,
    Location,
    PendingFile,
    StoreResult,
    store_files,
)

__all__ = [
    "PACK_TARGET_SIZE",
    "SMALL_FILE_LIMIT",
    "ByteRange",
    "IngestResult",
    "Location",
    "PackResult",
    "PackWriter",
    "PendingFile",
    "StoreResult",
    "coalesce",
    "group_by_object",
    "ingest_files",
    "read_ranges",
    "store_files",
]
