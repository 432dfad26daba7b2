"""The catalog on its own: records, label claims, aliases (compare-and-swap), semver, refs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dsops import layout
from dsops.catalog import (
    Catalog,
    DatasetRef,
    DraftRecord,
    VersionRecord,
    check_alias,
    dataset_url,
    parse_dataset_url,
    semver,
)
from dsops.errors import ConfigError, InvalidReference, VersionConflict, VersionNotFound
from dsops.storage import LocalStore, dump_json

ID_A, ID_B, ID_C = "a" * 32, "b" * 32, "c" * 32


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog(LocalStore(tmp_path / "store"))


def _draft(version_id: str, version: str | None = None) -> DraftRecord:
    return DraftRecord(id=version_id, project="p/q", name="n", version=version)


def _commit(catalog: Catalog, version_id: str, label: str) -> VersionRecord:
    record = VersionRecord(id=version_id, project="p/q", name="n", version=label)
    catalog.store.put_if_absent(layout.version_key(version_id), dump_json(record.to_dict()))
    return record


# --- semver -------------------------------------------------------------------------------


def test_semver_orders_numerically_and_numbers_the_next_patch() -> None:
    labels = ["1.0.9", "1.0.10", "0.9.99", "latest", "2.0.0-rc1"]
    assert semver.highest(labels) == "1.0.10"
    assert semver.next_after(labels) == "1.0.11"
    assert semver.next_after([]) == semver.FIRST == "1.0.0"
    assert semver.parse("10.2.3") == (10, 2, 3)


@pytest.mark.parametrize("text", ["1.0", "01.0.0", "1.0.0.0", "v1.0.0", "", "1.-1.0"])
def test_semver_refuses_what_is_not_major_minor_patch(text: str) -> None:
    assert not semver.is_semver(text)
    with pytest.raises(ConfigError, match=r"MAJOR\.MINOR\.PATCH"):
        semver.parse(text)


# --- references and URLs ------------------------------------------------------------------


def test_references_parse_ids_labels_aliases_and_nested_projects() -> None:
    assert DatasetRef.parse(ID_A) == DatasetRef(version_id=ID_A)
    ref = DatasetRef.parse("vision/cats/train@1.2.0")
    assert (ref.project, ref.name, ref.label, ref.is_semver) == (
        "vision/cats",
        "train",
        "1.2.0",
        True,
    )
    assert DatasetRef.parse("p/n").label == "latest"
    assert str(DatasetRef.parse("p/n@prod")) == "p/n@prod"
    assert DatasetRef.from_dict(ref.to_dict()) == ref


@pytest.mark.parametrize("text", ["n", "p/n@", "/n@1.0.0", "p/../n", "p/n@9bad", "p/n@a b"])
def test_malformed_references_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidReference, match="reference"):
        DatasetRef.parse(text)


def test_aliases_must_not_look_like_versions() -> None:
    assert check_alias("prod") == "prod"
    for bad in ("1.0.0", "-x", "", "a" * 65):
        with pytest.raises(ConfigError):
            check_alias(bad)


def test_dataset_urls_round_trip_and_refuse_other_schemes() -> None:
    assert parse_dataset_url(dataset_url("vision/cats", "train")) == ("vision/cats", "train")
    for bad in ("s3://a/b", "dsops://onlyname", "dsops:/a/b", "dsops://a/../b"):
        with pytest.raises(ConfigError):
            parse_dataset_url(bad)


# --- records and claims -------------------------------------------------------------------


def test_records_round_trip_and_a_missing_version_names_the_store(catalog: Catalog) -> None:
    record = _commit(catalog, ID_A, "1.0.0")
    assert catalog.version(ID_A) == record
    assert VersionRecord.from_dict(record.to_dict()) == record
    assert catalog.find_version(ID_B) is None
    with pytest.raises(VersionNotFound, match=catalog.store.url):
        catalog.version(ID_B)


def test_create_draft_is_create_only(catalog: Catalog) -> None:
    first = _draft(ID_A)
    assert catalog.create_draft(first) == first
    assert catalog.create_draft(_draft(ID_A, "9.9.9")) is None
    assert catalog.draft(ID_A) == first


def test_claims_number_labels_and_a_retry_reuses_its_own(catalog: Catalog) -> None:
    assert catalog.claim_label(_draft(ID_A)) == "1.0.0"
    assert catalog.claim_label(_draft(ID_A)) == "1.0.0"  # an interrupted finalize's retry
    assert catalog.claim_label(_draft(ID_B)) == "1.0.1"
    assert catalog.claim_label(_draft(ID_C, "2.0.0")) == "2.0.0"
    with pytest.raises(VersionConflict, match="already exists"):
        catalog.claim_label(_draft("d" * 32, "2.0.0"))
    catalog.release_label("p/q", "n", "1.0.1", ID_A)  # not its owner: kept
    assert catalog.labels("p/q", "n") == ["1.0.0", "1.0.1", "2.0.0"]
    catalog.release_label("p/q", "n", "1.0.1", ID_B)
    assert catalog.labels("p/q", "n") == ["1.0.0", "2.0.0"]


def test_concurrent_claims_get_distinct_labels(catalog: Catalog) -> None:
    ids = [f"{i:032x}" for i in range(1, 9)]
    with ThreadPoolExecutor(8) as pool:
        labels = list(pool.map(lambda i: catalog.claim_label(_draft(i)), ids))
    assert sorted(labels, key=semver.parse) == [f"1.0.{n}" for n in range(8)]


# --- aliases ------------------------------------------------------------------------------


def test_aliases_move_by_compare_and_swap_keep_history_and_only_forward_when_asked(
    catalog: Catalog,
) -> None:
    one, two = _commit(catalog, ID_A, "1.0.0"), _commit(catalog, ID_B, "1.0.1")
    assert catalog.set_alias(one, "prod").previous is None
    move = catalog.set_alias(two, "prod")
    assert (move.moved, move.previous) == (True, ID_A)
    assert catalog.set_alias(two, "prod").moved is False
    assert [h["version_id"] for h in catalog.alias_history("p/q", "n", "prod")] == [ID_A, ID_B]
    catalog.set_alias(two, "latest", only_if_newer=True)
    assert catalog.set_alias(one, "latest", only_if_newer=True).moved is False
    assert catalog.aliases("p/q", "n") == {"prod": ID_B, "latest": ID_B}
    assert catalog.resolve("p/q/n@prod") == ID_B


def test_concurrent_alias_moves_lose_no_history_entry(catalog: Catalog) -> None:
    records = [_commit(catalog, f"{i:032x}", f"1.0.{i}") for i in range(1, 9)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda r: catalog.set_alias(r, "daily"), records))
    history = catalog.alias_history("p/q", "n", "daily")
    assert sorted(h["version_id"] for h in history) == sorted(r.id for r in records)


def test_ancestry_walks_versions_and_drafts(catalog: Catalog) -> None:
    parent = _commit(catalog, ID_A, "1.0.0")
    catalog.create_draft(DraftRecord(id=ID_B, project="p/q", name="n", parents=(parent.id,)))
    assert catalog.ancestry(ID_B) == {ID_B: [ID_A], ID_A: []}
    with pytest.raises(VersionNotFound):
        catalog.ancestry(ID_C)
