"""dsops: dataset versioning for ML pipelines.

Differential, content-addressed dataset versions on any object store, with lineage as
Parquet manifests, a local cache, a CLI, a web UI, Airflow operators and Prefect tasks.
"""

from __future__ import annotations

__version__ = "0.1.0"

from dsops.catalog import DatasetRef, VersionRecord
from dsops.dataset import Dataset
from dsops.drafts import ChangeSummary
from dsops.errors import DsopsError
from dsops.manifest import ManifestDiff
from dsops.progress import Callback
from dsops.store import Store

__all__ = [
    "Callback",
    "ChangeSummary",
    "Dataset",
    "DatasetRef",
    "DsopsError",
    "ManifestDiff",
    "Store",
    "VersionRecord",
    "__version__",
]
