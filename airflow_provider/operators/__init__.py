"""dsops operators: create, change, finalize, fetch, prune and delete dataset versions."""

from __future__ import annotations

from airflow_provider.operators.base import DsopsBaseOperator
from airflow_provider.operators.create import CreateDatasetOperator
from airflow_provider.operators.fetch import FetchDatasetOperator
from airflow_provider.operators.files import (
    AddFilesOperator,
    RemoveFilesOperator,
    SyncFolderOperator,
)
from airflow_provider.operators.finalize import FinalizeDatasetOperator
from airflow_provider.operators.lifecycle import DeleteDatasetOperator, PruneDatasetOperator

__all__ = [
    "AddFilesOperator",
    "CreateDatasetOperator",
    "DeleteDatasetOperator",
    "DsopsBaseOperator",
    "FetchDatasetOperator",
    "FinalizeDatasetOperator",
    "PruneDatasetOperator",
    "RemoveFilesOperator",
    "SyncFolderOperator",
]
