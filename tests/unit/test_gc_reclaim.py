"""gc reclaims what deletes leave behind, and nothing a live version, draft or label needs.

Local store and S3 (moto); the real S3 server runs the large and the concurrent cases in
tests/integration/test_gc_reclaim_s3.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result

from dsops import Dataset, Store, layout
from dsops.errors import VersionDeleted
from dsops.gc import collect_garbage
from tests.helpers import random_tree, snapshot, write_tree

ROOT = Path(__file__).resolve().parents[2]
DAY = 24 * 3600


def cold(store: Store, tmp_path: Path, name: str = "cold") -> Store:
    return Store(store.url, cache_dir=tmp_path / name, **store.options)


def content_bytes(store: Store) -> int:
    return sum(i.size for p in ("packs/", "objects/") for i in store.backend.list(p))


def everything(store: Store) -> dict[str, bytes]:
    return {key: store.backend.get(key) for key in store.backend.list_keys("")}


def age(store: Store, prefix: str, seconds: float) -> None:
    """Make every key under ``prefix`` of a local store ``seconds`` old."""
    past = time.time() - seconds
    for key in store.backend.list_keys(prefix):
        os.utime(Path(store.url) / key, (past, past))


def chain(store: Store, src: Path, count: int, name: str = "daily", seed: int = 0) -> list[str]:
    """``count`` versions, each a child of the previous, each adding and changing files."""
    ids: list[str] = []
    for n in range(count):
        random_tree(src / f"day{n}", 20, seed=seed + n, max_size=3000)
        write_tree(src, {"changing.txt": f"version {n} " * 50})
        ds = Dataset.create("team", name, parents=ids[-1:] or None, store=store)
        ds.add_files(src)
        ids.append(ds.finalize())
    return ids


def verify_all_live(store: Store) -> None:
    for row in Dataset.list(store=store):
        result = Dataset.get(row["id"], store=store).verify(deep=True)
        assert result, (row["ref"], result.to_dict())


# --- deleted parents --------------------------------------------------------------------


def test_gc_after_deleting_a_parent_keeps_the_child_byte_for_byte(
    either_store: Store, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    ids = chain(either_store, src, 3)
    expected = snapshot(src)
    changes_before = Dataset.get(ids[2], store=either_store).changes()
    Dataset.delete(ids[1], force=True, store=either_store)

    result = collect_garbage(either_store, grace_seconds=0)
    # The parent's pack also holds files the child still has: kept whole, and the
    # parent's own "changing.txt" is reported as held.
    assert result.objects == [] and result.held_bytes == len("version 1 " * 50)
    reader = cold(either_store, tmp_path)
    child = Dataset.get(ids[2], store=reader)
    assert snapshot(child.get_mutable_local_copy(tmp_path / "copy")) == expected
    assert child.verify(deep=True)
    # The deleted parent's manifest is kept (it is small) so the child's diff still works.
    assert reader.backend.exists(layout.manifest_key(ids[1]))
    assert ids[1] not in result.deleted_manifests
    changes = child.changes()
    assert changes.added.column("path").to_pylist() == (
        changes_before.added.column("path").to_pylist()
    )
    assert changes.modified.column("path").to_pylist() == ["changing.txt"]
    # Lineage still shows the deleted parent from its tombstone.
    assert child.get_dependency_graph()[ids[1]] == [ids[0]]
    verify_all_live(reader)


def test_changes_of_a_child_whose_deleted_parent_manifest_is_gone_is_a_clear_error(
    store: Store, tmp_path: Path
) -> None:
    ids = chain(store, tmp_path / "src", 2)
    Dataset.delete(ids[0], force=True, store=store)
    assert Dataset.get(ids[1], store=store).changes().modified.num_rows == 1
    store.backend.delete(layout.manifest_key(ids[0]))  # as an older gc would have
    reader = cold(store, tmp_path)
    child = Dataset.get(ids[1], store=reader)
    with pytest.raises(VersionDeleted, match=r"was deleted.*gc removed its manifest"):
        child.changes()
    # The child itself still reads back: its manifest is a full view.
    assert child.verify(deep=True)


def test_a_draft_whose_parent_was_deleted_finalizes_after_gc(store: Store, tmp_path: Path) -> None:
    src = tmp_path / "src"
    ids = chain(store, src, 1)
    draft = Dataset.create("team", "daily", parents=[ids[0]], store=store)
    draft.add_files(write_tree(tmp_path / "more", {"more.txt": "more"}), dataset_path="more")
    Dataset.delete(ids[0], force=True, store=store)
    age(store, "", 2 * DAY)
    age(store, f"drafts/{draft.id}/", 0)  # the draft is in use
    collect_garbage(store, grace_seconds=DAY)
    assert store.backend.exists(layout.manifest_key(ids[0]))
    reader = cold(store, tmp_path)
    version = Dataset.get(draft.id, store=reader)
    version.finalize()
    assert snapshot(version.get_local_copy()) == {**snapshot(src), "more/more.txt": b"more"}
    assert version.verify(deep=True)


# --- reclaiming ---------------------------------------------------------------------------


def test_gc_frees_at_least_90_percent_of_a_deleted_dataset(
    either_store: Store, tmp_path: Path
) -> None:
    keep = chain(either_store, tmp_path / "keep", 2, name="keep", seed=100)
    before = content_bytes(either_store)
    big = tmp_path / "big"
    for n in range(3):
        random_tree(big / f"v{n}", 60, seed=200 + n, max_size=20_000)
        write_tree(big, {"large.bin": os.urandom(5 * 1024 * 1024)})  # a whole object
        ds = Dataset.create("team", "big", store=either_store)
        ds.add_files(big)
        big_id = ds.finalize()
        Dataset.get(big_id, store=either_store).set_metadata({"n": n}, name="stats")
    big_bytes = content_bytes(either_store) - before
    deleted = Dataset.delete(
        project="team", name="big", entire_dataset=True, force=True, store=either_store
    )

    result = collect_garbage(either_store, grace_seconds=0)
    assert result.freed_bytes >= 0.9 * big_bytes
    assert content_bytes(either_store) <= before + 0.1 * big_bytes
    assert sorted(result.deleted_manifests) == sorted(d["id"] for d in deleted)
    for gone in deleted:
        assert not either_store.backend.exists(layout.manifest_key(gone["id"]))
        assert not either_store.backend.exists(layout.state_key(gone["id"]))
        assert either_store.backend.exists(layout.tombstone_key(gone["id"]))  # the record stays
    assert result.to_dict()["deleted_manifests"] == result.deleted_manifests
    reader = cold(either_store, tmp_path)
    verify_all_live(reader)
    assert [v["id"] for v in Dataset.list(store=reader)] == keep
    again = collect_garbage(either_store, grace_seconds=0)
    assert again.objects == [] and again.deleted_manifests == []


def test_labels_of_deleted_versions_survive_gc_and_are_never_reused(
    either_store: Store, tmp_path: Path
) -> None:
    ids = chain(either_store, tmp_path / "src", 2)
    Dataset.delete(ids[1], store=either_store)
    result = collect_garbage(either_store, grace_seconds=0)
    assert result.claims == []
    assert either_store.backend.exists(layout.name_key("team", "daily", "1.0.1"))
    again = Dataset.create("team", "daily", parents=[ids[0]], store=either_store)
    again.finalize()
    assert again.version == "1.0.2"
    with pytest.raises(VersionDeleted):
        Dataset.get("team/daily@1.0.1", store=either_store)


def test_claims_of_a_renamed_dataset_survive_gc(store: Store, tmp_path: Path) -> None:
    ids = chain(store, tmp_path / "src", 3)
    Dataset.rename("team", "daily", "weekly", store=store)
    Dataset.delete(ids[1], force=True, store=store)
    stale = layout.name_key("team", "weekly", "9.9.9")
    store.backend.put_if_absent(stale, b'{"version_id": "%s"}' % (b"0" * 32))
    result = collect_garbage(store, grace_seconds=0)
    assert result.claims == [stale]  # only the claim of a version that never existed
    assert store.catalog.labels("team", "weekly") == ["1.0.0", "1.0.1", "1.0.2"]
    again = Dataset.create("team", "weekly", parents=[ids[2]], store=store)
    again.finalize()
    assert again.version == "1.0.3"


def test_metadata_of_live_versions_survives_gc_and_that_of_deleted_ones_is_freed(
    either_store: Store, tmp_path: Path
) -> None:
    ids = chain(either_store, tmp_path / "src", 2)
    frame = pd.DataFrame({"x": [1, 2, 3]})
    Dataset.get(ids[0], store=either_store).set_metadata(frame, name="table")
    Dataset.get(ids[1], store=either_store).set_metadata(b"doomed bytes " * 100, name="blob")
    Dataset.delete(ids[1], store=either_store)
    result = collect_garbage(either_store, grace_seconds=0)
    reader = cold(either_store, tmp_path)
    pd.testing.assert_frame_equal(Dataset.get(ids[0], store=reader).get_metadata("table"), frame)
    blob = [k for k in result.objects if k.startswith("objects/")]
    assert len(blob) == 1  # the deleted version's metadata value
    assert not either_store.backend.exists(layout.state_key(ids[1]))


def test_metadata_of_a_live_draft_survives_gc(store: Store, tmp_path: Path) -> None:
    draft = Dataset.create("team", "draft", store=store)
    draft.set_metadata({"schema": [1, 2]}, name="schema")
    age(store, "objects/", 30 * DAY)  # the value is old; the draft is in use
    result = collect_garbage(store, grace_seconds=DAY)
    assert result.objects == []
    assert Dataset.get(draft.id, store=cold(store, tmp_path)).get_metadata("schema") == {
        "schema": [1, 2]
    }


def test_a_draft_only_recently_given_metadata_is_not_abandoned(store: Store) -> None:
    draft = Dataset.create("team", "draft", store=store)
    age(store, "drafts/", 30 * DAY)
    draft.set_metadata({"still": "used"}, name="m")
    result = collect_garbage(store, grace_seconds=DAY)
    assert result.abandoned_drafts == []
    assert draft.get_metadata("m") == {"still": "used"}


def test_deleted_versions_drafts_are_removed_and_their_content_kept_for_the_grace(
    store: Store, tmp_path: Path
) -> None:
    ids = chain(store, tmp_path / "src", 2)
    Dataset.delete(ids[1], store=store)
    age(store, "packs/", 30 * DAY)
    result = collect_garbage(store, grace_seconds=DAY)
    assert result.deleted_drafts == [ids[1]]
    assert ids[1] not in result.finalized_drafts + result.abandoned_drafts
    assert store.backend.list_keys(f"drafts/{ids[1]}/") == []
    # Deleted a moment ago: its manifest still counts until the grace has passed.
    assert result.objects == [] and result.deleted_manifests == []
    assert store.backend.exists(layout.manifest_key(ids[1]))

    age(store, "deleted/", 2 * DAY)
    later = collect_garbage(store, grace_seconds=DAY)
    assert later.objects and later.deleted_manifests == [ids[1]]
    verify_all_live(cold(store, tmp_path))


def test_gc_completes_an_interrupted_delete(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = chain(store, tmp_path / "src", 2)
    real_delete = store.backend.delete

    def crash(key: str) -> None:
        if key == layout.version_key(ids[1]):
            raise KeyboardInterrupt("killed after the tombstone")
        real_delete(key)

    monkeypatch.setattr(store.backend, "delete", crash)
    with pytest.raises(KeyboardInterrupt):
        Dataset.delete(ids[1], store=store)
    monkeypatch.setattr(store.backend, "delete", real_delete)
    assert store.backend.exists(layout.version_key(ids[1]))

    preview = collect_garbage(store, grace_seconds=0, dry_run=True)
    assert preview.rolled_forward == [ids[1]]
    assert store.backend.exists(layout.version_key(ids[1]))
    result = collect_garbage(store, grace_seconds=0)
    assert result.rolled_forward == [ids[1]]
    assert result.deleted_manifests == [ids[1]] and result.objects
    assert not store.backend.exists(layout.version_key(ids[1]))
    assert Dataset.get("team/daily@latest", store=store).id == ids[0]
    verify_all_live(cold(store, tmp_path))


# --- the report -------------------------------------------------------------------------


def test_held_bytes_report_the_dead_part_of_a_partly_live_pack(
    either_store: Store, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "A" * 1000, "b.txt": "B" * 700, "c.txt": "C"})
    first = Dataset.create("team", "daily", store=either_store)
    first.add_files(src)
    first.finalize()
    child = Dataset.create("team", "daily", parents=[first.id], store=either_store)
    child.remove_files("b.txt")
    child.finalize()
    [pack] = either_store.backend.list_keys("packs/")
    Dataset.delete(first.id, force=True, store=either_store)

    result = collect_garbage(either_store, grace_seconds=0)
    assert result.objects == []  # the pack holds live rows: it cannot go
    assert result.held_bytes == 700 and result.held_packs == 1
    assert result.to_dict()["held_bytes"] == 700
    assert either_store.backend.exists(pack)
    assert snapshot(Dataset.get(child.id, store=cold(either_store, tmp_path)).get_local_copy()) == {
        "a.txt": b"A" * 1000,
        "c.txt": b"C",
    }


def test_dry_run_changes_nothing_and_reports_what_gc_then_removes(
    either_store: Store, tmp_path: Path
) -> None:
    ids = chain(either_store, tmp_path / "src", 3)
    Dataset.get(ids[2], store=either_store).set_metadata({"k": 1})
    Dataset.delete(ids[2], store=either_store)
    Dataset.delete(ids[0], force=True, store=either_store)
    before = everything(either_store)
    preview = collect_garbage(either_store, grace_seconds=0, dry_run=True)
    assert everything(either_store) == before
    assert preview.dry_run and preview.objects and preview.deleted_manifests == [ids[2]]
    result = collect_garbage(either_store, grace_seconds=0)
    assert sorted(result.objects) == sorted(preview.objects)
    assert result.freed_bytes == preview.freed_bytes
    assert result.held_bytes == preview.held_bytes
    assert result.deleted_manifests == preview.deleted_manifests
    assert sorted(result.deleted_drafts) == sorted(preview.deleted_drafts)


# --- racing a writer --------------------------------------------------------------------


def uploader(store: Store, tmp_path: Path, draft_id: str, reused: Path, batches: int) -> list[str]:
    """The command line of a second process adding ``batches`` batches into the draft."""
    return [
        sys.executable,
        "-m",
        "tests.gc_upload_worker",
        store.url,
        json.dumps(store.options),
        str(tmp_path / "uploader-cache"),
        draft_id,
        str(tmp_path / "uploads"),
        str(reused),
        str(batches),
    ]


def test_gc_racing_another_process_uploading_into_a_draft_loses_nothing(
    store: Store, tmp_path: Path
) -> None:
    # Old garbage: a deleted dataset, and an orphan object the uploader will add again.
    junk = chain(store, tmp_path / "junk", 2, name="junk", seed=50)
    Dataset.delete(project="team", name="junk", entire_dataset=True, force=True, store=store)
    reused = write_tree(tmp_path / "reused", {"big.bin": b"\x05" * (5 * 1024 * 1024)})
    orphan = Dataset.create("team", "orphan", store=store)
    orphan.add_files(reused)
    age(store, "", 30 * DAY)
    draft = Dataset.create("team", "ingest", store=store)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        uploader(store, tmp_path, draft.id, reused, 8),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs, freed = 0, 0
    while proc.poll() is None:
        result = collect_garbage(store, grace_seconds=DAY)
        runs, freed = runs + 1, freed + result.freed_bytes
    out, err = proc.communicate()
    assert proc.returncode == 0 and "done" in out, err
    final = collect_garbage(store, grace_seconds=DAY)
    assert runs >= 1 and freed + final.freed_bytes > 0  # the old garbage went
    assert all(store.backend.exists(layout.tombstone_key(i)) for i in junk)

    reader = cold(store, tmp_path)
    version = Dataset.get(draft.id, store=reader)
    version.finalize()
    expected = {
        f"batch{n}/{path}": data
        for n in range(8)
        for path, data in snapshot(tmp_path / "uploads" / f"batch{n}").items()
    }
    expected["reused/big.bin"] = b"\x05" * (5 * 1024 * 1024)
    assert snapshot(version.get_local_copy()) == expected
    assert version.verify(deep=True)


# --- dsops gc ---------------------------------------------------------------------------


def _deleted_dataset(store_dir: Path, tmp_path: Path) -> list[str]:
    store = Store(str(store_dir), cache_dir=tmp_path / "setup-cache")
    ids = chain(store, tmp_path / "cli-src", 2)
    Dataset.delete(project="team", name="daily", entire_dataset=True, force=True, store=store)
    return ids


def test_cli_gc_on_a_terminal_shows_what_it_removes_and_asks(
    run: Callable[..., Result], store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _deleted_dataset(store_dir, tmp_path)
    monkeypatch.setattr("dsops.cli.output._isatty", lambda _stream: True)
    declined = run("gc", "--grace", "0", input="n\n", code=1)
    assert "would remove: 0 finalized drafts" in declined.stderr
    assert "deleted versions: 2 drafts, 2 manifests" in declined.stderr
    assert "Remove this garbage for good? [y/N]" in declined.stderr
    assert declined.stderr.strip().endswith("cancelled: nothing was changed.")
    assert (store_dir / layout.manifest_key(ids[0])).exists()

    accepted = run("gc", "--grace", "0", input="y\n")
    assert "removed: 0 finalized drafts" in accepted.stdout
    assert "freed " in accepted.stdout and "held 0 B" in accepted.stdout
    assert not (store_dir / layout.manifest_key(ids[0])).exists()
    assert not list(store_dir.glob("packs/*"))
    # Nothing left: nothing is asked.
    again = run("gc", "--grace", "0")
    assert "[y/N]" not in again.stderr and "removed: 0 finalized drafts" in again.stdout


def test_cli_gc_yes_dry_run_and_json_never_ask(
    run: Callable[..., Result], store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _deleted_dataset(store_dir, tmp_path)
    monkeypatch.setattr("dsops.cli.output._isatty", lambda _stream: True)
    preview = json.loads(run("--json", "gc", "--grace", "0", "--dry-run").stdout)
    assert preview["dry_run"] is True and sorted(preview["deleted_manifests"]) == sorted(ids)
    assert preview["freed_bytes"] > 0 and preview["held_bytes"] == 0
    assert (store_dir / layout.manifest_key(ids[0])).exists()
    done = run("--json", "gc", "--grace", "0", "--yes")
    document = json.loads(done.stdout)
    assert "[y/N]" not in done.stderr and document["freed_bytes"] == preview["freed_bytes"]
    assert set(document) >= {"held_bytes", "held_packs", "deleted_manifests", "deleted_drafts"}


def test_cli_gc_off_a_terminal_runs_without_asking(
    run: Callable[..., Result], store_dir: Path, tmp_path: Path
) -> None:
    ids = _deleted_dataset(store_dir, tmp_path)
    result = run("gc", "--grace", "0")  # CliRunner's stdin is not a terminal
    assert "[y/N]" not in result.stderr and "2 manifests" in result.stdout
    assert not (store_dir / layout.manifest_key(ids[1])).exists()
