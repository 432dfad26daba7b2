"""The parallel-ingestion example DAG on two Celery workers, triggered through the REST API.

1. Eight shard folders → one finalized version holding every file byte for byte; the
   mapped ``add_shard`` tasks ran on both workers, at overlapping times.
2. The same with one worker SIGKILLed (its whole process tree) while its shard tasks
   run: Airflow notices the missing heartbeats, retries those tasks on the other worker,
   and the version is still complete — no file missing, none twice.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dsops import Dataset, Store
from tests.distributed.cluster import HEARTBEAT_TIMEOUT, CeleryCluster

pytestmark = [pytest.mark.slow, pytest.mark.distributed]

DAG_ID = "dsops_parallel_ingestion"
SHARDS = 8
RUN_TIMEOUT = 300.0


def write_shards(root: Path, tag: str, files: int, size: int) -> dict[str, bytes]:
    """``SHARDS`` folders of ``files`` files each; returns dataset path → bytes."""
    expected: dict[str, bytes] = {}
    rng = random.Random(tag)
    for shard in range(SHARDS):
        folder = root / f"shard-{shard:02d}"
        folder.mkdir(parents=True)
        for n in range(files):
            name = f"{tag}-s{shard:02d}-f{n:03d}.bin"
            data = rng.randbytes(size + n)
            (folder / name).write_bytes(data)
            expected[f"parts/{name}"] = data
    return expected


def trigger(api: httpx.Client, shards_dir: Path) -> str:
    answer = api.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
    assert answer.status_code == 200, answer.text
    answer = api.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        json={"logical_date": None, "conf": {"shards_dir": str(shards_dir), "demo_shards": 0}},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["dag_run_id"])


def run_state(api: httpx.Client, run_id: str) -> str:
    answer = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}")
    answer.raise_for_status()
    return str(answer.json()["state"])


def wait_done(cluster: CeleryCluster, api: httpx.Client, run_id: str) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        state = run_state(api, run_id)
        if state in ("success", "failed"):
            return state
        time.sleep(1)
    raise AssertionError(f"run {run_id} not done after {RUN_TIMEOUT:.0f}s\n{cluster.logs()}")


def task_instances(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    answer = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances?limit=100")
    answer.raise_for_status()
    return list(answer.json()["task_instances"])


def tries(api: httpx.Client, run_id: str, map_index: int) -> list[dict[str, Any]]:
    answer = api.get(
        f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/add_shard/{map_index}/tries"
    )
    answer.raise_for_status()
    return list(answer.json()["task_instances"])


def added(api: httpx.Client, run_id: str, map_index: int) -> int | None:
    """``added`` in the summary XCom of a shard task's last try (None: not readable)."""
    answer = api.get(
        f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/add_shard/xcomEntries/summary",
        params={"map_index": map_index, "deserialize": True},
    )
    value = answer.json().get("value") if answer.status_code == 200 else None
    return int(value["added"]) if isinstance(value, dict) and "added" in value else None


def shard_tis(api: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    return [ti for ti in task_instances(api, run_id) if ti["task_id"] == "add_shard"]


def worker_of(ti: dict[str, Any]) -> str:
    return str(ti.get("hostname") or "").split("@", 1)[0]


def interval(ti: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"])


def assert_version(cluster: CeleryCluster, tmp_path: Path, expected: dict[str, bytes]) -> str:
    """The latest version of examples/shards holds exactly ``expected`` (all runs so far)."""
    store = Store(cluster.store_url, cache_dir=str(tmp_path / "cache"), **cluster.store_options())
    ds = Dataset.get("examples/shards@latest", store=store)
    assert ds.is_final
    paths = ds.manifest().column("path").to_pylist()
    assert len(paths) == len(set(paths)), "a path is listed twice"
    assert sorted(paths) == sorted(expected), (
        f"missing {sorted(set(expected) - set(paths))[:5]}, "
        f"extra {sorted(set(paths) - set(expected))[:5]}"
    )
    for path, data in expected.items():
        assert ds.read_file(path) == data, path
    return ds.id


def test_eight_shards_on_two_workers(
    celery_cluster: CeleryCluster, tmp_path: Path, ingested: dict[str, bytes]
) -> None:
    expected = write_shards(tmp_path / "shards", "r1", files=20, size=8 * 1024)
    ingested.update(expected)
    with celery_cluster.client() as api:
        run_id = trigger(api, tmp_path / "shards")
        state = wait_done(celery_cluster, api, run_id)
        tis = shard_tis(api, run_id)
    assert state == "success", f"{tis}\n{celery_cluster.logs()}"
    assert len(tis) == SHARDS and all(ti["state"] == "success" for ti in tis)
    assert_version(celery_cluster, tmp_path, ingested)
    by_worker = {worker_of(ti) for ti in tis}
    assert by_worker == {"w1", "w2"}, [ti["hostname"] for ti in tis]
    spans = {w: [interval(ti) for ti in tis if worker_of(ti) == w] for w in ("w1", "w2")}
    overlapping = any(a0 < b1 and b0 < a1 for a0, a1 in spans["w1"] for b0, b1 in spans["w2"])
    assert overlapping, spans


def test_killed_worker_tasks_retried_on_the_other(
    celery_cluster: CeleryCluster, tmp_path: Path, ingested: dict[str, bytes]
) -> None:
    # Slow the store link so that each shard's upload takes seconds: the kill lands
    # while shard tasks run.
    per_shard = 8
    expected = write_shards(tmp_path / "shards", "r2", files=per_shard, size=256 * 1024)
    ingested.update(expected)
    victim = celery_cluster.workers["w1"]
    celery_cluster.proxy.bytes_per_second = 384 * 1024
    try:
        with celery_cluster.client() as api:
            run_id = trigger(api, tmp_path / "shards")
            deadline = time.monotonic() + RUN_TIMEOUT
            running: list[dict[str, Any]] = []
            while time.monotonic() < deadline and not running:
                running = [
                    ti
                    for ti in shard_tis(api, run_id)
                    if ti["state"] == "running" and worker_of(ti) == "w1"
                ]
                time.sleep(0.5)
            assert running, f"no shard task ever ran on w1\n{celery_cluster.logs()}"
            time.sleep(1.5)  # into the upload
            killed = victim.kill_tree()
            killed_at = time.monotonic()
            celery_cluster.proxy.bytes_per_second = 0  # the retries may run at full speed
            state = wait_done(celery_cluster, api, run_id)
            elapsed = time.monotonic() - killed_at
            tis = shard_tis(api, run_id)
            history = {ti["map_index"]: tries(api, run_id, ti["map_index"]) for ti in tis}
            retried_added = {i["map_index"]: added(api, run_id, i["map_index"]) for i in running}
    finally:
        celery_cluster.proxy.bytes_per_second = 0
    assert state == "success", f"{tis}\n{celery_cluster.logs()}"
    assert len(killed) >= 2, killed
    hit = [ti["map_index"] for ti in running]
    for index in hit:
        attempts = history[index]
        assert len(attempts) >= 2, attempts
        first, last = attempts[0], attempts[-1]
        assert worker_of(first) == "w1" and first["state"] == "failed", first
        assert worker_of(last) == "w2" and last["state"] == "success", last
    assert all(ti["state"] == "success" for ti in tis)
    assert_version(celery_cluster, tmp_path, ingested)
    # A retry adds everything (the killed try died before its part) or nothing (after).
    assert all(n in (0, per_shard, None) for n in retried_added.values()), retried_added
    print(
        f"killed w1 ({len(killed)} processes) with shards {hit} running; "
        f"run done {elapsed:.1f}s later (heartbeat timeout {HEARTBEAT_TIMEOUT}s); "
        f"files added by the retries: {retried_added}"
    )


@pytest.fixture(scope="module")
def ingested() -> dict[str, bytes]:
    """Every file the module's runs added so far: each run's version holds them all."""
    return {}
