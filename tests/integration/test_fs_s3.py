"""The dsops:// filesystem on a real S3 server (SeaweedFS): what a column read transfers,
pandas and pyarrow through URLs, listing without object reads, downloads, refused writes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from dsops import Dataset, Store
from dsops.errors import ReadOnlyFileSystem
from dsops.fs import DsopsFileSystem
from tests.helpers import snapshot, write_tree

pytestmark = pytest.mark.s3

COLUMNS = 10
ROWS = 375_000  # 10 float64 columns: a 30 MB uncompressed Parquet file


def _store(s3_server: Any, tmp_path: Path, name: str = "cache") -> Store:
    url = f"s3://{s3_server.new_bucket()}/data"
    return Store(url, cache_dir=tmp_path / name, **s3_server.options)


def _wide_parquet() -> bytes:
    rng = np.random.default_rng(7)
    table = pa.table({f"c{i}": rng.random(ROWS) for i in range(COLUMNS)})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="none", use_dictionary=False)
    return sink.getvalue()


def test_one_column_of_a_30_mb_parquet_file_transfers_under_35_percent_of_it(
    s3_server: Any, tmp_path: Path
) -> None:
    store = _store(s3_server, tmp_path)
    data = _wide_parquet()
    assert len(data) > 30_000_000
    ds = Dataset.create("bench", "wide", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"t.parquet": data}))
    version = ds.finalize()

    reader = Store(store.url, cache_dir=tmp_path / "other-machine", **s3_server.options)
    fs = DsopsFileSystem(version="bench/wide@latest", store=reader)
    assert fs.version_id == version
    reader.backend.reset_stats()  # type: ignore[attr-defined]
    column = pq.read_table("t.parquet", filesystem=fs, columns=["c4"])
    stats = reader.backend.stats  # type: ignore[attr-defined]
    expected = pq.read_table(io.BytesIO(data), columns=["c4"])
    assert column.equals(expected)
    ratio = stats["bytes_received"] / len(data)
    print(f"one column of {len(data)} bytes: {stats['bytes_received']} bytes ({ratio:.1%}) "
          f"in {stats['GET']} GETs")  # fmt: skip
    assert ratio < 0.35
    assert stats["GET"] <= 4 and stats["LIST"] == 0
    assert not reader.cache.objects.has(fs.info("t.parquet")["blake3"], len(data))


def test_pandas_and_pyarrow_read_dsops_urls_and_listing_reads_no_object(
    s3_server: Any, tmp_path: Path
) -> None:
    store = _store(s3_server, tmp_path)
    parts = {f"tables/part-{i}.parquet": pd.DataFrame({"x": [i, i + 10]}) for i in range(3)}
    files: dict[str, bytes | str] = {"a.csv": "a,b\n1,x\n", "img/sub/b.png": b"B" * 300}
    for path, frame in parts.items():
        sink = io.BytesIO()
        frame.to_parquet(sink)
        files[path] = sink.getvalue()
    ds = Dataset.create("vision/cats", "train", store=store)
    ds.add_files(write_tree(tmp_path / "src", files))
    ds.finalize(alias="prod")
    options = {"store": store.url, "cache_dir": str(tmp_path / "c2"), **s3_server.options}

    assert pd.read_csv("dsops://vision/cats/train@prod/a.csv", storage_options=options).shape == (
        1,
        2,
    )
    frame = pd.read_parquet("dsops://vision/cats/train@prod/tables/part-1.parquet",
                            storage_options=options)  # fmt: skip
    assert frame["x"].tolist() == [1, 11]

    fs = DsopsFileSystem(version="vision/cats/train@prod", **options)
    fs.store.backend.reset_stats()  # type: ignore[attr-defined]
    assert fs.glob("**/*.parquet") == sorted(parts)
    assert fs.ls("img", detail=False) == ["img/sub"] and fs.info("img/sub/b.png")["size"] == 300
    assert not fs.exists("img/nope.png")
    assert fs.store.backend.stats["requests"] == 0  # type: ignore[attr-defined]
    table = pads.dataset("tables", filesystem=fs, format="parquet").to_table()
    assert sorted(table.column("x").to_pylist()) == [0, 1, 2, 10, 11, 12]
    fs.get("img", str(tmp_path / "out"), recursive=True)
    assert snapshot(tmp_path / "out") == {"sub/b.png": b"B" * 300}
    with pytest.raises(ReadOnlyFileSystem):
        fs.open("a.csv", "wb")
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register_filesystem(DsopsFileSystem(**options))
    glob = "dsops://vision/cats/train@prod/tables/*.parquet"
    assert con.execute(f"SELECT sum(x) FROM read_parquet('{glob}')").fetchall() == [(36,)]
