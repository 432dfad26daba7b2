"""N processes fetching one version into one cold cache read each stored byte once.

Real processes (tests/cache_single_download_worker.py) log every content read of the
store to one shared file, so reads are summed across processes, a killed one included.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dsops import Dataset, Store
from tests.cache_race_worker import tree_digest

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def version(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, int, str]:
    """200 small files (packed) and 2 large ones (whole objects): (store, id, stored
    bytes, tree digest)."""
    base = tmp_path_factory.mktemp("single")
    rng = random.Random(12)
    src = base / "src"
    for i in range(200):
        path = src / f"d{i % 4}" / f"f{i:03d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(5_000, 40_000)))
    (src / "big").mkdir()
    for i in range(2):
        (src / "big" / f"b{i}.bin").write_bytes(rng.randbytes(5 * MiB + i))
    store = Store(str(base / "store"), cache_dir=base / "writer-cache")
    ds = Dataset.create(project="p", name="single", store=store)
    ds.add_files(str(src))
    ds.finalize()
    stored = sum(i.size for p in ("packs/", "objects/") for i in store.backend.list(p))
    return store.url, ds.id, stored, tree_digest(str(src))


def _start(
    store_url: str, version_id: str, work: Path, mode: str, target: str = ""
) -> subprocess.Popen[str]:
    cache, counts, go = str(work / "cache"), str(work / "counts"), str(work / "go")
    args = [store_url, cache, version_id, mode, counts, go]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.cache_single_download_worker", *args, target],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(work: Path, pattern: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(list(work.glob(pattern))) < count:
        assert time.monotonic() < deadline, f"timed out waiting for {count} {pattern}"
        time.sleep(0.01)


def _reads(work: Path) -> int:
    counts = work / "counts"
    if not counts.exists():
        return 0
    return sum(int(line.split()[2]) for line in counts.read_text().splitlines())


def test_four_processes_fetching_one_version_read_its_stored_bytes_once_in_total(
    version: tuple[str, str, int, str], tmp_path: Path
) -> None:
    store_url, version_id, stored, expected = version
    modes = ["view", "mutable", "view", "mutable"]
    procs = [
        _start(store_url, version_id, tmp_path, m, str(tmp_path / f"copy{i}"))
        for i, m in enumerate(modes)
    ]
    _wait_for(tmp_path, "ready-*", len(procs))
    (tmp_path / "go").touch()
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1])["digest"] == expected
    assert _reads(tmp_path) == stored  # every stored byte once, across the 4 processes


def test_a_claimant_killed_while_reading_does_not_block_the_others(
    version: tuple[str, str, int, str], tmp_path: Path
) -> None:
    store_url, version_id, stored, expected = version
    hung = _start(store_url, version_id, tmp_path, "hang")
    _wait_for(tmp_path, "ready-*", 1)
    (tmp_path / "go").touch()
    _wait_for(tmp_path, "claimed-*", 1)  # it holds a read claim and never returns
    others = [_start(store_url, version_id, tmp_path, "view") for _ in range(3)]
    _wait_for(tmp_path, "ready-*", 4)
    time.sleep(0.5)  # the others are now waiting on (or past) its claim
    os.kill(hung.pid, signal.SIGKILL)
    hung.communicate(timeout=30)
    started = time.monotonic()
    for proc in others:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1])["digest"] == expected
    assert time.monotonic() - started < 60
    # The killed claimant admitted nothing it had not verified; the survivors read the
    # rest once between them.
    assert _reads(tmp_path) == stored
