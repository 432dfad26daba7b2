"""Example 1 — scheduled ingestion: each day's new files become a child of ``latest``.

Every day: look in ``<landing_dir>/<YYYY-MM-DD>/`` (a local folder, or a URL prefix such
as ``s3://landing/incoming``), start a draft whose parent is the dataset's latest
version, add the day's files under ``<YYYY-MM-DD>/``, finalize, and point the ``daily``
alias at the result. Finalize emits an event on ``Asset("dsops://examples/events")``
that schedules ``dsops_training``. Then ``prune`` applies the retention policy: keep the
newest ``keep_last`` versions and every one finalized within ``keep_within``, plus the
ones an alias points at; the rest are deleted (their storage is reclaimed by gc).

Params: ``landing_dir`` (default ``$DSOPS_LANDING_DIR`` or ``<tmp>/dsops-examples/landing``),
``generate_demo_data`` (default true: write demo files into an empty local day folder,
logged as such; see ``dsops_example_data``), ``keep_last`` (default 7) and
``keep_within`` (default ``"30d"``; empty: no age rule). A day with no files is skipped:
no version, and no prune (the next day's run applies the policy).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Param, task
from airflow.sdk.exceptions import AirflowSkipException
from dsops_example_data import EVENTS, PROJECT, example_dir, generate_day, is_empty

from airflow_provider.operators import (
    AddFilesOperator,
    CreateDatasetOperator,
    FinalizeDatasetOperator,
    PruneDatasetOperator,
)
from dsops.drafts.url_sources import is_url

with DAG(
    dag_id="dsops_scheduled_ingestion",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["dsops", "example"],
    params={
        "landing_dir": Param(example_dir("DSOPS_LANDING_DIR", "landing"), type="string"),
        "generate_demo_data": Param(True, type="boolean"),
        "keep_last": Param(7, type="integer", minimum=0),
        "keep_within": Param("30d", type="string"),
    },
    doc_md=__doc__,
):

    @task
    def day_folder(ds: str | None = None, params: dict | None = None) -> str:
        """The day's landing location; demo files are written only into an empty local one."""
        assert ds is not None and params is not None
        landing = str(params["landing_dir"]).rstrip("/")
        if is_url(landing):
            return f"{landing}/{ds}/"
        folder = Path(landing) / ds
        if is_empty(folder) and params["generate_demo_data"]:
            count = generate_day(folder, ds)
            print(f"{folder} was empty: generated {count} DEMO files (generate_demo_data=true)")
        if is_empty(folder):
            raise AirflowSkipException(f"No files landed in {folder} for {ds}: nothing to ingest.")
        return str(folder)

    source = day_folder()
    create = CreateDatasetOperator(
        task_id="create",
        project=PROJECT,
        name="events",
        parents=["latest"],
        description="Daily ingestion of {{ ds }}",
        tags=["daily"],
    )
    add = AddFilesOperator(
        task_id="add", version_id=create.output, source=source, dataset_path="{{ ds }}"
    )
    # A re-run of a day whose files are already in `latest` makes no empty version and
    # triggers nothing downstream: finalize is skipped instead.
    finalize = FinalizeDatasetOperator(
        task_id="finalize",
        version_id=add.output,
        alias="daily",
        outlets=[EVENTS],
        skip_if_unchanged=True,
    )
    # Retention: the newest 7 and the last 30 days stay (and whatever `daily` points at).
    prune = PruneDatasetOperator(
        task_id="prune",
        project=PROJECT,
        name="events",
        keep_last="{{ params.keep_last }}",
        keep_within="{{ params.keep_within }}",
    )
    source >> create
    finalize >> prune
