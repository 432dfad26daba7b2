"""Previews: the first rows of CSV/TSV/Parquet files, and image thumbnails.

Only the bytes needed are read: the head of a CSV file, the first row group of a
Parquet file. Thumbnails are re-encoded as PNG by Pillow (never the original bytes), so
what reaches the browser is always a plain raster image.
"""

from __future__ import annotations

import io
import math
import posixpath
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dsops.dataset import Dataset
from dsops.errors import MissingDependency

PREVIEW_ROWS = 20
PREVIEW_COLUMNS = 50
CSV_HEAD_BYTES = 1024 * 1024
CELL_CHARS = 200
THUMBNAIL_PX = 256
MAX_IMAGE_BYTES = 64 * 1024 * 1024

TABLE_TYPES = {"csv": ",", "tsv": "\t", "parquet": ""}
IMAGE_TYPES = {"png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"}


def kind(path: str) -> str | None:
    """``"table"``, ``"image"`` or None, from the file's extension."""
    extension = posixpath.splitext(path)[1].lower().lstrip(".")
    if extension in TABLE_TYPES:
        return "table"
    if extension in IMAGE_TYPES:
        return "image"
    return None


def table_preview(dataset: Dataset, row: pa.Table, rows: int = PREVIEW_ROWS) -> dict[str, Any]:
    """Column names and the first ``rows`` rows (cells as short strings) of the file of
    ``row`` (a one-row manifest table of ``dataset``)."""
    path = str(row.column("path")[0].as_py())
    extension = posixpath.splitext(path)[1].lower().lstrip(".")
    total: int | None
    if extension == "parquet":
        table, total, columns = _parquet_head(dataset, path, rows)
    else:
        table, total = _csv_head(dataset, row, rows, TABLE_TYPES[extension])
        columns = table.num_columns
    table = table.slice(0, rows).select(table.column_names[:PREVIEW_COLUMNS])
    return {
        "path": path,
        "columns": [{"name": f.name, "type": str(f.type)} for f in table.schema],
        "rows": [[cell(v) for v in record.values()] for record in table.to_pylist()],
        "total_rows": total,
        "total_columns": columns,
    }


def _parquet_head(dataset: Dataset, path: str, rows: int) -> tuple[pa.Table, int, int]:
    with dataset.open(path) as fh, pq.ParquetFile(fh) as pf:
        schema = pf.schema_arrow
        names = schema.names[:PREVIEW_COLUMNS]
        batch = next(pf.iter_batches(batch_size=rows, columns=names), None)
        head = (
            pa.Table.from_batches([batch])
            if batch is not None
            else schema.empty_table().select(names)
        )
        return head, pf.metadata.num_rows, len(schema.names)


def _csv_head(
    dataset: Dataset, row: pa.Table, rows: int, delimiter: str
) -> tuple[pa.Table, int | None]:
    size = int(row.column("size")[0].as_py())
    with dataset.open(str(row.column("path")[0].as_py())) as fh:
        data = fh.read(CSV_HEAD_BYTES)
    if len(data) < size:  # drop the last, probably cut, line
        data = data[: data.rfind(b"\n") + 1]
    if not data.strip():
        return pa.table({}), 0
    table = pacsv.read_csv(
        io.BytesIO(data),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
    )
    return table, table.num_rows if len(data) >= size else None


def cell(value: Any) -> str | int | float | bool | None:
    """A table cell as JSON can carry it: numbers as they are (NaN and infinities,
    which JSON lacks, as text), anything else as a short string."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value.hex() if isinstance(value, bytes) else str(value)
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def thumbnail(dataset: Dataset, row: pa.Table, px: int = THUMBNAIL_PX) -> bytes:
    """A PNG at most ``px`` wide and high of the image file of ``row`` (in ``dataset``)."""
    try:
        from PIL import Image
    except ImportError as exc:
        raise MissingDependency(
            "Image thumbnails need Pillow: pip install 'dsops[ui]'.", extra="ui"
        ) from exc
    if int(row.column("size")[0].as_py()) > MAX_IMAGE_BYTES:
        raise ValueError(f"The image is larger than {MAX_IMAGE_BYTES // 1024**2} MiB.")
    out = io.BytesIO()
    try:
        with dataset.open(str(row.column("path")[0].as_py())) as fh, Image.open(fh) as image:
            image.draft("RGB", (px, px))  # JPEG: decode at a reduced scale, much faster
            image.thumbnail((px, px))
            small = image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")
            small.save(out, format="PNG")
    except Image.DecompressionBombError as exc:  # not an OSError: name it here
        raise ValueError(f"the image has too many pixels ({exc})") from exc
    return out.getvalue()
