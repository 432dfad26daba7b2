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


def replace_manifest(store: object, version_id: str, data: bytes) -> None:
    """Overwrite a version's manifest *and* its record's hash, as a hostile writer with
    full access to the store could (so that checks past the hash can be exercised)."""
    from dsops import layout
    from dsops.hashing import hash_bytes
    from dsops.storage import dump_json

    backend = store.backend  # type: ignore[attr-defined]
    backend.put(layout.manifest_key(version_id), data)
    record = backend.get_json(layout.version_key(version_id))
    record["manifest_hash"] = hash_bytes(data)
    backend.put(layout.version_key(version_id), dump_json(record))
