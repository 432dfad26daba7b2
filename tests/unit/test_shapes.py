"""A version as a dict has one shape: SDK, CLI ``--json``, events and the UI agree."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsops import Dataset, Store, VersionRecord
from dsops.cli import cli
from dsops.events import version_event
from tests.helpers import write_tree

RECORD_KEYS = {f.name for f in fields(VersionRecord)}
SHAPE_KEYS = RECORD_KEYS | {"ref", "state", "aliases", "published", "published_at", "metadata"}


def _cli_json(store: Store, *args: str) -> object:
    result = CliRunner().invoke(cli, ["--json", "--store", store.url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def final(store: Store, tmp_path: Path) -> Dataset:
    ds = Dataset.create("demo", "toy", store=store, tags=["raw"])
    ds.add_files(write_tree(tmp_path / "src", {"a.txt": "alpha"}))
    ds.finalize(alias="prod")
    return ds


def test_a_finalized_version_has_the_same_dict_in_sdk_list_cli_and_event(
    store: Store, final: Dataset
) -> None:
    shape = final.to_dict()
    assert set(shape) == SHAPE_KEYS
    assert (shape["state"], shape["ref"], shape["aliases"]) == (
        "final",
        "demo/toy@1.0.0",
        ["latest", "prod"],
    )
    assert (shape["file_count"], shape["total_size"]) == (1, 5)

    (listed,) = Dataset.list(store=store)
    (cli_listed,) = _cli_json(store, "list")  # type: ignore[misc]
    event = version_event(final.record, store.url, final.aliases())  # type: ignore[arg-type]
    assert listed == shape
    assert cli_listed == json.loads(json.dumps(shape))
    assert {k: v for k, v in event.items() if k in SHAPE_KEYS} == shape
    assert set(event) - SHAPE_KEYS == {"version_id", "store"}  # what an event adds


def test_cli_finalize_json_is_the_sdk_dict(store: Store, tmp_path: Path) -> None:
    draft = _cli_json(store, "create", "--project", "demo", "--name", "cli")
    assert isinstance(draft, dict)
    _cli_json(store, "add", draft["id"], str(write_tree(tmp_path / "src", {"b": "bb"})))
    finalized = _cli_json(store, "finalize", draft["id"])
    assert finalized == json.loads(json.dumps(Dataset.get(draft["id"], store=store).to_dict()))


def test_a_draft_has_the_same_keys_with_record_only_fields_none(store: Store) -> None:
    ds = Dataset.create("demo", "draft", store=store, version="2.0.0", tags=["t"])
    shape = ds.to_dict()
    assert set(shape) == SHAPE_KEYS | {"requested_version"}
    assert (shape["state"], shape["version"], shape["requested_version"]) == (
        "draft",
        None,
        "2.0.0",
    )
    assert (shape["ref"], shape["aliases"], shape["tags"]) == (ds.id, [], ["t"])
    record_only = ["finalized_at", "manifest", "manifest_hash", "file_count", "total_size"]
    record_only += ["changes", "provenance", "format"]
    assert [shape[k] for k in record_only] == [None] * len(record_only)
    assert _cli_json(store, "create", "--project", "demo", "--name", "other").keys() == shape.keys()  # type: ignore[attr-defined]


def test_the_ui_version_row_is_the_sdk_dict_plus_produced_by(store: Store, final: Dataset) -> None:
    summaries = pytest.importorskip("dsops.ui.summaries")
    [listed] = [r for r in Dataset.list(store=store) if r["id"] == final.id]
    row = summaries.version_row(listed)
    assert set(row) - SHAPE_KEYS == {"produced_by"}
    assert {k: row[k] for k in SHAPE_KEYS} == final.to_dict()
