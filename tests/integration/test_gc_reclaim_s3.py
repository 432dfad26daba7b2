"""gc reclaiming storage on a real S3 server (SeaweedFS): after deleting a large dataset,
and while another process uploads into a draft."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store, layout
from dsops.gc import collect_garbage
from tests.helpers import random_tree, snapshot, write_tree
from tests.unit.test_gc_reclaim import ROOT, chain, content_bytes, uploader, verify_all_live

pytestmark = pytest.mark.s3


def _store(s3_server: Any, tmp_path: Path, cache: str = "cache") -> Store:
    return Store(
        f"s3://{s3_server.new_bucket()}/data", cache_dir=tmp_path / cache, **s3_server.options
    )


def test_gc_after_deleting_a_large_dataset_frees_90_percent_on_s3(
    s3_server: Any, tmp_path: Path
) -> None:
    store = _store(s3_server, tmp_path)
    keep = chain(store, tmp_path / "keep", 2, name="keep", seed=100)
    before = content_bytes(store)
    big = tmp_path / "big"
    for n in range(3):
        random_tree(big / f"v{n}", 200, seed=300 + n, max_size=40_000)
        write_tree(big, {f"large{n}.bin": os.urandom(6 * 1024 * 1024)})
        ds = Dataset.create("team", "big", store=store)
        ds.add_files(big)
        ds.finalize()
        ds.set_metadata({"n": n}, name="stats")
    big_bytes = content_bytes(store) - before
    deleted = Dataset.delete(
        project="team", name="big", entire_dataset=True, force=True, store=store
    )
    time.sleep(1.1)  # S3 modified times have whole seconds

    result = collect_garbage(store, grace_seconds=0)
    assert result.freed_bytes >= 0.9 * big_bytes
    assert content_bytes(store) <= before + 0.1 * big_bytes
    assert sorted(result.deleted_manifests) == sorted(d["id"] for d in deleted)
    assert all(store.backend.exists(layout.tombstone_key(d["id"])) for d in deleted)
    reader = Store(store.url, cache_dir=tmp_path / "reader", **s3_server.options)
    verify_all_live(reader)
    assert [v["id"] for v in Dataset.list(store=reader)] == keep
    fetched = Dataset.get(keep[-1], store=reader).get_mutable_local_copy(tmp_path / "copy")
    assert snapshot(fetched) == snapshot(tmp_path / "keep")


GRACE = 8.0


def test_gc_racing_an_upload_in_another_process_loses_nothing_on_s3(
    s3_server: Any, tmp_path: Path
) -> None:
    store = _store(s3_server, tmp_path)
    chain(store, tmp_path / "junk", 2, name="junk", seed=50)
    Dataset.delete(project="team", name="junk", entire_dataset=True, force=True, store=store)
    reused = write_tree(tmp_path / "reused", {"big.bin": b"\x05" * (5 * 1024 * 1024)})
    orphan = Dataset.create("team", "orphan", store=store)
    orphan.add_files(reused)  # abandoned: its object is old garbage the uploader reuses
    draft = Dataset.create("team", "ingest", store=store)
    time.sleep(GRACE + 1)  # everything so far is older than the grace
    draft.set_description("in use")  # the draft is not abandoned

    proc = subprocess.Popen(
        uploader(store, tmp_path, draft.id, reused, 10),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs, freed = 0, 0
    while proc.poll() is None:
        result = collect_garbage(store, grace_seconds=GRACE)
        runs, freed = runs + 1, freed + result.freed_bytes
    out, err = proc.communicate()
    assert proc.returncode == 0 and "done" in out, err
    assert runs >= 1 and freed > 0  # the junk went while the upload ran

    reader = Store(store.url, cache_dir=tmp_path / "reader", **s3_server.options)
    version = Dataset.get(draft.id, store=reader)
    version.finalize()
    expected = {
        f"batch{n}/{path}": data
        for n in range(10)
        for path, data in snapshot(tmp_path / "uploads" / f"batch{n}").items()
    }
    expected["reused/big.bin"] = b"\x05" * (5 * 1024 * 1024)
    assert snapshot(version.get_local_copy()) == expected
    assert version.verify(deep=True)
