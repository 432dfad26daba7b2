"""The announcement of a finalized version that orchestrators attach to their events.

Airflow Asset events and Prefect events carry the same small JSON document, so a
downstream pipeline reads the version it was triggered by the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsops.catalog import VersionRecord


def version_event(
    record: VersionRecord, store_url: str, aliases: Sequence[str] | None = None
) -> dict[str, Any]:
    """A JSON-serializable summary of ``record``: ids, semver, counts, changes, store.

    Example:
        >>> from dsops.catalog import VersionRecord
        >>> r = VersionRecord(id="ab" * 16, project="demo", name="toy", version="1.0.0")
        >>> version_event(r, "/tmp/store")["ref"]
        'demo/toy@1.0.0'
    """
    event: dict[str, Any] = {
        "version_id": record.id,
        "version": record.version,
        "ref": record.ref,
        "project": record.project,
        "name": record.name,
        "parents": list(record.parents),
        "file_count": record.file_count,
        "total_size": record.total_size,
        "changes": {key: int(value) for key, value in record.changes.items()},
        "store": store_url,
    }
    if aliases is not None:
        event["aliases"] = list(aliases)
    return event


__all__ = ["version_event"]
