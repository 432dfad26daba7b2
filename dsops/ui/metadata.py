"""A version's named metadata for the page: a DataFrame's first rows, a JSON value.

Values come from :meth:`Dataset.get_metadata_bytes` (hash-checked). A Parquet table is
read by pyarrow (only its first ``limit`` rows are turned into cells, like a file
preview); JSON is parsed, and shown whole up to ``MAX_JSON_BYTES``. What the browser
gets is data: the page puts every name, cell and value in text nodes.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsops.catalog.state import MetadataEntry
from dsops.ui.previews import PREVIEW_COLUMNS, cell

DEFAULT_ROWS = 50
MAX_ROWS = 1000
MAX_JSON_BYTES = 1024 * 1024

FILE_SUFFIX = {"parquet": ".parquet", "json": ".json", "bytes": ""}
MEDIA_TYPE = {"parquet": "application/octet-stream", "json": "application/json"}


class UnreadableMetadata(ValueError):
    """The stored bytes are not what their kind says (a table, JSON)."""


def item(name: str, entry: MetadataEntry) -> dict[str, Any]:
    """One row of the metadata list."""
    return {"name": name, "kind": entry.kind, "size": entry.size, "set_at": entry.set_at}


def view(entry: MetadataEntry, data: bytes, limit: int = DEFAULT_ROWS) -> dict[str, Any]:
    """What the page shows of a value: ``columns``/``rows``/``total_rows`` of a table,
    the ``value`` of JSON (``truncated`` when too large), nothing more of bytes."""
    if entry.kind == "parquet":
        return _table(data, limit)
    if entry.kind == "json":
        if len(data) > MAX_JSON_BYTES:
            return {"value": None, "truncated": True}
        try:
            value = json.loads(data, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise UnreadableMetadata(f"it is not valid JSON ({exc})") from exc
        return {"value": value, "truncated": False}
    return {}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN / Infinity: JSON responses refuse them


def _table(data: bytes, limit: int) -> dict[str, Any]:
    try:
        with pq.ParquetFile(io.BytesIO(data)) as pf:
            schema = pf.schema_arrow
            names = schema.names[:PREVIEW_COLUMNS]
            batch = next(pf.iter_batches(batch_size=limit, columns=names), None)
            head = (
                pa.Table.from_batches([batch])
                if batch is not None
                else schema.empty_table().select(names)
            )
            total = pf.metadata.num_rows
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UnreadableMetadata(f"it is not a readable Parquet table ({exc})") from exc
    head = head.slice(0, limit)
    return {
        "columns": [{"name": f.name, "type": str(f.type)} for f in head.schema],
        "rows": [[cell(v) for v in record.values()] for record in head.to_pylist()],
        "total_rows": total,
        "total_columns": len(schema.names),
        "truncated": total > head.num_rows or len(schema.names) > len(names),
    }
