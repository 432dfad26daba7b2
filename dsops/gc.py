"""Garbage collection: remove what crashes and finished drafts leave behind.

Only unreferenced keys older than a grace period are removed, so a writer that is
still uploading (its part not yet written) never loses content:

- parts and records of drafts that were finalized (their manifest holds the rows);
- drafts abandoned for longer than the grace period (no write for that long);
- packs and objects that no manifest and no live draft part references;
- semantic version claims that point at a version that never became visible.

The race with writers, and how the grace period closes it. An add uploads content
first and writes the part that names it last; in between, that content is referenced
by nothing. Content the add uploads is new (its modified time is now), so gc leaves it
alone for the grace period — far longer than any add. Content the add *reuses* (the
same bytes already in the store, e.g. an orphan of a crashed add) may be old: the add
therefore renews it (``ObjectStore.refresh``: a touch, or a server-side copy onto
itself) before it writes its part, and gc heads each candidate again right before
deleting it, skipping it if renewed. What is left is the instant between gc's last look
and its delete; an add landing exactly then is caught by finalize, which checks that
every pack and object the new rows name exists before the commit point and refuses
with :class:`~dsops.errors.IntegrityError` ("add the files again") rather than commit
an unreadable version.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow.compute as pc

from dsops.catalog import version_id_in
from dsops.drafts.parts import read_parts
from dsops.errors import ConfigError, ObjectNotFound
from dsops.storage import ObjectInfo
from dsops.store import Store

DEFAULT_GRACE_SECONDS = 7 * 24 * 3600


@dataclass
class GcResult:
    """What a collection removed (or would remove, with ``dry_run``)."""

    dry_run: bool
    finalized_drafts: list[str] = field(default_factory=list)
    abandoned_drafts: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    freed_bytes: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "finalized_drafts": self.finalized_drafts,
            "abandoned_drafts": self.abandoned_drafts,
            "objects": len(self.objects),
            "claims": self.claims,
            "freed_bytes": self.freed_bytes,
        }


def check_grace(grace_seconds: float) -> None:
    """Refuse a grace period that is negative, NaN or infinite."""
    if not isinstance(grace_seconds, (int, float)) or isinstance(grace_seconds, bool):
        raise ConfigError(
            f"Grace period {grace_seconds!r} is not a number of seconds: pass e.g. "
            f"{DEFAULT_GRACE_SECONDS} (7 days).",
            grace_seconds=grace_seconds,
        )
    if not math.isfinite(grace_seconds) or grace_seconds < 0:
        raise ConfigError(
            f"Grace period {grace_seconds!r} s is not allowed: it must be a finite number "
            "of seconds ≥ 0 (a negative grace would delete live drafts and uploads in "
            "progress). Use e.g. 7d.",
            grace_seconds=grace_seconds,
        )


def _old(info: ObjectInfo, cutoff: float) -> bool:
    return 0.0 < info.modified < cutoff


def collect_garbage(
    store: Store, grace_seconds: float = DEFAULT_GRACE_SECONDS, dry_run: bool = False
) -> GcResult:
    """Remove unreferenced keys older than ``grace_seconds`` (see the module doc).

    Raises:
        ConfigError: ``grace_seconds`` is negative or not a finite number; a negative
            grace would count every live draft and fresh upload as abandoned.
    """
    check_grace(grace_seconds)
    backend = store.backend
    cutoff = time.time() - grace_seconds
    result = GcResult(dry_run=dry_run)
    finalized = set(store.catalog.all_version_ids())

    drafts: dict[str, list[ObjectInfo]] = {}
    for info in backend.list("drafts/"):
        drafts.setdefault(info.key.split("/")[1], []).append(info)
    live: list[str] = []
    doomed: list[ObjectInfo] = []
    for version_id, infos in drafts.items():
        if version_id in finalized:
            result.finalized_drafts.append(version_id)
            doomed.extend(infos)
        elif all(_old(i, cutoff) for i in infos):
            result.abandoned_drafts.append(version_id)
            doomed.extend(infos)
        else:
            live.append(version_id)

    referenced: set[str] = set()
    for version_id in finalized:
        table = store.manifests.table(version_id)
        referenced.update(str(x) for x in pc.unique(table.column("object")).to_pylist())
    for version_id in live:
        for _, table, _ in read_parts(backend, version_id):
            referenced.update(str(x) for x in pc.unique(table.column("object")).to_pylist())
    content: list[ObjectInfo] = []
    for prefix in ("packs/", "objects/"):
        for info in backend.list(prefix):
            if info.key not in referenced and _old(info, cutoff):
                content.append(info)

    for info in backend.list("names/"):
        try:
            owner = version_id_in(backend, info.key, backend.get_json(info.key))
        except ObjectNotFound:
            continue
        if owner not in finalized and owner not in live and _old(info, cutoff):
            result.claims.append(info.key)
            doomed.append(info)

    for info in content:
        # Looked at again just before deleting: a writer that reused it since the
        # listing has renewed it (see the module doc).
        if dry_run or _still_old(store, info.key, cutoff):
            result.objects.append(info.key)
            result.freed_bytes += info.size
            if not dry_run:
                backend.delete(info.key)

    if not dry_run:
        _delete(store, (info.key for info in doomed))
    return result


def _still_old(store: Store, key: str, cutoff: float) -> bool:
    try:
        return _old(store.backend.head(key), cutoff)
    except ObjectNotFound:
        return False


def _delete(store: Store, keys: Iterable[str]) -> None:
    for key in keys:
        store.backend.delete(key)


__all__ = ["DEFAULT_GRACE_SECONDS", "GcResult", "check_grace", "collect_garbage"]
