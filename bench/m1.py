"""M1: a 1,000,000-row manifest (synthetic rows), then a real 1% change on top of it."""

from __future__ import annotations

import random
import resource
import time
from pathlib import Path

import pyarrow as pa

from dsops import Dataset, Store, layout
from dsops.catalog import DraftRecord, new_version_id
from dsops.drafts import finalize
from dsops.manifest import MANIFEST_SCHEMA
from dsops.storage import dump_json

SYNTHETIC_PACK = "packs/" + "5" * 64


def synthetic_parent(store: Store, rows: int) -> str:
    """Write a finalized version whose manifest has ``rows`` rows, all naming one pack of
    zeros (stored, so finalize's content check passes; its bytes match no file hash, so
    fetching a file of it is refused as corrupt: page and search it, never download)."""
    version_id = new_version_id()
    if not store.backend.exists(SYNTHETIC_PACK):
        store.backend.put(SYNTHETIC_PACK, bytes(rows + 6000))
    paths = [f"shard_{i % 1000:04d}/item_{i:07d}.jpg" for i in range(rows)]
    paths.sort()
    hashes = [f"{i:064x}" for i in range(rows)]
    table = pa.table(
        {
            "path": paths,
            "size": pa.array([1000 + i % 5000 for i in range(rows)], pa.int64()),
            "hash": hashes,
            "object": [SYNTHETIC_PACK] * rows,
            "offset": pa.array(range(rows), pa.int64()),
            "length": pa.array([1000 + i % 5000 for i in range(rows)], pa.int64()),
            "origin": [version_id] * rows,
            "mtime": pa.array([0] * rows, pa.int64()),
            "link": [""] * rows,
            "link_validator": [""] * rows,
        },
        schema=MANIFEST_SCHEMA,
    )
    draft = DraftRecord(id=version_id, project="bench", name="m1")
    store.backend.put_if_absent(layout.draft_key(version_id), dump_json(draft.to_dict()))
    # Use the real commit path: a single part holding every row.
    from dsops.drafts.parts import write_new_part

    part = table.drop_columns(["origin"])
    part = part.add_column(0, "op", pa.array(["add"] * rows, pa.string()))
    write_new_part(store.backend, version_id, part, {"op": "add", "summary": {}})
    finalize(store.context(), draft)
    return version_id


def build(workdir: str) -> dict[str, object]:
    """Phase 1 (own process): the 1M-row parent and the 1% change on disk."""
    work = Path(workdir)
    store = Store(str(work / "store"), cache_dir=work / "cache")
    rows = 1_000_000
    start = time.perf_counter()
    parent_id = synthetic_parent(store, rows)
    seconds = time.perf_counter() - start
    rng = random.Random(5)
    src = work / "change"
    for i in range(rows // 100):
        # Half replace existing paths, half are new.
        index = i * 100 if i % 2 == 0 else rows + i
        target = src / f"shard_{index % 1000:04d}/item_{index:07d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(rng.randbytes(512))
    return {"parent": parent_id, "build": seconds, "rows": rows}


def change(workdir: str, parent_id: str) -> dict[str, object]:
    """Phase 2 (fresh process, so peak RSS is finalize's own): child, finalize, diff."""
    work = Path(workdir)
    store = Store(str(work / "store"), cache_dir=work / "cache")
    child = Dataset.create(project="bench", name="m1", parents=[parent_id], store=store)
    child.add_files(work / "change")
    child.remove_files("shard_0999/*")
    start = time.perf_counter()
    child.finalize()
    fin = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fresh = Store(store.url, cache_dir=work / "cache")
    a = Dataset.get(child.id, store=fresh)
    b = Dataset.get(parent_id, store=fresh)
    start = time.perf_counter()
    d = a.diff(b)
    dt = time.perf_counter() - start
    start = time.perf_counter()
    listed = len(a.list_files())
    lt = time.perf_counter() - start
    return {
        "rows": listed,
        "finalize": fin,
        "peak_rss_mb": peak,
        "diff": dt,
        "diff_counts": {k: v for k, v in d.counts().items() if not k.endswith("bytes")},
        "list": lt,
    }
