"""Fan-out on Dask: a landing folder into SeaweedFS by 1 vs 2 worker processes, shard=.

Each run: create a draft, ``add_files(landing, shard=(i, n))`` for ``n`` shards as Dask
tasks on a ``distributed.LocalCluster`` of W single-threaded worker processes (each task
opens its own ``Store`` with its own cache, as a worker on another machine would), then
finalize. Printed: wall time from create to the finalized version, requests by kind
(summed over every task, counted by the S3 store itself) and the speedup. Then the
finalize of a 64-part draft (64 sharded adds): its time and requests.

Plain Dask (``Client.map``), not a Prefect flow: this measures dsops on the engine,
without Prefect's per-task API calls. The landing folder is read once before the runs
so neither pays for a cold page cache.

A task hashes and uploads on all cores by default (``--threads 0``), so on one machine a
single worker is already parallel; ``--threads 1`` gives each worker one core's worth,
as when each worker is a machine of its own.

Run: ``.venv-prefect/bin/python bench/scale_bench.py [--files 30000] [--mb 1000]``
(needs ``dsops[prefect-dask]`` for ``distributed``, and the dev extra for SeaweedFS).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsops import Dataset, Store
from tests.s3_server import seaweedfs

KINDS = ("PUT", "GET", "LIST", "HEAD", "POST", "DELETE")


def make_landing(root: Path, files: int, total_mb: int, seed: int = 5) -> int:
    """``files`` files (log-normal sizes, scaled to ``total_mb``) in 100 folders."""
    rng = random.Random(seed)
    raw = [rng.lognormvariate(0, 1.0) for _ in range(files)]
    scale = total_mb * 1_000_000 / sum(raw)
    block = rng.randbytes(1 << 20)
    total = 0
    for n, weight in enumerate(raw):
        size = max(1, int(weight * scale))
        path = root / f"d{n % 100:02d}" / f"f{n:06d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        # Unique content per file: a header, then a slice of a random block.
        head = n.to_bytes(8, "big")
        body = (block * (size // len(block) + 1))[n % 4096 : n % 4096 + size - 8]
        path.write_bytes(head + body)
        total += size
    return total


def add_shard(
    url: str,
    options: dict[str, Any],
    cache: str,
    draft: str,
    landing: str,
    i: int,
    n: int,
    threads: int = 0,
) -> dict[str, Any]:
    """One Dask task: a worker's own store and cache; returns its request counts."""
    store = Store(url, cache_dir=cache, workers=threads, **options)
    started = time.time()
    summary = Dataset.get(draft, store=store).add_files(landing, "raw", shard=(i, n))
    stats = dict(store.backend.stats)  # type: ignore[attr-defined]
    return {
        "pid": os.getpid(),
        "start": started,
        "end": time.time(),
        "added": summary.added,
        "uploaded": summary.uploaded_bytes,
        "stats": stats,
    }


def _sum(stats: list[dict[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for item in stats:
        total.update(item)
    return total


def _kinds(stats: Counter[str] | dict[str, int]) -> str:
    return " ".join(f"{k}={stats.get(k, 0)}" for k in KINDS if stats.get(k, 0))


def ingest(
    server: Any, work: Path, landing: Path, workers: int, shards: int, threads: int = 0
) -> dict[str, Any]:
    import distributed

    bucket = server.new_bucket()
    url, options = f"s3://{bucket}/datasets", dict(server.options)
    with (
        distributed.LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        caches = work / f"caches-{workers}w-{shards}-{threads}t"
        start = time.perf_counter()
        boss = Store(url, cache_dir=caches / "boss", **options)
        draft = Dataset.create("bench", f"scale-{workers}w-{shards}", store=boss)
        futures = client.map(
            add_shard,
            [url] * shards,
            [options] * shards,
            [str(caches / f"w{i}") for i in range(shards)],
            [draft.id] * shards,
            [str(landing)] * shards,
            range(shards),
            [shards] * shards,
            [threads] * shards,
            pure=False,
        )
        results = client.gather(futures)
        adds_done = time.perf_counter()
        finalizer = Store(url, cache_dir=caches / "fin", **options)
        version_id = Dataset.get(draft.id, store=finalizer).finalize()
        end = time.perf_counter()
    fin_stats = dict(finalizer.backend.stats)  # type: ignore[attr-defined]
    create_stats = dict(boss.backend.stats)  # type: ignore[attr-defined]
    version = Dataset.get(version_id, store=finalizer)
    return {
        "workers": workers,
        "shards": shards,
        "wall": end - start,
        "adds": adds_done - start,
        "finalize": end - adds_done,
        "pids": len({r["pid"] for r in results}),
        "files": version.record.file_count if version.record else 0,
        "add_stats": _sum([r["stats"] for r in results]),
        "create_stats": create_stats,
        "fin_stats": fin_stats,
        "added": sum(r["added"] for r in results),
    }


def report(run: dict[str, Any]) -> None:
    adds = run["add_stats"]
    print(
        f"  {run['workers']} worker(s), {run['shards']} shards: wall {run['wall']:.1f} s "
        f"(adds {run['adds']:.1f} s, finalize {run['finalize']:.2f} s), "
        f"{run['files']} files, tasks ran in {run['pids']} process(es)"
    )
    print(f"    adds, all tasks: {_kinds(adds)}  ({adds['bytes_sent'] / 1e6:.0f} MB up)")
    print(f"    create: {_kinds(run['create_stats'])}   finalize: {_kinds(run['fin_stats'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=30_000)
    parser.add_argument("--mb", type=int, default=1000)
    parser.add_argument("--shards", type=int, default=8, help="shards of the 1 vs 2 runs")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="hashing/transfer threads per task (0: the machine default, all cores)",
    )
    parser.add_argument("--no-64", action="store_true", help="skip the 64-part finalize")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="dsops-scale-"))
    try:
        landing = work / "landing"
        total = make_landing(landing, args.files, args.mb)
        print(f"landing: {args.files} files, {total / 1e6:.0f} MB ({work})")
        for path in landing.rglob("*.bin"):  # warm the page cache for both runs alike
            path.read_bytes()
        with seaweedfs(work / "weed") as server:
            one = ingest(server, work, landing, 1, args.shards, args.threads)
            report(one)
            two = ingest(server, work, landing, 2, args.shards, args.threads)
            report(two)
            print(f"  speedup, 2 vs 1 worker: {one['wall'] / two['wall']:.2f}x")
            if args.no_64:
                return
            many = ingest(server, work, landing, 2, 64)
            report(many)
            print(f"  finalize of 64 parts: {many['finalize']:.2f} s, {_kinds(many['fin_stats'])}")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
