"""Garbage collection: reclaim what deletes, crashes and finished drafts leave behind.

What counts as referenced (never removed): every pack and object named by the manifest
of a live version, by a part of a live draft, by the manifest of a parent of a live
draft (its base view), by the manifest of a version deleted less than the grace period
ago, and every metadata value named by a state document gc keeps. Everything else goes,
once older than the grace period:

- parts, seals and records of drafts that were finalized, or whose version was deleted
  (their manifest, or their tombstone, holds the record);
- drafts abandoned for longer than the grace period (no write to the draft or to its
  state document for that long), with their state document;
- packs and objects nothing above references;
- the manifest and state document of a version deleted longer than the grace period ago
  — the manifest is kept while a live version or draft names it as a parent (it is
  small, and a child's diff reads it), but its content counts only for drafts;
- semantic version claims of versions that never became visible. A claim of a deleted
  version (one with a tombstone) is never removed: a label is never reused.

A delete interrupted after its tombstone (its record still there) is completed first,
by the same code a re-run of ``delete`` uses. A pack is all or nothing: one that still
holds live rows is kept whole, and the dead bytes inside such packs are reported as
``held_bytes``.

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
an unreadable version. ``set_metadata`` is the same race: it stores the value (new, or
renewed when reused) before its compare-and-swap of the state document names it.

Deletes race gc too. gc lists ``versions/`` before ``deleted/``, and a deleted version
keeps counting as referenced until its tombstone is older than the grace period, so a
version deleted while gc runs is seen either live or freshly deleted — both keep its
content — and a draft created from it just before the delete (its parent was live then)
keeps it too. Only a version deleted longer than the grace period ago stops counting,
and by then no new draft can name it (drafts refuse deleted parents).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from dsops import layout
from dsops.catalog import is_version_id, version_id_in
from dsops.catalog.lifecycle import delete_version
from dsops.catalog.records import VersionRecord, read_many
from dsops.catalog.state import read_state
from dsops.drafts.parts import read_parts
from dsops.errors import ConfigError, ObjectNotFound, VersionDeleted
from dsops.storage import ObjectInfo
from dsops.store import Store

DEFAULT_GRACE_SECONDS = 7 * 24 * 3600
_READERS = 8  # manifests and parts read in parallel (Parquet decoding releases the GIL)
_BATCH = 512  # tables (or _BATCH_ROWS rows) whose references are collected together
_BATCH_ROWS = 1_000_000
_RANGES = pa.schema(
    [
        pa.field("object", pa.string(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("length", pa.int64(), nullable=False),
    ]
)


@dataclass
class GcResult:
    """What a collection removed (or would remove, with ``dry_run``).

    ``held_bytes``: dead bytes inside the ``held_packs`` packs that also hold live rows
    (a pack is removed whole or not at all).
    """

    dry_run: bool
    finalized_drafts: list[str] = field(default_factory=list)
    abandoned_drafts: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    deleted_drafts: list[str] = field(default_factory=list)
    deleted_manifests: list[str] = field(default_factory=list)
    kept_manifests: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    rolled_forward: list[str] = field(default_factory=list)
    held_bytes: int = 0
    held_packs: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "finalized_drafts": self.finalized_drafts,
            "abandoned_drafts": self.abandoned_drafts,
            "deleted_drafts": self.deleted_drafts,
            "objects": len(self.objects),
            "claims": self.claims,
            "freed_bytes": self.freed_bytes,
            "held_bytes": self.held_bytes,
            "held_packs": self.held_packs,
            "deleted_manifests": self.deleted_manifests,
            "kept_manifests": self.kept_manifests,
            "states": len(self.states),
            "rolled_forward": self.rolled_forward,
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


def _ids(infos: Iterable[ObjectInfo], prefix: str) -> dict[str, ObjectInfo]:
    """``<prefix><id>.json`` keys → id → info (other keys are not ours: ignored)."""
    found = {}
    for info in infos:
        version_id = info.key[len(prefix) : -len(".json")]
        if info.key.endswith(".json") and is_version_id(version_id):
            found[version_id] = info
    return found


@dataclass
class _Survey:
    """What the store holds, sorted into live and dead (read only, nothing removed)."""

    live: dict[str, VersionRecord]  # live version id → record
    tombstones: dict[str, ObjectInfo]  # deleted id → its tombstone
    recent: set[str]  # deleted less than the grace period ago
    interrupted: list[str]  # tombstone and record both there
    drafts: dict[str, list[ObjectInfo]]  # every listed draft's keys
    live_drafts: list[str]
    draft_parents: set[str]  # parents of live drafts (their base views)
    states: dict[str, ObjectInfo]

    def dead(self) -> set[str]:
        """Deleted longer than the grace period ago."""
        return set(self.tombstones) - self.recent

    def dead_manifests(self) -> set[str]:
        """Dead, and no parent of a live version or draft (whose diff reads it)."""
        parents = {p for r in self.live.values() for p in r.parents} | self.draft_parents
        return self.dead() - parents


def _survey(store: Store, cutoff: float, result: GcResult) -> _Survey:
    backend = store.backend
    # versions/ is listed before deleted/: see the module doc (deletes racing gc).
    versions = _ids(backend.list(layout.VERSIONS_PREFIX), layout.VERSIONS_PREFIX)
    tombstones = _ids(backend.list(layout.DELETED_PREFIX), layout.DELETED_PREFIX)
    interrupted = sorted(i for i in versions if i in tombstones)
    live_ids = [i for i in versions if i not in tombstones]
    live = {r.id: r for r in store.catalog.versions(live_ids)}
    recent = {i for i, info in tombstones.items() if not _old(info, cutoff)}
    states = _ids(backend.list(layout.STATE_PREFIX), layout.STATE_PREFIX)

    drafts: dict[str, list[ObjectInfo]] = {}
    for info in backend.list("drafts/"):
        drafts.setdefault(info.key.split("/")[1], []).append(info)
    live_drafts: list[str] = []
    for version_id, infos in drafts.items():
        activity = [*infos, *([states[version_id]] if version_id in states else [])]
        if version_id in live:
            result.finalized_drafts.append(version_id)
        elif version_id in tombstones:
            result.deleted_drafts.append(version_id)
        elif all(_old(i, cutoff) for i in activity):
            result.abandoned_drafts.append(version_id)
        else:
            live_drafts.append(version_id)
    draft_parents: set[str] = set()
    for draft in read_many(store.catalog.draft, live_drafts):
        draft_parents.update(draft.parents if draft is not None else ())
    return _Survey(
        live, tombstones, recent, interrupted, drafts, live_drafts, draft_parents, states
    )


class _References:
    """The keys live rows name, and the distinct pack ranges they use.

    Tables are taken in batches: pyarrow's per-call cost dominates on small manifests.
    """

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self._ranges: list[pa.Table] = []
        self._pending: list[pa.Table] = []
        self._rows = 0

    def add(self, table: pa.Table) -> None:
        ranges = table.select(["object", "offset", "length"])
        self._pending.append(ranges if ranges.schema == _RANGES else ranges.cast(_RANGES))
        self._rows += table.num_rows
        if len(self._pending) >= _BATCH or self._rows >= _BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        batch = pa.concat_tables(self._pending)
        self._pending, self._rows = [], 0
        objects = batch.column("object")
        self.keys.update(str(x) for x in pc.unique(objects).to_pylist() if x)
        packed = batch.filter(pc.starts_with(objects, "packs/"))
        merged = pa.concat_tables([*self._ranges, packed])
        self._ranges = [merged.group_by(["object", "offset", "length"]).aggregate([])]

    def live_bytes(self) -> dict[str, int]:
        """pack key → bytes of its distinct ranges that live rows use."""
        self._flush()
        if not self._ranges:
            return {}
        sums = self._ranges[0].group_by("object").aggregate([("length", "sum")])
        return dict(zip(sums.column("object").to_pylist(), sums.column("length_sum").to_pylist()))


def _parallel(read: Callable[[str], list[pa.Table]], ids: Iterable[str], refs: _References) -> None:
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        for tables in pool.map(read, ids):
            for table in tables:
                refs.add(table)


def _references(store: Store, survey: _Survey, result: GcResult) -> _References:
    """Everything live rows and kept metadata name (see the module doc)."""
    refs = _References()
    counted = (survey.recent | survey.draft_parents) & set(survey.tombstones)
    found = read_many(store.catalog.tombstone, sorted(counted))
    deleted = {r.id: r for r in found if r is not None}
    manifests = {**survey.live, **deleted}

    def manifest(version_id: str) -> list[pa.Table]:
        return [store.manifests.table(version_id, manifests[version_id].manifest_hash or "")]

    def parts(version_id: str) -> list[pa.Table]:
        return [table for _, table, _ in read_parts(store.backend, version_id)]

    _parallel(manifest, sorted(manifests), refs)
    _parallel(parts, survey.live_drafts, refs)
    kept = set(survey.states) - survey.dead() - set(result.abandoned_drafts)
    for state in read_many(lambda i: read_state(store.backend, i), sorted(kept)):
        refs.keys.update(entry.object for entry in state.metadata.values())
    return refs


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
    survey = _survey(store, cutoff, result)
    result.rolled_forward = list(survey.interrupted)
    if not dry_run:
        for version_id in survey.interrupted:
            try:
                delete_version(store.catalog, version_id)
            except VersionDeleted:
                pass  # completed meanwhile by a concurrent delete
    refs = _references(store, survey, result)

    doomed: list[str] = []
    for version_id in [*result.finalized_drafts, *result.deleted_drafts, *result.abandoned_drafts]:
        doomed.extend(info.key for info in survey.drafts[version_id])
    _plan_deleted(store, survey, result, doomed)
    _plan_claims(store, survey, cutoff, result, doomed)

    content: list[ObjectInfo] = []
    live_bytes = refs.live_bytes()
    for prefix in ("packs/", "objects/"):
        for info in backend.list(prefix):
            if info.key in refs.keys:
                used = min(live_bytes.get(info.key, info.size), info.size)
                if used < info.size:
                    result.held_bytes += info.size - used
                    result.held_packs += 1
            elif _old(info, cutoff):
                content.append(info)
    for info in content:
        # Looked at again just before deleting: a writer that reused it since the
        # listing has renewed it (see the module doc).
        if dry_run or _still_old(store, info.key, cutoff):
            result.objects.append(info.key)
            result.freed_bytes += info.size
            if not dry_run:
                backend.delete(info.key)

    if not dry_run:
        _delete(store, doomed)
    return result


def _plan_deleted(store: Store, survey: _Survey, result: GcResult, doomed: list[str]) -> None:
    """Manifests and states of versions deleted longer than the grace period ago."""
    present = {
        k[len("manifests/") : -len(".parquet")] for k in store.backend.list_keys("manifests/")
    }
    dead_manifests = survey.dead_manifests()
    for version_id in sorted(survey.dead() & present):
        if version_id in dead_manifests:
            result.deleted_manifests.append(version_id)
            doomed.append(layout.manifest_key(version_id))
        else:
            result.kept_manifests.append(version_id)
    # States of dead versions and abandoned drafts: their metadata was not counted.
    gone = (survey.dead() | set(result.abandoned_drafts)) & set(survey.states)
    for version_id in sorted(gone):
        result.states.append(version_id)
        doomed.append(layout.state_key(version_id))


def _plan_claims(
    store: Store, survey: _Survey, cutoff: float, result: GcResult, doomed: list[str]
) -> None:
    """Claims of versions that never became visible (a deleted one's claim stays).

    A live record's own claim is not read: labels are claimed create-only before the
    record is written and never reused, so that key names that record.
    """
    store.catalog.load_renames()
    own = {
        layout.name_key(*store.catalog.location(r.project, r.name), r.version)
        for r in survey.live.values()
    }
    candidates = [i for i in store.backend.list("names/") if i.key not in own]
    keep = set(survey.live) | set(survey.tombstones) | set(survey.live_drafts)

    def owner(info: ObjectInfo) -> str | None:
        try:
            return version_id_in(store.backend, info.key, store.backend.get_json(info.key))
        except ObjectNotFound:
            return None

    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        owners = list(pool.map(owner, candidates))
    for info, version_id in zip(candidates, owners):
        if version_id is not None and version_id not in keep and _old(info, cutoff):
            result.claims.append(info.key)
            doomed.append(info.key)


def _still_old(store: Store, key: str, cutoff: float) -> bool:
    try:
        return _old(store.backend.head(key), cutoff)
    except ObjectNotFound:
        return False


def _delete(store: Store, keys: Iterable[str]) -> None:
    for key in keys:
        store.backend.delete(key)


__all__ = ["DEFAULT_GRACE_SECONDS", "GcResult", "check_grace", "collect_garbage"]
