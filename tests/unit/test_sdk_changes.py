"""Draft operations: add, remove, sync; differential, content-addressed storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsops import Dataset, Store
from dsops.objects import SMALL_FILE_LIMIT
from tests.helpers import random_tree, write_tree


def _stored_bytes(store: Store, prefix: str) -> int:
    return sum(info.size for info in store.backend.list(prefix))


def test_add_a_glob_keeps_paths_relative_to_the_glob_base(store: Store, tmp_path: Path) -> None:
    write_tree(tmp_path / "data", {"a/1.csv": "1", "a/b/2.csv": "2", "a/3.txt": "3"})
    ds = Dataset.create(project="p", name="glob", store=store)
    ds.add_files(str(tmp_path / "data" / "**" / "*.csv"), dataset_path="tables")
    assert ds.list_files() == ["tables/a/1.csv", "tables/a/b/2.csv"]


def test_add_with_wildcard_and_non_recursive(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "s", {"top.jpg": "j", "top.txt": "t", "deep/x.jpg": "x"})
    ds = Dataset.create(project="p", name="wild", store=store)
    ds.add_files(src, wildcard="*.jpg", recursive=False)
    assert ds.list_files() == ["top.jpg"]
    ds.add_files(src, wildcard=["*.jpg"])
    assert ds.list_files() == ["deep/x.jpg", "top.jpg"]


def test_add_single_file_and_list_of_sources(store: Store, tmp_path: Path) -> None:
    write_tree(tmp_path, {"one.txt": "1", "two/three.txt": "3"})
    ds = Dataset.create(project="p", name="list", store=store)
    summary = ds.add_files([tmp_path / "one.txt", tmp_path / "two"], dataset_path="in")
    assert summary.added == 2
    assert ds.list_files() == ["in/one.txt", "in/three.txt"]


def test_re_adding_unchanged_files_is_a_no_op(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "s", {"a": "1", "b": "2"})
    ds = Dataset.create(project="p", name="idem", store=store)
    ds.add_files(src)
    again = ds.add_files(src)
    assert (again.added, again.modified, again.unchanged, again.uploaded_bytes) == (0, 0, 2, 0)
    ds.finalize()
    assert ds.record is not None and ds.record.file_count == 2


def test_content_already_stored_is_never_uploaded_again(store: Store, tmp_path: Path) -> None:
    files = random_tree(tmp_path / "s", 200, seed=1)
    parent = Dataset.create(project="p", name="dedup", store=store)
    parent.add_files(tmp_path / "s")
    parent.finalize()
    packs_before = _stored_bytes(store, "packs/")
    # Rename every file and copy some: the child stores nothing new.
    moved = tmp_path / "moved"
    for rel, data in files.items():
        write_tree(moved, {f"renamed/{rel}": data, f"copy/{rel}": data})
    child = Dataset.create(project="p", name="dedup", parents=[parent.id], store=store)
    summary = child.sync_folder(moved)
    child.finalize()
    assert summary.added == 400 and summary.removed == 200
    assert summary.uploaded_bytes == 0
    assert _stored_bytes(store, "packs/") == packs_before


def test_small_files_are_packed_into_few_objects(store: Store, tmp_path: Path) -> None:
    random_tree(tmp_path / "s", 1000, seed=2)
    ds = Dataset.create(project="p", name="packed", store=store)
    ds.add_files(tmp_path / "s")
    ds.finalize()
    assert len(store.backend.list_keys("packs/")) == 1
    assert store.backend.list_keys("objects/") == []


def test_large_files_are_whole_objects_stored_once_store_wide(store: Store, tmp_path: Path) -> None:
    big = b"L" * (SMALL_FILE_LIMIT + 10)
    write_tree(tmp_path / "s", {"big.bin": big})
    first = Dataset.create(project="p", name="one", store=store)
    first.add_files(tmp_path / "s")
    first.finalize()
    unrelated = Dataset.create(project="q", name="two", store=store)
    summary = unrelated.add_files(tmp_path / "s", dataset_path="elsewhere")
    unrelated.finalize()
    assert summary.uploaded_bytes == 0
    assert len(store.backend.list_keys("objects/")) == 1
    assert Path(unrelated.get_local_copy(), "elsewhere/big.bin").read_bytes() == big


def test_child_of_a_one_percent_change_stores_about_the_changed_bytes(
    store: Store, tmp_path: Path
) -> None:
    files = random_tree(tmp_path / "s", 500, seed=3, max_size=8192)
    parent = Dataset.create(project="p", name="w3", store=store)
    parent.add_files(tmp_path / "s")
    parent.finalize()
    before = _stored_bytes(store, "packs/") + _stored_bytes(store, "objects/")
    changed = 0
    for i, rel in enumerate(sorted(files)[:5]):
        data = bytes([i + 1]) * 3000
        (tmp_path / "s" / rel).write_bytes(data)
        changed += len(data)
    child = Dataset.create(project="p", name="w3", parents=[parent.id], store=store)
    child.sync_folder(tmp_path / "s")
    child.finalize()
    after = _stored_bytes(store, "packs/") + _stored_bytes(store, "objects/")
    assert after - before <= 1.1 * changed
    assert child.record is not None and child.record.changes["modified"] == 5


def test_remove_by_pattern_and_folder(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "s", {"a.tmp": "1", "k/b.tmp": "2", "k/c.txt": "3", "d/e": "4"})
    ds = Dataset.create(project="p", name="rm", store=store)
    ds.add_files(src)
    summary = ds.remove_files("*.tmp")
    assert (summary.removed, summary.removed_bytes) == (2, 2)
    ds.remove_files("d")
    assert ds.list_files() == ["k/c.txt"]
    assert ds.remove_files("nothing-matches").removed == 0


def test_sync_into_a_dataset_path_leaves_other_folders_alone(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="sync", store=store)
    ds.add_files(write_tree(tmp_path / "other", {"keep.txt": "k"}), dataset_path="other")
    ds.add_files(write_tree(tmp_path / "img", {"1.png": "1", "2.png": "2"}), dataset_path="img")
    (tmp_path / "img" / "1.png").unlink()
    summary = ds.sync_folder(tmp_path / "img", dataset_path="img")
    assert (summary.added, summary.modified, summary.removed, summary.unchanged) == (0, 0, 1, 1)
    assert ds.list_files() == ["img/2.png", "other/keep.txt"]


def test_sync_of_an_unchanged_folder_reads_no_file(
    store: Store, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    random_tree(tmp_path / "s", 300, seed=4)
    ds = Dataset.create(project="p", name="stat", store=store)
    ds.sync_folder(tmp_path / "s")
    ds.finalize()
    import dsops.hashing as hashing

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("a file was re-hashed although its stat did not change")

    monkeypatch.setattr(hashing, "hash_file", refuse)
    child = Dataset.create(project="p", name="stat", parents=[ds.id], store=store)
    summary = child.sync_folder(tmp_path / "s")
    assert not summary.changed and summary.unchanged == 300


def test_list_files_pattern_and_files_dataframe(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="ls", store=store)
    ds.add_files(write_tree(tmp_path / "s", {"a/x.csv": "12", "a/y.txt": "1", "z.csv": "123"}))
    assert ds.list_files("*.csv") == ["a/x.csv", "z.csv"]
    assert ds.list_files("a/*") == ["a/x.csv", "a/y.txt"]
    frame = ds.files()
    assert list(frame.columns[:4]) == ["path", "size", "hash", "origin"]
    assert frame["size"].tolist() == [2, 1, 3]
    assert set(frame["origin"]) == {ds.id}


def test_diff_between_two_versions(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "s", {"same": "s", "mod": "1", "gone": "g"})
    old = Dataset.create(project="p", name="diff", store=store)
    old.add_files(src)
    old.finalize()
    write_tree(src, {"mod": "22", "new": "n"})
    (src / "gone").unlink()
    new = Dataset.create(project="p", name="diff", parents=[old.id], store=store)
    new.sync_folder(src)
    new.finalize()
    d = new.diff(old)
    assert d.added.column("path").to_pylist() == ["new"]
    assert d.removed.column("path").to_pylist() == ["gone"]
    assert d.modified.column("path").to_pylist() == ["mod"]
    assert d.counts()["modified_bytes"] == 2
    assert new.diff("p/diff@1.0.0").counts() == d.counts()


def test_progress_callback_reports_files_and_bytes(store: Store, tmp_path: Path) -> None:
    from dsops.progress import Recorder

    random_tree(tmp_path / "s", 50, seed=5)
    ds = Dataset.create(project="p", name="prog", store=store)
    rec = Recorder()
    ds.add_files(tmp_path / "s", progress=rec)
    assert rec.phases["hash"]["files"] == 50
    assert rec.phases["hash"]["bytes"] == rec.phases["hash"]["total_bytes"]
    assert rec.phases["upload"]["files"] == rec.phases["upload"]["total_files"]
    ds.finalize()
    fetch = Recorder()
    ds.get_local_copy(progress=fetch)
    assert fetch.phases["download"]["bytes"] == fetch.phases["download"]["total_bytes"] > 0


def test_add_a_store_url_prefix_downloads_and_adds_its_objects(
    store: Store, tmp_path: Path
) -> None:
    landing = write_tree(tmp_path / "landing", {"day/a.csv": "1", "day/b/c.csv": "2"})
    (tmp_path / "empty").mkdir()
    ds = Dataset.create(project="p", name="url", store=store)
    summary = ds.add_files(f"file://{landing}/day", dataset_path="in")
    assert summary.added == 2
    assert ds.list_files() == ["in/a.csv", "in/b/c.csv"]
    from dsops.errors import SourceNotFound

    with pytest.raises(SourceNotFound, match="Nothing found under"):
        ds.add_files(f"file://{tmp_path}/empty")
