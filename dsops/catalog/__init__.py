"""The catalog layer: version records, references, semantic versions, aliases, lineage."""

from __future__ import annotations

from dsops.catalog.catalog import AliasMove, Catalog, Deletion, version_id_in
from dsops.catalog.records import (
    DraftRecord,
    VersionRecord,
    check_project_name,
    draft_dict,
    is_version_id,
    new_version_id,
    now_iso,
    version_dict,
)
from dsops.catalog.refs import (
    LATEST,
    URL_SCHEME,
    DatasetRef,
    check_alias,
    dataset_url,
    parse_dataset_url,
    parse_version_url,
    version_url,
)

__all__ = [
    "LATEST",
    "URL_SCHEME",
    "AliasMove",
    "Catalog",
    "DatasetRef",
    "Deletion",
    "DraftRecord",
    "VersionRecord",
    "check_alias",
    "check_project_name",
    "dataset_url",
    "draft_dict",
    "is_version_id",
    "new_version_id",
    "now_iso",
    "parse_dataset_url",
    "parse_version_url",
    "version_dict",
    "version_id_in",
    "version_url",
]
