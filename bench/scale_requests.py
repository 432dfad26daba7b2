"""Requests per sharded add and for finalize, counted by the S3 store on moto.

Each of ``n`` simulated workers opens its own ``Store`` (and cache) and adds shard
``(i, n)`` of one folder into one draft; then a fresh store finalizes. Prints every
add's and the finalize's requests by kind (``store.backend.stats``): the figures quoted
in docs/SCALING.md.

Run: ``.venv/bin/python bench/scale_requests.py [--shards 8] [--files 400]``.
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

from dsops import Dataset, Store
from tests.moto_s3 import KEYS, moto_server, new_bucket

KINDS = ("PUT", "GET", "LIST", "HEAD", "POST", "DELETE")


def _kinds(stats: dict[str, int]) -> str:
    counts = " ".join(f"{k}={stats[k]}" for k in KINDS if stats.get(k))
    return f"{counts}  sent={stats['bytes_sent']} B received={stats['bytes_received']} B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--files", type=int, default=400)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dsops-requests-"))
    rng = random.Random(1)
    for n in range(args.files):
        path = work / "src" / f"d{n % 10}" / f"f{n:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(100, 5000)))
    server = moto_server()
    endpoint = next(server)
    try:
        bucket = new_bucket(endpoint)

        def worker(name: str) -> Store:
            options = {"endpoint_url": endpoint, **KEYS}
            return Store(f"s3://{bucket}/root", cache_dir=work / name, **options)

        draft = Dataset.create("bench", "requests", store=worker("create"))
        for i in range(args.shards):
            store = worker(f"w{i}")
            Dataset.get(draft.id, store=store).add_files(work / "src", shard=(i, args.shards))
            print(f"add {i}: {_kinds(store.backend.stats)}")  # type: ignore[attr-defined]
        store = worker("finalize")
        start = time.perf_counter()
        Dataset.get(draft.id, store=store).finalize()
        seconds = time.perf_counter() - start
        print(f"finalize of {args.shards} parts: {_kinds(store.backend.stats)}  {seconds:.2f} s")  # type: ignore[attr-defined]
    finally:
        server.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
