"""A dataset's life: delete, prune, publish, description and tags, metadata, rename, move.

Every behaviour runs on the local store and on S3 (moto); the real S3 server (SeaweedFS)
runs the same scenarios in tests/integration/test_lifecycle_s3.py.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from dsops import Dataset, Store, layout
from dsops.catalog import lifecycle
from dsops.errors import (
    ConfigError,
    DatasetNotFound,
    DatasetRenamed,
    DsopsError,
    IntegrityError,
    MetadataNotFound,
    NotFinalized,
    ProtectedVersion,
    RenameConflict,
    VersionDeleted,
    VersionNotFound,
)
from dsops.hashing import hash_bytes
from tests.helpers import snapshot, write_tree


def chain(store: Store, tmp_path: Path, count: int, name: str = "daily") -> list[str]:
    """``count`` versions, each the child of the previous, each adding one file."""
    ids: list[str] = []
    src = tmp_path / f"src-{name}"
    for n in range(count):
        write_tree(src, {f"day{n}.txt": f"day {n} " * (n + 1)})
        ds = Dataset.create("team", name, parents=ids[-1:] or None, store=store)
        ds.add_files(src)
        ids.append(ds.finalize())
    return ids


def versions(store: Store, name: str = "daily") -> list[str]:
    return [v["version"] for v in Dataset.list("team", name, store=store)]


# --- delete ---------------------------------------------------------------------------


def test_deleting_a_parent_keeps_the_child_reading_back_exactly(
    either_store: Store, tmp_path: Path
) -> None:
    ids = chain(either_store, tmp_path, 3)
    before = snapshot(Dataset.get(ids[2], store=either_store).get_local_copy())
    with pytest.raises(ProtectedVersion, match="parent of 1 version"):
        Dataset.delete(ids[1], store=either_store)
    assert versions(either_store) == ["1.0.0", "1.0.1", "1.0.2"]  # refused: nothing changed

    [gone] = Dataset.delete(ids[1], force=True, store=either_store)
    assert gone["ref"] == "team/daily@1.0.1"
    assert versions(either_store) == ["1.0.0", "1.0.2"]
    fresh = Store(either_store.url, cache_dir=tmp_path / "cold-cache", **either_store.options)
    child = Dataset.get(ids[2], store=fresh)
    assert snapshot(child.get_mutable_local_copy(tmp_path / "copy")) == before
    assert child.verify(deep=True)
    # Lineage still reaches through the deleted parent, which is marked, not an error.
    assert child.get_dependency_graph() == {ids[2]: [ids[1]], ids[1]: [ids[0]], ids[0]: []}
    assert fresh.catalog.tombstone(ids[1]) is not None
    assert fresh.catalog.deleted_ids() == {ids[1]}


def test_a_deleted_version_no_longer_resolves_and_its_label_is_never_reused(
    either_store: Store, tmp_path: Path
) -> None:
    ids = chain(either_store, tmp_path, 2)
    Dataset.delete("team/daily@1.0.1", store=either_store)
    for ref in (ids[1], "team/daily@1.0.1"):
        with pytest.raises(VersionDeleted, match="was deleted") as caught:
            Dataset.get(ref, store=either_store)
        assert isinstance(caught.value, LookupError)
    # latest moved back to the highest remaining version
    assert Dataset.get("team/daily@latest", store=either_store).id == ids[0]
    again = Dataset.create("team", "daily", parents=["latest"], store=either_store)
    again.finalize()
    assert again.version == "1.0.2"
    with pytest.raises(VersionDeleted):
        Dataset.delete(ids[1], store=either_store)


def test_a_long_lived_store_sees_a_delete_made_elsewhere(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsops.catalog import catalog as catalog_module

    ids = chain(store, tmp_path, 2)
    reader = Store(store.url, cache_dir=tmp_path / "reader-cache")  # e.g. a UI server
    assert Dataset.get(ids[1], store=reader).id == ids[1]  # its record is now cached
    Dataset.delete(ids[1], store=Store(store.url, cache_dir=tmp_path / "other"))
    monkeypatch.setattr(catalog_module, "_LIVE_TTL", 0.0)  # instead of waiting 5 s
    with pytest.raises(VersionDeleted):
        Dataset.get(ids[1], store=reader)


def test_delete_refuses_published_and_aliased_versions_unless_forced(
    either_store: Store, tmp_path: Path
) -> None:
    first, second = chain(either_store, tmp_path, 2, name="solo")[0], None
    ds = Dataset.get(first, store=either_store)
    ds.publish()
    assert ds.is_published and Dataset.get(first, store=either_store).is_published
    with pytest.raises(ProtectedVersion, match="published"):
        Dataset.delete(first, store=either_store)
    second = Dataset.create("team", "other", store=either_store)
    second.finalize(alias="prod")
    with pytest.raises(ProtectedVersion, match="prod"):
        Dataset.delete(second.id, store=either_store)
    Dataset.delete(second.id, force=True, store=either_store)
    with pytest.raises(VersionNotFound, match="cleared"):
        Dataset.get("team/other@prod", store=either_store)
    with pytest.raises(VersionNotFound):
        Dataset.get("team/other@latest", store=either_store)
    assert [h["version_id"] for h in Dataset.get(first, store=either_store).alias_history("latest")]


def test_delete_of_missing_things_is_a_clear_error_that_changes_nothing(
    either_store: Store, tmp_path: Path
) -> None:
    chain(either_store, tmp_path, 1)
    draft = Dataset.create("team", "daily", store=either_store)
    keys = sorted(either_store.backend.list_keys())
    with pytest.raises(VersionNotFound, match="No finalized version"):
        Dataset.delete("f" * 32, store=either_store)
    with pytest.raises(VersionNotFound, match="open draft"):
        Dataset.delete(draft.id, store=either_store)
    with pytest.raises(VersionNotFound, match="does not exist"):
        Dataset.delete("team/daily@9.9.9", store=either_store)
    with pytest.raises(ConfigError, match="entire_dataset"):
        Dataset.delete(store=either_store)
    with pytest.raises(ProtectedVersion, match="force"):
        Dataset.delete(project="team", name="daily", entire_dataset=True, store=either_store)
    assert sorted(either_store.backend.list_keys()) == keys


def test_delete_entire_dataset(either_store: Store, tmp_path: Path) -> None:
    chain(either_store, tmp_path, 3)
    keep = chain(either_store, tmp_path, 1, name="keep")
    deleted = Dataset.delete(
        project="team", name="daily", entire_dataset=True, force=True, store=either_store
    )
    assert [d["version"] for d in deleted] == ["1.0.2", "1.0.1", "1.0.0"]
    assert [v["id"] for v in Dataset.list(store=either_store)] == keep
    with pytest.raises(VersionNotFound):
        Dataset.get("team/daily@latest", store=either_store)
    with pytest.raises(DatasetNotFound):
        Dataset.delete(
            project="team", name="daily", entire_dataset=True, force=True, store=either_store
        )


def test_an_interrupted_delete_is_completed_by_running_it_again(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = chain(store, tmp_path, 2)
    real_delete = store.backend.delete

    def crash(key: str) -> None:
        if key == layout.version_key(ids[1]):
            raise KeyboardInterrupt("killed after the tombstone")
        real_delete(key)

    monkeypatch.setattr(store.backend, "delete", crash)
    with pytest.raises(KeyboardInterrupt):
        Dataset.delete(ids[1], store=store)
    monkeypatch.setattr(store.backend, "delete", real_delete)
    # Committed: hidden from listings already, though its record is still there.
    assert versions(store) == ["1.0.0"]
    assert store.backend.exists(layout.version_key(ids[1]))
    Dataset.delete(ids[1], store=Store(store.url, cache_dir=tmp_path / "c2"))
    assert not store.backend.exists(layout.version_key(ids[1]))
    assert Dataset.get("team/daily@latest", store=store).id == ids[0]


# --- prune ----------------------------------------------------------------------------


def test_prune_a_six_version_chain_keeps_the_newest_the_aliased_and_the_published(
    either_store: Store, tmp_path: Path
) -> None:
    ids = chain(either_store, tmp_path, 6)
    Dataset.get(ids[1], store=either_store).set_alias("golden")
    Dataset.get(ids[0], store=either_store).publish()
    planned = Dataset.prune("team", "daily", keep_last=2, dry_run=True, store=either_store)
    assert [v["version"] for v in planned] == ["1.0.2", "1.0.3"]
    assert versions(either_store) == [f"1.0.{n}" for n in range(6)]  # dry run: nothing deleted
    pruned = Dataset.prune("team", "daily", keep_last=2, store=either_store)
    assert [v["id"] for v in pruned] == [ids[2], ids[3]]
    assert versions(either_store) == ["1.0.0", "1.0.1", "1.0.4", "1.0.5"]
    newest = Dataset.get("team/daily@latest", store=either_store)
    assert newest.id == ids[5] and newest.verify(deep=True)
    assert len(newest.list_files()) == 6
    # keep_aliases=False lets the aliased one go; published stays.
    again = Dataset.prune("team", "daily", keep_last=2, keep_aliases=False, store=either_store)
    assert [v["version"] for v in again] == ["1.0.1"]
    with pytest.raises(VersionNotFound):
        Dataset.get("team/daily@golden", store=either_store)


def test_prune_keep_within_and_bad_input(store: Store, tmp_path: Path) -> None:
    chain(store, tmp_path, 3)
    assert Dataset.prune("team", "daily", keep_within="30d", store=store) == []
    assert Dataset.prune("team", "daily", keep_within=timedelta(hours=1), store=store) == []
    keys = sorted(store.backend.list_keys())
    with pytest.raises(ConfigError, match="keep_last= and/or keep_within="):
        Dataset.prune("team", "daily", store=store)
    for bad in ("soon", "-3d", "30 days"):
        with pytest.raises(ConfigError, match="duration"):
            Dataset.prune("team", "daily", keep_within=bad, store=store)
    with pytest.raises(ConfigError, match="keep_last"):
        Dataset.prune("team", "daily", keep_last=-1, store=store)
    with pytest.raises(DatasetNotFound):
        Dataset.prune("team", "nothing", keep_last=1, store=store)
    assert sorted(store.backend.list_keys()) == keys
    # Both rules: a version goes only if both would let it go.
    plan = lifecycle.prune_plan(store.catalog, "team", "daily", keep_last=1, keep_within="0s")
    assert [r.version for r in plan.delete] == ["1.0.0", "1.0.1"]


def test_parse_duration() -> None:
    assert lifecycle.parse_duration("30d") == timedelta(days=30)
    assert lifecycle.parse_duration("1.5h") == timedelta(minutes=90)
    assert lifecycle.parse_duration("2w") == timedelta(weeks=2)
    assert lifecycle.parse_duration(60) == timedelta(minutes=1)


# --- description, tags, published -----------------------------------------------------


def test_description_and_tags_change_on_drafts_and_versions_and_show_in_listings(
    either_store: Store,
) -> None:
    ds = Dataset.create("team", "tagged", store=either_store, tags=["raw"], description="first")
    ds.set_description("draft text")
    assert ds.add_tags("cats", "raw") == ["raw", "cats"]
    ds.finalize()
    reopened = Dataset.get(ds.id, store=either_store)
    assert (reopened.description, reopened.tags) == ("draft text", ["raw", "cats"])
    reopened.remove_tags("raw")
    reopened.set_description("final text")
    [row] = Dataset.list(tags=["cats"], store=either_store)
    assert (row["description"], row["tags"]) == ("final text", ["cats"])
    assert Dataset.list(tags=["raw"], store=either_store) == []
    assert Dataset.get(ds.id, store=either_store).to_dict()["tags"] == ["cats"]
    # the record itself is untouched
    stored = json.loads(either_store.backend.get(layout.version_key(ds.id)))
    assert (stored["description"], stored["tags"]) == ("first", ["raw"])
    for bad in ("", " padded", "a/b", "x" * 200, "bell\x07"):
        with pytest.raises(ConfigError, match="Invalid tag"):
            reopened.add_tags(bad)


def test_concurrent_tag_changes_all_land(store: Store) -> None:
    ds = Dataset.create("team", "busy", store=store)
    ds.finalize()

    def tag(n: int) -> None:
        Dataset.get(ds.id, store=Store(store.url)).add_tags(f"t{n}")

    threads = [threading.Thread(target=tag, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Dataset.get(ds.id, store=store).tags) == sorted(f"t{n}" for n in range(8))


def test_publish_needs_a_finalized_version_and_filters_listings(store: Store) -> None:
    draft = Dataset.create("team", "pub", store=store)
    with pytest.raises(NotFinalized):
        draft.publish()
    draft.finalize()
    other = Dataset.create("team", "pub", store=store)
    other.finalize()
    draft.publish()
    first = Dataset.get(draft.id, store=store).to_dict()["published_at"]
    draft.publish()
    assert Dataset.get(draft.id, store=store).to_dict()["published_at"] == first
    assert [v["id"] for v in Dataset.list(only_published=True, store=store)] == [draft.id]


def test_list_search_filters(store: Store) -> None:
    made = {}
    for project, name in [("vision", "cats"), ("vision", "dogs"), ("audio", "cat-calls")]:
        ds = Dataset.create(project, name, store=store)
        made[name] = ds.finalize()
    assert {v["name"] for v in Dataset.list(partial_name="CAT", store=store)} == {
        "cats",
        "cat-calls",
    }
    assert [v["name"] for v in Dataset.list(project="vision", partial_name="og", store=store)] == [
        "dogs"
    ]
    assert [v["id"] for v in Dataset.list(ids=[made["cats"]], store=store)] == [made["cats"]]


# --- metadata -------------------------------------------------------------------------


def test_metadata_round_trips_each_kind_on_drafts_and_versions(
    either_store: Store, tmp_path: Path
) -> None:
    ds = Dataset.create("team", "meta", store=either_store)
    frame = pd.DataFrame({"label": ["cat", "dog"], "count": [3, 4]})
    ds.set_metadata(frame, name="stats")
    ds.finalize()
    ds.set_metadata({"classes": ["cat", "dog"], "n": 2, "nested": {"ok": True}})
    ds.set_metadata(b"\x00\x01raw", name="blob")
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"from a file")
    ds.set_metadata(notes, name="notes")
    again = Dataset.get(
        ds.id, store=Store(either_store.url, cache_dir=tmp_path / "c", **either_store.options)
    )
    pd.testing.assert_frame_equal(again.get_metadata("stats"), frame)
    assert again.get_metadata() == {"classes": ["cat", "dog"], "n": 2, "nested": {"ok": True}}
    assert again.get_metadata("blob") == b"\x00\x01raw"
    assert again.get_metadata("notes") == b"from a file"
    assert again.list_metadata() == ["blob", "metadata", "notes", "stats"]
    assert again.to_dict()["metadata"] == ["blob", "metadata", "notes", "stats"]
    ds.set_metadata([1, 2, 3], name="blob")  # replaced
    assert again.get_metadata("blob") == [1, 2, 3]
    assert again.remove_metadata("blob") and "blob" not in again.list_metadata()
    with pytest.raises(MetadataNotFound, match="it has: metadata, notes, stats"):
        again.get_metadata("blob")


def test_bad_metadata_is_refused_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    ds = Dataset.create("team", "meta", store=store)
    keys = sorted(store.backend.list_keys())
    for name in ("a/b", "..", "../x", "", ".hidden", "x" * 200):
        with pytest.raises(ConfigError, match="Invalid metadata name"):
            ds.set_metadata({"a": 1}, name=name)
    with pytest.raises(ConfigError, match="not a file"):
        ds.set_metadata(str(tmp_path / "missing.txt"))
    with pytest.raises(ConfigError, match="cannot be stored"):
        ds.set_metadata(object())
    with pytest.raises(ConfigError, match="JSON"):
        ds.set_metadata({"x": float("nan")})
    assert sorted(store.backend.list_keys()) == keys


def test_corrupted_metadata_bytes_are_refused(store: Store) -> None:
    ds = Dataset.create("team", "meta", store=store)
    ds.set_metadata({"a": 1})
    key = layout.object_key(hash_bytes(json.dumps({"a": 1}).encode()))
    store.backend.put(key, b'{"a": 2}')
    with pytest.raises(IntegrityError, match="does not match"):
        ds.get_metadata()


# --- rename and move ------------------------------------------------------------------


def test_rename_moves_every_version_label_and_alias(either_store: Store, tmp_path: Path) -> None:
    ids = chain(either_store, tmp_path, 3)
    Dataset.get(ids[0], store=either_store).set_alias("golden")
    result = Dataset.rename("team", "daily", "weekly", store=either_store)
    assert result["to"] == {"project": "team", "name": "weekly"}
    other = Store(either_store.url, cache_dir=tmp_path / "other", **either_store.options)
    assert Dataset.get("team/weekly@1.0.1", store=other).id == ids[1]
    assert Dataset.get("team/weekly@golden", store=other).id == ids[0]
    assert Dataset.get("team/weekly@latest", store=other).id == ids[2]
    assert Dataset.get(ids[2], store=other).ref == "team/weekly@1.0.2"
    assert [v["ref"] for v in Dataset.list(store=other)] == [
        f"team/weekly@1.0.{n}" for n in range(3)
    ]
    with pytest.raises(DatasetRenamed, match="renamed to team/weekly"):
        Dataset.get("team/daily@latest", store=other)
    with pytest.raises(DatasetRenamed):
        Dataset.create("team", "daily", store=other)
    # a new version under the new name continues the numbering
    child = Dataset.create("team", "weekly", parents=["latest"], store=other)
    child.finalize()
    assert child.ref == "team/weekly@1.0.3"

    Dataset.move("team", "weekly", "archive/old", store=other)
    assert Dataset.get("archive/old/weekly@latest", store=other).id == child.id
    assert Dataset.get(ids[0], store=other).project == "archive/old"  # a→b→c followed
    assert [v["id"] for v in Dataset.list("archive/old", "weekly", store=other)] == [
        *ids,
        child.id,
    ]


def test_a_draft_of_a_renamed_dataset_finalizes_under_the_new_name(store: Store) -> None:
    first = Dataset.create("team", "early", store=store)
    first.finalize()
    draft = Dataset.create("team", "early", parents=[first.id], store=store)
    Dataset.rename("team", "early", "late", store=store)
    draft.finalize()
    assert draft.ref == "team/late@1.0.1"


def test_rename_refusals_change_nothing(store: Store, tmp_path: Path) -> None:
    chain(store, tmp_path, 1, name="a")
    chain(store, tmp_path, 1, name="b")
    keys = sorted(store.backend.list_keys())
    with pytest.raises(ConfigError, match="already exists"):
        Dataset.rename("team", "a", "b", store=store)
    with pytest.raises(DatasetNotFound):
        Dataset.rename("team", "missing", "c", store=store)
    with pytest.raises(ConfigError, match="Invalid dataset name"):
        Dataset.rename("team", "a", "bad/name", store=store)
    with pytest.raises(ConfigError, match="nothing to rename"):
        Dataset.rename("team", "a", "a", store=store)
    assert sorted(store.backend.list_keys()) == keys
    Dataset.rename("team", "a", "c", store=store)
    with pytest.raises(ConfigError, match="never reused"):
        Dataset.rename("team", "b", "a", store=store)
    with pytest.raises(DatasetRenamed, match="already renamed"):
        Dataset.rename("team", "a", "d", store=store)


def test_concurrent_renames_of_one_dataset_have_one_winner(store: Store, tmp_path: Path) -> None:
    for trial in range(6):
        name = f"race{trial}"
        chain(store, tmp_path, 1, name=name)
        outcomes: dict[str, str] = {}

        def rename(target: str, name: str = name, outcomes: dict[str, str] = outcomes) -> None:
            try:
                Dataset.rename("team", name, target, store=Store(store.url))
                outcomes[target] = "won"
            except DsopsError as exc:
                outcomes[target] = type(exc).__name__

        threads = [threading.Thread(target=rename, args=(f"{name}-{n}",)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [t for t, o in outcomes.items() if o == "won"]
        assert len(winners) == 1, outcomes
        assert set(outcomes.values()) <= {"won", "RenameConflict", "DatasetRenamed"}
        names = {v["name"] for v in Dataset.list("team", store=store) if v["name"].startswith(name)}
        assert names == set(winners)
        assert Dataset.get(f"team/{winners[0]}@latest", store=store).version == "1.0.0"


def test_two_datasets_renamed_onto_one_name_have_one_winner(store: Store, tmp_path: Path) -> None:
    chain(store, tmp_path, 1, name="x")
    chain(store, tmp_path, 1, name="y")
    Dataset.rename("team", "x", "z", store=store)
    with pytest.raises((ConfigError, RenameConflict)):
        Dataset.rename("team", "y", "z", store=store)


def test_a_rename_interrupted_after_its_commit_point_is_never_invisible(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = chain(store, tmp_path, 2)

    def crash(*args: object, **kwargs: object) -> bool:
        raise KeyboardInterrupt("killed after the marker")

    monkeypatch.setattr(lifecycle, "complete_rename", crash)
    with pytest.raises(KeyboardInterrupt):
        Dataset.rename("team", "daily", "weekly", store=store)
    monkeypatch.undo()
    reader = Store(store.url, cache_dir=tmp_path / "reader")
    # The new name resolves (a reader completes the copy); listings show only it.
    assert Dataset.get("team/weekly@1.0.0", store=reader).id == ids[0]
    assert {v["name"] for v in Dataset.list(store=reader)} == {"weekly"}
    with pytest.raises(DatasetRenamed):
        Dataset.get("team/daily@1.0.1", store=reader)
    # Re-running the same rename is a no-op success.
    assert Dataset.rename("team", "daily", "weekly", store=reader)["to"]["name"] == "weekly"
