"""Drafts on their own: parts in order, the seal and the fixed part list, change calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsops import Dataset, Store, layout
from dsops.drafts import current_view, ensure_open
from dsops.drafts.parts import new_part_id, part_ids, read_parts
from dsops.drafts.seal import fixed_parts, is_sealed, seal
from dsops.errors import InvalidPath, SourceNotFound, VersionImmutable
from tests.helpers import write_tree


def test_part_ids_sort_in_the_order_they_were_made() -> None:
    ids = [new_part_id() for _ in range(50)]
    assert sorted(ids) == ids and len(set(ids)) == 50


def test_each_change_call_writes_one_part_applied_in_order(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="d", store=store)
    ds.add_files(write_tree(tmp_path / "a", {"x.txt": "1", "y.txt": "2"}))
    ds.add_files(write_tree(tmp_path / "b", {"x.txt": "changed"}))
    ds.remove_files("y.txt")
    ds.add_files(tmp_path / "b" / "x.txt")  # unchanged content: no part
    ids = part_ids(store.backend, ds.id)
    assert len(ids) == 3
    ops = [meta["op"] for _, _, meta in read_parts(store.backend, ds.id)]
    assert ops == ["add", "add", "remove"]
    view, seen = current_view(store.context(), store.catalog.draft(ds.id))  # type: ignore[arg-type]
    assert seen == ids and view.column("path").to_pylist() == ["x.txt"]


def test_the_first_caller_after_the_seal_fixes_the_part_list(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="s", store=store)
    ds.add_files(write_tree(tmp_path / "a", {"x.txt": "1"}))
    assert not is_sealed(store.backend, ds.id)
    seal(store.backend, ds.id)
    seal(store.backend, ds.id)  # idempotent
    assert is_sealed(store.backend, ds.id)
    fixed = fixed_parts(store.backend, ds.id)
    # A part that appears later (a racing add) is not in the fixed list.
    store.backend.put_if_absent(layout.part_key(ds.id, new_part_id()), b"late")
    assert fixed_parts(store.backend, ds.id) == fixed == part_ids(store.backend, ds.id)[:1]
    with pytest.raises(VersionImmutable, match="being finalized"):
        ensure_open(store.context(), store.catalog.draft(ds.id))  # type: ignore[arg-type]


def test_change_calls_refuse_bad_input_without_writing_a_part(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="bad", store=store)
    with pytest.raises(SourceNotFound):
        ds.sync_folder(tmp_path / "missing")
    with pytest.raises(InvalidPath):
        ds.remove_files("../escape")
    with pytest.raises(InvalidPath):
        ds.add_files(write_tree(tmp_path / "a", {"a.txt": "1"}), dataset_path="../up")
    assert part_ids(store.backend, ds.id) == []
