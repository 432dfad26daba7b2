"""The lifecycle on a real S3 server (SeaweedFS): delete, prune, metadata, rename races."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dsops import Dataset, Store
from dsops.errors import DatasetRenamed, DsopsError, VersionDeleted
from tests.helpers import random_tree, snapshot, write_tree

pytestmark = pytest.mark.s3


def _store(s3_server: Any, tmp_path: Path, cache: str = "cache") -> Store:
    return Store(
        f"s3://{s3_server.new_bucket()}/data", cache_dir=tmp_path / cache, **s3_server.options
    )


def _chain(store: Store, src: Path, count: int, name: str = "daily") -> list[str]:
    ids: list[str] = []
    for n in range(count):
        write_tree(src, {f"day{n}/rows.csv": f"{n}," * 2000})
        ds = Dataset.create("team", name, parents=ids[-1:] or None, store=store)
        ds.add_files(src)
        ids.append(ds.finalize())
    return ids


def test_delete_a_parent_then_fetch_the_child_byte_for_byte(s3_server: Any, tmp_path: Path) -> None:
    store = _store(s3_server, tmp_path)
    src = tmp_path / "src"
    random_tree(src, 120, seed=3, max_size=6000)
    write_tree(src, {"big.bin": b"\x07" * (5 * 1024 * 1024)})
    ids = _chain(store, src, 3)
    expected = snapshot(src)
    Dataset.delete(ids[1], force=True, store=store)
    cold = Store(store.url, cache_dir=tmp_path / "cold", **s3_server.options)
    with pytest.raises(VersionDeleted):
        Dataset.get("team/daily@1.0.1", store=cold)
    child = Dataset.get(ids[2], store=cold)
    assert snapshot(child.get_mutable_local_copy(tmp_path / "copy")) == expected
    assert child.verify(deep=True)
    assert [v["version"] for v in Dataset.list(store=cold)] == ["1.0.0", "1.0.2"]


def test_prune_with_an_alias_and_metadata_on_s3(s3_server: Any, tmp_path: Path) -> None:
    store = _store(s3_server, tmp_path)
    ids = _chain(store, tmp_path / "src", 6)
    Dataset.get(ids[0], store=store).set_alias("golden")
    frame = pd.DataFrame({"day": range(6)})
    Dataset.get(ids[5], store=store).set_metadata(frame, name="stats")
    pruned = Dataset.prune("team", "daily", keep_last=3, store=store)
    assert [v["version"] for v in pruned] == ["1.0.1", "1.0.2"]
    reader = Store(store.url, cache_dir=tmp_path / "reader", **s3_server.options)
    assert [v["version"] for v in Dataset.list(store=reader)] == [
        "1.0.0",
        "1.0.3",
        "1.0.4",
        "1.0.5",
    ]
    latest = Dataset.get("team/daily@latest", store=reader)
    pd.testing.assert_frame_equal(latest.get_metadata("stats"), frame)
    assert latest.to_dict()["metadata"] == ["stats"]


def _rename(url: str, options: dict[str, Any], target: str) -> str:
    try:
        Dataset.rename("team", "race", target, store=Store(url, **options))
        return "won"
    except DsopsError as exc:
        return type(exc).__name__


def test_concurrent_renames_across_processes_have_one_winner(
    s3_server: Any, tmp_path: Path
) -> None:
    store = _store(s3_server, tmp_path)
    _chain(store, tmp_path / "src", 2, name="race")
    targets = [f"race-{n}" for n in range(4)]
    with ProcessPoolExecutor(4) as pool:
        outcomes = dict(
            zip(targets, pool.map(_rename, [store.url] * 4, [s3_server.options] * 4, targets))
        )
    winners = [t for t, o in outcomes.items() if o == "won"]
    assert len(winners) == 1, outcomes
    reader = Store(store.url, cache_dir=tmp_path / "reader", **s3_server.options)
    assert {v["name"] for v in Dataset.list(store=reader)} == set(winners)
    assert Dataset.get(f"team/{winners[0]}@latest", store=reader).version == "1.0.1"
    with pytest.raises(DatasetRenamed):
        Dataset.get("team/race@latest", store=reader)
