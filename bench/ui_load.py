"""The web UI under load: concurrent clients paging, searching and zipping.

Builds a local store holding a version of ``--rows`` files (synthetic manifest rows, as
M1: its objects are not stored, so it is paged and searched, never downloaded) and a
10-version lineage of real files (small, so it is zipped), starts ``dsops ui`` in its own
process, and runs ``--clients`` asyncio/httpx clients for ``--seconds``, each looping over
a mix of requests: a page of the big version (random offset, both sorts), a search in it,
a folder of it, its stats, the lineage graph of the chain's tip, a version page, and a
zip of a chain version. Then one client starts the largest zip and disconnects after its
first chunk, ten times over; the server's open files and threads must come back.

Prints p50/p99 latency per request kind, errors (must be 0), requests per second and the
server's peak RSS. ``python -m bench.ui_load`` is the full run (50 clients, 60 s,
1,000,000 rows); the test tier runs ``run(...)`` in a short form
(``tests/unit/test_ui_load.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


@dataclass
class LoadResult:
    clients: int
    seconds: float
    rows: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    idle_rss_mib: float = 0.0
    disconnects: int = 0
    fds_before: int = 0
    fds_after: int = 0
    threads_before: int = 0
    threads_after: int = 0

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def summary(self) -> dict[str, Any]:
        kinds = {}
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            kinds[kind] = {
                "n": len(ordered),
                "p50_ms": round(1000 * statistics.median(ordered), 1),
                "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            }
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "rows": self.rows,
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.seconds, 1),
            "errors": len(self.errors),
            "first_errors": self.errors[:5],
            "server_peak_rss_mib": round(self.peak_rss_mib, 1),
            "server_idle_rss_mib": round(self.idle_rss_mib, 1),
            "zip_disconnects": self.disconnects,
            "open_files": [self.fds_before, self.fds_after],
            "threads": [self.threads_before, self.threads_after],
            "kinds": kinds,
        }


def build_store(root: Path, rows: int) -> dict[str, Any]:
    """A store with a big synthetic version and a real 10-version chain."""
    from bench.m1 import synthetic_parent
    from dsops import Dataset, Store

    store = Store(str(root / "store"), cache_dir=root / "build-cache")
    big = synthetic_parent(store, rows)
    rng = random.Random(5)
    ids: list[str] = []
    src = root / "src"
    for n in range(10):
        day = src / f"day{n}"
        day.mkdir(parents=True)
        for i in range(40):
            (day / f"f{i:03d}.bin").write_bytes(rng.randbytes(rng.randint(100, 20_000)))
        ds = Dataset.create("bench", "chain", parents=ids[-1:] or None, store=store)
        ds.add_files(day, dataset_path=f"day{n}")
        ids.append(ds.finalize())
    return {"store": str(root / "store"), "big": big, "chain": ids}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _proc_status(pid: int) -> dict[str, int]:
    found = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS", "Threads"):
                found[key] = int(value.split()[0])
    found["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return found


def start_server(store: str, cache: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "DSOPS_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dsops", "ui", "--store", store, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/info", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError(f"dsops ui exited with {proc.returncode}")
    proc.kill()
    raise RuntimeError("dsops ui did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _requests(ctx: dict[str, Any], rows: int, rng: random.Random) -> tuple[str, str]:
    big, chain = ctx["big"], ctx["chain"]
    pick = rng.random()
    if pick < 0.30:
        offset = rng.randrange(0, max(1, rows - 100))
        sort = rng.choice(["path", "size"])
        return "page", f"/api/versions/{big}/files?offset={offset}&limit=100&sort={sort}"
    if pick < 0.45:
        return "search", f"/api/versions/{big}/files?q=item_{rng.randrange(10_000):04d}&limit=50"
    if pick < 0.55:
        return "folder", f"/api/versions/{big}/files?folder=shard_{rng.randrange(1000):04d}"
    if pick < 0.62:
        return "stats", f"/api/versions/{big}/stats"
    if pick < 0.75:
        return "graph", f"/api/versions/{chain[-1]}/graph"
    if pick < 0.88:
        return "version", f"/api/versions/{rng.choice(chain)}"
    return "zip", f"/api/versions/{rng.choice(chain)}/zip"


async def _client(
    url: str, ctx: dict[str, Any], rows: int, until: float, seed: int, result: LoadResult
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        while time.monotonic() < until:
            kind, path = _requests(ctx, rows, rng)
            started = time.monotonic()
            try:
                response = await client.get(path)
                await response.aread()
                if response.status_code != 200:
                    result.errors.append(f"{kind} {path}: HTTP {response.status_code}")
                    continue
            except httpx.HTTPError as exc:
                result.errors.append(f"{kind} {path}: {type(exc).__name__} {exc}")
                continue
            result.latencies[kind].append(time.monotonic() - started)


async def _disconnect_mid_zip(url: str, version_id: str, times: int) -> int:
    done = 0
    for _ in range(times):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            async with client.stream("GET", f"/api/versions/{version_id}/zip") as response:
                async for _chunk in response.aiter_raw():
                    break  # one chunk, then hang up
        done += 1
    return done


def _in_own_loop(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(work())`` in a thread of its own: callable where a loop is running."""
    box: list[T] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(work())))
    thread.start()
    thread.join()
    if not box:
        raise RuntimeError("the load generator failed (see the thread's traceback above)")
    return box[0]


def run(root: Path, clients: int, seconds: float, rows: int) -> LoadResult:
    ctx = build_store(root, rows)
    proc, url = start_server(ctx["store"], root / "ui-cache")
    result = LoadResult(clients=clients, seconds=seconds, rows=rows)
    try:
        # Warm: load the big manifest once, so every client measures the steady state.
        httpx.get(f"{url}/api/versions/{ctx['big']}/files?limit=1", timeout=300)
        idle = _proc_status(proc.pid)
        result.idle_rss_mib = idle["VmRSS"] / 1024
        until = time.monotonic() + seconds

        async def load() -> None:
            await asyncio.gather(
                *(_client(url, ctx, rows, until, n, result) for n in range(clients))
            )

        _in_own_loop(load)
        time.sleep(1.0)
        before = _proc_status(proc.pid)
        result.fds_before, result.threads_before = before["fds"], before["Threads"]
        result.disconnects = _in_own_loop(lambda: _disconnect_mid_zip(url, ctx["chain"][-1], 10))
        time.sleep(2.0)  # let the server notice the hang-ups
        after = _proc_status(proc.pid)
        result.fds_after, result.threads_after = after["fds"], after["Threads"]
        result.peak_rss_mib = after["VmHWM"] / 1024
    finally:
        stop_server(proc)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        result = run(Path(tmp), args.clients, args.seconds, args.rows)
    print(json.dumps(result.summary(), indent=1))


if __name__ == "__main__":
    main()
