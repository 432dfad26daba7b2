"""dsops: dataset versioning for ML pipelines.

Differential, content-addressed dataset versions on any object store, with lineage as
Parquet manifests, a local cache, a CLI, a web UI, Airflow operators and Prefect tasks.

The public names are imported on first use (PEP 562), so ``import dsops`` — and every
``dsops`` command that does not need them, such as ``dsops --version`` — does not pay
for pyarrow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from dsops.catalog import DatasetRef, VersionRecord
    from dsops.dataset import Dataset
    from dsops.drafts import ChangeSummary, Shard, ShardArg
    from dsops.errors import DsopsError
    from dsops.manifest import ManifestDiff
    from dsops.progress import Callback
    from dsops.store import Store

_HOMES = {
    "Callback": "dsops.progress",
    "ChangeSummary": "dsops.drafts",
    "Dataset": "dsops.dataset",
    "DatasetRef": "dsops.catalog",
    "DsopsError": "dsops.errors",
    "ManifestDiff": "dsops.manifest",
    "Shard": "dsops.drafts",
    "ShardArg": "dsops.drafts",
    "Store": "dsops.store",
    "VersionRecord": "dsops.catalog",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'dsops' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "Callback",
    "ChangeSummary",
    "Dataset",
    "DatasetRef",
    "DsopsError",
    "ManifestDiff",
    "Shard",
    "ShardArg",
    "Store",
    "VersionRecord",
    "__version__",
]
