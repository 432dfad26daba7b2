"""A small store with real data for the UI tests, built through the public SDK.

``vision/cats``: 1.0.0 (root) → 1.0.1 (edits) and 1.0.2 (a branch from 1.0.0), then
1.0.3 merging both; ``nlp/en/corpus`` with Prefect provenance; and, on request, a
version with a large manifest whose rows reuse real stored content under new paths
(what a dataset of many duplicate files really looks like).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dsops import Dataset, Store
from dsops.catalog import DraftRecord, VersionRecord, new_version_id, now_iso
from dsops.layout import manifest_key, version_key
from dsops.manifest import write_manifest
from dsops.storage import dump_json
from tests.helpers import write_tree

AIRFLOW_URL = "http://airflow.example/dags/build_cats/runs/manual__1"


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def parquet_bytes() -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(50)), "label": [f"cat{i}" for i in range(50)]}), out)
    return out.getvalue()


@dataclass
class Demo:
    store: Store
    ids: dict[str, str] = field(default_factory=dict)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)


def build(root: Path) -> Demo:
    store = Store(str(root / "store"), cache_dir=root / "cache")
    demo = Demo(store)
    v1_files: dict[str, bytes] = {
        "images/train/a.png": png((200, 40, 40)),
        "images/train/b.png": png((40, 160, 60)),
        "images/val/c.png": png((40, 60, 200)),
        "labels.csv": b"path,label\nimages/train/a.png,cat\nimages/train/b.png,dog\n",
        "table.parquet": parquet_bytes(),
        "notes/readme.txt": b"hello cats\n",
        "notes/empty.txt": b"",
    }
    src = write_tree(root / "v1", v1_files)
    v1 = Dataset.create("vision", "cats", store=store, description="Cat pictures", tags=["img"])
    v1.add_files(src)
    v1.finalize()
    demo.ids["v1"], demo.files["v1"] = v1.id, dict(v1_files)

    v2_files = dict(v1_files)
    v2_files["labels.csv"] = b"path,label\nimages/train/a.png,cat\nimages/train/b.png,cat\n"
    v2_files["images/train/d.png"] = png((230, 200, 30), (300, 200))
    del v2_files["notes/readme.txt"]
    src2 = root / "v2"
    write_tree(src2, v2_files)
    v2 = Dataset.create("vision", "cats", parents=[v1.id], store=store, tags=["img"])
    v2.sync_folder(src2)
    provenance = {  # what the Airflow FinalizeDatasetOperator records
        "orchestrator": "airflow",
        "dag_id": "build_cats",
        "run_id": "manual__1",
        "task_id": "finalize",
        "try_number": 1,
        "run_url": AIRFLOW_URL,
    }
    v2.finalize(provenance=provenance, alias="prod")
    demo.ids["v2"], demo.files["v2"] = v2.id, v2_files

    branch = Dataset.create("vision", "cats", parents=[v1.id], store=store, tags=["img"])
    branch.add_files(write_tree(root / "b", {"extra/x.txt": "branch file"}))
    branch.finalize()
    demo.ids["v3"] = branch.id
    demo.files["v3"] = {**v1_files, "extra/x.txt": b"branch file"}

    merge = Dataset.create("vision", "cats", parents=[v2.id, branch.id], store=store)
    merge.finalize()
    demo.ids["v4"] = merge.id
    demo.files["v4"] = {**v2_files, **demo.files["v3"]}  # merged: later parents win

    corpus = Dataset.create("nlp/en", "corpus", store=store, tags=["text"])
    corpus.add_files(write_tree(root / "c", {"a.txt": "one", "b.txt": "two"}))
    corpus.finalize(
        provenance={"orchestrator": "prefect", "flow_run_id": "f-123", "flow_name": "ingest"}
    )
    demo.ids["corpus"] = corpus.id
    return demo


def add_large_version(demo: Demo, rows: int) -> str:
    """A ``big/many`` version of ``rows`` files, each reusing a real stored file's content.

    Written the way finalize writes a version: manifest first, then the create-only
    record, the semver claim, and ``latest``.
    """
    store = demo.store
    base = Dataset.get(demo.ids["v2"], store=store).manifest()
    base = base.filter(pc.greater(base.column("size"), 0))
    picks = pa.array([i % base.num_rows for i in range(rows)], pa.int64())
    table = base.take(picks)
    version_id = new_version_id()
    paths = [f"shard{i % 97:02d}/item{i:07d}.bin" for i in range(rows)]
    table = table.set_column(0, "path", pa.array(paths, pa.string()))
    table = table.set_column(
        table.schema.get_field_index("origin"), "origin", pa.array([version_id] * rows)
    )
    table = table.sort_by("path")
    draft = DraftRecord(id=version_id, project="big", name="many")
    label = store.catalog.claim_label(draft)
    size = int(pc.sum(table.column("size")).as_py())
    record = VersionRecord(
        id=version_id,
        project="big",
        name="many",
        version=label,
        created_at=now_iso(),
        finalized_at=now_iso(),
        manifest=manifest_key(version_id),
        file_count=rows,
        total_size=size,
        changes={"added": rows, "modified": 0, "removed": 0, "added_bytes": size},
    )
    store.ensure_format()
    store.backend.put(record.manifest, write_manifest(table, record.to_dict()))
    store.backend.put_if_absent(version_key(version_id), dump_json(record.to_dict()))
    store.catalog.set_alias(record, "latest", only_if_newer=True)
    return version_id
