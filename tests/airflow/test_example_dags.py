"""Every example DAG, run for real with ``dag.test()`` in the session's Airflow home.

Each test asserts what the run left in the dsops store — versions, parents, files and
bytes, provenance, Asset events — not only that the run succeeded. About 10 s per run.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider.testing import dag_test
from dsops import Dataset, Store
from dsops.errors import VersionDeleted
from tests.airflow.conftest import EXAMPLE_DAGS, S3Server
from tests.helpers import snapshot

pytestmark = pytest.mark.slow


def run_dag(dag_id: str, **kwargs: Any) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLE_DAGS / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    run = dag_test(bag.dags[dag_id], **kwargs)
    assert str(run.state) == "success", f"{dag_id} ended {run.state}"
    return run


def task_states(run: Any) -> dict[str, str]:
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = run.get_task_instances(session=session)
        return {
            ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else ""): str(ti.state)
            for ti in tis
        }


def asset_events(uri: str) -> list[dict[str, Any]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.uri == uri)
            .order_by(AssetEvent.id)
        )
        return [dict(e.extra or {}) for e in events]


def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
    """The value a task of ``run`` pushed under ``key``."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=run.run_id, key=key, task_ids=task_id)
        (row,) = session.scalars(query.where(XComModel.dag_id == run.dag_id))
        return XComModel.deserialize_value(row)


def mapped_xcoms(run: Any, task_id: str, key: str) -> list[Any]:
    """The values every mapped instance of ``task_id`` pushed under ``key``."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(run_id=run.run_id, key=key, task_ids=task_id, map_indexes=None)
        rows = session.scalars(query.where(XComModel.dag_id == run.dag_id))
        return [XComModel.deserialize_value(row) for row in rows]


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_daily_ingestion_chains_versions_and_training_uses_the_announced_one(
    airflow_home, tmp_path
):
    landing = tmp_path / "landing"
    conf = {"landing_dir": str(landing), "generate_demo_data": True}
    runs = [
        run_dag("dsops_scheduled_ingestion", logical_date=day(d), run_conf=conf)
        for d in ("2024-05-01", "2024-05-02")
    ]
    first, second = Dataset.list(project="examples", name="events")
    assert (first["version"], second["version"]) == ("1.0.0", "1.0.1")
    # The default retention (newest 7, last 30 days) keeps both: prune deleted nothing.
    assert [xcom(r, "prune") for r in runs] == [[], []]
    assert second["parents"] == [first["id"]]
    assert second["changes"]["added"] == 3 and second["file_count"] == 6
    assert Dataset.get("examples/events@daily").id == second["id"]

    latest = Dataset.get("examples/events@latest")
    fetched = snapshot(latest.get_local_copy())
    assert fetched == snapshot(landing) and len(fetched) == 6  # the days, under <ds>/
    assert sorted({p.split("/")[0] for p in fetched}) == ["2024-05-01", "2024-05-02"]
    provenance = latest.provenance
    assert provenance["dag_id"] == "dsops_scheduled_ingestion"
    assert provenance["run_id"] == runs[1].run_id
    assert (provenance["task_id"], provenance["try_number"]) == ("finalize", 1)
    assert provenance["logical_date"] == "2024-05-02T00:00:00+00:00"
    announced = asset_events("dsops://examples/events")[-2:]
    assert [e["version_id"] for e in announced] == [first["id"], second["id"]]
    assert announced[-1]["changes"]["added"] == 3

    # An empty day with demo data off: skipped, no version, no event.
    quiet = run_dag(
        "dsops_scheduled_ingestion",
        logical_date=day("2024-05-03"),
        run_conf={**conf, "generate_demo_data": False},
    )
    assert task_states(quiet)["day_folder"] == "skipped"
    assert task_states(quiet)["finalize"] == "skipped"
    assert task_states(quiet)["prune"] == "skipped"
    assert len(Dataset.list(project="examples", name="events")) == 2

    # Re-running a day already ingested: same files, no empty version, no event.
    events_before = len(asset_events("dsops://examples/events"))
    again = run_dag("dsops_scheduled_ingestion", logical_date=day("2024-05-02"), run_conf=conf)
    assert task_states(again)["finalize"] == "skipped"
    assert len(Dataset.list(project="examples", name="events")) == 2
    assert len(asset_events("dsops://examples/events")) == events_before

    consumed: list[dict[str, Any]] = []
    models = tmp_path / "models"
    run_dag("dsops_training", asset_events=consumed, run_conf={"model_dir": str(models)})
    assert consumed[-1]["extra"]["version_id"] == second["id"]
    model = json.loads((models / f"model-{second['id']}.json").read_text())
    assert model["trained_on_version_id"] == second["id"]
    assert model["files"] == 6 and sum(model["label_counts"].values()) == 6 * 20

    # A tighter policy on the next day (the newest 2, no age rule): after finalizing
    # 1.0.2, prune deletes 1.0.0; the kept ones list and the latest fetches every day.
    pruned = run_dag(
        "dsops_scheduled_ingestion",
        logical_date=day("2024-05-04"),
        run_conf={**conf, "keep_last": 2, "keep_within": ""},
    )
    assert xcom(pruned, "prune") == [first["id"]]
    assert xcom(pruned, "prune", "deleted_refs") == ["examples/events@1.0.0"]
    kept = Dataset.list(project="examples", name="events")
    assert [v["version"] for v in kept] == ["1.0.1", "1.0.2"]
    assert Dataset.get("examples/events@daily").id == kept[-1]["id"]
    fetched = snapshot(Dataset.get("examples/events@latest").get_local_copy())
    assert fetched == snapshot(landing) and len(fetched) == 9
    with pytest.raises(VersionDeleted):
        Dataset.get(first["id"])


def test_folder_sync_makes_a_version_only_when_the_folder_changed(airflow_home, tmp_path):
    folder = tmp_path / "mirror"
    conf = {"folder": str(folder), "generate_demo_data": True}
    run_dag("dsops_folder_sync", run_conf=conf)
    (first,) = Dataset.list(project="examples", name="mirror")
    assert first["file_count"] == 2

    unchanged = run_dag("dsops_folder_sync", run_conf=conf)
    assert task_states(unchanged)["finalize"] == "skipped"
    assert len(Dataset.list(project="examples", name="mirror")) == 1

    (folder / "data" / "table.csv").write_text("id,label,value\n1,cat,0.5\n")
    (folder / "config" / "settings.json").unlink()
    (folder / "notes.txt").write_text("new")
    run_dag("dsops_folder_sync", run_conf=conf)
    first, second = Dataset.list(project="examples", name="mirror")
    assert second["parents"] == [first["id"]]
    assert {k: second["changes"][k] for k in ("added", "modified", "removed")} == {
        "added": 1,
        "modified": 1,
        "removed": 1,
    }
    assert snapshot(Dataset.get(second["id"]).get_local_copy()) == snapshot(folder)
    # Announced through the AssetAlias, on the dataset's Asset: once per version.
    store_url = Dataset.get(second["id"]).store.url
    ids = [
        e["version_id"] for e in asset_events("dsops://examples/mirror") if e["store"] == store_url
    ]
    assert ids == [first["id"], second["id"]]


def test_parallel_ingestion_fans_every_shard_into_one_version(airflow_home, tmp_path):
    shards = tmp_path / "shards"
    run = run_dag(
        "dsops_parallel_ingestion", run_conf={"shards_dir": str(shards), "demo_shards": 4}
    )
    states = task_states(run)
    assert [states[f"add_shard[{i}]"] for i in range(4)] == ["success"] * 4
    (version,) = Dataset.list(project="examples", name="shards")
    assert version["file_count"] == 8 and version["parents"] == []
    fetched = snapshot(Dataset.get(version["id"]).get_local_copy())
    expected = {f"parts/{p.name}": p.read_bytes() for p in shards.rglob("*.csv")}
    assert fetched == expected


def test_parallel_ingestion_splits_a_flat_landing_folder_into_hash_shards(airflow_home, tmp_path):
    landing = tmp_path / "landing"
    files = {f"day-{n % 3}/r{n:03d}.csv": b"id\n%d\n" % n for n in range(30)}
    files["top.csv"] = b"id\n-1\n"
    for rel, data in files.items():
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        (landing / rel).write_bytes(data)
    run = run_dag(
        "dsops_parallel_ingestion",
        run_conf={"shards_dir": str(landing), "demo_shards": 0, "shards": 3},
    )
    states = task_states(run)
    assert [states[f"add_shard[{i}]"] for i in range(3)] == ["success"] * 3
    (version,) = Dataset.list(project="examples", name="shards")
    fetched = snapshot(Dataset.get(version["id"]).get_local_copy())
    assert fetched == {f"parts/{rel}": data for rel, data in files.items()}
    summaries = mapped_xcoms(run, "add_shard", "summary")
    assert len(summaries) == 3
    assert sum(s["added"] for s in summaries) == len(files)
    assert all(0 < s["added"] < len(files) for s in summaries)  # the work really was split


@pytest.mark.s3
def test_ingestion_from_an_s3_landing_bucket_into_an_s3_store(
    airflow_home, s3_server: S3Server, tmp_path, monkeypatch, dsops_env
):
    store_bucket, landing_bucket = s3_server.new_bucket(), s3_server.new_bucket()
    monkeypatch.setenv(
        "AIRFLOW_CONN_DSOPS_DEFAULT",
        json.dumps(
            {
                "conn_type": "dsops",
                "host": f"s3://{store_bucket}/datasets",
                "login": s3_server.access_key,
                "password": s3_server.secret_key,
                "extra": {"endpoint_url": s3_server.endpoint, "region": s3_server.region},
            }
        ),
    )
    landed = {"a.csv": b"id\n1\n", "nested/b.csv": b"id\n2\n"}
    for key, body in landed.items():
        s3_server.client.put_object(
            Bucket=landing_bucket, Key=f"incoming/2024-06-01/{key}", Body=body
        )
    run_dag(
        "dsops_scheduled_ingestion",
        logical_date=day("2024-06-01"),
        run_conf={"landing_dir": f"s3://{landing_bucket}/incoming", "generate_demo_data": False},
    )
    store = Store(f"s3://{store_bucket}/datasets", **s3_server.options)
    latest = Dataset.get("examples/events@latest", store=store)
    assert latest.version == "1.0.0"
    assert snapshot(latest.get_local_copy()) == {f"2024-06-01/{k}": v for k, v in landed.items()}
    assert latest.provenance["dag_id"] == "dsops_scheduled_ingestion"
    assert not Path(dsops_env).exists()  # the connection's store was used, not the fallback
