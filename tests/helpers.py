"""Test helpers shared by every tier: deterministic file trees and folder snapshots."""

from __future__ import annotations

import os
import random
from pathlib import Path


def write_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def random_tree(root: Path, count: int, seed: int = 0, max_size: int = 4096) -> dict[str, bytes]:
    rng = random.Random(seed)
    files = {}
    for i in range(count):
        rel = f"d{i % 7}/s{i % 3}/f{i:05d}.bin"
        files[rel] = rng.randbytes(rng.randint(0, max_size))
    write_tree(root, files)
    return files


def snapshot(folder: str | Path) -> dict[str, bytes]:
    """Every file below ``folder`` as relative POSIX path → bytes."""
    result = {}
    base = Path(folder)
    for dirpath, _, names in os.walk(base):
        for name in names:
            full = Path(dirpath) / name
            result[full.relative_to(base).as_posix()] = full.read_bytes()
    return result
