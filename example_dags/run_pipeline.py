"""Run the ingestion → training example end to end, locally, with no server to start.

    python example_dags/run_pipeline.py [--days 2] [--store PATH] [--keep]

1. Makes a throw-away Airflow home (SQLite, ``airflow db migrate``) whose DAGs folder
   is this folder, and a throw-away landing folder.
2. Runs ``dsops_scheduled_ingestion`` with ``dag.test()`` once per day for the last
   ``--days`` days: each run drafts a child of ``latest``, adds that day's files (demo
   files, generated because the landing folder is empty), finalizes and emits an Asset
   event on ``dsops://examples/events``.
3. Runs ``dsops_training`` the way the scheduler would after that event: its run
   consumes the pending Asset events (``airflow_provider.testing``), so the training
   task reads the version id from ``triggering_asset_events``.
4. Prints the versions with their lineage and provenance, and the version the model
   recorded — which must be the one the last ingestion run made.

Datasets go to ``--store``, else ``$DSOPS_STORE``, else the embedded local store
(``dsops`` with no configuration). Exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def prepare_airflow_home(home: Path) -> None:
    """Environment for a private Airflow: must be set before airflow is imported."""
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(HERE),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
    )
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(dag_id: str, **kwargs: Any) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider.testing import dag_test

    dag = DagBag(dag_folder=str(HERE / f"{dag_id}.py")).dags[dag_id]
    result = dag_test(dag, **kwargs)
    if str(result.state) != "success":
        raise SystemExit(f"{dag_id} ended {result.state}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=2, help="ingestion runs, one per day")
    parser.add_argument("--store", help="dataset store (default: DSOPS_STORE or embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary Airflow home")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dsops-pipeline-"))
    if args.store:
        os.environ["DSOPS_STORE"] = args.store
    os.environ["DSOPS_LANDING_DIR"] = str(work / "landing")
    os.environ["DSOPS_MODEL_DIR"] = str(work / "models")
    print(f"Airflow home and landing folder: {work}")
    prepare_airflow_home(work / "airflow")

    from dsops import Dataset

    def latest_id() -> str | None:
        try:
            return Dataset.get("examples/events@latest").id
        except LookupError:
            return None

    before = latest_id()
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    made = []
    for back in range(args.days - 1, -1, -1):
        day = today - timedelta(days=back)
        print(f"\n== dsops_scheduled_ingestion for {day.date()}")
        run("dsops_scheduled_ingestion", logical_date=day)
        made.append(latest_id())
    if made[-1] == before:
        # Those days were ingested by an earlier invocation: nothing new, no empty version.
        print(
            f"\nNo new version: the files of these days are already in {before}; "
            "finalize was skipped, so no Asset event and no training run. "
            "Use --store with a fresh folder to see the whole pipeline again."
        )
        return 0

    print("\n== dsops_training, triggered by the Asset event")
    consumed: list[dict[str, Any]] = []
    run("dsops_training", asset_events=consumed)
    if not consumed:
        raise SystemExit("The training run consumed no Asset event.")
    print(f"Consumed {len(consumed)} event(s); last: {consumed[-1]['extra']['ref']}")

    latest = Dataset.get("examples/events@latest")
    print(f"\n== Lineage of {latest.ref} in {latest.store.url}")
    for record in latest.lineage():
        changes = {k: v for k, v in record.changes.items() if not k.endswith("bytes")}
        print(
            f"  {record.version:>8}  {record.id}  parents={list(record.parents) or '-'}  "
            f"files={record.file_count}  changes={changes}"
        )
        print(
            f"            provenance: {record.provenance.get('dag_id')} "
            f"{record.provenance.get('run_id')} task={record.provenance.get('task_id')}"
        )

    model_path = Path(os.environ["DSOPS_MODEL_DIR"]) / f"model-{made[-1]}.json"
    if not model_path.exists():
        raise SystemExit(f"No model file for {made[-1]} in {model_path.parent}.")
    model = json.loads(model_path.read_text())
    print(f"\n== Model {model_path}\n  trained on version {model['trained_on_version_id']}")
    if model["trained_on_version_id"] != made[-1]:
        raise SystemExit("The model was not trained on the version the last run made.")
    print("OK: training used exactly the version announced by the ingestion's Asset event.")
    if args.keep:
        print(f"Kept {work}")
    else:
        import shutil

        shutil.rmtree(work / "airflow", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
