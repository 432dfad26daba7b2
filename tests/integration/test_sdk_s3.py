"""The SDK end to end on a real S3 server (SeaweedFS): round trip, fan-in, races, faults."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store, layout
from dsops.errors import DsopsError
from dsops.storage.s3 import S3Store
from tests.faults import FaultyStore
from tests.helpers import random_tree, snapshot, write_tree

pytestmark = pytest.mark.s3


def _store(s3_server: Any, tmp_path: Path, prefix: str = "data") -> Store:
    url = f"s3://{s3_server.new_bucket()}/{prefix}"
    return Store(url, cache_dir=tmp_path / "cache", **s3_server.options)


def test_round_trip_create_add_child_sync_finalize_fetch(s3_server: Any, tmp_path: Path) -> None:
    store = _store(s3_server, tmp_path)
    files = random_tree(tmp_path / "src", 300, seed=1, max_size=8192)
    big = b"B" * (5 * 1024 * 1024)
    write_tree(tmp_path / "src", {"big/blob.bin": big})
    base = Dataset.create(project="s3", name="round", store=store)
    summary = base.add_files(tmp_path / "src")
    assert summary.added == 301
    base.finalize()
    assert base.version == "1.0.0"

    (tmp_path / "src" / sorted(files)[0]).unlink()
    write_tree(tmp_path / "src", {"new.txt": "new", sorted(files)[1]: "changed"})
    child = Dataset.create(project="s3", name="round", parents=["latest"], store=store)
    sync = child.sync_folder(tmp_path / "src")
    assert (sync.added, sync.modified, sync.removed) == (1, 1, 1)
    assert child.finalize() == child.id and child.version == "1.0.1"

    other_machine = Store(store.url, cache_dir=tmp_path / "cache2", **s3_server.options)
    fetched = Dataset.get("s3/round@latest", store=other_machine)
    assert fetched.id == child.id
    assert snapshot(fetched.get_local_copy()) == snapshot(tmp_path / "src")
    assert fetched.get_dependency_graph() == {child.id: [base.id], base.id: []}
    assert fetched.verify(deep=True)


def test_multi_parent_merge_on_s3(s3_server: Any, tmp_path: Path) -> None:
    store = _store(s3_server, tmp_path)
    a = Dataset.create(project="s3", name="a", store=store)
    a.add_files(write_tree(tmp_path / "a", {"x": "from-a", "a": "a"}))
    a.finalize()
    b = Dataset.create(project="s3", name="b", store=store)
    b.add_files(write_tree(tmp_path / "b", {"x": "from-b", "b": "b"}))
    b.finalize()
    m = Dataset.create(project="s3", name="m", parents=[a.id, b.id], store=store)
    m.finalize()
    assert snapshot(m.get_local_copy()) == {"x": b"from-b", "a": b"a", "b": b"b"}


def _add_shard(url: str, options: dict[str, str], cache: str, draft: str, shard: str) -> int:
    store = Store(url, cache_dir=cache, **options)
    return Dataset.get(draft, store=store).add_files(shard, dataset_path=Path(shard).name).added


def _finalize_child(url: str, options: dict[str, str], cache: str, src: str) -> str:
    store = Store(url, cache_dir=cache, **options)
    ds = Dataset.create(project="s3", name="race", parents=["latest"], store=store)
    ds.add_files(src)
    ds.finalize()
    return str(ds.version)


def test_parallel_adds_and_concurrent_finalizes_on_s3(s3_server: Any, tmp_path: Path) -> None:
    store = _store(s3_server, tmp_path)
    shards = []
    for i in range(3):
        random_tree(tmp_path / f"shard{i}", 40, seed=10 + i)
        shards.append(str(tmp_path / f"shard{i}"))
    draft = Dataset.create(project="s3", name="fanin", store=store)
    opts = s3_server.options
    with ProcessPoolExecutor(3) as pool:
        added = list(
            pool.map(
                _add_shard,
                [store.url] * 3,
                [opts] * 3,
                [str(tmp_path / f"c{i}") for i in range(3)],
                [draft.id] * 3,
                shards,
            )
        )
    assert added == [40, 40, 40]
    draft.finalize()
    assert len(draft.list_files()) == 120

    Dataset.create(project="s3", name="race", store=store).finalize()
    srcs = [str(write_tree(tmp_path / f"r{i}", {f"f{i}": str(i)})) for i in range(4)]
    with ProcessPoolExecutor(4) as pool:
        labels = list(
            pool.map(
                _finalize_child,
                [store.url] * 4,
                [opts] * 4,
                [str(tmp_path / f"rc{i}") for i in range(4)],
                srcs,
            )
        )
    assert sorted(labels) == ["1.0.1", "1.0.2", "1.0.3", "1.0.4"]
    assert Dataset.get("s3/race@latest", store=store).version == "1.0.4"


def test_http_faults_are_absorbed_by_retries(s3_server: Any, tmp_path: Path) -> None:
    inner = S3Store(f"s3://{s3_server.new_bucket()}/f", **s3_server.options)
    store = Store(
        backend=FaultyStore(inner, 0.2, seed=3, layer="http"), cache_dir=tmp_path / "cache"
    )
    files = random_tree(tmp_path / "src", 200, seed=4)
    ds = Dataset.create(project="s3", name="faulty", store=store)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    counts = inner.stats
    assert counts["attempts"] > counts["requests"]  # faults happened and were retried
    clean = Store(inner.url, cache_dir=tmp_path / "clean", **s3_server.options)
    assert snapshot(Dataset.get(ds.id, store=clean).get_local_copy()) == files


def test_store_faults_fail_clearly_and_never_half_publish(s3_server: Any, tmp_path: Path) -> None:
    inner = S3Store(f"s3://{s3_server.new_bucket()}/g", **s3_server.options)
    random_tree(tmp_path / "src", 100, seed=5)
    clean = Store(inner.url, cache_dir=tmp_path / "clean", **s3_server.options)
    failures = []
    for seed in range(6):
        draft = Dataset.create(project="s3", name="flaky", store=clean)
        flaky = Store(
            backend=FaultyStore(
                inner, 0.15, seed=seed, layer="store", faults=["500", "reset", "lost_response"]
            ),
            cache_dir=tmp_path / f"c{seed}",
        )
        try:
            ds = Dataset.get(draft.id, store=flaky)
            ds.add_files(tmp_path / "src")
            ds.finalize()
        except DsopsError as exc:
            assert str(exc)  # a sentence, not an empty error
            failures.append(type(exc).__name__)
        if inner.exists(layout.version_key(draft.id)):
            # Once visible, the version is complete: manifest, label and every object.
            assert Dataset.get(draft.id, store=clean).verify(deep=True)
        # Re-running the same steps without faults completes the same draft; a draft whose
        # finalize got as far as the seal takes no more changes, only the finalize again.
        retry = Dataset.get(draft.id, store=clean)
        if not retry.is_final and not inner.exists(layout.seal_key(draft.id)):
            retry.add_files(tmp_path / "src")
        assert retry.finalize() == draft.id
        assert len(retry.list_files()) == 100 and retry.verify(deep=True)
    assert failures, "no injected fault surfaced: the test exercised nothing"
    labels = sorted(r["version"] for r in Dataset.list(project="s3", name="flaky", store=clean))
    assert len(labels) == 6 and len(set(labels)) == 6
