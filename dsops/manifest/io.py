"""Manifest and draft-part (de)serialization as Parquet, with lineage in the metadata."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsops.errors import ManifestError
from dsops.manifest.schema import MANIFEST_SCHEMA, OPTIONAL_COLUMNS, PART_SCHEMA
from dsops.manifest.validate import validate_manifest, validate_part

_META_KEY = b"dsops"
FORMAT_METADATA_VERSION = 1


def _to_parquet(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(metadata, sort_keys=True, default=str).encode()
    table = table.replace_schema_metadata(meta)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", row_group_size=256 * 1024)
    return sink.getvalue()


def _from_parquet(
    data: bytes, schema: pa.Schema, what: str, validate: Callable[[pa.Table, str], None]
) -> tuple[pa.Table, dict[str, Any]]:
    try:
        # Single-threaded: a read through Arrow's CPU pool leaves its native threads
        # running, and about 1 process in 30 then aborts at exit with "terminate called
        # without an active exception" (apache/arrow#34314).
        # ParquetFile, not read_table: read_table goes through pyarrow.dataset, whose
        # import pulls in pandas (a third of a second of every command that reads one).
        table = pq.ParquetFile(pa.BufferReader(data)).read(use_threads=False)
    except (pa.ArrowException, OSError) as exc:
        raise ManifestError(
            f"{what} is not a readable Parquet file ({exc}); the store object may be "
            "corrupted — run `dsops verify`.",
            what=what,
        ) from exc
    for name in OPTIONAL_COLUMNS:  # written before the column existed: stored content
        if name not in table.column_names:
            table = table.append_column(name, pa.array([""] * table.num_rows, pa.string()))
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise ManifestError(
            f"{what} lacks columns {missing}; it was not written by this dsops format.",
            what=what,
        )
    raw = (table.schema.metadata or {}).get(_META_KEY, b"{}")
    try:
        metadata = json.loads(raw)
    except ValueError as exc:
        raise ManifestError(f"{what} has unreadable lineage metadata.", what=what) from exc
    if not isinstance(metadata, dict):
        raise ManifestError(f"{what} has lineage metadata that is not an object.", what=what)
    table = table.select(schema.names)
    nulls = [name for name in schema.names if table.column(name).null_count]
    if nulls:
        raise ManifestError(f"{what} has empty (null) values in columns {nulls}.", what=what)
    try:
        table = table.cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise ManifestError(f"{what} has columns of the wrong type: {exc}.", what=what) from exc
    validate(table, what)
    return table, metadata


def write_manifest(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    """Serialize a valid manifest (already sorted by path) with lineage metadata.

    An invalid row (see :func:`validate_manifest`) raises before anything is written.
    """
    what = f"manifest of {metadata['id']}" if metadata.get("id") else "manifest"
    validate_manifest(table, what)
    return _to_parquet(table.cast(MANIFEST_SCHEMA), metadata)


def read_manifest(data: bytes, what: str = "manifest") -> tuple[pa.Table, dict[str, Any]]:
    """Parse and validate a manifest: :class:`InvalidPath` / :class:`InvalidManifest`."""
    return _from_parquet(data, MANIFEST_SCHEMA, what, validate_manifest)


def write_part(table: pa.Table, metadata: dict[str, Any]) -> bytes:
    validate_part(table, "draft part")
    return _to_parquet(table.cast(PART_SCHEMA), metadata)


def read_part(data: bytes, what: str = "draft part") -> tuple[pa.Table, dict[str, Any]]:
    return _from_parquet(data, PART_SCHEMA, what, validate_part)
