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
    ]
)

# A draft part: manifest columns without origin, plus the operation.
PART_SCHEMA = pa.schema(
    [pa.field("op", pa.string(), nullable=False)]
    + [f for f in MANIFEST_SCHEMA if f.name != "origin"]
)

COLUMNS = MANIFEST_SCHEMA.names


def empty_manifest() -> pa.Table:
    return MANIFEST_SCHEMA.empty_table()


def empty_part() -> pa.Table:
    return PART_SCHEMA.empty_table()
