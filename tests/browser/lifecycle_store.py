"""A store whose versions went through the lifecycle, for the UI tests (unit and browser).

``life/daily``: 1.0.0 (root, published) → 1.0.1 (deleted, forced: it is a parent) →
1.0.2, whose description and tags look like HTML, with metadata (a DataFrame, JSON,
bytes) and an external file (a link to a local ``file://`` source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dsops import Dataset, Store
from tests.helpers import write_tree

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_TAG = "<b>bold<\\b>"
TABLE_ROWS = 60


def stats_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "split": [f"s{i}" for i in range(TABLE_ROWS)],
            "count": list(range(TABLE_ROWS)),
            "score": [float("nan")] + [i / 2 for i in range(1, TABLE_ROWS)],
            "note": ["<script>alert(2)</script>"] + ["ok"] * (TABLE_ROWS - 1),
        }
    )


LABELS = {"classes": ["cat", "dog"], "html": "<script>alert(3)</script>", "n": 2}
BLOB = b"\x00\x01<html><script>alert(4)</script></html>"


@dataclass
class Life:
    store: Store
    ids: dict[str, str] = field(default_factory=dict)
    link: str = ""


def build_lifecycle(root: Path) -> Life:
    store = Store(str(root / "store"), cache_dir=root / "cache")
    life = Life(store)
    first = Dataset.create("life", "daily", store=store, description="day one")
    first.add_files(write_tree(root / "d1", {"a.txt": "one", "data/b.csv": "x,y\n1,2\n"}))
    first.finalize()
    first.publish()
    second = Dataset.create("life", "daily", parents=[first.id], store=store)
    second.add_files(write_tree(root / "d2", {"c.txt": "two"}))
    second.finalize()
    third = Dataset.create("life", "daily", parents=[second.id], store=store, tags=["daily"])
    third.add_files(write_tree(root / "d3", {"d.txt": "three"}))
    source = write_tree(root / "external", {"remote.txt": "kept at its source"})
    life.link = f"file://{source}/remote.txt"
    third.add_external_files(life.link, dataset_path="ext")
    third.finalize()
    third.set_description(HOSTILE)
    third.add_tags(HOSTILE_TAG)
    third.set_metadata(stats_frame(), name="stats")
    third.set_metadata(LABELS, name="labels")
    third.set_metadata(BLOB, name="blob")
    Dataset.delete(second.id, force=True, store=store)
    life.ids.update(v1=first.id, v2=second.id, v3=third.id)
    return life
