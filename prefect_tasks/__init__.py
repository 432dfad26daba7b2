"""Prefect tasks and a Block for dsops dataset versioning.

This package is the ``prefect.collections`` entry point: importing it registers the
:class:`DsopsStore` block type, so ``prefect block register -m prefect_tasks`` finds it.

Example:
    ```python
    from prefect import flow
    from prefect_tasks import add_files, create_dataset, finalize_dataset

    @flow
    def ingest(folder: str) -> str:
        draft = create_dataset("vision", "cats", parents=["latest"])
        return finalize_dataset(add_files(draft, folder))
    ```
"""

from __future__ import annotations

from prefect_tasks.blocks import DsopsStore
from prefect_tasks.reporting import EVENT_FINALIZED, dataset_asset_key, dataset_resource_id
from prefect_tasks.tasks import (
    add_files,
    create_dataset,
    delete_dataset,
    fetch_dataset,
    finalize_dataset,
    prune_dataset,
    remove_files,
    resolve_version,
    sync_folder,
)

__all__ = [
    "EVENT_FINALIZED",
    "DsopsStore",
    "add_files",
    "create_dataset",
    "dataset_asset_key",
    "dataset_resource_id",
    "delete_dataset",
    "fetch_dataset",
    "finalize_dataset",
    "prune_dataset",
    "remove_files",
    "resolve_version",
    "sync_folder",
]
