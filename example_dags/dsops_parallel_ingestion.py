"""Example 3 — parallel ingestion: many workers add shards to one draft, one finalize.

List the shard folders under ``shards_dir``, create one draft (child of ``latest``), add
each shard in its own mapped task (``AddFilesOperator.partial(...).expand(source=...)``)
— each writes its own part of the draft, so they never conflict — then finalize once:
one version holding every shard, under ``parts/``.

Params: ``shards_dir`` (default ``$DSOPS_SHARDS_DIR`` or ``<tmp>/dsops-examples/shards``),
``demo_shards`` (how many demo shards to write when the folder is empty; 0: none).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Param, task
from dsops_example_data import PROJECT, SHARDS, example_dir, generate_shards, is_empty

from airflow_provider.operators import (
    AddFilesOperator,
    CreateDatasetOperator,
    FinalizeDatasetOperator,
)

with DAG(
    dag_id="dsops_parallel_ingestion",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["dsops", "example"],
    params={
        "shards_dir": Param(example_dir("DSOPS_SHARDS_DIR", "shards"), type="string"),
        "demo_shards": Param(4, type="integer", minimum=0),
    },
    doc_md=__doc__,
):

    @task
    def list_shards(params: dict | None = None) -> list[str]:
        assert params is not None
        root = Path(params["shards_dir"])
        if is_empty(root) and params["demo_shards"]:
            count = generate_shards(root, int(params["demo_shards"]))
            print(
                f"{root} was empty: generated {count} DEMO files in {params['demo_shards']} shards"
            )
        shards = sorted(str(p) for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if not shards:
            raise ValueError(f"No shard folders under {root}.")
        return shards

    shards = list_shards()
    create = CreateDatasetOperator(
        task_id="create", project=PROJECT, name="shards", parents=["latest"]
    )
    added = AddFilesOperator.partial(
        task_id="add_shard", version_id=create.output, dataset_path="parts"
    ).expand(source=shards)
    finalize = FinalizeDatasetOperator(
        task_id="finalize", version_id=create.output, outlets=[SHARDS]
    )
    added >> finalize
