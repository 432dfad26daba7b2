"""The Python examples of docs/FSSPEC.md run as written, on the default store."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd

from dsops import Dataset
from tests.helpers import write_tree

DOC = Path(__file__).resolve().parents[2] / "docs" / "FSSPEC.md"


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    frame.to_parquet(sink)
    return sink.getvalue()


def test_fsspec_doc_examples_run(tmp_path: Path) -> None:
    files: dict[str, bytes | str] = {
        "labels.csv": "path,label\nimg/a.png,cat\n",
        "tables/part-0.parquet": _parquet(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})),
        "tables/part-1.parquet": _parquet(pd.DataFrame({"x": [3], "y": ["c"]})),
        "img/a.png": b"\x89PNG0123456789",
        "img/sub/b.png": b"\x89PNGb",
    }
    ds = Dataset.create("vision/cats", "train")  # the default store ($DSOPS_STORE)
    ds.add_files(write_tree(tmp_path / "src", files))
    ds.finalize(alias="prod")
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 2
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert namespace["labels"].shape == (1, 2)  # type: ignore[attr-defined]
    assert namespace["table"].column("x").to_pylist() == [1, 2]  # type: ignore[attr-defined]
    assert namespace["everything"].num_rows == 3  # type: ignore[attr-defined]
    assert namespace["images"] == ["img/a.png", "img/sub/b.png"]
    assert namespace["head"] == b"0123" and namespace["first_bytes"] == b"\x89PNG0123"
    assert namespace["size"] == len(files["img/a.png"])
    pngs = namespace["pngs"]
    assert len(pngs) == 2 and pngs[0] == files["img/a.png"]  # type: ignore[arg-type,index]
