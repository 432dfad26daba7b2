"""Example 3 — parallel ingestion: many workers add shards to one draft, one finalize.

Plan the work under ``shards_dir``, create one draft (child of ``latest``), add each
piece in its own mapped task (``AddFilesOperator.partial(...).expand_kwargs(...)``) —
each writes its own part of the draft, so they never conflict — then finalize once: one
version holding everything, under ``parts/``.

The pieces are either the **shard sub-folders** of ``shards_dir`` (each one's contents
under ``parts/``), or — when it has none, or when ``shards`` > 0 — ``shards`` **hash
shards of the whole folder** (``shard=[i, n]``: a stable 1/n of its files by path, every
file under ``parts/<its path>``), so one big landing folder fans out to n workers with
no pre-splitting. A retried shard uploads nothing it already added.

Params: ``shards_dir`` (default ``$DSOPS_SHARDS_DIR`` or ``<tmp>/dsops-examples/shards``),
``demo_shards`` (how many demo shard folders to write when the folder is empty; 0: none),
``shards`` (0: one task per shard sub-folder, or 4 hash shards when there is none;
n > 0: always n hash shards of the whole folder).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task
from dsops_example_data import PROJECT, SHARDS, example_dir, generate_shards, is_empty

from airflow_provider.operators import (
    AddFilesOperator,
    CreateDatasetOperator,
    FinalizeDatasetOperator,
)

# Hash shards of a landing folder that has no shard sub-folders (and ``shards`` is 0).
DEFAULT_SPLIT = 4

with DAG(
    dag_id="dsops_parallel_ingestion",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["dsops", "example"],
    params={
        "shards_dir": Param(example_dir("DSOPS_SHARDS_DIR", "shards"), type="string"),
        "demo_shards": Param(4, type="integer", minimum=0),
        "shards": Param(0, type="integer", minimum=0),
    },
    doc_md=__doc__,
):

    @task
    def plan_shards(params: dict | None = None) -> list[dict[str, Any]]:
        """One ``{source, shard}`` per mapped add (``shard``: ``[i, n]`` or None)."""
        assert params is not None
        root = Path(params["shards_dir"])
        if is_empty(root) and params["demo_shards"]:
            count = generate_shards(root, int(params["demo_shards"]))
            print(
                f"{root} was empty: generated {count} DEMO files in {params['demo_shards']} shards"
            )
        if is_empty(root):
            raise ValueError(f"No files under {root}.")
        folders = sorted(str(p) for p in root.iterdir() if p.is_dir())
        split = int(params["shards"]) or (0 if folders else DEFAULT_SPLIT)
        if split:
            print(f"Splitting {root} into {split} hash shards")
            return [{"source": str(root), "shard": [i, split]} for i in range(split)]
        return [{"source": folder, "shard": None} for folder in folders]

    pieces = plan_shards()
    create = CreateDatasetOperator(
        task_id="create", project=PROJECT, name="shards", parents=["latest"]
    )
    added = AddFilesOperator.partial(
        task_id="add_shard", version_id=create.output, dataset_path="parts"
    ).expand_kwargs(pieces)
    finalize = FinalizeDatasetOperator(
        task_id="finalize", version_id=create.output, outlets=[SHARDS]
    )
    added >> finalize
