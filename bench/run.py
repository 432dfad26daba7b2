"""Benchmarks on the local store: W1/W2 ingest and fetch, W3 child version, M1 manifests.

Run: ``.venv/bin/python bench/run.py [--workdir DIR] [--only w1,w2,w3,m1]``.
Every figure is printed next to its baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.workloads import folder_bytes, make_w1, make_w2, make_w3
from dsops import Dataset, Store


def timed(fn):  # type: ignore[no-untyped-def]
    # Flush earlier writes first: otherwise one step pays for the last one's writeback.
    os.sync()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def cp_r(src: Path, dst: Path) -> float:
    if dst.exists():
        shutil.rmtree(dst)
    seconds, _ = timed(lambda: subprocess.run(["cp", "-r", str(src), str(dst)], check=True))
    shutil.rmtree(dst)
    return float(seconds)


def sha256_all(src: Path) -> float:
    def run() -> None:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                hashlib.sha256(path.read_bytes()).digest()

    return timed(run)[0]


def stored_bytes(store: Store) -> int:
    return sum(i.size for p in ("packs/", "objects/") for i in store.backend.list(p))


def report(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>12}  {note}")


def bench_files(work: Path, label: str, src: Path) -> dict[str, float]:
    print(
        f"\n{label}: {sum(1 for p in src.rglob('*') if p.is_file())} files, "
        f"{folder_bytes(src) / 1e6:.0f} MB"
    )
    base_cp = statistics.median(cp_r(src, work / "cp-target") for _ in range(3))
    base_sha = sha256_all(src)
    store = Store(str(work / f"store-{label}"), cache_dir=work / f"cache-{label}")
    ds = Dataset.create(project="bench", name=label, store=store)
    ingest, _ = timed(lambda: (ds.add_files(src), ds.finalize()))
    cold, path = timed(ds.get_local_copy)
    assert folder_bytes(Path(path)) == folder_bytes(src)
    warm_store = Store(store.url, cache_dir=work / f"cache-{label}")
    warm, _ = timed(lambda: Dataset.get(ds.id, store=warm_store).get_local_copy())
    mutable, _ = timed(lambda: ds.get_mutable_local_copy(work / f"mut-{label}"))
    shutil.rmtree(work / f"mut-{label}")
    report(
        [
            ("baseline cp -r", f"{base_cp:.2f} s", ""),
            ("baseline sha256 all bytes", f"{base_sha:.2f} s", ""),
            (
                "ingest (add + finalize)",
                f"{ingest:.2f} s",
                f"{ingest / base_cp:.2f}x cp -r (floor 2x)",
            ),
            (
                "cold fetch (empty cache)",
                f"{cold:.2f} s",
                f"{cold / base_cp:.2f}x cp -r (floor 2x)",
            ),
            ("warm fetch", f"{warm:.3f} s", "(floor 0.5 s)"),
            ("mutable copy (warm cache)", f"{mutable:.2f} s", f"{mutable / base_cp:.2f}x cp -r"),
            (
                "objects in store",
                str(sum(len(store.backend.list_keys(p)) for p in ("packs/", "objects/"))),
                "",
            ),
        ]
    )
    return {"ingest": ingest, "cp": base_cp, "store": store, "ds": ds}  # type: ignore[dict-item]


def bench_w3(work: Path, w1: Path, store: Store, parent: Dataset, w1_ingest: float) -> None:
    change = make_w3(w1)
    before = stored_bytes(store)
    child = Dataset.create(project="bench", name="W1", parents=[parent.id], store=store)
    ingest, summary = timed(lambda: (child.sync_folder(w1), child.finalize())[0])
    added = stored_bytes(store) - before
    print(
        f"\nW3: child of W1 ({change['modified']} modified, {change['added']} added, "
        f"{change['deleted']} deleted; {change['changed_bytes'] / 1e6:.2f} MB changed)"
    )
    report(
        [
            (
                "sync + finalize",
                f"{ingest:.2f} s",
                f"{ingest / w1_ingest:.1%} of W1 ingest (floor 15%)",
            ),
            (
                "stored bytes",
                f"{added / 1e6:.2f} MB",
                f"{added / change['changed_bytes']:.2f}x changed bytes (floor 1.1x)",
            ),
            ("summary", str(summary).split(";")[0], ""),
        ]
    )


M1_SCRIPT = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from bench import m1
args = sys.argv[3:]
print(json.dumps(getattr(m1, sys.argv[2])(*args)))
"""


def _m1(phase: str, *args: str) -> dict[str, object]:
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", M1_SCRIPT, str(root), phase, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def bench_m1(work: Path) -> None:
    built = _m1("build", str(work / "m1"))
    res = {**built, **_m1("change", str(work / "m1"), str(built["parent"]))}
    print(f"\nM1: {res['rows']:,}-row manifest (synthetic rows), child with a 1% change")
    report(
        [
            ("build + write parent manifest", f"{res['build']:.2f} s", ""),
            ("finalize of a 1% change", f"{res['finalize']:.2f} s", "(floor 10 s)"),
            ("peak RSS of that process", f"{res['peak_rss_mb']:.0f} MB", "(floor 1500 MB)"),
            (
                "diff of two 1M-file versions",
                f"{res['diff']:.2f} s",
                f"(floor 5 s) {res['diff_counts']}",
            ),
            ("list_files on 1M rows", f"{res['list']:.2f} s", ""),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--only", default="w1,w2,w3,m1")
    args = parser.parse_args()
    only = set(args.only.split(","))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dsops-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"dsops bench on {os.cpu_count()} cores, workdir {work}")
    try:
        if only & {"w1", "w3"}:
            w1 = make_w1(work / "w1")
            res = bench_files(work, "W1", w1)
            if "w3" in only:
                bench_w3(work, w1, res["store"], res["ds"], res["ingest"])  # type: ignore[arg-type]
        if "w2" in only:
            bench_files(work, "W2", make_w2(work / "w2"))
        if "m1" in only:
            bench_m1(work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
