"""Example 4 — downstream training, scheduled on the dataset's Asset.

Runs whenever ``dsops_scheduled_ingestion`` finalizes a version of ``examples/events``.
It trains on *exactly* the version the triggering Asset event announced (its
``extra["version_id"]``), not on whatever ``latest`` is by the time it runs, and writes
a model file that records that version id. The data is read in place: the fetch task
(``mode="uri"``) pins the version as a ``dsops://<id>/`` URL and downloads nothing, and
training reads the CSV files through the dsops fsspec filesystem (only those bytes).

A manual run has no triggering event: it uses the ``dataset`` param instead (default
``examples/events@latest``) and says so in the log. Params: ``model_dir`` (default
``$DSOPS_MODEL_DIR`` or ``<tmp>/dsops-examples/models``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import fsspec
from airflow.sdk import DAG, Param, XComArg, task
from dsops_example_data import EVENTS, example_dir

from airflow_provider.assets import version_from_events
from airflow_provider.operators import FetchDatasetOperator

with DAG(
    dag_id="dsops_training",
    schedule=[EVENTS],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["dsops", "example"],
    params={
        "dataset": Param("examples/events@latest", type="string"),
        "model_dir": Param(example_dir("DSOPS_MODEL_DIR", "models"), type="string"),
    },
    doc_md=__doc__,
):

    @task
    def triggering_version(triggering_asset_events=None, params: dict | None = None) -> str:
        """The version id carried by the triggering event, else the ``dataset`` param."""
        assert params is not None
        version_id = version_from_events(triggering_asset_events or {}, EVENTS)
        if version_id:
            print(f"Triggered by a new version of {EVENTS.uri}: {version_id}")
            return version_id
        print(f"No triggering event (manual run): using {params['dataset']}")
        return str(params["dataset"])

    fetch = FetchDatasetOperator(task_id="fetch", dataset=triggering_version(), mode="uri")

    @task
    def train(data_url: str, version_id: str, store_url: str, params: dict | None = None) -> dict:
        """A stand-in for training: count rows per label, record the data version."""
        assert params is not None
        fs = fsspec.filesystem("dsops", store=store_url)
        counts: dict[str, int] = {}
        files = sorted(fs.glob(data_url + "**/*.csv"))
        for path in files:
            with io.TextIOWrapper(fs.open(path, "rb"), newline="") as fh:
                for row in csv.DictReader(fh):
                    counts[row["label"]] = counts.get(row["label"], 0) + 1
        model = {
            "trained_on_version_id": version_id,
            "files": len(files),
            "label_counts": counts,
            "trained_at": datetime.now(timezone.utc).isoformat(),
        }
        out = Path(params["model_dir"]) / f"model-{version_id}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(model, indent=1))
        print(f"Model trained on dataset version {version_id}: {out}")
        return {"model": str(out), "trained_on_version_id": version_id}

    train(fetch.output, XComArg(fetch, key="version_id"), XComArg(fetch, key="store_url"))
