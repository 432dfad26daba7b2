"""dsops operators: create, change, finalize and fetch dataset versions."""

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

__all__ = [
    "AddFilesOperator",
    "CreateDatasetOperator",
    "DsopsBaseOperator",
    "FetchDatasetOperator",
    "FinalizeDatasetOperator",
    "RemoveFilesOperator",
    "SyncFolderOperator",
]
