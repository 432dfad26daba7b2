"""G1: gc on a local store of 10,000 versions after half of them were deleted.

The store: 100 datasets, each a chain of 100 versions; every version adds one 4 KiB file
(kept by its descendants) and replaces a 1 KiB ``state.txt``, both in its own pack. The
versions are committed through the real commit path (``dsops.drafts.finalize``: label
claim, seal, fixed part list, merge, presence check, manifest, record, ``latest``), with
the part and pack written directly instead of hashing a folder, so the build takes
minutes, not hours. Then half the versions are deleted through ``Dataset.delete``: 25
datasets entirely, and every other version of 50 more (parents of live versions: their
packs stay partly live). gc runs with grace 0 over a backend that counts requests.

Run: ``.venv/bin/python bench/gc_bench.py [--workdir DIR] [--datasets 100] [--chain 100]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dsops import Dataset, Store, layout
from dsops.catalog import DraftRecord, new_version_id, now_iso
from dsops.drafts import finalize
from dsops.drafts.parts import write_new_part
from dsops.gc import collect_garbage
from dsops.hashing import hash_bytes
from dsops.manifest.schema import PART_SCHEMA
from dsops.storage import dump_json
from dsops.storage.local import LocalStore
from tests.faults.injection import FaultyStore

T = TypeVar("T")
DATA, STATE = 4096, 1024


class CountingStore(FaultyStore):
    """A store that fails nothing and counts every request by kind."""

    def __init__(self, inner: LocalStore) -> None:
        super().__init__(inner, 0.0)
        self.counts: Counter[str] = Counter()

    def _call(self, kind: str, key: str, op: Callable[[], T]) -> T:
        self.counts[kind] += 1
        return op()


def commit(store: Store, name: str, n: int, parent: str | None, rng: random.Random) -> str:
    """One version of ``bench/<name>``: ``data/<n>.bin`` added, ``state.txt`` replaced."""
    version_id = new_version_id()
    data, state = rng.randbytes(DATA), rng.randbytes(STATE)
    pack = data + state
    key = layout.pack_key(hash_bytes(pack))
    store.backend.put_if_absent(key, pack)
    draft = DraftRecord(
        id=version_id,
        project="bench",
        name=name,
        parents=(parent,) if parent else (),
        created_at=now_iso(),
    )
    store.backend.put_if_absent(layout.draft_key(version_id), dump_json(draft.to_dict()))
    part = pa.table(
        {
            "op": ["add", "add"],
            "path": [f"data/{n:04d}.bin", "state.txt"],
            "size": pa.array([DATA, STATE], pa.int64()),
            "hash": [hash_bytes(data), hash_bytes(state)],
            "object": [key, key],
            "offset": pa.array([0, DATA], pa.int64()),
            "length": pa.array([DATA, STATE], pa.int64()),
            "mtime": pa.array([0, 0], pa.int64()),
            "link": ["", ""],
            "link_validator": ["", ""],
        }
    ).cast(PART_SCHEMA)
    write_new_part(store.backend, version_id, part, {"op": "add", "summary": {}})
    finalize(store.context(), draft)
    return version_id


def build(store: Store, datasets: int, chain: int) -> list[list[str]]:
    rng = random.Random(7)
    chains = []
    for d in range(datasets):
        ids: list[str] = []
        for n in range(chain):
            ids.append(commit(store, f"d{d:03d}", n, ids[-1] if ids else None, rng))
        chains.append(ids)
        if (d + 1) % 10 == 0:
            print(f"  built {(d + 1) * chain} versions", flush=True)
    return chains


def delete_half(store: Store, chains: list[list[str]]) -> int:
    quarter = len(chains) // 4
    deleted = 0
    for d in range(quarter):
        gone = Dataset.delete(
            project="bench", name=f"d{d:03d}", entire_dataset=True, force=True, store=store
        )
        deleted += len(gone)
    for ids in chains[quarter : 3 * quarter]:
        for version_id in ids[1::2]:
            Dataset.delete(version_id, force=True, store=store)
            deleted += 1
    return deleted


def content(store: Store) -> int:
    return sum(i.size for p in ("packs/", "objects/") for i in store.backend.list(p))


def run_gc(label: str, work: Path, root: Path, backend: CountingStore, fresh: bool = True) -> Store:
    """One timed gc (grace 0); ``fresh``: with an empty local cache (no manifest cached)."""
    if fresh:
        shutil.rmtree(work / "cache", ignore_errors=True)
    store = Store(str(root), cache_dir=work / "cache", backend=backend)
    backend.counts.clear()
    os.sync()
    start = time.perf_counter()
    result = collect_garbage(store, grace_seconds=0)
    seconds = time.perf_counter() - start
    kinds = " ".join(f"{k}={backend.counts.get(k, 0)}" for k in ("LIST", "GET", "HEAD", "DELETE"))
    print(
        f"{label}: {seconds:.1f} s; requests {kinds}; freed {result.freed_bytes / 1e6:.2f} MB "
        f"in {len(result.objects)} packs; held {result.held_bytes / 1e6:.2f} MB in "
        f"{result.held_packs} packs; removed {len(result.deleted_manifests)} manifests, "
        f"{len(result.finalized_drafts) + len(result.deleted_drafts)} drafts; kept "
        f"{len(result.kept_manifests)} deleted parents' manifests",
        flush=True,
    )
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", help="Where to build the store (default: a temp dir).")
    parser.add_argument("--datasets", type=int, default=100)
    parser.add_argument("--chain", type=int, default=100)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="dsops-gc-bench-"))
    root = work / "store"
    shutil.rmtree(root, ignore_errors=True)
    backend = CountingStore(LocalStore(str(root)))
    store = Store(str(root), cache_dir=work / "cache", backend=backend)
    total = args.datasets * args.chain

    start = time.perf_counter()
    chains = build(store, args.datasets, args.chain)
    print(f"build: {total} versions in {time.perf_counter() - start:.1f} s")
    store = run_gc("gc after the build (finalized drafts)", work, root, backend)
    before = content(store)
    start = time.perf_counter()
    deleted = delete_half(store, chains)
    print(f"delete: {deleted} versions in {time.perf_counter() - start:.1f} s")
    store = run_gc("gc after deleting half (cold cache)", work, root, backend)
    store = run_gc("gc again (nothing left)", work, root, backend, fresh=False)
    after = content(store)
    print(f"content after: {after / 1e6:.1f} MB ({100 * (before - after) / before:.0f}% freed)")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
