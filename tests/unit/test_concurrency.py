"""Several processes on one store: fan-in, concurrent finalizes, SIGKILL at any moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from dsops import Dataset, Store, layout
from tests.helpers import random_tree, snapshot, write_tree

ROOT = Path(__file__).resolve().parents[2]


def _add_shard(store_url: str, cache: str, version_id: str, shard: str) -> int:
    store = Store(store_url, cache_dir=cache)
    return (
        Dataset.get(version_id, store=store).add_files(shard, dataset_path=Path(shard).name).added
    )


def _finalize_new(store_url: str, cache: str, src: str) -> tuple[str, str]:
    store = Store(store_url, cache_dir=cache)
    ds = Dataset.create(project="p", name="race", parents=["latest"], store=store)
    ds.add_files(src)
    ds.finalize()
    return ds.id, str(ds.version)


def _finalize_existing(store_url: str, cache: str, version_id: str) -> tuple[str, str]:
    ds = Dataset.get(version_id, store=Store(store_url, cache_dir=cache))
    return ds.finalize(), str(ds.version)


def test_parallel_adds_from_several_processes_all_land(store: Store, tmp_path: Path) -> None:
    shards = []
    for i in range(4):
        random_tree(tmp_path / f"shard{i}", 60, seed=i)
        shards.append(str(tmp_path / f"shard{i}"))
    draft = Dataset.create(project="p", name="fanin", store=store)
    with ProcessPoolExecutor(4) as pool:
        added = list(
            pool.map(
                _add_shard,
                [store.url] * 4,
                [str(tmp_path / f"cache{i}") for i in range(4)],
                [draft.id] * 4,
                shards,
            )
        )
    assert added == [60] * 4
    draft.finalize()
    got = snapshot(draft.get_local_copy())
    expected = {}
    for i in range(4):
        expected.update({f"shard{i}/{k}": v for k, v in snapshot(shards[i]).items()})
    assert got == expected


def test_concurrent_finalizes_never_share_a_semantic_version(store: Store, tmp_path: Path) -> None:
    base = Dataset.create(project="p", name="race", store=store)
    base.finalize()
    srcs = [str(write_tree(tmp_path / f"s{i}", {f"f{i}": str(i)})) for i in range(6)]
    with ProcessPoolExecutor(6) as pool:
        results = list(
            pool.map(
                _finalize_new,
                [store.url] * 6,
                [str(tmp_path / f"c{i}") for i in range(6)],
                srcs,
            )
        )
    labels = [label for _, label in results]
    assert len(set(labels)) == 6
    assert sorted(labels, key=lambda v: tuple(map(int, v.split(".")))) == [
        f"1.0.{i}" for i in range(1, 7)
    ]
    latest = Dataset.get("p/race@latest", store=store)
    assert latest.version == "1.0.6"


def test_concurrent_finalize_of_one_draft_yields_one_version(store: Store, tmp_path: Path) -> None:
    draft = Dataset.create(project="p", name="same", store=store)
    draft.add_files(write_tree(tmp_path / "s", {"a": "1"}))
    with ProcessPoolExecutor(4) as pool:
        results = list(
            pool.map(
                _finalize_existing,
                [store.url] * 4,
                [str(tmp_path / f"c{i}") for i in range(4)],
                [draft.id] * 4,
            )
        )
    assert {vid for vid, _ in results} == {draft.id}
    assert {label for _, label in results} == {"1.0.0"}
    assert store.backend.list_keys("names/p/same/") == ["names/p/same/1.0.0"]
    # Loads check the record's manifest hash: a loser re-putting the manifest after the
    # commit point (it did, in 36 of 36 rounds, before manifests were create-only) fails.
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    assert Dataset.get(draft.id, store=fresh).list_files() == ["a"]


_CRASH_SCRIPT = """
import os, sys
from dsops import Dataset, Store
import dsops.catalog.catalog as catalog_mod
import dsops.drafts.finalize as fin
store_url, cache, version_id, point = sys.argv[1:5]
store = Store(store_url, cache_dir=cache)
ds = Dataset.get(version_id, store=store)
real_put_if_absent = store.backend.put_if_absent
def die():
    os.kill(os.getpid(), 9)
if point == "after-claim":
    real_claim = catalog_mod.Catalog.claim_label
    def claim(self, record):
        real_claim(self, record); die()
    catalog_mod.Catalog.claim_label = claim
else:
    # Every commit-protocol write past the claim is create-only: die right after one.
    suffix = {
        "after-seal": "/sealed.json",
        "after-fixed-parts": "/sealed-parts.json",
        "after-manifest": ".parquet",
        "after-record": ".json",
    }[point]
    prefix = {"after-manifest": "manifests/", "after-record": "versions/"}.get(point, "drafts/")
    def put_if_absent(key, data):
        etag = real_put_if_absent(key, data)
        if key.startswith(prefix) and key.endswith(suffix):
            die()
        return etag
    store.backend.put_if_absent = put_if_absent
ds.finalize()
"""


@pytest.mark.parametrize(
    "point", ["after-claim", "after-seal", "after-fixed-parts", "after-manifest", "after-record"]
)
def test_finalize_killed_at_each_step_is_invisible_or_complete_and_retry_succeeds(
    store: Store, tmp_path: Path, point: str
) -> None:
    ds = Dataset.create(project="p", name="crash", store=store)
    ds.add_files(write_tree(tmp_path / "s", {"a": "1", "b": "2"}))
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_SCRIPT, store.url, str(tmp_path / "c"), ds.id, point],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    visible = store.backend.exists(layout.version_key(ds.id))
    assert visible == (point == "after-record")
    if not visible:
        assert Dataset.list(project="p", name="crash", store=store) == []
    assert Dataset.get(ds.id, store=store).finalize() == ds.id
    again = Dataset.get("p/crash@latest", store=store)
    assert again.id == ds.id and again.version == "1.0.0"
    assert snapshot(again.get_local_copy()) == {"a": b"1", "b": b"2"}


_ADD_SCRIPT = """
import sys
from dsops import Dataset, Store
store_url, cache, version_id, src = sys.argv[1:5]
Dataset.get(version_id, store=Store(store_url, cache_dir=cache)).add_files(src)
print("done", flush=True)
"""


def test_add_killed_midway_leaves_no_visible_change_and_rerun_succeeds(
    store: Store, tmp_path: Path
) -> None:
    files = random_tree(tmp_path / "s", 3000, seed=11, max_size=32768)
    ds = Dataset.create(project="p", name="killadd", store=store)
    killed = 0
    for delay in (0.3, 0.8, 1.5):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _ADD_SCRIPT,
                store.url,
                str(tmp_path / "c"),
                ds.id,
                str(tmp_path / "s"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait(timeout=60)
        # A killed add either wrote its whole part or nothing at all.
        assert len(ds.list_files()) in (0, len(files))
    assert killed >= 1
    ds.add_files(tmp_path / "s")
    ds.finalize()
    assert snapshot(ds.get_local_copy()) == files
