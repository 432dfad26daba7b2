"""The parallel example flow on Prefect's DaskTaskRunner: two worker processes, one version.

A ``distributed.LocalCluster`` of two single-threaded worker *processes* runs the flow's
tasks (create, ``add_files`` × shards, finalize); the flow itself runs here. Which
process ran each shard is recorded from inside the workers: ``Client.run`` wraps
``Dataset.add_files`` in every worker process to append ``{pid, shard, added}`` to a
file (and, for the kill test, to stall shard 0 once after its part landed). Nothing in
the example or the tasks knows about it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset
from tests.helpers import snapshot

distributed = pytest.importorskip("distributed", reason="needs dsops[prefect-dask]")
prefect_dask = pytest.importorskip("prefect_dask", reason="needs dsops[prefect-dask]")

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags" / "prefect"
SHARDS = 6

pytestmark = pytest.mark.timeout(150)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Two worker processes (one thread each) sharing this module's cache folder."""
    with pytest.MonkeyPatch.context() as patch:
        # Worker processes inherit the environment at start: their dsops cache.
        patch.setenv("DSOPS_CACHE_DIR", str(tmp_path_factory.mktemp("worker-cache")))
        patch.syspath_prepend(str(EXAMPLES))
        with (
            distributed.LocalCluster(
                n_workers=2,
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=40,
            ) as local,
            distributed.Client(local) as client,
        ):
            client.wait_for_workers(2, timeout=60)
            yield client


class Recorder(distributed.WorkerPlugin):  # type: ignore[misc,name-defined]
    """Installed in every worker process, including one the nanny restarts after a kill."""

    name = "dsops-recorder"

    def __init__(self, log: str, stall: str | None = None, stall_seconds: float = 0.0) -> None:
        self.log, self.stall, self.stall_seconds = log, stall, stall_seconds

    def setup(self, worker: Any) -> None:
        _instrument(self.log, self.stall, self.stall_seconds)


def _record(client: Any, log: Path, stall: Path | None = None, seconds: float = 0.0) -> set[int]:
    """Instrument every worker (replacing an earlier recorder); return their pids."""
    client.register_plugin(Recorder(str(log), str(stall) if stall else None, seconds))
    return set(client.run(os.getpid).values())


def _instrument(log: str, stall: str | None, stall_seconds: float) -> None:
    """In a worker process: record every add_files call; maybe stall shard 0 once."""
    from dsops.dataset import Dataset as Sdk

    original = Sdk.__dict__.get("_unwrapped_add_files") or Sdk.add_files
    Sdk._unwrapped_add_files = original  # type: ignore[attr-defined]

    def add_files(self: Any, *args: Any, **kwargs: Any) -> Any:
        shard = list(kwargs.get("shard") or [])
        started = time.time()
        summary = original(self, *args, **kwargs)
        entry = {"pid": os.getpid(), "shard": shard, "added": summary.added, "start": started}
        if stall and shard[:1] == [0]:
            try:  # the first attempt at shard 0 only, whichever worker runs it
                fd = os.open(stall, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, json.dumps(entry).encode())
                os.close(fd)
                time.sleep(stall_seconds)  # its part has landed; the task has not returned
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**entry, "end": time.time()}) + "\n")
        return summary

    Sdk.add_files = add_files  # type: ignore[method-assign]


def _landing(root: Path) -> dict[str, bytes]:
    rng = random.Random(11)
    files = {
        f"day-{n % 4}/r{n:04d}.bin": rng.randbytes(rng.choice([50, 900, 20_000, 300_000]))
        for n in range(240)
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _run_flow(cluster: Any, landing: Path, store: Path, project: str) -> str:
    import parallel_ingest_flow

    runner = prefect_dask.DaskTaskRunner(address=cluster.scheduler_info()["address"])
    flow = parallel_ingest_flow.parallel_ingestion.with_options(task_runner=runner)
    version_id: str = flow([str(landing)], project=project, store=str(store), split=SHARDS)
    return version_id


def _check_version(version_id: str, store: Path, files: dict[str, bytes]) -> None:
    from dsops import Store

    version = Dataset.get(version_id, store=Store(str(store)))
    assert snapshot(version.get_local_copy()) == {f"landing/{k}": v for k, v in files.items()}
    paths = version.list_files()
    assert len(paths) == len(set(paths)) == len(files)  # no duplicate, none missing
    assert len(Dataset.list(version.project, store=Store(str(store)))) == 1


def test_dask_workers_share_the_shards_into_one_version(cluster: Any, tmp_path: Path) -> None:
    files = _landing(tmp_path / "landing")
    log = tmp_path / "calls.jsonl"
    pids = _record(cluster, log)
    version_id = _run_flow(cluster, tmp_path / "landing", tmp_path / "store", "ex-dask")
    _check_version(version_id, tmp_path / "store", files)
    calls = _calls(log)
    assert sorted(c["shard"][0] for c in calls) == list(range(SHARDS))
    assert {c["pid"] for c in calls} == pids  # both workers added shards
    assert sum(c["added"] for c in calls) == len(files)


def test_a_killed_workers_shard_is_rerun_on_the_other_and_the_version_is_whole(
    cluster: Any, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    files = _landing(tmp_path / "landing")
    log, stall = tmp_path / "calls.jsonl", tmp_path / "stall.json"
    pids = _record(cluster, log, stall, 60.0)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            _run_flow, cluster, tmp_path / "landing", tmp_path / "store", "ex-kill"
        )
        deadline = time.monotonic() + 60
        while not stall.exists() or not stall.read_text():
            assert time.monotonic() < deadline and not running.done(), "shard 0 never stalled"
            time.sleep(0.05)
        killed = json.loads(stall.read_text())
        os.kill(killed["pid"], signal.SIGKILL)  # mid-task: shard 0's part is already written
        version_id = running.result(timeout=120)
    _check_version(version_id, tmp_path / "store", files)

    calls = _calls(log)
    survivors = pids - {killed["pid"]}
    [retry] = [c for c in calls if c["shard"][0] == 0]
    assert retry["pid"] in survivors  # rescheduled on the worker that lived
    assert retry["added"] == 0  # the killed attempt's part already held shard 0
    assert killed["added"] > 0
    assert sum(c["added"] for c in calls) + killed["added"] == len(files)
