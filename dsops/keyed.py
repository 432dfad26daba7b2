"""Drafts named by a caller's key, so that retrying "create" reopens the same draft.

An orchestrator retries a task that may have succeeded before it failed (worker lost,
timeout after the write). ``Dataset.create`` makes a new random id each time, so such a
retry would leave an orphan draft and hand downstream tasks a different one. Here the
draft id is derived from a key the caller chooses (Airflow: dag id, run id, task id, map
index): the first attempt creates it, a retry finds it and reopens it.

Slots: the id of slot ``n`` is ``uuid5(key#n)``. A slot whose draft was already
finalized is passed over, so re-running a whole pipeline run after it succeeded (Airflow
"clear") starts a fresh draft instead of failing on an immutable version.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dsops import layout
from dsops.catalog import DraftRecord, check_project_name
from dsops.catalog import semver as _semver
from dsops.dataset import Dataset, StoreLike
from dsops.errors import ConfigError, ObjectExists
from dsops.storage import dump_json
from dsops.store import Store

_NAMESPACE = uuid.UUID("5d1c2b0e-8f0a-4c3e-9a57-6d2f0c1e7b44")
_MAX_SLOTS = 1000


def keyed_draft_id(key: str, slot: int = 0) -> str:
    """The draft id for ``key`` in ``slot`` (32 hex characters, like any version id).

    Example:
        >>> keyed_draft_id("dag/run/task/-1") == keyed_draft_id("dag/run/task/-1")
        True
    """
    return uuid.uuid5(_NAMESPACE, f"{key}#{slot}").hex


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
    """Create the draft for ``key``, or reopen the open draft an earlier attempt created.

    Same arguments as :meth:`Dataset.create`, plus ``key``. Returns the draft and True
    when this call created it (False when it reopened an earlier one). A reopened draft
    keeps the parents resolved by the attempt that created it.

    Example:
        >>> import tempfile
        >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
        >>> first, created = create_keyed("run-1/create", "demo", "toy", store=s)
        >>> again, created_again = create_keyed("run-1/create", "demo", "toy", store=s)
        >>> first.id == again.id, created, created_again
        (True, True, False)
    """
    if not key:
        raise ConfigError("create_keyed needs a non-empty key.")
    opened = Store.coerce(store)
    check_project_name(project, name)
    if version is not None:
        _semver.parse(version)
    opened.ensure_format()
    for slot in range(_MAX_SLOTS):
        draft_id = keyed_draft_id(f"{project}/{name}:{key}", slot)
        if opened.catalog.find_version(draft_id) is not None:
            continue  # finalized by an earlier, successful run: start a new draft
        existing = opened.catalog.draft(draft_id)
        if existing is None:
            record = DraftRecord(
                id=draft_id,
                project=project,
                name=name,
                # Private to the SDK on purpose: same resolution as Dataset.create.
                parents=tuple(Dataset._resolve_parents(opened, project, name, parents)),
                description=description or "",
                tags=tuple(tags or ()),
                version=version,
            )
            try:
                opened.backend.put_if_absent(
                    layout.draft_key(draft_id), dump_json(record.to_dict())
                )
            except ObjectExists:
                existing = opened.catalog.draft(draft_id)  # a concurrent attempt won
            else:
                return Dataset(opened, record, None), True
        if existing is not None:
            return Dataset(opened, existing, None), False
    raise ConfigError(
        f"More than {_MAX_SLOTS} finalized drafts for key {key!r}: use a new key.", key=key
    )


__all__ = ["create_keyed", "keyed_draft_id"]
