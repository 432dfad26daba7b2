"""L1: ``Dataset.list`` and ``Dataset.datasets`` on 10,000 versions in 100 datasets.

Builds the store of ``bench/gc_bench.py`` (100 datasets, chains of 100 versions, each
committed through the real finalize) on local disk, then times listings and counts
their requests: on the local store (a counting wrapper; a LIST counted as its S3 pages
of 1,000 keys) and, with ``--s3``, on a SeaweedFS server started here, the store
uploaded into a bucket (requests counted by the S3 store itself, so LIST pages are
real). Each listing runs in a fresh process with a fresh cache, first with the code of
``--before`` (e.g. a checkout of main) when given, then with this checkout's.

Run: ``.venv/bin/python bench/listing_bench.py [--workdir DIR] [--datasets 100]
[--chain 100] [--s3] [--before /work/main]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def _measure(args: argparse.Namespace) -> None:
    """In a child process (``sys.path`` set to the code under test): time the listings."""
    from dsops import Dataset, Store
    from dsops.storage.local import LocalStore
    from tests.faults.injection import FaultyStore

    class CountingStore(FaultyStore):
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

    out = []
    for attempt, what in enumerate(args.what.split(",")):
        cache = Path(tempfile.mkdtemp(prefix="dsops-listing-cache-"))
        if args.endpoint:
            from dsops.storage.s3 import S3Store

            backend: Any = S3Store(
                args.root,
                endpoint_url=args.endpoint,
                access_key=args.key,
                secret_key=args.secret,
                region="us-east-1",
            )
            store = Store(args.root, cache_dir=cache, backend=backend)
        else:
            backend = CountingStore(LocalStore(args.root))
            store = Store(args.root, cache_dir=cache, backend=backend)
        start = time.perf_counter()
        if what == "list":
            count = len(Dataset.list(store=store))
        else:
            count = sum(s["version_count"] for s in Dataset.datasets(store=store))
        seconds = time.perf_counter() - start
        counts = dict(backend.stats) if args.endpoint else dict(backend.counts)
        out.append({"what": what, "run": attempt, "seconds": seconds, "versions": count, **counts})
    print(json.dumps(out))


def _child(code: Path, root: str, what: str, s3: dict[str, str] | None) -> list[dict[str, Any]]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", "--root", root]
    cmd += ["--what", what]
    if s3:
        cmd += ["--endpoint", s3["endpoint"], "--key", s3["key"], "--secret", s3["secret"]]
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=code)
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    result: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _report(label: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        kinds = " ".join(f"{k}={row.get(k, 0)}" for k in ("LIST", "GET", "HEAD", "PUT"))
        print(
            f"  {label:<7} {row['what']:<9} run {row['run']}: {row['seconds']:6.2f} s "
            f"{row['versions']:6d} versions  {kinds}",
            flush=True,
        )


def _upload(server: Any, local: Path) -> str:
    bucket = server.new_bucket()
    files = [
        p for p in local.rglob("*") if p.is_file() and "/index/" not in f"/{p.relative_to(local)}"
    ]

    def put(path: Path) -> None:
        server.client.put_object(
            Bucket=bucket, Key=f"store/{path.relative_to(local)}", Body=path.read_bytes()
        )

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))
    print(f"uploaded {len(files)} objects (no index: the first listing builds them)", flush=True)
    return f"s3://{bucket}/store"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", help="Where the store is built (kept and reused).")
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--chain", type=int, default=100)
    parser.add_argument("--s3", action="store_true", help="Also on a SeaweedFS server.")
    parser.add_argument("--before", help="A checkout whose code to measure first (main).")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--what", default="list", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(args)
        return
    sys.path.insert(0, str(HERE))
    work = Path(args.workdir or tempfile.mkdtemp(prefix="dsops-listing-bench-"))
    root = work / "store"
    if not (root / "versions").exists():
        from bench.gc_bench import build
        from dsops import Store

        start = time.perf_counter()
        build(Store(str(root), cache_dir=work / "cache"), args.datasets, args.chain)
        print(
            f"build: {args.datasets * args.chain} versions in {time.perf_counter() - start:.0f} s"
        )
    codes = [("before", Path(args.before))] if args.before else []
    codes.append(("after", HERE))
    what = "list,list,datasets"
    print(f"local store {root}:")
    for label, code in codes:
        _report(label, _child(code, str(root), what, None))
    if args.s3:
        from tests.s3_server import seaweedfs

        with seaweedfs(work / "weed") as server:
            url = _upload(server, root)
            s3 = {"endpoint": server.endpoint, "key": server.access_key}
            s3["secret"] = server.secret_key
            print(f"SeaweedFS {url}:")
            for label, code in codes:
                _report(label, _child(code, url, what, s3))


if __name__ == "__main__":
    main()
