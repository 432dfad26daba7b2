"""dsops tasks in real flow runs: versions, files, lineage, provenance, artifacts, events."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.states import State

import dsops
from dsops import Dataset
from dsops.errors import (
    AccessDenied,
    ConfigError,
    ObjectNotFound,
    PreconditionFailed,
    ProtectedVersion,
    StoreError,
    StoreUnavailable,
    TargetExists,
    VersionDeleted,
    VersionNotFound,
)
from prefect_tasks import (
    EVENT_FINALIZED,
    add_files,
    create_dataset,
    dataset_asset_key,
    dataset_resource_id,
    delete_dataset,
    fetch_dataset,
    finalize_dataset,
    prune_dataset,
    remove_files,
    resolve_version,
    sync_folder,
)
from prefect_tasks.runtime import is_transient
from tests.helpers import snapshot, write_tree
from tests.prefect.helpers import read_artifacts, read_events

ASSET_MATERIALIZED = "prefect.asset.materialization.succeeded"


@pytest.fixture
def project() -> str:
    """A project of its own per test: events and artifacts of other tests share the server."""
    return f"t{uuid.uuid4().hex[:10]}"


def _flow_run_id(state: State) -> uuid.UUID:
    flow_run_id = state.state_details.flow_run_id
    assert flow_run_id is not None
    return flow_run_id


def test_chained_tasks_build_lineage_and_report_it_to_prefect(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSOPS_UI_URL", "http://ui.test:8000/")
    src = write_tree(tmp_path / "src", {"a/1.txt": "one", "a/2.txt": "two", "b.txt": "bee"})
    more = write_tree(tmp_path / "more", {"c.txt": "sea"})

    @flow
    def ingest() -> tuple[str, str]:
        draft = create_dataset(project, "toy", description="first drop", tags=["raw"])
        first = finalize_dataset(add_files(draft, str(src)), alias="prod")
        draft = create_dataset(project, "toy", parents=["latest"])
        draft = remove_files(add_files(draft, str(more), dataset_path="more"), "a/*")
        return first, finalize_dataset(draft)

    state = ingest(return_state=True)
    first, second = state.result()
    flow_run_id = _flow_run_id(state)

    v1, v2 = Dataset.get(first), Dataset.get(second)
    assert (v1.version, v2.version) == ("1.0.0", "1.0.1")
    assert v1.list_files() == ["a/1.txt", "a/2.txt", "b.txt"]
    assert v2.list_files() == ["b.txt", "more/c.txt"]
    assert v2.parents == [first] and v1.parents == []
    assert (v1.description, v1.tags) == ("first drop", ["raw"])
    assert Dataset.get(f"{project}/toy@prod").id == first
    assert Dataset.get(f"{project}/toy@latest").id == second
    assert v2.read_file("more/c.txt") == b"sea"

    provenance = v2.provenance
    assert provenance["orchestrator"] == "prefect"
    assert provenance["flow_run_id"] == str(flow_run_id)
    assert provenance["flow_name"] == "ingest"
    assert provenance["task_name"] == "dsops-finalize-dataset"
    assert provenance["task_run_id"]
    assert "deployment_id" not in provenance

    artifacts = read_artifacts(flow_run_id)
    tables = artifacts[f"dsops-{project}-toy"]
    assert [a.type for a in tables] == ["table", "table"]
    assert first in tables[0].description and f"{project}/toy@1.0.1" in tables[1].description
    rows = {row["change"]: row for row in _table(tables[1])}
    assert rows["added"] == {"change": "added", "files": 1, "bytes": 3}
    assert rows["removed"] == {"change": "removed", "files": 2, "bytes": 6}
    links = artifacts[f"dsops-{project}-toy-ui"]
    assert [a.data for a in links] == [
        f"[{project}/toy@1.0.0](http://ui.test:8000/versions/{first})",
        f"[{project}/toy@1.0.1](http://ui.test:8000/versions/{second})",
    ]
    assert f"http://ui.test:8000/datasets/{project}/toy" in links[0].description

    events = read_events(EVENT_FINALIZED, dataset_resource_id(project, "toy"), expected=2)
    assert [e.payload["version_id"] for e in events] == [first, second]
    assert events[1].payload["parents"] == [first]
    assert events[1].payload["ref"] == f"{project}/toy@1.0.1"
    assert events[0].payload["aliases"] == ["latest", "prod"]
    related = {r.id: r.role for r in events[1].related}
    assert related[f"dsops.version.{second}"] == "dataset-version"
    assert related[f"prefect.flow-run.{flow_run_id}"] == "flow-run"

    assets = read_events(ASSET_MATERIALIZED, dataset_asset_key(project, "toy"), expected=2)
    assert [e.payload["version_id"] for e in assets] == [first, second]
    assert assets[0].resource.get("prefect.asset.url") == (
        f"http://ui.test:8000/datasets/{project}/toy"
    )


def _table(artifact: object) -> list[dict[str, object]]:
    import json

    data = artifact.data  # type: ignore[attr-defined]
    return json.loads(data) if isinstance(data, str) else data


def test_mapped_adds_fan_in_to_one_version_holding_every_shard(
    project: str, tmp_path: Path
) -> None:
    shards = []
    for n in range(4):
        write_tree(tmp_path / f"shard{n}", {f"part-{n}.csv": f"{n}\n" * (n + 1), "common.txt": "x"})
        shards.append(str(tmp_path / f"shard{n}"))

    @flow
    def fan_in() -> str:
        draft = create_dataset(project, "shards")
        added = add_files.map(draft, shards, dataset_path=[f"s{n}" for n in range(4)])
        return finalize_dataset(draft, wait_for=added)

    version_id = fan_in()
    assert [row["id"] for row in Dataset.list(project)] == [version_id]
    version = Dataset.get(version_id)
    expected = {f"s{n}/{k}": v for n in range(4) for k, v in snapshot(shards[n]).items()}
    assert snapshot(version.get_local_copy()) == expected
    assert version.record is not None and version.record.changes["added"] == 8


def test_sync_that_changes_nothing_creates_no_version(project: str, tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "folder", {"keep.txt": "k", "edit.txt": "v1", "gone.txt": "g"})

    @flow
    def sync() -> tuple[str, str]:
        draft = sync_folder(create_dataset(project, "mirror", parents=["latest"]), str(folder))
        return draft, finalize_dataset(draft, skip_if_unchanged=True)

    first_draft, first = sync()
    assert first == first_draft
    second_draft, second = sync()
    assert second == first and second_draft != first
    assert len(Dataset.list(project)) == 1

    (folder / "edit.txt").write_text("v2")
    (folder / "gone.txt").unlink()
    _, third = sync()
    version = Dataset.get(third)
    assert version.parents == [first]
    assert version.record is not None
    changes = version.record.changes
    assert (changes["added"], changes["modified"], changes["removed"]) == (0, 1, 1)
    assert snapshot(version.get_local_copy()) == {"keep.txt": b"k", "edit.txt": b"v2"}


def test_sync_summary_is_published_as_a_table_artifact(project: str, tmp_path: Path) -> None:
    folder = write_tree(tmp_path / "folder", {"a.txt": "aa", "b.txt": "bbb"})

    @flow
    def sync() -> str:
        return sync_folder(create_dataset(project, "mirror"), str(folder))

    state = sync(return_state=True)
    (artifact,) = read_artifacts(_flow_run_id(state))[f"dsops-sync-{project}-mirror"]
    rows = {row["change"]: row for row in _table(artifact)}
    assert rows["added"] == {"change": "added", "files": 2, "bytes": 5}
    assert rows["unchanged"]["files"] == 0
    assert str(folder) in artifact.description


def test_fetch_gives_a_read_only_view_or_a_writable_copy(project: str, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"train/x.csv": "1", "test/y.csv": "2", "README": "r"})
    copy, again = str(tmp_path / "copy"), str(tmp_path / "again")

    @flow
    def make_and_fetch() -> tuple[str, str, str, str, object]:
        version_id = finalize_dataset(add_files(create_dataset(project, "data"), str(src)))
        view = fetch_dataset(f"{project}/data@latest")
        train = fetch_dataset(version_id, include="train/**")
        scratch = fetch_dataset(version_id, mutable=True, include="*.csv")
        fetch_dataset(version_id, target_dir=copy)
        fetch_dataset(version_id, target_dir=again)
        fetch_dataset(version_id, target_dir=again, include="README", overwrite=True)
        refused = fetch_dataset(version_id, target_dir=copy, return_state=True)
        return version_id, view, train, scratch, refused.result(raise_on_failure=False)

    version_id, view, train, scratch, refused = make_and_fetch()
    everything = {"train/x.csv": b"1", "test/y.csv": b"2", "README": b"r"}
    assert snapshot(view) == everything
    assert snapshot(train) == {"train/x.csv": b"1"}
    assert snapshot(scratch) == {"train/x.csv": b"1", "test/y.csv": b"2"}
    assert snapshot(copy) == everything
    assert snapshot(again) == {"README": b"r"}
    assert isinstance(refused, TargetExists)  # a full folder is never overwritten silently
    (Path(copy) / "README").write_text("mine now")  # writable
    assert Dataset.get(version_id).read_file("README") == b"r"


def test_fetch_in_uri_mode_returns_the_pinned_url_and_downloads_nothing(
    project: str, tmp_path: Path
) -> None:
    import pandas as pd

    src = write_tree(tmp_path / "src", {"t.csv": "a,b\n1,2\n3,4\n"})

    @flow
    def pin_url() -> tuple[str, str, object]:
        version_id = finalize_dataset(add_files(create_dataset(project, "uri"), str(src)))
        url = fetch_dataset(f"{project}/uri@latest", mode="uri")
        bad = fetch_dataset(version_id, mode="uri", include="*.csv", return_state=True)
        return version_id, url, bad.result(raise_on_failure=False)

    version_id, url, bad = pin_url()
    assert url == f"dsops://{version_id}/"
    assert pd.read_csv(url + "t.csv")["b"].tolist() == [2, 4]
    assert isinstance(bad, ConfigError) and "mode='uri' downloads nothing" in str(bad)


def test_resolve_version_pins_a_moving_reference(project: str, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "a"})

    @flow
    def pin() -> tuple[str, str]:
        version_id = finalize_dataset(add_files(create_dataset(project, "data"), str(src)))
        return version_id, resolve_version(f"{project}/data@latest")

    version_id, pinned = pin()
    assert pinned == version_id


def test_a_transient_store_error_is_retried_and_the_retry_adds_nothing_twice(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "aaa", "b.txt": "bb"})
    calls = []
    real_add = Dataset.add_files

    def add_then_fail_once(self: Dataset, *args: object, **kwargs: object) -> object:
        summary = real_add(self, *args, **kwargs)  # type: ignore[arg-type]
        calls.append(summary)
        if len(calls) == 1:  # the write landed, then the connection dropped
            raise StoreUnavailable("connection reset (injected)")
        return summary

    monkeypatch.setattr(Dataset, "add_files", add_then_fail_once)
    quick_add = add_files.with_options(retry_delay_seconds=0)

    @flow
    def ingest() -> str:
        return finalize_dataset(quick_add(create_dataset(project, "data"), str(src)))

    version = Dataset.get(ingest())
    assert len(calls) == 2
    assert (calls[0].added, calls[1].added) == (2, 0)  # the retry found everything there
    assert version.list_files() == ["a.txt", "b.txt"]
    assert version.record is not None and version.record.changes["stored_bytes"] == 5


def test_a_retried_create_reopens_the_draft_of_its_first_attempt(
    project: str, dsops_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = []
    real_create = Dataset.__init__

    def init_then_fail_once(self: Dataset, *args: object, **kwargs: object) -> None:
        real_create(self, *args, **kwargs)  # type: ignore[arg-type]
        attempts.append(self.id)
        if len(attempts) == 1:
            raise StoreUnavailable("timed out after the write (injected)")

    monkeypatch.setattr(Dataset, "__init__", init_then_fail_once)

    @flow
    def create() -> str:
        return create_dataset.with_options(retry_delay_seconds=0)(project, "data")

    draft_id = create()
    assert attempts == [draft_id, draft_id]
    assert [p.name for p in (dsops_env / "drafts").iterdir()] == [draft_id]


def test_errors_a_retry_cannot_fix_fail_at_once(project: str) -> None:
    missing = uuid.uuid4().hex

    @flow
    def broken() -> tuple[bool, uuid.UUID | None, object]:
        state = add_files(missing, "/nowhere", return_state=True)
        error = state.result(raise_on_failure=False)
        return state.is_failed(), state.state_details.task_run_id, error

    failed, task_run_id, error = broken()
    assert failed and isinstance(error, VersionNotFound) and missing in str(error)
    assert task_run_id is not None
    with get_client(sync_client=True) as client:
        task_run = client.read_task_run(task_run_id)
    assert task_run.run_count == 1


def test_finalize_again_returns_the_same_version_and_emits_one_event(
    project: str, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "a"})

    @flow
    def twice() -> tuple[str, str]:
        draft = add_files(create_dataset(project, "data"), str(src))
        return finalize_dataset(draft), finalize_dataset(draft)

    first, again = twice()
    assert first == again
    assert len(Dataset.list(project)) == 1
    events = read_events(EVENT_FINALIZED, dataset_resource_id(project, "data"), settle=1.0)
    assert [e.payload["version_id"] for e in events] == [first]


def test_add_files_downloads_a_url_source_first(project: str, tmp_path: Path) -> None:
    landing = write_tree(tmp_path / "landing", {"2024-05-01/a.csv": "1", "2024-05-01/b.csv": "2"})

    @flow
    def from_url() -> str:
        draft = create_dataset(project, "data")
        draft = add_files(draft, [f"file://{landing}/2024-05-01", str(landing)], "copy")
        return finalize_dataset(draft)

    version = Dataset.get(from_url())
    assert version.list_files() == [
        "copy/2024-05-01/a.csv",
        "copy/2024-05-01/b.csv",
        "copy/a.csv",
        "copy/b.csv",
    ]


def test_tasks_accept_a_store_url_and_a_store_object(project: str, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "a"})
    url = str(tmp_path / "elsewhere")

    @flow
    def elsewhere() -> str:
        draft = create_dataset(project, "data", store=url)
        return finalize_dataset(add_files(draft, str(src), store=url), store=dsops.Store(url))

    version_id = elsewhere()
    assert Dataset.get(version_id, store=dsops.Store(url)).list_files() == ["a.txt"]
    with pytest.raises(VersionNotFound):
        Dataset.get(version_id)  # not in the default store


def test_provenance_names_the_deployment_and_links_the_run(
    project: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_UI_URL, temporary_settings

    src = write_tree(tmp_path / "src", {"a.txt": "a"})
    deployment_id = str(uuid.uuid4())
    # Prefect's documented way to stand in for a deployment run's runtime values.
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__ID", deployment_id)
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__NAME", "nightly")

    @flow
    def deployed() -> str:
        return finalize_dataset(add_files(create_dataset(project, "data"), str(src)))

    with temporary_settings(updates={PREFECT_UI_URL: "http://prefect.test/"}):
        state = deployed(return_state=True)
    provenance = Dataset.get(state.result()).provenance
    assert provenance["deployment_id"] == deployment_id
    assert provenance["deployment_name"] == "nightly"
    assert provenance["run_url"] == (f"http://prefect.test/runs/flow-run/{_flow_run_id(state)}")


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (StoreUnavailable("endpoint down"), True),
        (PreconditionFailed("lost a compare-and-swap"), True),
        (StoreError("HTTP 500"), True),
        (ConnectionResetError(), True),
        (AccessDenied("bad key"), False),
        (ObjectNotFound("no such object"), False),
        (VersionNotFound("no such version"), False),
        (TargetExists("folder not empty"), False),
        (ValueError("bad argument"), False),
    ],
)
def test_only_errors_another_attempt_can_fix_are_retried(
    error: BaseException, retried: bool
) -> None:
    assert is_transient(error) is retried


def test_prune_and_delete_tasks_return_what_they_deleted(project: str, tmp_path: Path) -> None:
    ids = []
    for n in range(4):
        ds = Dataset.create(project, "logs", parents=["latest"])
        ds.add_files(write_tree(tmp_path / f"d{n}", {f"f{n}.txt": f"file {n}"}))
        ids.append(ds.finalize())

    @flow
    def retention() -> list[list[str]]:
        dry = prune_dataset(project, "logs", keep_last=3, keep_within="30d", dry_run=True)
        recent = prune_dataset(project, "logs", keep_last=1, keep_within="30d")
        pruned = prune_dataset(project, "logs", keep_last=2)
        deleted = delete_dataset(ids[3])
        return [[v["id"] for v in r] for r in (dry, recent, pruned, deleted)]

    dry, recent, pruned, deleted = retention()
    assert dry == [] and recent == []  # all four finalized within 30 days
    assert pruned == ids[:2] and deleted == [ids[3]]
    assert [v["id"] for v in Dataset.list(project=project)] == [ids[2]]
    assert Dataset.get(f"{project}/logs@latest").id == ids[2]
    with pytest.raises(VersionDeleted):
        Dataset.get(ids[0])
    assert snapshot(Dataset.get(ids[2]).get_local_copy()) == {
        f"f{n}.txt": f"file {n}".encode() for n in range(3)
    }


def test_prune_and_delete_refuse_bad_input_at_once_and_delete_nothing(project: str) -> None:
    parent = Dataset.create(project, "logs").finalize()
    Dataset.create(project, "logs", parents=["latest"]).finalize()

    @flow
    def bad() -> list[tuple[bool, object]]:
        states = [
            prune_dataset(project, "logs", return_state=True),
            delete_dataset(parent, return_state=True),
            delete_dataset("", project=project, name="logs", return_state=True),
        ]
        return [(s.is_failed(), s.result(raise_on_failure=False)) for s in states]

    (f1, neither), (f2, protected), (f3, empty) = bad()
    assert f1 and isinstance(neither, ConfigError) and "keep_last" in str(neither)
    assert f2 and isinstance(protected, ProtectedVersion)
    assert f3 and isinstance(empty, ConfigError) and "needs ref=" in str(empty)
    assert len(Dataset.list(project=project)) == 2
