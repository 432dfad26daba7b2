"""The manifest table: one row per file of a version, sorted by path."""

from __future__ import annotations

import pyarrow as pa

MANIFEST_SCHEMA = pa.schema(
    [
        pa.field("path", pa.string(), nullable=False),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("hash", pa.string(), nullable=False),
        pa.field("object", pa.string(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("length", pa.int64(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("mtime", pa.int64(), nullable=False),
        # External files (docs/FORMAT.md "External files"): "" for stored content.
        pa.field("link", pa.string(), nullable=False),
        pa.field("link_validator", pa.string(), nullable=False),
    ]
)

# Columns a manifest or part written before they existed may lack: filled with "".
OPTIONAL_COLUMNS = ("link", "link_validator")


# A draft part: manifest columns without origin, plus the operation.
PART_SCHEMA = pa.schema(
    [pa.field("op", pa.string(), nullable=False)]
    + [f for f in MANIFEST_SCHEMA if f.name != "origin"]
)

COLUMNS = MANIFEST_SCHEMA.names


def empty_manifest() -> pa.Table:
    # Not Schema.empty_table(): that imports pandas (about a second) for nothing.
    return pa.Table.from_batches([], schema=MANIFEST_SCHEMA)


def empty_part() -> pa.Table:
    return pa.Table.from_batches([], schema=PART_SCHEMA)
