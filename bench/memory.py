"""Peak RSS and wall time of ingest and cold fetches, each in a fresh process, beside
``tar cf`` / ``tar xf`` of the same folder run alternately in the same loop.

Run: ``.venv/bin/python bench/memory.py [--only w1,w1x3,w2] [--repeat 3] [--code DIR]``.

Each step runs in a child process started for it alone (``python -c``), and its peak
RSS is the child's own ``ru_maxrss`` (``os.wait4``), so nothing the parent allocated
counts. ``--code DIR`` imports dsops from another checkout (e.g. ``git archive`` of an
older commit) to measure before/after on the same data in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.workloads import folder_bytes, make_w1, make_w2  # noqa: E402

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from dsops import Dataset, Store
step, store_url, cache, src, name = sys.argv[2:7]
store = Store(store_url, cache_dir=cache)
start = time.perf_counter()
if step == "ingest":
    ds = Dataset.create(project="bench", name=name, store=store)
    ds.add_files(src)
    ds.finalize()
    out = ds.id
elif step == "view":
    ds = Dataset.get(name, store=store)
    out = ds.get_local_copy()
elif step == "mutable":
    ds = Dataset.get(name, store=store)
    out = ds.get_mutable_local_copy(src)
print(json.dumps({"seconds": time.perf_counter() - start, "out": str(out)}))
"""


def run_child_rss(code: Path, *args: str) -> dict[str, float | str]:
    os.sync()
    start = time.perf_counter()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.dup2(write, 1)
        os.execv(sys.executable, [sys.executable, "-c", CHILD, str(code), *args])
    os.close(write)
    with os.fdopen(read) as fh:
        out = fh.read()
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"step {args[0]} failed (exit {status})")
    result: dict[str, float | str] = json.loads(out.strip().splitlines()[-1])
    result["wall"] = wall
    result["rss_mib"] = usage.ru_maxrss / 1024
    return result


def timed_cmd(cmd: list[str]) -> float:
    os.sync()
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def bench(work: Path, label: str, src: Path, code: Path, repeat: int) -> dict[str, object]:
    rows: dict[str, list[float]] = {
        k: []
        for k in (
            "tar cf",
            "ingest",
            "ingest rss",
            "tar xf",
            "cold view",
            "view rss",
            "tar xf 2",
            "cold mutable",
            "mutable rss",
        )
    }
    tarball = work / f"{label}.tar"
    for r in range(repeat):
        tarball.unlink(missing_ok=True)
        rows["tar cf"].append(timed_cmd(["tar", "cf", str(tarball), "-C", str(src), "."]))
        store, cache = work / f"store-{label}-{r}", work / f"cache-{label}-{r}"
        res = run_child_rss(code, "ingest", str(store), str(cache), str(src), label)
        rows["ingest"].append(float(res["wall"]))
        rows["ingest rss"].append(float(res["rss_mib"]))
        version = str(res["out"])
        for step, base in (("view", "tar xf"), ("mutable", "tar xf 2")):
            target = work / "untar"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            rows[base].append(timed_cmd(["tar", "xf", str(tarball), "-C", str(target)]))
            shutil.rmtree(target)
            shutil.rmtree(cache, ignore_errors=True)  # cold: an empty cache
            dest = work / f"mut-{label}"
            shutil.rmtree(dest, ignore_errors=True)
            res = run_child_rss(code, step, str(store), str(cache), str(dest), version)
            rows[f"cold {step}"].append(float(res["wall"]))
            rows[f"{step} rss"].append(float(res["rss_mib"]))
            if step == "mutable":
                assert folder_bytes(dest) == folder_bytes(src)
                shutil.rmtree(dest)
        shutil.rmtree(store)
        shutil.rmtree(cache, ignore_errors=True)
    tarball.unlink(missing_ok=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"\n{label}: {folder_bytes(src) / 1e6:.0f} MB, code {code}")
    for name, base in (
        ("ingest", "tar cf"),
        ("cold view", "tar xf"),
        ("cold mutable", "tar xf 2"),
    ):
        rss = {"ingest": "ingest rss", "cold view": "view rss", "cold mutable": "mutable rss"}
        print(
            f"  {name:<13} {med[name]:6.2f} s  [{min(rows[name]):.2f}-{max(rows[name]):.2f}]"
            f"  {base.split(' 2')[0]} {med[base]:.2f} s  ratio {med[name] / med[base]:.2f}x"
            f"  peak RSS {med[rss[name]]:.0f} MiB (max {max(rows[rss[name]]):.0f})"
        )
    return {"label": label, "rows": rows, "median": med}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--only", default="w1,w1x3,w2")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--code", type=Path, action="append", default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dsops-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    codes = args.code or [ROOT]
    print(f"dsops memory bench on {os.cpu_count()} cores, workdir {work}")
    try:
        makers = {
            "w1": lambda p: make_w1(p),
            "w1x3": lambda p: make_w1(p, files=30_000),
            "w2": lambda p: make_w2(p),
        }
        for label in args.only.split(","):
            src = work / f"src-{label}"
            if not src.exists():
                makers[label](src)
            for code in codes:
                bench(work, label, src, code.resolve(), args.repeat)
            shutil.rmtree(src)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
