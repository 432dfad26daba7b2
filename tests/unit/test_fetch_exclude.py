"""``exclude`` globs beside ``include`` for partial fetches (SDK and ``dsops get``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.manifest import select
from tests.cache_race_worker import CountingStore
from tests.helpers import snapshot, write_tree

FILES = {
    "train/a.jpg": b"a" * 300,
    "train/b.tmp": b"b" * 200,
    "train/raw/c.jpg": b"c" * 100,
    "val/d.jpg": b"d" * 50,
    "val/e.tmp": b"e" * 25,
    "README": b"read me",
}


def _version(tmp_path: Path, store: Store) -> Dataset:
    write_tree(tmp_path / "src", FILES)
    ds = Dataset.create(project="p", name="excl", store=store)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    return ds


def test_a_view_leaves_out_excluded_files_and_exclude_wins_over_include(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    ds = _version(tmp_path, store)
    view = ds.get_local_copy(exclude="*.tmp")
    assert snapshot(view) == {p: b for p, b in FILES.items() if not p.endswith(".tmp")}
    both = ds.get_local_copy(include="train/*", exclude=["*.tmp", "train/raw/*"])
    assert snapshot(both) == {"train/a.jpg": FILES["train/a.jpg"]}
    # Each selection is a view of its own; the whole version's view is unaffected.
    assert len({view, both, ds.get_local_copy(), ds.get_local_copy("train/*")}) == 4
    assert snapshot(ds.get_local_copy()) == FILES


def test_excluded_files_are_never_read_from_the_store(tmp_path: Path) -> None:
    big = {"keep/x.bin": os.urandom(5 * 1024 * 1024), "skip/y.bin": os.urandom(5 * 1024 * 1024)}
    write_tree(tmp_path / "src", big)
    writer = Store(str(tmp_path / "store"), cache_dir=tmp_path / "wcache")
    ds = Dataset.create(project="p", name="big", store=writer)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    CountingStore.read_bytes = 0
    reader = Store(cache_dir=tmp_path / "rcache", backend=CountingStore(writer.url))
    view = Dataset.get(ds.id, store=reader).get_local_copy(exclude="skip/*")
    assert snapshot(view) == {"keep/x.bin": big["keep/x.bin"]}
    assert CountingStore.read_bytes == len(big["keep/x.bin"])


def test_a_mutable_copy_takes_exclude_with_include_and_parts(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    ds = _version(tmp_path, store)
    out = ds.get_mutable_local_copy(tmp_path / "out", include=["train/*", "val/*"], exclude="*.tmp")
    assert snapshot(out) == {p: b for p, b in FILES.items() if p.endswith(".jpg")}
    parts: dict[str, bytes] = {}
    for k in range(2):
        target = tmp_path / f"part{k}"
        parts |= snapshot(ds.get_mutable_local_copy(target, exclude="*.tmp", part=k, num_parts=2))
    assert parts == {p: b for p, b in FILES.items() if not p.endswith(".tmp")}


def test_select_with_only_exclude_keeps_everything_else() -> None:
    import pyarrow as pa

    table = pa.table({"path": ["a/x.txt", "a/y.log", "b.log"]})
    assert select(table, None, "*.log").column("path").to_pylist() == ["a/x.txt"]
    assert select(table, None, []).num_rows == 3


def test_cli_get_exclude_is_repeatable_and_reported(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    ds = _version(tmp_path, store)
    env = {"DSOPS_STORE": store.url, "DSOPS_CACHE_DIR": str(tmp_path / "cache")}
    res = CliRunner().invoke(
        cli,
        ["get", ds.id, "--exclude", "*.tmp", "--exclude", "README", "--json"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["exclude"] == ["*.tmp", "README"]
    assert sorted(snapshot(doc["path"])) == ["train/a.jpg", "train/raw/c.jpg", "val/d.jpg"]
    res = CliRunner().invoke(
        cli,
        ["get", ds.id, "--to", str(tmp_path / "copy"), "--include", "val/*", "--exclude", "*.tmp"],
        env=env,
    )
    assert res.exit_code == 0, res.output
    assert snapshot(tmp_path / "copy") == {"val/d.jpg": FILES["val/d.jpg"]}
