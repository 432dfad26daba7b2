"""Manifests: the Parquet file table of a version, and vectorized operations on it."""

from __future__ import annotations

from dsops.manifest.io import (
    FORMAT_METADATA_VERSION,
    read_manifest,
    read_part,
    write_manifest,
    write_part,
)
from dsops.manifest.ops import (
    ManifestDiff,
    apply_parts,
    check_part,
    diff,
    last_per_path,
    merge_parents,
    part_numbers,
    select,
    select_part,
    sort_by_path,
    total_size,
)
from dsops.manifest.schema import (
    COLUMNS,
    MANIFEST_SCHEMA,
    PART_SCHEMA,
    empty_manifest,
    empty_part,
)

__all__ = [
    "COLUMNS",
    "FORMAT_METADATA_VERSION",
    "MANIFEST_SCHEMA",
    "PART_SCHEMA",
    "ManifestDiff",
    "apply_parts",
    "check_part",
    "diff",
    "empty_manifest",
    "empty_part",
    "last_per_path",
    "merge_parents",
    "part_numbers",
    "read_manifest",
    "read_part",
    "select",
    "select_part",
    "sort_by_path",
    "total_size",
    "write_manifest",
    "write_part",
]

from dsops.manifest.loader import ManifestLoader

__all__ += ["ManifestLoader"]
