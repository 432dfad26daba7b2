"""Example 2 — folder sync: mirror a folder into a new version, only when it changed.

Every hour: draft a child of ``latest``, sync the folder into it (added, modified and
removed files), and finalize with ``skip_if_unchanged=True``: when nothing changed the
finalize task is *skipped*, so no empty version and no Asset event are made (the unused
draft is left for garbage collection). The event goes through
``AssetAlias("dsops-folder-sync")``, the way to announce a dataset that is only known at
run time.

Params: ``folder`` (default ``$DSOPS_SYNC_FOLDER`` or ``<tmp>/dsops-examples/mirror``),
``generate_demo_data`` (default true: create the folder with two demo files when it does
not exist; an existing folder is never touched).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, AssetAlias, Param, task
from dsops_example_data import PROJECT, example_dir, generate_folder

from airflow_provider.operators import (
    CreateDatasetOperator,
    FinalizeDatasetOperator,
    SyncFolderOperator,
)

with DAG(
    dag_id="dsops_folder_sync",
    schedule="@hourly",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["dsops", "example"],
    params={
        "folder": Param(example_dir("DSOPS_SYNC_FOLDER", "mirror"), type="string"),
        "generate_demo_data": Param(True, type="boolean"),
    },
    doc_md=__doc__,
):

    @task
    def folder_to_mirror(params: dict | None = None) -> str:
        assert params is not None
        folder = Path(params["folder"])
        if not folder.exists() and params["generate_demo_data"]:
            count = generate_folder(folder)
            print(f"{folder} did not exist: created it with {count} DEMO files")
        return str(folder)

    folder = folder_to_mirror()
    create = CreateDatasetOperator(
        task_id="create", project=PROJECT, name="mirror", parents=["latest"]
    )
    sync = SyncFolderOperator(task_id="sync", version_id=create.output, folder=folder)
    FinalizeDatasetOperator(
        task_id="finalize",
        version_id=sync.output,
        skip_if_unchanged=True,
        outlets=[AssetAlias("dsops-folder-sync")],
    )
    folder >> create
