"""Airflow on Celery: one landing folder ingested by 1 vs 2 Celery workers.

For each worker count a fresh cluster (``tests/distributed/cluster.py``: PostgreSQL,
Redis, scheduler, DAG processor, API server, N workers) on one SeaweedFS server, a fresh
bucket, the same landing folder split into shard folders, and ``dsops_parallel_ingestion``
triggered through the REST API. Measured: wall time from the trigger to the finalized
version, the S3 requests by kind (counted by the pass-through proxy every worker talks
to), and the speedup. Each worker runs one task at a time by default (``--concurrency``),
so the worker count is the parallelism.

Run: ``.venv/bin/python bench/celery_bench.py [--files 30000 --megabytes 1024 --shards 8]``
(root, or passwordless sudo, to apt-get PostgreSQL and Redis when missing).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsops import Dataset, Store
from tests.distributed.cluster import CeleryCluster, celery_cluster
from tests.s3_server import seaweedfs

DAG_ID = "dsops_parallel_ingestion"
KINDS = ("PUT", "GET", "HEAD", "LIST", "POST", "DELETE")


def make_landing(root: Path, files: int, total: int, shards: int, seed: int = 14) -> int:
    """``files`` files of random bytes (sizes ±50% around the mean) in ``shards`` folders."""
    rng = random.Random(seed)
    mean = max(1, total // files)
    written = 0
    for n in range(files):
        folder = root / f"shard-{n % shards:02d}" / f"d{n // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        size = rng.randint(mean // 2, mean + mean // 2)
        (folder / f"f{n:06d}.bin").write_bytes(rng.randbytes(size))
        written += size
    return written


def ingest(cluster: CeleryCluster, landing: Path, timeout: float) -> tuple[float, str]:
    with cluster.client() as api:
        api.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
        cluster.proxy.ops.clear()
        started = time.perf_counter()
        answer = api.post(
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            json={"logical_date": None, "conf": {"shards_dir": str(landing), "demo_shards": 0}},
        )
        answer.raise_for_status()
        run_id = answer.json()["dag_run_id"]
        while time.perf_counter() - started < timeout:
            state = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
            if state in ("success", "failed"):
                return time.perf_counter() - started, str(state)
            time.sleep(0.5)
    raise TimeoutError(f"run {run_id} not done after {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=30_000)
    parser.add_argument("--megabytes", type=float, default=1024)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--concurrency", type=int, default=1, help="task slots per worker")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="dsops-celery-bench-"))
    landing = work / "landing"
    if not landing.exists():
        t0 = time.perf_counter()
        total = make_landing(landing, args.files, int(args.megabytes * 1e6), args.shards)
        print(
            f"landing: {args.files:,} files, {total / 1e6:,.0f} MB in {args.shards} shards "
            f"({time.perf_counter() - t0:.0f} s to write)"
        )
    counts = [int(n) for n in args.workers.split(",")]
    results: dict[int, float] = {}
    with seaweedfs(Path(tempfile.mkdtemp(prefix="seaweedfs-", dir=work))) as s3:
        for n in counts:
            root = Path(tempfile.mkdtemp(prefix=f"w{n}-", dir=work))
            t0 = time.perf_counter()
            with celery_cluster(s3, root, workers=n, concurrency=args.concurrency) as cluster:
                up = time.perf_counter() - t0
                seconds, state = ingest(cluster, landing, args.timeout)
                ops = dict(cluster.proxy.ops)
                store = Store(cluster.store_url, cache_dir=str(root / "cache"), **s3.options)
                ds = Dataset.get("examples/shards@latest", store=store)
                listed = len(ds.list_files())
            if state != "success" or listed != args.files:
                raise SystemExit(f"{n} worker(s): run {state}, {listed} files in the version")
            results[n] = seconds
            kinds = " ".join(f"{k}={ops.get(k, 0)}" for k in KINDS)
            print(
                f"{n} worker(s) × {args.concurrency} slot(s): {seconds:7.1f} s trigger → "
                f"finalized ({listed:,} files); requests {kinds}; cluster up in {up:.0f} s"
            )
    base = results.get(min(counts))
    for n, seconds in sorted(results.items()):
        if base and n != min(counts):
            print(f"speedup {min(counts)} → {n} workers: {base / seconds:.2f}×")


if __name__ == "__main__":
    main()
