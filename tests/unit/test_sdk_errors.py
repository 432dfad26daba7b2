"""Defaults, bad stores and malformed store content give specific, actionable errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsops import Dataset, Store
from dsops.errors import ManifestError, StoreFormatError, StoreUnavailable
from tests.helpers import replace_manifest, snapshot, write_tree

ROOT = Path(__file__).resolve().parents[2]


def test_default_store_comes_from_dsops_store_and_explicit_store_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "env-store"))
    Dataset.create(project="p", name="env").finalize()
    assert (tmp_path / "env-store" / "dsops.json").exists()
    Dataset.create(project="p", name="explicit", store=str(tmp_path / "arg-store")).finalize()
    assert [r["name"] for r in Dataset.list(store=str(tmp_path / "arg-store"))] == ["explicit"]
    assert [r["name"] for r in Dataset.list()] == ["env"]


def test_embedded_default_store_lives_under_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DSOPS_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Store().url == str(tmp_path / "xdg" / "dsops" / "store")


def test_a_file_where_the_store_folder_should_be_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("x")
    with pytest.raises(StoreUnavailable, match="folder"):
        Dataset.create(project="p", name="n", store=str(tmp_path / "not-a-folder"))


def test_store_of_a_newer_format_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "dsops.json").write_text('{"format": "dsops", "version": 99}')
    with pytest.raises(StoreFormatError, match="upgrade dsops"):
        Dataset.create(project="p", name="n", store=str(tmp_path / "s"))


def test_malformed_manifest_is_reported_not_served(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="m", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"a": "1"}))
    ds.finalize()
    replace_manifest(store, ds.id, b"not parquet at all")
    fresh = Store(store.url, cache_dir=tmp_path / "fresh-cache")
    with pytest.raises(ManifestError, match="dsops verify"):
        Dataset.get(ds.id, store=fresh).get_local_copy()


_HOLD = """
import sys, time
from dsops import Dataset, Store
store = Store(sys.argv[1], cache_dir=sys.argv[2])
print(Dataset.get(sys.argv[3], store=store).get_local_copy(), flush=True)
time.sleep(60)
"""


def test_eviction_never_removes_a_view_another_process_is_using(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    ds = Dataset.create(project="p", name="held", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"a.txt": "A" * 1000, "b/c.txt": "C"}))
    ds.finalize()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, store.url, str(tmp_path / "cache"), ds.id],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        view = holder.stdout.readline().strip()
        result = Store(store.url, cache_dir=tmp_path / "cache").cache.evict(0)
        assert result.removed_views == 0
        assert snapshot(view) == {"a.txt": b"A" * 1000, "b/c.txt": b"C"}
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    result = Store(store.url, cache_dir=tmp_path / "cache").cache.evict(0)
    assert result.removed_views == 1
    assert not Path(view).exists()
