"""Operators, run through ``execute()`` with a minimal context on a local store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset, AssetAlias
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider.assets import create_asset
from airflow_provider.links import LINK_XCOM_KEY
from airflow_provider.operators import (
    AddFilesOperator,
    CreateDatasetOperator,
    DeleteDatasetOperator,
    FetchDatasetOperator,
    FinalizeDatasetOperator,
    PruneDatasetOperator,
    RemoveFilesOperator,
    SyncFolderOperator,
)
from dsops import Dataset, Store
from dsops.errors import (
    ConfigError,
    DatasetNotFound,
    ProtectedVersion,
    SourceNotFound,
    VersionDeleted,
    VersionImmutable,
    VersionNotFound,
)
from tests.helpers import snapshot, write_tree

FILES = {"a.txt": "alpha", "sub/b.txt": "beta", "sub/c.csv": "1,2\n"}


def _create(context: dict[str, Any], **kwargs: Any) -> str:
    args = {"project": "demo", "name": "events", **kwargs}
    result: str = CreateDatasetOperator(task_id="create", **args).execute(context)
    return result


def _new_version(context: dict[str, Any], tmp_path: Path, files: dict[str, str]) -> str:
    """Create → add → finalize through the operators; returns the version id."""
    draft = _create(context, parents=["latest"])
    src = write_tree(tmp_path / f"src-{len(list(tmp_path.iterdir()))}", files)
    AddFilesOperator(task_id="add", version_id=draft, source=str(src)).execute(context)
    result: str = FinalizeDatasetOperator(task_id="fin", version_id=draft).execute(context)
    return result


# --- CreateDatasetOperator ----------------------------------------------------------------


def test_create_returns_a_draft_id_and_latest_is_skipped_on_the_first_run(context, tmp_path):
    draft_id = _create(context, parents=["latest"], tags=["daily"], description="first")
    draft = Dataset.get(draft_id)
    assert not draft.is_final
    assert (draft.project, draft.name, draft.parents) == ("demo", "events", [])
    assert draft.tags == ["daily"] and draft.description == "first"


def test_create_with_latest_parent_inherits_the_previous_version(context, tmp_path):
    first = _new_version(context, tmp_path, FILES)
    context["ti"] = replace(context["ti"], run_id="run-2")
    draft_id = _create(context, parents="latest")
    assert Dataset.get(draft_id).parents == [first]


def test_retried_create_reopens_the_draft_of_the_earlier_attempt(context):
    first = _create(context, parents=["latest"])
    context["ti"] = replace(context["ti"], try_number=2)
    assert _create(context, parents=["latest"]) == first
    context["ti"] = replace(context["ti"], run_id="another-run")
    assert _create(context, parents=["latest"]) != first


def test_create_after_the_runs_draft_was_finalized_starts_a_new_draft(context, tmp_path):
    finalized = _new_version(context, tmp_path, FILES)  # same run ids as below
    context["ti"] = replace(context["ti"], try_number=3)
    again = _create(context, parents=["latest"])
    assert again != finalized
    assert Dataset.get(again).parents == [finalized]


def test_create_with_keyed_false_makes_a_new_draft_per_attempt(context):
    assert _create(context, keyed=False) != _create(context, keyed=False)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"project": ""}, "project must be a non-empty string"),
        ({"name": None}, "name must be a non-empty string"),
        ({"parents": [3]}, "parents must be a non-empty string"),
        ({"tags": {"a": 1}}, "tags must be a string or a list of strings"),
        ({"project": "bad@project"}, "Invalid project"),
    ],
)
def test_create_validates_its_rendered_arguments(context, arguments, message):
    with pytest.raises(ConfigError, match=message):
        _create(context, **arguments)


# --- AddFiles / Sync / Remove -------------------------------------------------------------


def test_add_files_returns_the_version_id_and_pushes_a_summary(context, tmp_path):
    draft = _create(context)
    src = write_tree(tmp_path / "src", FILES)
    op = AddFilesOperator(task_id="add", version_id=draft, source=str(src), dataset_path="in")
    assert op.execute(context) == draft
    summary = context["ti"].xcoms["summary"]
    assert summary["added"] == 3 and summary["added_bytes"] == 5 + 4 + 4
    assert Dataset.get(draft).list_files() == ["in/a.txt", "in/sub/b.txt", "in/sub/c.csv"]


def test_retried_add_files_does_not_duplicate(context, tmp_path):
    draft = _create(context)
    src = write_tree(tmp_path / "src", FILES)
    op = AddFilesOperator(task_id="add", version_id=draft, source=str(src))
    op.execute(context)
    op.execute(context)  # the retry
    assert context["ti"].xcoms["summary"]["added"] == 0
    assert context["ti"].xcoms["summary"]["unchanged"] == 3
    version_id = FinalizeDatasetOperator(task_id="fin", version_id=draft).execute(context)
    record = Dataset.get(version_id).record
    assert record.file_count == 3 and record.changes["added"] == 3


def test_add_files_takes_a_glob_a_list_and_a_wildcard(context, tmp_path):
    draft = _create(context)
    src = write_tree(tmp_path / "src", {**FILES, "d.csv": "x"})
    AddFilesOperator(
        task_id="add",
        version_id=draft,
        source=[str(src / "sub"), str(src / "*.csv")],
        wildcard="*.csv",
    ).execute(context)
    assert Dataset.get(draft).list_files() == ["c.csv", "d.csv"]


def test_add_files_downloads_a_url_prefix_first(context, tmp_path):
    draft = _create(context)
    landing = write_tree(tmp_path / "landing", {"2024-05-01/x.csv": "x", "2024-05-01/y/z.csv": "z"})
    AddFilesOperator(
        task_id="add", version_id=draft, source=f"file://{landing}/2024-05-01/", dataset_path="d"
    ).execute(context)
    ds = Dataset.get(draft)
    assert ds.list_files() == ["d/x.csv", "d/y/z.csv"]
    assert ds.read_file("d/y/z.csv") == b"z"


def test_add_files_with_an_empty_url_prefix_fails_clearly(context, tmp_path):
    draft = _create(context)
    (tmp_path / "empty").mkdir()
    op = AddFilesOperator(task_id="add", version_id=draft, source=f"file://{tmp_path}/empty")
    with pytest.raises(SourceNotFound, match="Nothing found under"):
        op.execute(context)


@pytest.mark.parametrize("version_id", [None, "", ["a", "b"]])
def test_add_files_requires_a_version_id_string(context, tmp_path, version_id):
    op = AddFilesOperator(task_id="add", version_id=version_id, source=str(tmp_path))
    with pytest.raises(ConfigError, match="version_id must be a non-empty string"):
        op.execute(context)


def test_add_files_to_a_finalized_version_is_refused(context, tmp_path):
    version_id = _new_version(context, tmp_path, FILES)
    op = AddFilesOperator(task_id="add", version_id=version_id, source=str(tmp_path))
    with pytest.raises(VersionImmutable):
        op.execute(context)


def test_sync_folder_mirrors_changes_and_pushes_the_summary(context, tmp_path):
    first = _new_version(context, tmp_path, FILES)
    folder = write_tree(tmp_path / "mirror", {"a.txt": "ALPHA", "sub/b.txt": "beta", "new": "n"})
    context["ti"] = replace(context["ti"], run_id="run-2")
    draft = _create(context, parents=[first])
    result = SyncFolderOperator(task_id="sync", version_id=draft, folder=str(folder)).execute(
        context
    )
    assert result == draft
    summary = context["ti"].xcoms["summary"]
    assert (summary["added"], summary["modified"], summary["removed"]) == (1, 1, 1)
    assert Dataset.get(draft).list_files() == ["a.txt", "new", "sub/b.txt"]


def test_remove_files_removes_matching_paths(context, tmp_path):
    first = _new_version(context, tmp_path, FILES)
    context["ti"] = replace(context["ti"], run_id="run-2")
    draft = _create(context, parents=[first])
    RemoveFilesOperator(task_id="rm", version_id=draft, patterns=["sub/*.csv"]).execute(context)
    assert context["ti"].xcoms["summary"]["removed"] == 1
    assert Dataset.get(draft).list_files() == ["a.txt", "sub/b.txt"]
    with pytest.raises(ConfigError, match="patterns must name at least one item"):
        RemoveFilesOperator(task_id="rm", version_id=draft, patterns=[]).execute(context)


# --- FinalizeDatasetOperator --------------------------------------------------------------


def test_finalize_records_airflow_provenance(context, tmp_path):
    version_id = _new_version(context, tmp_path, FILES)
    provenance = Dataset.get(version_id).provenance
    assert provenance["orchestrator"] == "airflow"
    assert (provenance["dag_id"], provenance["task_id"], provenance["try_number"]) == (
        "dag",
        "task",
        1,
    )
    assert provenance["run_id"] == "manual__2024-05-01T00:00:00+00:00"
    assert provenance["logical_date"] == "2024-05-01T00:00:00+00:00"
    assert provenance["run_url"].endswith(
        "/dags/dag/runs/manual__2024-05-01T00%3A00%3A00%2B00%3A00"
    )


def test_finalize_puts_the_version_in_the_asset_event_extra(context, tmp_path):
    draft = _create(context)
    src = write_tree(tmp_path / "src", FILES)
    AddFilesOperator(task_id="a", version_id=draft, source=str(src)).execute(context)
    asset = create_asset(project="demo", name="events")
    op = FinalizeDatasetOperator(task_id="fin", version_id=draft, alias="prod", outlets=[asset])
    version_id = op.execute(context)
    extra = context["outlet_events"][asset].extra
    assert extra["version_id"] == version_id == draft
    assert (extra["version"], extra["ref"]) == ("1.0.0", "demo/events@1.0.0")
    assert extra["changes"]["added"] == 3 and extra["file_count"] == 3
    assert Dataset.get("demo/events@prod").id == version_id


def test_finalize_through_an_asset_alias_targets_the_datasets_asset(context, tmp_path):
    draft = _create(context)
    alias = AssetAlias("dsops-runtime")
    op = FinalizeDatasetOperator(task_id="fin", version_id=draft, outlets=[alias])
    version_id = op.execute(context)
    (event,) = context["outlet_events"][alias].asset_alias_events
    assert event.dest_asset_key.uri == "dsops://demo/events"
    assert event.extra["version_id"] == version_id


def test_finalize_refuses_an_outlet_of_another_dataset_before_committing(context):
    draft = _create(context)
    op = FinalizeDatasetOperator(
        task_id="fin", version_id=draft, outlets=[Asset("dsops://demo/other")]
    )
    with pytest.raises(ConfigError, match="does not match the draft's dataset"):
        op.execute(context)
    assert not Dataset.get(draft).is_final


def test_retried_finalize_after_success_returns_the_same_version(context, tmp_path):
    draft = _create(context)
    op = FinalizeDatasetOperator(task_id="fin", version_id=draft)
    first = op.execute(context)
    context["ti"] = replace(context["ti"], try_number=2)
    assert op.execute(context) == first
    assert len(Dataset.list(project="demo", name="events")) == 1
    assert Dataset.get(first).provenance["try_number"] == 1  # the attempt that committed


def test_finalize_skip_if_unchanged_skips_and_keeps_the_draft(context, tmp_path):
    first = _new_version(context, tmp_path, FILES)
    context["ti"] = replace(context["ti"], run_id="run-2")
    draft = _create(context, parents=["latest"])
    folder = write_tree(tmp_path / "same", FILES)
    SyncFolderOperator(task_id="sync", version_id=draft, folder=str(folder)).execute(context)
    op = FinalizeDatasetOperator(task_id="fin", version_id=draft, skip_if_unchanged=True)
    with pytest.raises(AirflowSkipException, match="changes nothing against its parents"):
        op.execute(context)
    assert [v["id"] for v in Dataset.list(project="demo", name="events")] == [first]
    assert not Dataset.get(draft).is_final  # nothing deleted either


def test_finalize_skip_if_unchanged_still_finalizes_a_change(context, tmp_path):
    _new_version(context, tmp_path, FILES)
    context["ti"] = replace(context["ti"], run_id="run-2")
    draft = _create(context, parents=["latest"])
    RemoveFilesOperator(task_id="rm", version_id=draft, patterns="a.txt").execute(context)
    op = FinalizeDatasetOperator(task_id="fin", version_id=draft, skip_if_unchanged=True)
    assert Dataset.get(op.execute(context)).record.changes["removed"] == 1


# --- FetchDatasetOperator -----------------------------------------------------------------


def test_fetch_returns_a_read_only_view_and_pushes_the_version_id(context, tmp_path):
    version_id = _new_version(context, tmp_path, FILES)
    path = FetchDatasetOperator(task_id="fetch", dataset="demo/events@latest").execute(context)
    assert snapshot(path) == {k: v.encode() for k, v in FILES.items()}
    assert context["ti"].xcoms["version_id"] == version_id


def test_fetch_into_target_dir_is_a_writable_copy_with_include(context, tmp_path):
    version_id = _new_version(context, tmp_path, FILES)
    target = tmp_path / "work"
    path = FetchDatasetOperator(
        task_id="fetch", dataset=version_id, target_dir=str(target), include="sub/*"
    ).execute(context)
    assert Path(path) == target
    assert snapshot(target) == {"sub/b.txt": b"beta", "sub/c.csv": b"1,2\n"}
    (target / "sub" / "b.txt").write_text("changed")  # writable


def test_fetch_mutable_without_target_makes_a_temporary_copy(context, tmp_path):
    _new_version(context, tmp_path, FILES)
    path = FetchDatasetOperator(task_id="f", dataset="demo/events@1.0.0", mutable=True).execute(
        context
    )
    assert snapshot(path)["a.txt"] == b"alpha"


def test_fetch_in_uri_mode_returns_the_pinned_url_and_downloads_nothing(context, tmp_path):
    import pandas as pd

    version_id = _new_version(context, tmp_path, {"t.csv": "a,b\n1,2\n"})
    op = FetchDatasetOperator(task_id="f", dataset="demo/events@latest", mode="uri")
    url = op.execute(context)
    assert url == f"dsops://{version_id}/"
    assert context["ti"].xcoms["version_id"] == version_id
    assert context["ti"].xcoms["store_url"] == Dataset.get(version_id).store.url
    assert pd.read_csv(url + "t.csv")["b"].tolist() == [2]
    with pytest.raises(ConfigError, match="downloads nothing"):
        FetchDatasetOperator(task_id="g", dataset=version_id, mode="uri", mutable=True).execute(
            context
        )
    with pytest.raises(ConfigError, match="'local' or 'uri'"):
        FetchDatasetOperator(task_id="h", dataset=version_id, mode="stream").execute(context)


# --- the "dsops" extra link ---------------------------------------------------------------


def test_operators_push_the_ui_link_when_configured_and_an_empty_one_otherwise(
    context, tmp_path, monkeypatch
):
    draft = _create(context)
    assert context["ti"].xcoms[LINK_XCOM_KEY] == ""
    monkeypatch.setenv("DSOPS_UI_URL", "http://ui.example:8000/")
    version_id = FinalizeDatasetOperator(task_id="fin", version_id=draft).execute(context)
    assert context["ti"].xcoms[LINK_XCOM_KEY] == f"http://ui.example:8000/versions/{version_id}"


def test_the_extra_link_returns_the_pushed_url(monkeypatch):
    from airflow.sdk.execution_time import xcom

    from airflow_provider.links import DsopsVersionLink

    seen = {}

    def get_value(*, ti_key: Any, key: str) -> str:
        seen["key"] = key
        return "http://ui/versions/abc"

    monkeypatch.setattr(xcom.XCom, "get_value", get_value)
    link = DsopsVersionLink()
    assert link.name == "dsops"
    assert link.get_link(operator=None, ti_key=object()) == "http://ui/versions/abc"
    assert seen["key"] == LINK_XCOM_KEY


def test_operators_use_the_store_of_their_connection(context, tmp_path, monkeypatch):
    store_root = tmp_path / "conn-store"
    monkeypatch.setenv(
        "AIRFLOW_CONN_DSOPS_LOCAL", f'{{"conn_type": "dsops", "host": "{store_root}"}}'
    )
    draft = CreateDatasetOperator(
        task_id="c", project="demo", name="events", dsops_conn_id="dsops_local"
    ).execute(context)
    assert Dataset.get(draft, store=Store(str(store_root))).id == draft


# --- PruneDatasetOperator / DeleteDatasetOperator -------------------------------------


def _chain(tmp_path: Path, count: int, name: str = "events") -> list[str]:
    """``count`` versions of demo/<name>, each adding one file to its parent's."""
    ids = []
    for n in range(count):
        ds = Dataset.create("demo", name, parents=["latest"])
        ds.add_files(write_tree(tmp_path / f"{name}-{n}", {f"f{n}.txt": f"file {n}"}))
        ids.append(ds.finalize())
    return ids


def _versions(name: str = "events") -> list[str]:
    return [v["version"] for v in Dataset.list(project="demo", name=name)]


def _prune(context: dict[str, Any], **kwargs: Any) -> list[str]:
    arguments = {"project": "demo", "name": "events", **kwargs}
    result: list[str] = PruneDatasetOperator(task_id="prune", **arguments).execute(context)
    return result


def test_prune_keeps_the_newest_and_returns_and_pushes_what_it_deleted(context, tmp_path):
    ids = _chain(tmp_path, 4)
    # Rendered templates are strings: "2" is a number, "" is no age rule.
    assert _prune(context, keep_last="2", keep_within="", dry_run=True) == ids[:2]
    assert context["ti"].xcoms["deleted_refs"] == ["demo/events@1.0.0", "demo/events@1.0.1"]
    assert _versions() == ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]  # a dry run deletes nothing

    assert _prune(context, keep_last="2", keep_within="") == ids[:2]
    assert context["ti"].xcoms["deleted_refs"] == ["demo/events@1.0.0", "demo/events@1.0.1"]
    assert context["ti"].xcoms[LINK_XCOM_KEY] == ""
    assert _versions() == ["1.0.2", "1.0.3"]
    with pytest.raises(VersionDeleted):
        Dataset.get(ids[0])
    # The children read back every file, their deleted parents' included.
    assert snapshot(Dataset.get(ids[3]).get_local_copy()) == {
        f"f{n}.txt": f"file {n}".encode() for n in range(4)
    }
    assert _prune(context, keep_last=2) == []  # a retry: nothing left to delete


def test_prune_keeps_recent_versions_and_aliased_ones(context, tmp_path):
    ids = _chain(tmp_path, 3)
    assert _prune(context, keep_last=1, keep_within="30d") == []  # all within 30 days
    Dataset.get(ids[0]).set_alias("gold")
    assert _prune(context, keep_last=1) == [ids[1]]
    assert _versions() == ["1.0.0", "1.0.2"]
    assert _prune(context, keep_last=1, keep_aliases=False) == [ids[0]]
    assert _versions() == ["1.0.2"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({}, ConfigError, "prune needs keep_last= and/or keep_within="),
        ({"keep_last": "", "keep_within": " "}, ConfigError, "prune needs keep_last="),
        ({"keep_last": "seven"}, ConfigError, "keep_last must be a whole number"),
        ({"keep_last": -1}, ConfigError, "keep_last must be a whole number"),
        ({"keep_within": "a month"}, ConfigError, "Invalid duration 'a month'"),
        ({"keep_last": 1, "name": "missing"}, DatasetNotFound, "demo/missing does not exist"),
    ],
)
def test_prune_refuses_bad_input_and_deletes_nothing(context, tmp_path, arguments, error, message):
    _chain(tmp_path, 2)
    with pytest.raises(error, match=message):
        _prune(context, **arguments)
    assert _versions() == ["1.0.0", "1.0.1"]


def _delete(context: dict[str, Any], **kwargs: Any) -> list[str]:
    result: list[str] = DeleteDatasetOperator(task_id="delete", **kwargs).execute(context)
    return result


def test_delete_a_version_by_id_or_reference_and_latest_moves_back(context, tmp_path):
    ids = _chain(tmp_path, 3)
    assert _delete(context, ref=ids[2]) == [ids[2]]
    assert context["ti"].xcoms["deleted_refs"] == ["demo/events@1.0.2"]
    assert Dataset.get("demo/events@latest").id == ids[1]
    with pytest.raises(ProtectedVersion, match="parent"):
        _delete(context, ref="demo/events@1.0.0")
    assert _versions() == ["1.0.0", "1.0.1"]
    assert _delete(context, ref="demo/events@1.0.0", force=True) == [ids[0]]
    assert snapshot(Dataset.get(ids[1]).get_local_copy()) == {
        "f0.txt": b"file 0",
        "f1.txt": b"file 1",
    }
    with pytest.raises(VersionDeleted, match="was deleted"):
        _delete(context, ref=ids[0])  # deleted already (a retry after success)
    with pytest.raises(VersionNotFound, match="No finalized version"):
        _delete(context, ref="0" * 32)


def test_delete_an_entire_dataset_needs_force(context, tmp_path):
    ids = _chain(tmp_path, 2)
    _chain(tmp_path, 1, name="other")
    whole = {"project": "demo", "name": "events", "entire_dataset": True}
    with pytest.raises(ProtectedVersion, match="needs force=True"):
        _delete(context, **whole)
    assert _delete(context, force=True, **whole) == ids[::-1]  # newest first
    assert _versions() == [] and _versions("other") == ["1.0.0"]


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"ref": "  "},
        # Never "latest" by default: an empty rendered ref with a dataset deletes nothing.
        {"ref": "", "project": "demo", "name": "events"},
        {"ref": "demo/events@1.0.0", "entire_dataset": True, "force": True},
        {"project": "demo", "entire_dataset": True, "force": True},
    ],
)
def test_delete_refuses_unclear_arguments_and_deletes_nothing(context, tmp_path, arguments):
    _chain(tmp_path, 2)
    with pytest.raises(ConfigError, match=r"ref=|entire_dataset=True"):
        _delete(context, **arguments)
    assert _versions() == ["1.0.0", "1.0.1"]


_PRUNE_DAG = """
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider.operators import DeleteDatasetOperator, PruneDatasetOperator

with DAG(
    dag_id="dsops_prune_and_delete",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    params={"keep": 2, "within": ""},
):
    dry = PruneDatasetOperator(
        task_id="dry", project="demo", name="events", keep_last=4, dry_run=True
    )
    delete = DeleteDatasetOperator(
        task_id="delete", ref="{{ ti.xcom_pull(task_ids='dry')[0] }}", force=True
    )
    prune = PruneDatasetOperator(
        task_id="prune",
        project="demo",
        name="events",
        keep_last="{{ params.keep }}",
        keep_within="{{ params.within }}",
    )
    dry >> delete >> prune
"""


def test_prune_and_delete_in_a_dag_run_with_templates_and_xcom(airflow_home, tmp_path):
    """One real ``dag.test()`` run: templated policy, a dry run's XCom feeding a delete."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    from airflow_provider.testing import dag_test
    from tests.airflow.test_example_dags import task_states, xcom

    ids = _chain(tmp_path, 5)
    # A DAG outside the DAGs folder: serialized here, as the dag processor would.
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "dsops_prune_and_delete.py").write_text(_PRUNE_DAG)
    bag = DagBag(dag_folder=str(dags))
    assert not bag.import_errors, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    run = dag_test(bag.dags["dsops_prune_and_delete"])
    assert str(run.state) == "success", task_states(run)
    assert xcom(run, "dry") == [ids[0]]
    assert xcom(run, "delete") == [ids[0]]
    assert xcom(run, "prune") == ids[1:3]
    assert xcom(run, "prune", "deleted_refs") == ["demo/events@1.0.1", "demo/events@1.0.2"]
    assert _versions() == ["1.0.3", "1.0.4"]
    assert len(Dataset.get("demo/events@latest").list_files()) == 5
