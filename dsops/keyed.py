"""Retry-safe creation for orchestrators: ``create_keyed`` returns ``(draft, created)``.

An orchestrator retries a task that may have succeeded before it failed (worker lost,
timeout after the write). With a key derived from the task attempt's identity (Airflow:
dag id, run id, task id, map index; Prefect: the task run id), a retry reopens the draft
the first attempt created instead of leaving an orphan. See ``Dataset.create(key=...)``.
"""

from __future__ import annotations

from collections.abc import Sequence

from dsops.dataset import Dataset, StoreLike, keyed_draft_id
from dsops.errors import ConfigError


def create_keyed(
    key: str,
    project: str,
    name: str,
    parents: Sequence[str | Dataset] | str | Dataset | None = None,
    *,
    store: StoreLike = None,
    description: str = "",
    tags: Sequence[str] | None = None,
    version: str | None = None,
) -> tuple[Dataset, bool]:
    """``Dataset.create(..., key=key)`` and whether this call created the draft.

    Example:
        >>> import tempfile
        >>> from dsops import Store
        >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
        >>> first, created = create_keyed("run-1/create", "demo", "toy", store=s)
        >>> again, created_again = create_keyed("run-1/create", "demo", "toy", store=s)
        >>> first.id == again.id, created, created_again
        (True, True, False)
    """
    if not key:
        raise ConfigError("create_keyed needs a non-empty key.")
    ds = Dataset.create(
        project,
        name,
        parents,
        store=store,
        description=description,
        tags=tags,
        version=version,
        key=key,
    )
    return ds, ds.created


__all__ = ["create_keyed", "keyed_draft_id"]
