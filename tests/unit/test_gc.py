"""Garbage collection removes only unreferenced keys older than the grace period."""

from __future__ import annotations

import os
import time
from pathlib import Path

from dsops import Dataset, Store
from dsops.gc import collect_garbage
from tests.helpers import snapshot, write_tree


def _age(store: Store, prefix: str, seconds: float) -> None:
    past = time.time() - seconds
    for key in store.backend.list_keys(prefix):
        os.utime(Path(store.url) / key, (past, past))


def test_gc_keeps_everything_a_version_or_live_draft_needs(store: Store, tmp_path: Path) -> None:
    kept = Dataset.create(project="p", name="kept", store=store)
    kept.add_files(write_tree(tmp_path / "a", {"a.txt": "A"}))
    kept.finalize()
    live = Dataset.create(project="p", name="live", store=store)
    live.add_files(write_tree(tmp_path / "b", {"b.txt": "B"}))
    abandoned = Dataset.create(project="p", name="gone", store=store)
    abandoned.add_files(write_tree(tmp_path / "c", {"c.txt": "only-in-abandoned"}))
    _age(store, f"drafts/{abandoned.id}/", 30 * 24 * 3600)
    _age(store, "packs/", 30 * 24 * 3600)

    preview = collect_garbage(store, dry_run=True)
    assert preview.abandoned_drafts == [abandoned.id]
    assert preview.finalized_drafts == [kept.id]
    assert len(preview.objects) == 1
    assert store.backend.list_keys(f"drafts/{abandoned.id}/")  # dry run removed nothing

    result = collect_garbage(store)
    assert result.freed_bytes == len("only-in-abandoned")
    assert store.backend.list_keys(f"drafts/{abandoned.id}/") == []
    assert store.backend.list_keys(f"drafts/{kept.id}/") == []
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    assert snapshot(Dataset.get(kept.id, store=fresh).get_local_copy()) == {"a.txt": b"A"}
    live_again = Dataset.get(live.id, store=fresh)
    live_again.finalize()
    assert snapshot(live_again.get_local_copy()) == {"b.txt": b"B"}


def test_gc_never_removes_recent_unreferenced_content(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="new", store=store)
    ds.add_files(write_tree(tmp_path / "a", {"a.txt": "A"}))
    store.backend.put("packs/" + "0" * 64, b"an upload whose part is not written yet")
    result = collect_garbage(store)
    assert result.objects == []
    assert store.backend.exists("packs/" + "0" * 64)
