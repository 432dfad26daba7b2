"""A dataset's life after birth: delete, prune, rename and move (docs/FORMAT.md).

Each verb has one create-only write as its commit point (a tombstone, a rename marker)
and steps after it that any later call completes, so a crash leaves either the old
state or a state the next call (or a reader) rolls forward.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from dsops import layout
from dsops.catalog import listing, semver
from dsops.catalog.records import VersionRecord, check_project_name, now_iso
from dsops.catalog.state import read_state
from dsops.errors import (
    ConfigError,
    CorruptRecord,
    DatasetNotFound,
    DatasetRenamed,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    ProtectedVersion,
    RenameConflict,
    VersionDeleted,
    VersionNotFound,
)
from dsops.storage import dump_json

if TYPE_CHECKING:
    from dsops.catalog.catalog import Catalog, Rename

_HISTORY_LIMIT = 100
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


# --- delete ---------------------------------------------------------------------------


def children(catalog: Catalog, version_id: str) -> list[VersionRecord]:
    """Live versions (of any dataset) that name ``version_id`` as a parent."""
    return [r for r in catalog.iter_versions() if version_id in r.parents]


def delete_version(
    catalog: Catalog, version_id: str, *, force: bool = False, reason: str = ""
) -> VersionRecord:
    """Delete one finalized version (the steps of "Delete" in docs/FORMAT.md).

    Raises:
        VersionDeleted: it was deleted already.
        VersionNotFound: no such version (a draft is refused the same way).
        ProtectedVersion: it is published, a parent, or aliased, and ``force`` is False.
    """
    store = catalog.store
    record = catalog.tombstone(version_id)
    if record is None:
        try:
            record = catalog.version(version_id)
        except VersionDeleted:
            raise
        except VersionNotFound:
            if catalog.draft(version_id) is not None:
                raise VersionNotFound(
                    f"{version_id} is an open draft, not a finalized version: nothing to "
                    "delete (`dsops gc` removes drafts abandoned for the grace period).",
                    version_id=version_id,
                ) from None
            raise
        if not force:
            _check_deletable(catalog, record)
        body = {"record": record.to_dict(), "deleted_at": now_iso(), "forced": force}
        if reason:
            body["reason"] = reason
        try:
            store.put_if_absent(layout.tombstone_key(version_id), dump_json(body))
        except ObjectExists:
            pass  # a concurrent delete committed first: complete it
    elif not store.exists(layout.version_key(version_id)):
        raise catalog.deleted_error(record)  # deleted, and every step done
    # Steps 3 and 4 (a re-run of an interrupted delete starts here).
    _release_aliases(catalog, record)
    store.delete(layout.version_key(version_id))
    catalog.forget(version_id)
    listing.refresh(catalog, record.project, record.name, [version_id])
    return record


def _check_deletable(catalog: Catalog, record: VersionRecord) -> None:
    state = read_state(catalog.store, record.id)
    if state.published:
        raise ProtectedVersion(
            f"{record.ref} is published (since {state.published_at}): pass force=True "
            "(`--force`) to delete it anyway.",
            version_id=record.id,
        )
    kids = children(catalog, record.id)
    if kids:
        names = ", ".join(k.ref for k in kids[:3]) + (" …" if len(kids) > 3 else "")
        raise ProtectedVersion(
            f"{record.ref} is the parent of {len(kids)} version(s) ({names}): they keep "
            "reading back exactly if it goes; pass force=True (`--force`) to delete it.",
            version_id=record.id,
            children=[k.id for k in kids],
        )
    aliases = sorted(
        a
        for a, v in catalog.aliases(record.project, record.name).items()
        if v == record.id and a != "latest"
    )
    if aliases:
        raise ProtectedVersion(
            f"{record.ref} is what alias(es) {', '.join(aliases)} point at: move them "
            "first (`dsops alias`), or pass force=True (`--force`) to clear them.",
            version_id=record.id,
            aliases=aliases,
        )


def _release_aliases(catalog: Catalog, record: VersionRecord) -> None:
    """Move ``latest`` back to the highest live label; clear other aliases of ``record``."""
    for alias, owner in catalog.aliases(record.project, record.name).items():
        if owner != record.id:
            continue
        target = highest_live(catalog, record.project, record.name, exclude={record.id})
        repoint_alias(catalog, record, alias, target if alias == "latest" else None)


def highest_live(
    catalog: Catalog, project: str, name: str, exclude: Iterable[str] = ()
) -> VersionRecord | None:
    """The live version with the highest semantic version of one dataset."""
    skip = set(exclude) | catalog.deleted_ids()
    best: VersionRecord | None = None
    for version_id in catalog.dataset_version_ids(project, name):
        if version_id in skip:
            continue
        record = catalog.find_version(version_id)
        if record is None or not semver.is_semver(record.version):
            continue
        if best is None or semver.parse(record.version) > semver.parse(best.version):
            best = record
    return best


def repoint_alias(
    catalog: Catalog, current: VersionRecord, alias: str, target: VersionRecord | None
) -> bool:
    """Compare-and-swap ``alias`` from ``current`` to ``target`` (None: clear it).

    Does nothing (False) when the alias no longer points at ``current``.
    """
    store = catalog.store
    key = layout.ref_key(current.project, current.name, alias)
    while True:
        try:
            doc, etag = store.get_json_with_etag(key)
        except ObjectNotFound:
            return False
        if not isinstance(doc, dict) or doc.get("version_id") != current.id:
            return False
        now = now_iso()
        if target is None:
            entry: dict[str, Any] = {"version_id": None, "version": None, "set_at": now}
            body = {**entry, "cleared_at": now}
        else:
            entry = {"version_id": target.id, "version": target.version, "set_at": now}
            body = dict(entry)
        history = [*doc.get("history", []), entry][-_HISTORY_LIMIT:]
        try:
            store.put_if_match(key, dump_json({**body, "history": history}), etag)
            return True
        except (PreconditionFailed, ObjectNotFound):
            continue


def delete_dataset(
    catalog: Catalog, project: str, name: str, *, force: bool = False
) -> list[VersionRecord]:
    """Delete every live version of ``project/name`` (needs ``force``), newest first."""
    project, name = catalog.location(project, name)
    records = list(catalog.iter_versions(project, name))
    if not records:
        raise DatasetNotFound(
            f"Dataset {project}/{name} has no live version in store {catalog.store.url}: "
            "nothing to delete.",
            project=project,
            name=name,
        )
    if not force:
        raise ProtectedVersion(
            f"Deleting all {len(records)} version(s) of {project}/{name} needs force=True "
            "(`--force`).",
            project=project,
            name=name,
        )
    deleted = []
    for record in sorted(records, key=_semver_key, reverse=True):
        deleted.append(delete_version(catalog, record.id, force=True, reason="entire dataset"))
    for alias, owner in catalog.aliases(project, name).items():
        gone = catalog.tombstone(owner)
        if gone is not None:
            repoint_alias(catalog, gone, alias, None)
    return deleted


def _semver_key(record: VersionRecord) -> tuple[Any, ...]:
    parsed = semver.parse(record.version) if semver.is_semver(record.version) else None
    return (parsed is not None, parsed or (0,), record.finalized_at)


# --- prune ----------------------------------------------------------------------------


def parse_duration(value: timedelta | str | float | int) -> timedelta:
    """``timedelta``, seconds, or text like ``"30d"``, ``"12h"``, ``"90m"``, ``"2w"``."""
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = timedelta(seconds=value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(
                f"Invalid duration {value!r}: use a number and a unit s, m, h, d or w "
                "(e.g. '30d', '12h').",
                value=str(value),
            )
        result = timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    if result < timedelta(0):
        raise ConfigError(f"Invalid duration {value!r}: it must not be negative.")
    return result


@dataclass(frozen=True)
class PrunePlan:
    """Which versions a retention policy keeps and deletes, and why each is kept."""

    delete: list[VersionRecord]
    keep: dict[str, str]  # version id → reason


def prune_plan(
    catalog: Catalog,
    project: str,
    name: str,
    *,
    keep_last: int | None = None,
    keep_within: timedelta | str | float | None = None,
    keep_aliases: bool = True,
    now: datetime | None = None,
) -> PrunePlan:
    """The retention policy of "Prune" in docs/FORMAT.md, applied to one dataset."""
    if keep_last is None and keep_within is None:
        raise ConfigError(
            "prune needs keep_last= and/or keep_within= (e.g. keep_last=7, "
            "keep_within='30d'): without either it would delete every version.",
        )
    if keep_last is not None and (
        not isinstance(keep_last, int) or isinstance(keep_last, bool) or keep_last < 0
    ):
        raise ConfigError(f"keep_last must be a whole number ≥ 0, not {keep_last!r}.")
    window = parse_duration(keep_within) if keep_within is not None else None
    project, name = catalog.location(project, name)
    records = sorted(catalog.iter_versions(project, name), key=_semver_key, reverse=True)
    if not records and not catalog.labels(project, name):
        raise DatasetNotFound(
            f"Dataset {project}/{name} does not exist in store {catalog.store.url}.",
            project=project,
            name=name,
        )
    aliased: dict[str, list[str]] = {}
    for alias, owner in catalog.aliases(project, name).items():
        aliased.setdefault(owner, []).append(alias)
    cutoff = (now or datetime.now(timezone.utc)) - window if window is not None else None
    keep: dict[str, str] = {}
    delete: list[VersionRecord] = []
    for rank, record in enumerate(records):
        if keep_last is not None and rank < keep_last:
            keep[record.id] = f"among the newest {keep_last}"
        elif cutoff is not None and _finalized(record) >= cutoff:
            keep[record.id] = f"finalized within {keep_within}"
        elif keep_aliases and record.id in aliased:
            keep[record.id] = "alias " + ", ".join(sorted(aliased[record.id]))
        elif read_state(catalog.store, record.id).published:
            keep[record.id] = "published"
        else:
            delete.append(record)
    return PrunePlan(delete=sorted(delete, key=_semver_key), keep=keep)


def _finalized(record: VersionRecord) -> datetime:
    try:
        moment = datetime.fromisoformat(record.finalized_at)
    except ValueError:
        return datetime.max.replace(tzinfo=timezone.utc)  # unknown age: never "old"
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --- rename and move ------------------------------------------------------------------


def rename_dataset(
    catalog: Catalog, project: str, name: str, new_project: str, new_name: str
) -> Rename:
    """Give ``project/name`` a new project and/or name ("Rename and move", FORMAT.md)."""
    from dsops.catalog.catalog import Rename

    check_project_name(new_project, new_name)
    store = catalog.store
    if (project, name) == (new_project, new_name):
        raise ConfigError(f"{project}/{name} already has that name: nothing to rename.")
    done = _renamed_already(catalog, project, name, new_project, new_name)
    if done is not None:
        return done
    labels = {
        label: _owner(catalog, project, name, label) for label in catalog.labels(project, name)
    }
    if not labels:
        # A concurrent rename may have moved every label away since the check above.
        done = _renamed_already(catalog, project, name, new_project, new_name)
        if done is not None:
            return done
        raise DatasetNotFound(
            f"Dataset {project}/{name} does not exist in store {store.url}: nothing to rename.",
            project=project,
            name=name,
        )
    _check_target(catalog, new_project, new_name)
    claim_key = layout.rename_target_key(new_project, new_name)
    claim = {"project": project, "name": name, "claimed_at": now_iso()}
    try:
        store.put_if_absent(claim_key, dump_json(claim))
    except ObjectExists:
        holder = _claim_source(catalog, new_project, new_name)
        if holder != (project, name):
            raise RenameConflict(
                f"Another rename (of {holder[0]}/{holder[1]}) is heading for "
                f"{new_project}/{new_name}: choose another name.",
                key=claim_key,
            ) from None
    marker = Rename(
        project=new_project,
        name=new_name,
        renamed_at=now_iso(),
        labels={k: v for k, v in labels.items() if v},
        aliases=catalog.aliases(project, name),
    )
    try:
        store.put_if_absent(layout.rename_key(project, name), dump_json(marker.to_dict()))
    except ObjectExists:
        winner = catalog.rename_marker(project, name, fresh=True)
        if winner is None or (winner.project, winner.name) != (new_project, new_name):
            store.delete(claim_key)
            target = f"{winner.project}/{winner.name}" if winner else "another name"
            raise RenameConflict(
                f"A concurrent rename of {project}/{name} to {target} won.",
                project=project,
                name=name,
            ) from None
        marker = winner
    catalog.rename_marker(project, name, fresh=True)  # this process sees it at once
    complete_rename(catalog, project, name, marker)
    listing.refresh(catalog, marker.project, marker.name, seed=(project, name))
    listing.drop_index(catalog, project, name)
    return marker


def _renamed_already(
    catalog: Catalog, project: str, name: str, new_project: str, new_name: str
) -> Rename | None:
    """The finished rename marker when this is a retry; DatasetRenamed when another won."""
    existing = catalog.rename_marker(project, name, fresh=True)
    if existing is None:
        return None
    if (existing.project, existing.name) == (new_project, new_name):
        complete_rename(catalog, project, name, existing)  # a retry: finish it
        return existing
    raise DatasetRenamed(
        f"Dataset {project}/{name} was already renamed to {existing.project}/"
        f"{existing.name}: rename that one.",
        new_project=existing.project,
        new_name=existing.name,
    )


def _owner(catalog: Catalog, project: str, name: str, label: str) -> str:
    try:
        return catalog.resolve(f"{project}/{name}@{label}", _settle=False)
    except (VersionNotFound, CorruptRecord):
        return ""


def _check_target(catalog: Catalog, project: str, name: str) -> None:
    if catalog.labels(project, name) or catalog.aliases(project, name):
        raise ConfigError(
            f"Dataset {project}/{name} already exists: choose a new name, or delete that "
            "dataset first.",
            project=project,
            name=name,
        )
    if catalog.rename_marker(project, name, fresh=True) is not None:
        raise ConfigError(
            f"The name {project}/{name} belonged to a dataset that was renamed: names are "
            "never reused (old references must not reach another dataset). Choose another.",
            project=project,
            name=name,
        )


def _claim_source(catalog: Catalog, project: str, name: str) -> tuple[str, str]:
    key = layout.rename_target_key(project, name)
    try:
        data = catalog.store.get_json(key)
    except ObjectNotFound:
        return ("", "")
    if not isinstance(data, dict):
        return ("?", "?")
    return (str(data.get("project", "?")), str(data.get("name", "?")))


def complete_rename(catalog: Catalog, project: str, name: str, marker: Rename) -> bool:
    """Step 4: copy every claim and alias under the new name, then drop the old ones.

    Copies are made before anything is dropped, so an interrupted completion leaves
    every label under at least one name; returns True if anything was left to move.
    """
    store = catalog.store
    old_claims = catalog.direct_keys(layout.names_prefix(project, name))
    old_refs = catalog.direct_keys(layout.refs_prefix(project, name))
    for key in old_claims:
        label = key.rsplit("/", 1)[1]
        _copy(store, key, layout.name_key(marker.project, marker.name, label))
    for key in old_refs:
        alias = key.rsplit("/", 1)[1]
        _copy(store, key, layout.ref_key(marker.project, marker.name, alias))
    for key in [*old_claims, *old_refs]:
        store.delete(key)
    return bool(old_claims or old_refs)


def _copy(store: Any, source: str, target: str) -> None:
    try:
        data = store.get(source)
    except ObjectNotFound:
        return  # moved by a concurrent completion
    try:
        store.put_if_absent(target, data)
    except ObjectExists:
        pass  # copied already (a retry, or a concurrent completion)


def complete_rename_into(catalog: Catalog, project: str, name: str) -> bool:
    """Roll forward a committed rename onto ``project/name`` (True if there was one)."""
    source = _claim_source(catalog, project, name)
    if not source[0] or source == ("?", "?"):
        return False
    marker = catalog.rename_marker(*source, fresh=True)
    if marker is None or (marker.project, marker.name) != (project, name):
        return False
    return complete_rename(catalog, source[0], source[1], marker)


__all__ = [
    "PrunePlan",
    "children",
    "complete_rename",
    "complete_rename_into",
    "delete_dataset",
    "delete_version",
    "highest_live",
    "parse_duration",
    "prune_plan",
    "rename_dataset",
    "repoint_alias",
]
