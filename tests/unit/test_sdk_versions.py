"""Versions, lineage and the commit protocol through the public SDK."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from dsops import Dataset, Store
from dsops.errors import (
    ConfigError,
    DatasetNotFound,
    DsopsError,
    InvalidPath,
    InvalidReference,
    NotFinalized,
    SourceNotFound,
    VersionConflict,
    VersionDeleted,
    VersionImmutable,
    VersionNotFound,
)
from tests.helpers import snapshot, write_tree


def test_create_add_finalize_fetch_round_trip(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "alpha", "sub/b.bin": b"\x00\x01", "e": ""})
    ds = Dataset.create(project="demo", name="toy", store=store)
    assert ds.version is None and not ds.is_final
    summary = ds.add_files(src)
    assert (summary.added, summary.added_bytes, summary.modified) == (3, 7, 0)
    version_id = ds.finalize()
    assert version_id == ds.id
    assert ds.version == "1.0.0"
    assert snapshot(ds.get_local_copy()) == {"a.txt": b"alpha", "sub/b.bin": b"\x00\x01", "e": b""}


def test_child_version_changes_and_semver_sequence(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "v1", {"keep.txt": "k", "edit.txt": "old", "drop.txt": "d"})
    parent = Dataset.create(project="demo", name="seq", store=store)
    parent.add_files(src)
    parent.finalize()
    child = Dataset.create(project="demo", name="seq", parents=[parent.id], store=store)
    (src / "edit.txt").write_text("new!")
    (src / "add.txt").write_text("a")
    (src / "drop.txt").unlink()
    summary = child.sync_folder(src)
    assert (summary.added, summary.modified, summary.removed) == (1, 1, 1)
    child.finalize()
    assert child.version == "1.0.1"
    assert child.list_added_files() == ["add.txt"]
    assert child.list_modified_files() == ["edit.txt"]
    assert child.list_removed_files() == ["drop.txt"]
    assert child.parents == [parent.id]
    files = child.files().set_index("path")
    assert files.loc["keep.txt", "origin"] == parent.id
    assert files.loc["edit.txt", "origin"] == child.id
    assert Dataset.get("demo/seq@latest", store=store).id == child.id
    assert Dataset.get("demo/seq@1.0.0", store=store).id == parent.id
    assert Dataset.get(project="demo", name="seq", version="1.0.1", store=store).id == child.id
    assert Dataset.get(child.id, store=store).version == "1.0.1"


def test_explicit_version_is_honoured_and_conflicts_are_refused(
    store: Store, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "s", {"x": "1"})
    first = Dataset.create(project="p", name="n", version="2.3.0", store=store)
    first.add_files(src)
    first.finalize()
    assert first.version == "2.3.0"
    auto = Dataset.create(project="p", name="n", parents=["latest"], store=store)
    auto.finalize()
    assert auto.version == "2.3.1"
    clash = Dataset.create(project="p", name="n", version="2.3.0", store=store)
    with pytest.raises(VersionConflict, match="already exists"):
        clash.finalize()
    with pytest.raises(ConfigError):
        Dataset.create(project="p", name="n", version="v1", store=store)


def test_finalize_twice_returns_the_same_id_and_version(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="twice", store=store)
    ds.add_files(write_tree(tmp_path / "s", {"x": "1"}))
    first = ds.finalize()
    again = Dataset.get(first, store=store).finalize()
    assert first == again
    assert Dataset.get(first, store=store).version == "1.0.0"
    assert [r["version"] for r in Dataset.list(project="p", name="twice", store=store)] == ["1.0.0"]


def test_finalized_version_is_immutable(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "s", {"x": "1"})
    ds = Dataset.create(project="p", name="frozen", store=store)
    ds.add_files(src)
    ds.finalize()
    for action in (
        lambda: ds.add_files(src),
        lambda: ds.remove_files("x"),
        lambda: ds.sync_folder(src),
        lambda: Dataset.get(ds.id, store=store).add_files(src),
    ):
        with pytest.raises(VersionImmutable, match="create a child version"):
            action()


def test_draft_opened_from_its_id_elsewhere_can_add_and_finalize(
    store: Store, tmp_path: Path
) -> None:
    ds = Dataset.create(project="p", name="shared", store=store)
    other_process_view = Dataset.get(ds.id, store=Store(store.url, cache_dir=tmp_path / "c2"))
    other_process_view.add_files(write_tree(tmp_path / "s", {"x": "1"}))
    assert other_process_view.finalize() == ds.id
    assert ds.refresh().version == "1.0.0"
    assert ds.list_files() == ["x"]


def test_multiple_parents_merge_with_later_parents_winning(store: Store, tmp_path: Path) -> None:
    a = Dataset.create(project="p", name="a", store=store)
    a.add_files(write_tree(tmp_path / "a", {"shared.txt": "from-a", "only-a": "a"}))
    a.finalize()
    b = Dataset.create(project="p", name="b", store=store)
    b.add_files(write_tree(tmp_path / "b", {"shared.txt": "from-b", "only-b": "b"}))
    b.finalize()
    merged = Dataset.create(project="p", name="m", parents=[a.id, b.id], store=store)
    merged.finalize()
    files = snapshot(merged.get_local_copy())
    assert files == {"shared.txt": b"from-b", "only-a": b"a", "only-b": b"b"}
    assert merged.get_dependency_graph() == {merged.id: [a.id, b.id], a.id: [], b.id: []}


def test_dependency_graph_covers_the_whole_ancestry(store: Store) -> None:
    root = Dataset.create(project="p", name="g", store=store)
    root.finalize()
    mid = Dataset.create(project="p", name="g", parents=[root.id], store=store)
    mid.finalize()
    leaf = Dataset.create(project="p", name="g", parents=["p/g@latest"], store=store)
    assert leaf.parents == [mid.id]
    leaf.finalize()
    assert leaf.get_dependency_graph() == {leaf.id: [mid.id], mid.id: [root.id], root.id: []}
    assert [r.id for r in leaf.lineage()] == [root.id, mid.id, leaf.id]


def test_aliases_move_by_compare_and_swap_and_keep_history(store: Store) -> None:
    one = Dataset.create(project="vision", name="cats", store=store)
    one.finalize()
    two = Dataset.create(project="vision", name="cats", parents=[one.id], store=store)
    two.finalize()
    one.set_alias("prod")
    assert Dataset.get("vision/cats@prod", store=store).id == one.id
    two.set_alias("prod")
    assert Dataset.get("vision/cats@prod", store=store).id == two.id
    assert [h["version_id"] for h in two.alias_history("prod")] == [one.id, two.id]
    assert two.aliases() == ["latest", "prod"]


def test_list_filters_by_project_name_and_tags(store: Store) -> None:
    for project, name, tags in [("p", "a", ["x"]), ("p", "b", ["x", "y"]), ("q", "a", [])]:
        Dataset.create(project=project, name=name, tags=tags, store=store).finalize()
    Dataset.create(project="p", name="draft-only", store=store)  # drafts are not listed
    assert {(r["project"], r["name"]) for r in Dataset.list(store=store)} == {
        ("p", "a"),
        ("p", "b"),
        ("q", "a"),
    }
    assert [r["name"] for r in Dataset.list(project="p", store=store)] == ["a", "b"]
    assert [r["name"] for r in Dataset.list(tags=["y"], store=store)] == ["b"]
    row = Dataset.list(project="q", name="a", store=store)[0]
    assert set(row) >= {
        "id",
        "project",
        "name",
        "version",
        "parents",
        "created_at",
        "file_count",
        "total_size",
    }


def test_unknown_references_raise_lookup_errors_that_say_what_exists(store: Store) -> None:
    Dataset.create(project="p", name="known", store=store).finalize()
    with pytest.raises(DatasetNotFound, match="no finalized version"):
        Dataset.get("p/unknown@latest", store=store)
    with pytest.raises(VersionNotFound, match=r"1\.0\.0") as info:
        Dataset.get("p/known@9.9.9", store=store)
    assert isinstance(info.value, LookupError)
    with pytest.raises(LookupError):
        Dataset.get("0" * 32, store=store)
    with pytest.raises(InvalidReference, match="project/name@version"):
        Dataset.get("not a ref", store=store)


def test_unsafe_dataset_paths_are_refused(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "s", {"x": "1"})
    ds = Dataset.create(project="p", name="safe", store=store)
    for bad in ("/abs", "../up", "a/../../b"):
        with pytest.raises(InvalidPath):
            ds.add_files(src, dataset_path=bad)
    with pytest.raises(InvalidPath):
        ds.remove_files("../x")
    assert ds.list_files() == []


def test_missing_source_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="src", store=store)
    with pytest.raises(SourceNotFound, match="No such file or folder"):
        ds.add_files(tmp_path / "nope")
    with pytest.raises(SourceNotFound, match="No file matches"):
        ds.add_files(str(tmp_path / "*.nothing"))


def test_draft_parents_must_be_finalized(store: Store) -> None:
    draft = Dataset.create(project="p", name="d", store=store)
    with pytest.raises(NotFinalized):
        Dataset.create(project="p", name="e", parents=[draft.id], store=store)
    with pytest.raises(NotFinalized):
        draft.get_local_copy()


def test_errors_pickle_with_their_context() -> None:
    err = VersionNotFound("gone", version_id="abc", store="/x")
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is VersionNotFound
    assert str(clone) == "gone" and clone.version_id == "abc"
    assert isinstance(clone, DsopsError) and isinstance(clone, LookupError)


def test_children_and_open_file(store: Store, tmp_path: Path) -> None:
    parent = Dataset.create(project="p", name="kids", store=store)
    parent.add_files(write_tree(tmp_path / "s", {"a.txt": "hello"}))
    parent.finalize()
    kids = [
        Dataset.create(project="p", name="kids", parents=[parent.id], store=store) for _ in range(2)
    ]
    for kid in kids:
        kid.finalize()
    assert sorted(parent.children()) == sorted(k.id for k in kids)
    with parent.open("a.txt") as fh:
        assert fh.read() == b"hello"


def test_create_with_a_key_reopens_the_same_draft_until_it_is_finalized(store: Store) -> None:
    first = Dataset.create(project="p", name="keyed", store=store, key="dag/run/task")
    again = Dataset.create(project="p", name="keyed", store=store, key="dag/run/task")
    assert (first.created, again.created) == (True, False)
    assert first.id == again.id
    other = Dataset.create(project="p", name="keyed", store=store, key="dag/run2/task")
    assert other.id != first.id
    first.finalize()
    rerun = Dataset.create(project="p", name="keyed", store=store, key="dag/run/task")
    assert rerun.created and rerun.id not in (first.id, other.id)
    assert not rerun.is_final


def test_finalize_skip_if_unchanged_has_one_meaning_for_zero_one_and_many_parents(
    store: Store, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "a", {"a.txt": "1"})
    empty = Dataset.create(project="p", name="skip", store=store)
    assert empty.finalize(skip_if_unchanged=True) is None  # no parent, no file
    assert not empty.is_final
    first = Dataset.create(project="p", name="skip", store=store)
    first.add_files(src)
    assert first.finalize(skip_if_unchanged=True) == first.id  # a change: finalized
    same = Dataset.create(project="p", name="skip", parents=[first.id], store=store)
    assert same.finalize(skip_if_unchanged=True) == first.id  # repeats its parent
    assert not same.is_final and Dataset.get("p/skip@latest", store=store).id == first.id
    other = Dataset.create(project="p", name="other", store=store)
    other.add_files(write_tree(tmp_path / "b", {"b.txt": "2"}))
    other.finalize()
    merge = Dataset.create(project="p", name="skip", parents=[first.id, other.id], store=store)
    assert merge.finalize(skip_if_unchanged=True) == merge.id  # a merge is new content
    assert merge.list_files() == ["a.txt", "b.txt"]
    assert same.finalize() == same.id  # without the flag an unchanged draft still commits


def test_a_deleted_version_does_not_reopen_as_the_draft_it_was_finalized_from(
    store: Store,
) -> None:
    first = Dataset.create("demo", "gone", store=store).finalize()
    second = Dataset.create("demo", "gone", parents=["latest"], store=store).finalize()
    Dataset.delete(first, force=True, store=store)
    for ref in (first, "demo/gone@1.0.0"):
        with pytest.raises(VersionDeleted, match="was deleted"):
            Dataset.get(ref, store=store)
    assert Dataset.get("demo/gone@latest", store=store).id == second
