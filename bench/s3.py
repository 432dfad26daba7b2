"""Benchmarks against a real S3 server (SeaweedFS on loopback, started here).

W1 and W2 ingest, cold fetch, and a 1% partial fetch of W1, with requests by kind and
bytes transferred, counted by the S3 store itself.
Run: ``.venv/bin/python bench/s3.py [--workdir DIR] [--only w1,w2]``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.workloads import folder_bytes, make_w1, make_w2
from dsops import Dataset, Store
from tests.s3_server import seaweedfs


def _counts(store: Store) -> dict[str, int]:
    stats: dict[str, int] = store.backend.stats  # type: ignore[attr-defined]
    store.backend.reset_stats()  # type: ignore[attr-defined]
    return stats


def _line(name: str, seconds: float, stats: dict[str, int], note: str = "") -> None:
    kinds = " ".join(f"{k}={stats.get(k, 0)}" for k in ("PUT", "GET", "LIST", "HEAD", "POST"))
    moved = (stats.get("bytes_sent", 0) + stats.get("bytes_received", 0)) / 1e6
    print(f"  {name:<28} {seconds:7.2f} s  {kinds}  {moved:9.1f} MB  {note}")


def raw_baseline(server: object, total: int) -> tuple[float, float]:
    """Seconds to PUT then GET ``total`` bytes as 64 MiB objects on 8 threads (boto3)."""
    from concurrent.futures import ThreadPoolExecutor

    client = server.client  # type: ignore[attr-defined]
    bucket = server.new_bucket()  # type: ignore[attr-defined]
    chunk = 64 * 1024 * 1024
    sizes = [min(chunk, total - off) for off in range(0, total, chunk)]
    body = random.Random(1).randbytes(chunk)
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: client.put_object(Bucket=bucket, Key=f"b{i}", Body=body[: sizes[i]]),
                range(len(sizes)),
            )
        )
    put = time.perf_counter() - start
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: client.get_object(Bucket=bucket, Key=f"b{i}")["Body"].read(),
                range(len(sizes)),
            )
        )
    return put, time.perf_counter() - start


def bench(server: object, work: Path, label: str, src: Path, partial: bool) -> None:
    total = folder_bytes(src)
    nfiles = sum(1 for p in src.rglob("*") if p.is_file())
    print(f"\n{label} on S3: {nfiles} files, {total / 1e6:.0f} MB")
    put, get = raw_baseline(server, total)
    print(f"  baseline: raw boto3 PUT of the same bytes {put:.2f} s, GET {get:.2f} s")
    bucket = server.new_bucket()  # type: ignore[attr-defined]
    options = server.options  # type: ignore[attr-defined]
    store = Store(f"s3://{bucket}/ds", cache_dir=work / f"cache-{label}", **options)
    ds = Dataset.create(project="bench", name=label, store=store)
    _counts(store)
    start = time.perf_counter()
    ds.add_files(src)
    ds.finalize()
    _line(
        "ingest (add + finalize)",
        time.perf_counter() - start,
        _counts(store),
        "(floor W1: <= 50 PUT)",
    )

    cold = Store(store.url, cache_dir=work / f"cold-{label}", **options)
    _counts(cold)
    start = time.perf_counter()
    Dataset.get(ds.id, store=cold).get_local_copy()
    _line("cold fetch", time.perf_counter() - start, _counts(cold), "(floor W1: <= 50 GET)")

    if partial:
        paths = ds.list_files()
        pick = random.Random(7).sample(paths, len(paths) // 100)
        part = Store(store.url, cache_dir=work / f"part-{label}", **options)
        Dataset.get(ds.id, store=part).manifest()  # the manifest is not part of the data
        _counts(part)
        start = time.perf_counter()
        Dataset.get(ds.id, store=part).get_local_copy(include=pick)
        stats = _counts(part)
        share = stats.get("bytes_received", 0) / total
        _line(
            "partial fetch of 1% files",
            time.perf_counter() - start,
            stats,
            f"{share:.2%} of the version's bytes (floor 5%)",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--only", default="w1,w2")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dsops-s3-bench-"))
    only = set(args.only.split(","))
    try:
        with seaweedfs(work / "seaweedfs") as server:
            print(f"SeaweedFS ready in {server.started_in:.1f} s at {server.endpoint}")
            if "w1" in only:
                bench(server, work, "W1", make_w1(work / "w1"), partial=True)
            if "w2" in only:
                bench(server, work, "W2", make_w2(work / "w2"), partial=False)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
