"""Deterministic benchmark workloads (same bytes on every run)."""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

KIB = 1024
MIB = 1024 * 1024


def _blob(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def make_w1(root: Path, files: int = 10_000, seed: int = 1) -> Path:
    """W1: 10,000 files of 1–64 KiB (~330 MB) in nested folders."""
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(seed)
    for i in range(files):
        folder = root / f"class_{i % 20:02d}" / f"batch_{(i // 20) % 25:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"sample_{i:05d}.bin").write_bytes(_blob(rng, rng.randint(1 * KIB, 64 * KIB)))
    return root


def make_w2(root: Path, files: int = 8, size: int = 128 * MIB, seed: int = 2) -> Path:
    """W2: 8 files × 128 MiB."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    chunk = rng.randbytes(MIB)
    for i in range(files):
        with open(root / f"shard_{i}.bin", "wb") as fh:
            for j in range(size // MIB):
                # Unique content per file and per MiB (no accidental dedup).
                fh.write(i.to_bytes(4, "little") + j.to_bytes(4, "little") + chunk[8:])
    return root


def make_w3(w1: Path, seed: int = 3) -> dict[str, int]:
    """W3 from W1: modify 1%, add 1%, delete 1% (in place). Returns changed bytes."""
    rng = random.Random(seed)
    files = sorted(p for p in w1.rglob("*.bin"))
    picks = rng.sample(files, len(files) * 2 // 100)
    modify, delete = picks[: len(picks) // 2], picks[len(picks) // 2 :]
    changed = 0
    for path in modify:
        data = _blob(rng, rng.randint(1 * KIB, 64 * KIB))
        path.write_bytes(data)
        changed += len(data)
    for path in delete:
        os.unlink(path)
    new_dir = w1 / "new_batch"
    new_dir.mkdir(exist_ok=True)
    for i in range(len(files) // 100):
        data = _blob(rng, rng.randint(1 * KIB, 64 * KIB))
        (new_dir / f"added_{i:05d}.bin").write_bytes(data)
        changed += len(data)
    return {
        "modified": len(modify),
        "deleted": len(delete),
        "added": len(files) // 100,
        "changed_bytes": changed,
    }


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
