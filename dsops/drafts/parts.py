"""Draft parts: one Parquet file per add/remove/sync call, applied in name order.

Part names start with a nanosecond timestamp, so parts written by parallel workers never
share a key and order the way they were written.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from dsops import layout
from dsops.manifest import PART_SCHEMA, read_part, write_part
from dsops.storage import ObjectStore


def new_part_id(tag: str = "") -> str:
    """``<t>-<r>`` plus ``tag`` (a shard's ``-s<i>of<n>``, see ``dsops.drafts.shards``)."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}{tag}"


def part_ids(store: ObjectStore, version_id: str) -> list[str]:
    prefix = layout.parts_prefix(version_id)
    return [
        key[len(prefix) : -len(".parquet")]
        for key in store.list_keys(prefix)
        if key.endswith(".parquet")
    ]


def read_parts(
    store: ObjectStore, version_id: str, ids: Sequence[str] | None = None
) -> list[tuple[str, pa.Table, dict[str, Any]]]:
    """Every part of the draft, in order, with its metadata."""
    ids = part_ids(store, version_id) if ids is None else list(ids)

    def load(part_id: str) -> tuple[str, pa.Table, dict[str, Any]]:
        data = store.get(layout.part_key(version_id, part_id))
        table, meta = read_part(data, what=f"draft part {part_id} of {version_id}")
        return part_id, table, meta

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(load, ids))


def write_new_part(
    store: ObjectStore, version_id: str, table: pa.Table, metadata: dict[str, Any], tag: str = ""
) -> str:
    part_id = new_part_id(tag)
    store.put_if_absent(
        layout.part_key(version_id, part_id), write_part(table.cast(PART_SCHEMA), metadata)
    )
    return part_id
