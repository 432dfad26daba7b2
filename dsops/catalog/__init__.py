"""The catalog layer: version records, references, semantic versions, aliases, lineage."""

from __future__ import annotations

from dsops.catalog.catalog import AliasMove, Catalog, version_id_in
from dsops.catalog.records import (
    DraftRecord,
    VersionRecord,
    check_project_name,
    is_version_id,
    new_version_id,
    now_iso,
)
from dsops.catalog.refs import LATEST, DatasetRef, check_alias

__all__ = [
    "LATEST",
    "AliasMove",
    "Catalog",
    "DatasetRef",
    "DraftRecord",
    "VersionRecord",
    "check_alias",
    "check_project_name",
    "is_version_id",
    "new_version_id",
    "now_iso",
    "version_id_in",
]
