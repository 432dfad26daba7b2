"""The commit protocol under races and damage: sealed drafts, create-only manifests,
manifest hashes in the version record, and content reused from the store."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dsops.drafts.changes as changes_mod
from dsops import Dataset, Store, layout
from dsops.drafts.finalize import _commit
from dsops.errors import IntegrityError, VersionImmutable
from dsops.gc import collect_garbage
from dsops.objects import SMALL_FILE_LIMIT
from tests.helpers import snapshot, write_tree

ROOT = Path(__file__).resolve().parents[2]


def _tree(root: Path, prefix: str, count: int = 20, size: int = 2048) -> dict[str, bytes]:
    rng = random.Random(prefix)
    files = {f"{prefix}/f{i:03d}.bin": rng.randbytes(size) for i in range(count)}
    write_tree(root, files)
    return files


# --- 1. an acknowledged add is never lost --------------------------------------------


def test_add_whose_part_lands_before_the_seal_is_in_the_version(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = Dataset.create(project="p", name="seal", store=store)
    files = _tree(tmp_path / "b", "b")
    real_write = changes_mod.write_new_part

    def write_then_finalize(*args: object, **kwargs: object) -> str:
        part_id = real_write(*args, **kwargs)  # type: ignore[arg-type]
        Dataset.get(ds.id, store=Store(store.url, cache_dir=tmp_path / "c2")).finalize()
        return part_id

    monkeypatch.setattr(changes_mod, "write_new_part", write_then_finalize)
    summary = ds.add_files(tmp_path / "b")  # acknowledged: it must be in the version
    assert summary.added == 20
    final = Dataset.get(ds.id, store=Store(store.url, cache_dir=tmp_path / "c3"))
    assert snapshot(final.get_local_copy()) == files


def test_add_whose_part_lands_after_the_parts_were_listed_fails_and_leaves_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = Dataset.create(project="p", name="seal", store=store)
    base = _tree(tmp_path / "a", "a")
    ds.add_files(tmp_path / "a")
    _tree(tmp_path / "b", "b")
    real_write = changes_mod.write_new_part

    def finalize_then_write(*args: object, **kwargs: object) -> str:
        Dataset.get(ds.id, store=Store(store.url, cache_dir=tmp_path / "c2")).finalize()
        return real_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(changes_mod, "write_new_part", finalize_then_write)
    with pytest.raises(VersionImmutable, match="not in that version"):
        ds.add_files(tmp_path / "b")
    final = Dataset.get(ds.id, store=Store(store.url, cache_dir=tmp_path / "c3"))
    assert snapshot(final.get_local_copy()) == base
    # The refused change's part was removed: only the first add's part remains.
    assert len(store.backend.list_keys(layout.parts_prefix(ds.id))) == 1


def test_a_sealed_draft_refuses_changes_and_a_rerun_finalize_completes_it(
    store: Store, tmp_path: Path
) -> None:
    from dsops.drafts.seal import seal

    ds = Dataset.create(project="p", name="sealed", store=store)
    files = _tree(tmp_path / "a", "a")
    ds.add_files(tmp_path / "a")
    seal(store.backend, ds.id)  # a finalize that died right after sealing
    with pytest.raises(VersionImmutable, match="being finalized"):
        ds.add_files(write_tree(tmp_path / "x", {"late.txt": "late"}))
    assert ds.finalize() == ds.id
    assert snapshot(ds.get_local_copy()) == files


_ADD_CLI = """
import sys
from dsops.cli import cli
sys.exit(cli.main(["add", sys.argv[1], sys.argv[2]], prog_name="dsops", standalone_mode=False))
"""


def test_cli_add_racing_finalize_either_lands_or_fails_over_many_trials(
    tmp_path: Path,
) -> None:
    """The reported race: ``dsops add $ID b & sleep 0.05; dsops finalize $ID``.

    Before the seal, 33 of 40 such races printed "20 added", exited 0 and lost the files.
    """
    store_url = str(tmp_path / "store")
    env = {**os.environ, "DSOPS_STORE": store_url, "DSOPS_CACHE_DIR": str(tmp_path / "cache")}
    rng = random.Random(17)
    outcomes = {"landed": 0, "refused": 0}
    for trial in range(16):
        store = Store(store_url, cache_dir=tmp_path / "cache-sdk")
        ds = Dataset.create(project="p", name=f"race{trial}", store=store)
        ds.add_files(write_tree(tmp_path / f"a{trial}", {"base.txt": str(trial)}))
        files = _tree(tmp_path / f"b{trial}", "b", count=20, size=8192)
        proc = subprocess.Popen(
            [sys.executable, "-c", _ADD_CLI, ds.id, str(tmp_path / f"b{trial}")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(0.0, 0.6))
        fin = subprocess.run(
            [sys.executable, "-m", "dsops.cli", "finalize", ds.id],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert fin.returncode == 0, fin.stderr.decode()
        out, err = proc.communicate(timeout=120)
        got = snapshot(Dataset.get(ds.id, store=store).get_local_copy())
        if proc.returncode == 0:
            assert b"20 added" in out, out
            assert {k: got.get(k) for k in files} == files, f"trial {trial}: acknowledged add lost"
            outcomes["landed"] += 1
        else:
            assert b"finaliz" in err, err.decode()
            assert not set(files) & set(got), f"trial {trial}: a failed add left files"
            outcomes["refused"] += 1
    print(f"add racing finalize: {outcomes}")


# --- 3. a committed manifest is never rewritten ---------------------------------------


def test_a_finalize_that_lost_the_race_never_rewrites_the_committed_manifest(
    store: Store, tmp_path: Path
) -> None:
    ds = Dataset.create(project="p", name="twice", store=store)
    ds.add_files(write_tree(tmp_path / "a", {"a.txt": "1"}))
    ds.finalize()
    key = layout.manifest_key(ds.id)
    before = store.backend.get_with_etag(key)
    winner = store.catalog.version(ds.id)
    # The loser: it checked for the record before the winner wrote it, then commits.
    loser = _commit(store.context(), store.catalog.draft(ds.id), {})  # type: ignore[arg-type]
    assert store.backend.get_with_etag(key) == before
    assert loser == winner
    assert store.backend.list_keys("names/p/twice/") == ["names/p/twice/1.0.0"]


# --- 5. manifest integrity ------------------------------------------------------------


def test_every_single_bit_flip_of_a_manifest_is_refused(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create(project="p", name="flip", store=store)
    ds.add_files(write_tree(tmp_path / "a", {f"dir/file{i}.txt": str(i) for i in range(50)}))
    ds.finalize()
    key = layout.manifest_key(ds.id)
    good = store.backend.get(key)
    rng = random.Random(5)
    refused = 0
    flips = 200
    for n in range(flips):
        damaged = bytearray(good)
        bit = rng.randrange(len(damaged) * 8)
        damaged[bit // 8] ^= 1 << (bit % 8)
        store.backend.put(key, bytes(damaged))
        fresh = Store(store.url, cache_dir=tmp_path / f"c{n}")
        with pytest.raises(IntegrityError, match="does not match the hash"):
            Dataset.get(ds.id, store=fresh).list_files()
        refused += 1
    print(f"manifest bit flips refused: {refused} of {flips}")
    store.backend.put(key, good)
    assert len(Dataset.get(ds.id, store=Store(store.url, cache_dir=tmp_path / "ok")).files()) == 50


def test_a_damaged_local_copy_of_a_manifest_is_dropped_and_read_again(
    store: Store, tmp_path: Path
) -> None:
    ds = Dataset.create(project="p", name="local", store=store)
    ds.add_files(write_tree(tmp_path / "a", {"a.txt": "1", "b.txt": "2"}))
    ds.finalize()
    cache = tmp_path / "c-local"
    Dataset.get(ds.id, store=Store(store.url, cache_dir=cache)).list_files()
    local = cache / "manifests" / f"{ds.id}.parquet"
    local.write_bytes(local.read_bytes()[:-40])  # truncated
    again = Dataset.get(ds.id, store=Store(store.url, cache_dir=cache))
    assert again.list_files() == ["a.txt", "b.txt"]


def test_version_record_carries_the_manifest_hash(store: Store, tmp_path: Path) -> None:
    from dsops.hashing import hash_bytes

    ds = Dataset.create(project="p", name="h", store=store)
    ds.add_files(write_tree(tmp_path / "a", {"a.txt": "1"}))
    ds.finalize()
    record = store.backend.get_json(layout.version_key(ds.id))
    assert record["manifest_hash"] == hash_bytes(store.backend.get(layout.manifest_key(ds.id)))


# --- 4. gc never deletes content a draft reuses ----------------------------------------


def test_gc_never_deletes_an_old_orphan_object_a_new_draft_reuses(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = os.urandom(SMALL_FILE_LIMIT + 10)
    write_tree(tmp_path / "src", {"big.bin": big})
    # A crashed add left the object behind, unreferenced, long ago.
    crashed = Dataset.create(project="p", name="orphan", store=store)
    crashed.add_files(tmp_path / "src")
    store.backend.delete(store.backend.list_keys(layout.parts_prefix(crashed.id))[0])
    [obj] = store.backend.list_keys("objects/")
    old = time.time() - 30 * 86400
    os.utime(Path(store.url) / obj, (old, old))

    ds = Dataset.create(project="p", name="reuse", store=store)
    real_write = changes_mod.write_new_part

    def gc_then_write(*args: object, **kwargs: object) -> str:
        collect_garbage(store, grace_seconds=7 * 86400)  # runs before the part exists
        return real_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(changes_mod, "write_new_part", gc_then_write)
    ds.add_files(tmp_path / "src")
    monkeypatch.undo()
    assert store.backend.exists(obj), "gc removed content the new draft reuses"
    ds.finalize()
    fresh = Store(store.url, cache_dir=tmp_path / "c-fresh")
    assert snapshot(Dataset.get(ds.id, store=fresh).get_local_copy()) == {"big.bin": big}


def test_finalize_refuses_to_commit_a_version_whose_content_is_missing(
    store: Store, tmp_path: Path
) -> None:
    big = os.urandom(SMALL_FILE_LIMIT + 10)
    ds = Dataset.create(project="p", name="missing", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"big.bin": big}))
    [obj] = store.backend.list_keys("objects/")
    store.backend.delete(obj)
    with pytest.raises(IntegrityError, match="missing"):
        ds.finalize()
    assert not store.backend.exists(layout.version_key(ds.id))
