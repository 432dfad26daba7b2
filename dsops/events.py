"""The announcement of a finalized version that orchestrators attach to their events.

Airflow Asset events and Prefect events carry the same small JSON document, so a
downstream pipeline reads the version it was triggered by the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dsops.catalog import VersionRecord, version_dict


def version_event(
    record: VersionRecord, store_url: str, aliases: Iterable[str] = ()
) -> dict[str, Any]:
    """The version as a dict (``Dataset.to_dict``'s shape, docs/SHAPES.md) plus
    ``version_id`` (= ``id``, the key event consumers read) and ``store``.

    Example:
        >>> from dsops.catalog import VersionRecord
        >>> r = VersionRecord(id="ab" * 16, project="demo", name="toy", version="1.0.0")
        >>> event = version_event(r, "/tmp/store", ["latest"])
        >>> event["ref"], event["version_id"] == event["id"], event["aliases"]
        ('demo/toy@1.0.0', True, ['latest'])
    """
    return {**version_dict(record, aliases), "version_id": record.id, "store": store_url}


__all__ = ["version_event"]
