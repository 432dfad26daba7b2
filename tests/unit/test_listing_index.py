"""The listing index (docs/FORMAT.md, "Listing index"): O(datasets) requests, and never
trusted over the claims, records, tombstones, states and aliases."""

from __future__ import annotations

import json
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bench.gc_bench import commit
from dsops import Dataset, Store, layout
from dsops.catalog import listing
from dsops.catalog.listing import _checksum, read_index
from dsops.storage.local import LocalStore
from tests.faults.injection import FaultyStore

T = TypeVar("T")


class CountingStore(FaultyStore):
    """Fails nothing; counts requests by kind (a LIST as its S3 pages of 1,000 keys)."""

    def __init__(self, inner: LocalStore) -> None:
        super().__init__(inner, 0.0)
        self.counts: Counter[str] = Counter()

    def _call(self, kind: str, key: str, op: Callable[[], T]) -> T:
        result = op()
        if kind == "LIST":
            listed = list(result)  # type: ignore[call-overload]
            self.counts[kind] += max(1, -(-len(listed) // 1000))
            return iter(listed)  # type: ignore[return-value]
        self.counts[kind] += 1
        return result


def build(root: Path, datasets: int, versions: int) -> None:
    store = Store(str(root), cache_dir=root.parent / "build-cache")
    rng = random.Random(1)
    for d in range(datasets):
        parent = None
        for n in range(versions):
            parent = commit(store, f"d{d:03d}", n, parent, rng)


def counted_list(root: Path, tmp: Path) -> tuple[list[dict[str, Any]], Counter[str]]:
    backend = CountingStore(LocalStore(str(root)))
    store = Store(str(root), cache_dir=tmp / "c", backend=backend)
    rows = Dataset.list(store=store)
    return rows, backend.counts


def test_listing_costs_requests_per_dataset_not_per_version(tmp_path: Path) -> None:
    counts = {}
    for versions in (2, 12):
        root = tmp_path / f"s{versions}" / "store"
        root.parent.mkdir()
        build(root, 10, versions)
        rows, first = counted_list(root, tmp_path / f"s{versions}")
        assert len(rows) == 10 * versions
        assert first["PUT"] == 0  # finalize kept every index up to date
        counts[versions] = first
    assert counts[2] == counts[12]
    # One GET per dataset (its index: claims, records, states, aliases), 6 LISTs.
    assert counts[12]["GET"] == 10
    assert counts[12]["LIST"] <= 7


def test_ui_index_costs_requests_per_dataset(tmp_path: Path) -> None:
    root = tmp_path / "store"
    build(root, 4, 6)
    backend = CountingStore(LocalStore(str(root)))
    store = Store(str(root), cache_dir=tmp_path / "c", backend=backend)
    summaries = Dataset.datasets(store=store)
    assert [s["version_count"] for s in summaries] == [6, 6, 6, 6]
    assert backend.counts["GET"] == 4


def _skip(*_: Any, **__: Any) -> None:
    """A refresh that never happens (the process was killed before it)."""


def _store(root: Path, tmp: Path) -> Store:
    return Store(str(root), cache_dir=tmp / "cache")


def test_a_finalize_killed_before_its_index_update_is_listed_and_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store", tmp_path)
    first = Dataset.create("p", "d", store=store).finalize()
    monkeypatch.setattr(sys.modules["dsops.drafts.finalize"], "refresh_index", _skip)
    second = Dataset.create("p", "d", parents=[first], store=store).finalize()
    index, _ = read_index(store.backend, "p", "d")
    assert index is not None and second not in index.records  # the killed step
    assert [r["id"] for r in Dataset.list(store=_store(tmp_path / "store", tmp_path))] == [
        first,
        second,
    ]
    index, _ = read_index(store.backend, "p", "d")
    assert index is not None and second in index.records  # the listing repaired it


def test_a_dataset_whose_first_finalize_never_wrote_an_index_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store", tmp_path)
    monkeypatch.setattr(sys.modules["dsops.drafts.finalize"], "refresh_index", _skip)
    only = Dataset.create("p", "new", store=store).finalize()
    assert not store.backend.exists(layout.index_key("p", "new"))
    assert [r["id"] for r in Dataset.list(store=store)] == [only]
    assert store.backend.exists(layout.index_key("p", "new"))


def test_a_deleted_version_vanishes_even_under_a_stale_index(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", tmp_path)
    first = Dataset.create("p", "d", store=store).finalize()
    second = Dataset.create("p", "d", parents=[first], store=store).finalize()
    key = layout.index_key("p", "d")
    stale = store.backend.get(key)
    Dataset.delete(second, force=True, store=store)
    assert [r["id"] for r in Dataset.list(store=store)] == [first]
    store.backend.put(key, stale)  # a delete killed before its refresh, in effect
    assert [r["id"] for r in Dataset.list(store=_store(tmp_path / "store", tmp_path))] == [first]


def test_a_rename_moves_the_versions_and_the_index(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", tmp_path)
    first = Dataset.create("p", "old", store=store, tags=["t"]).finalize()
    second = Dataset.create("p", "old", parents=[first], store=store).finalize()
    Dataset.rename("p", "old", "new", store=store)
    fresh = _store(tmp_path / "store", tmp_path)
    rows = Dataset.list(store=fresh)
    assert [(r["id"], r["name"]) for r in rows] == [(first, "new"), (second, "new")]
    assert [r["aliases"] for r in rows] == [[], ["latest"]]
    assert Dataset.list(project="p", name="old", store=fresh) == []
    assert not store.backend.exists(layout.index_key("p", "old"))
    index, _ = read_index(store.backend, "p", "new")
    assert index is not None and set(index.records) == {first, second}


@pytest.mark.parametrize("damage", ["garbage", "checksum", "forged"])
def test_a_corrupt_index_is_repaired_not_trusted(tmp_path: Path, damage: str) -> None:
    store = _store(tmp_path / "store", tmp_path)
    first = Dataset.create("p", "d", store=store).finalize()
    second = Dataset.create("p", "d", parents=[first], store=store).finalize()
    key = layout.index_key("p", "d")
    body = json.loads(store.backend.get(key))
    if damage == "garbage":
        store.backend.put(key, b"{not json")
    else:  # hide the second version: drop its claim and record
        label = next(k for k, v in body["claims"].items() if v["id"] == second)
        del body["claims"][label], body["records"][second]
        content = {k: v for k, v in body.items() if k not in ("updated_at", "checksum")}
        if damage == "forged":  # a checksum that matches: still checked against the claims
            body["checksum"] = _checksum(content)
        store.backend.put(key, json.dumps(body).encode())
    rows = Dataset.list(store=_store(tmp_path / "store", tmp_path))
    assert [r["id"] for r in rows] == [first, second]
    index, _ = read_index(store.backend, "p", "d")
    assert index is not None and set(index.records) == {first, second}


def test_a_forged_index_cannot_show_a_deleted_version(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", tmp_path)
    first = Dataset.create("p", "d", store=store).finalize()
    key = layout.index_key("p", "d")
    kept = store.backend.get(key)
    Dataset.delete(first, force=True, store=store)
    store.backend.put(key, kept)
    assert Dataset.list(store=_store(tmp_path / "store", tmp_path)) == []
    assert Dataset.datasets(store=_store(tmp_path / "store", tmp_path)) == []


def test_state_changes_show_even_when_their_index_refresh_was_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store", tmp_path)
    ds = Dataset.create("p", "d", store=store)
    ds.finalize()
    monkeypatch.setattr(listing, "refresh", _skip)
    ds.add_tags("gold")
    ds.set_description("hello")
    ds.publish()
    fresh = _store(tmp_path / "store", tmp_path)
    [row] = Dataset.list(tags=["gold"], only_published=True, store=fresh)
    assert row["id"] == ds.id and row["description"] == "hello" and row["published"]
    [summary] = Dataset.datasets(tag="gold", store=fresh)
    assert summary["description"] == "hello"


def test_state_changes_refresh_the_index(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", tmp_path)
    ds = Dataset.create("p", "d", store=store)
    ds.finalize()
    ds.add_tags("gold")
    index, _ = read_index(store.backend, "p", "d")
    assert index is not None and index.states[ds.id][1].tags == ("gold",)


def test_concurrent_finalizes_into_one_dataset_all_appear(tmp_path: Path) -> None:
    root = tmp_path / "store"
    Dataset.create("p", "d", store=_store(root, tmp_path)).finalize()
    ids: list[str] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            store = Store(str(root), cache_dir=tmp_path / f"cache{n}")
            ids.append(Dataset.create("p", "d", store=store).finalize())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    listed = {r["id"] for r in Dataset.list(store=_store(root, tmp_path))}
    assert set(ids) <= listed and len(listed) == 9
    index, _ = read_index(_store(root, tmp_path).backend, "p", "d")
    assert index is not None and set(ids) <= set(index.records)


def test_list_filters_and_shapes_are_unchanged(tmp_path: Path) -> None:
    store = _store(tmp_path / "store", tmp_path)
    a = Dataset.create("proj", "alpha", store=store, tags=["x"]).finalize()
    b = Dataset.create("proj", "beta", store=store).finalize()
    Dataset.get(b, store=store).publish()
    assert [r["id"] for r in Dataset.list(partial_name="ALP", store=store)] == [a]
    assert [r["id"] for r in Dataset.list(only_published=True, store=store)] == [b]
    assert [r["id"] for r in Dataset.list(ids=[b], store=store)] == [b]
    assert [r["id"] for r in Dataset.list(project="proj", name="alpha", store=store)] == [a]
    assert [r["id"] for r in Dataset.list(tags=["x"], store=store)] == [a]
    [row] = Dataset.list(name="alpha", project="proj", store=store)
    assert row["ref"] == "proj/alpha@1.0.0" and row["aliases"] == ["latest"]


def _finalize_in_process(root: str, cache: str) -> str:
    return Dataset.create("p", "d", store=Store(root, cache_dir=cache)).finalize()


def test_concurrent_finalizes_from_processes_all_appear(tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    root = tmp_path / "store"
    Dataset.create("p", "d", store=_store(root, tmp_path)).finalize()
    with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(_finalize_in_process, str(root), str(tmp_path / f"c{n}")) for n in range(4)
        ]
        ids = {f.result() for f in futures}
    index, _ = read_index(_store(root, tmp_path).backend, "p", "d")
    assert index is not None and ids <= set(index.records)  # every refresh landed
    listed = [r["id"] for r in Dataset.list(project="p", name="d", store=_store(root, tmp_path))]
    assert ids <= set(listed) and len(listed) == 5
