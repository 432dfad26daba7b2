"""The catalog: find, resolve and list versions; claim semantic versions; move aliases.

Everything here is built on the store's conditional writes: semantic version labels
are create-only claims, aliases are compare-and-swap documents with their history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from dsops import layout
from dsops.catalog import semver
from dsops.catalog.records import (
    DraftRecord,
    VersionRecord,
    check_project_name,
    is_version_id,
    now_iso,
    read_many,
)
from dsops.catalog.refs import LATEST, DatasetRef, check_alias
from dsops.catalog.state import VersionState, effective, read_state, states
from dsops.errors import (
    ConfigError,
    CorruptRecord,
    DatasetNotFound,
    DatasetRenamed,
    ManifestError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    VersionConflict,
    VersionDeleted,
    VersionNotFound,
)
from dsops.storage import ObjectStore, dump_json

_HISTORY_LIMIT = 100
# A rename marker found absent is looked for again after this long (present: forever).
_NO_MARKER_TTL = 5.0
# A cached version record is checked for a tombstone again after this long.
_LIVE_TTL = 5.0
_MAX_RENAME_HOPS = 100

#: Called with each corrupt record a listing skips (instead of failing the listing).
OnCorrupt = Callable[[CorruptRecord], None]
T = TypeVar("T")


def _corrupt(store: ObjectStore, key: str, problem: str) -> CorruptRecord:
    return CorruptRecord(
        f"Record {key} in store {store.url} is corrupt ({problem}): restore it from a "
        "backup, or delete it if it is not needed.",
        key=key,
        store=store.url,
    )


def tolerant(on_corrupt: OnCorrupt | None, read: Callable[[str], T], key: str) -> T | None:
    """``read(key)``; a :class:`CorruptRecord` goes to ``on_corrupt`` (then None) if given."""
    try:
        return read(key)
    except CorruptRecord as exc:
        if on_corrupt is None:
            raise
        on_corrupt(exc)
        return None


def version_id_in(store: ObjectStore, key: str, data: Any) -> str:
    """The ``version_id`` of a name claim or alias document, checked."""
    if is_cleared(data):
        raise ObjectNotFound(f"Alias {key} was cleared.", key=key)
    owner = data.get("version_id") if isinstance(data, dict) else None
    if not isinstance(owner, str) or not is_version_id(owner):
        raise _corrupt(store, key, f"no valid 'version_id' in {str(data)[:80]!r}")
    return owner


def is_cleared(data: Any) -> bool:
    """An alias document cleared by a delete: it keeps its history, names nothing."""
    return isinstance(data, dict) and data.get("version_id") is None and "cleared_at" in data


@dataclass(frozen=True)
class Rename:
    """``renames/<project>/<name>.json``: where a renamed or moved dataset went."""

    project: str
    name: str
    renamed_at: str
    labels: dict[str, str]
    aliases: dict[str, str]

    @classmethod
    def parse(cls, store: ObjectStore, key: str, data: Any) -> Rename:
        fields = {}
        for field_name in ("project", "name", "renamed_at"):
            value = data.get(field_name) if isinstance(data, dict) else None
            if not isinstance(value, str):
                raise _corrupt(store, key, f"no string {field_name!r}")
            fields[field_name] = value
        try:  # a hostile marker must not send readers to a key outside the layout
            check_project_name(fields["project"], fields["name"])
        except ConfigError as exc:
            raise _corrupt(store, key, f"it names an invalid dataset ({exc})") from None
        maps = {}
        for field_name, key_ok in (("labels", semver.is_semver), ("aliases", _is_alias)):
            value = data.get(field_name, {})
            ok = isinstance(value, dict) and all(
                isinstance(k, str) and key_ok(k) and isinstance(v, str) and is_version_id(v)
                for k, v in value.items()
            )
            if not ok:
                raise _corrupt(store, key, f"{field_name!r} is not an object of version ids")
            maps[field_name] = dict(value)
        return cls(labels=maps["labels"], aliases=maps["aliases"], **fields)

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "name": self.name,
            "renamed_at": self.renamed_at,
            "labels": self.labels,
            "aliases": self.aliases,
        }


def _is_alias(text: str) -> bool:
    try:
        check_alias(text)
    except ConfigError:
        return False
    return True


@dataclass(frozen=True)
class Deletion:
    """``deleted/<id>.json``: the record of a deleted version and how it was deleted."""

    record: VersionRecord
    deleted_at: str
    forced: bool = False
    reason: str = ""

    @classmethod
    def parse(cls, store: ObjectStore, key: str, version_id: str, data: Any) -> Deletion:
        record = data.get("record") if isinstance(data, dict) else None
        try:
            parsed = VersionRecord.from_dict(record if isinstance(record, dict) else {})
        except ManifestError as exc:
            raise _corrupt(store, key, str(exc).rstrip(".")) from exc
        if parsed.id != version_id:
            raise _corrupt(store, key, f"it names version {parsed.id!r}")
        fields = data if isinstance(data, dict) else {}
        deleted_at, reason = fields.get("deleted_at", ""), fields.get("reason", "")
        return cls(
            record=parsed,
            deleted_at=deleted_at if isinstance(deleted_at, str) else "",
            forced=fields.get("forced") is True,
            reason=reason if isinstance(reason, str) else "",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record.to_dict(),
            "deleted_at": self.deleted_at,
            "forced": self.forced,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AliasMove:
    """Outcome of :meth:`Catalog.set_alias`."""

    moved: bool
    previous: str | None


class Catalog:
    """Version records, names and aliases inside one store."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        # Version records are immutable once written: read each at most once. Deletion is
        # not: a cached record is checked against its tombstone again after _LIVE_TTL.
        self._records: dict[str, VersionRecord] = {}
        self._live_at: dict[str, float] = {}
        # Tombstones are create-only too.
        self._deletions: dict[str, Deletion] = {}
        # Rename markers are create-only: one found is kept; an absence is re-checked.
        self._renames: dict[tuple[str, str], Rename] = {}
        self._no_rename: dict[tuple[str, str], float] = {}
        self._loaded_renames_at = 0.0

    # --- records ----------------------------------------------------------------------

    def version(self, version_id: str, *, known_live: bool = False) -> VersionRecord:
        """The record of a finalized, live version.

        Raises :class:`VersionDeleted` for a deleted one — also in the instant of an
        interrupted delete, when its record is still there beside the tombstone (one
        more request per record read; ``known_live`` skips it for ids a listing has
        already checked against ``deleted/``).
        """
        cached = self._records.get(version_id)
        if cached is not None:
            if known_live or time.monotonic() - self._live_at.get(version_id, 0.0) < _LIVE_TTL:
                return self.located(cached)
            # Another process may have deleted it since: look again, at most every few s.
            if self.store.exists(layout.tombstone_key(version_id)):
                raise self.deleted_error(self.located(cached))
            self._live_at[version_id] = time.monotonic()
            return self.located(cached)
        try:
            data = self.store.get_json(layout.version_key(version_id))
        except CorruptRecord as exc:
            raise self._corrupt_version(version_id, "not valid JSON") from exc
        except ObjectNotFound:
            tombstone = self.tombstone(version_id)
            if tombstone is not None:
                raise self.deleted_error(tombstone) from None
            raise VersionNotFound(
                f"No finalized version {version_id} in store {self.store.url}: check the id "
                "and the store (--store / DSOPS_STORE).",
                version_id=version_id,
                store=self.store.url,
            ) from None
        record = self._parse_version(version_id, data)
        if not known_live and self.store.exists(layout.tombstone_key(version_id)):
            raise self.deleted_error(self.located(record))
        self._records[version_id] = record
        self._live_at[version_id] = time.monotonic()
        return self.located(record)

    def stored_record(self, version_id: str) -> VersionRecord | None:
        """The record exactly as stored (not located; no tombstone check; cached), or
        None when there is none. Listings check tombstones with one LIST instead."""
        cached = self._records.get(version_id)
        if cached is not None:
            return cached
        try:
            data = self.store.get_json(layout.version_key(version_id))
        except CorruptRecord as exc:
            raise self._corrupt_version(version_id, "not valid JSON") from exc
        except ObjectNotFound:
            return None
        record = self._parse_version(version_id, data)
        self._records[version_id] = record
        self._live_at[version_id] = time.monotonic()
        return record

    def deleted_error(self, record: VersionRecord) -> VersionDeleted:
        return VersionDeleted(
            f"Version {record.id} ({record.ref}) was deleted: use another version (`dsops list`).",
            version_id=record.id,
            store=self.store.url,
        )

    def tombstone(self, version_id: str) -> VersionRecord | None:
        """The record a delete kept in ``deleted/<id>.json`` (None: not deleted)."""
        found = self.deletion(version_id)
        return found.record if found is not None else None

    def deletion(self, version_id: str) -> Deletion | None:
        """The whole tombstone of a deleted version: its record, when and how it was
        deleted (None: not deleted). Tombstones are create-only: one found is kept."""
        cached = self._deletions.get(version_id)
        if cached is not None:
            return replace(cached, record=self.located(cached.record))
        key = layout.tombstone_key(version_id)
        try:
            data = self.store.get_json(key)
        except ObjectNotFound:
            return None
        found = Deletion.parse(self.store, key, version_id, data)
        self._deletions[version_id] = found
        return replace(found, record=self.located(found.record))

    def deleted_ids(self) -> set[str]:
        """Ids with a tombstone (one LIST of ``deleted/``)."""
        prefix = layout.DELETED_PREFIX
        return {
            key[len(prefix) : -len(".json")]
            for key in self.store.list_keys(prefix)
            if key.endswith(".json")
        }

    # --- where a dataset lives now (rename markers) -----------------------------------

    def rename_marker(self, project: str, name: str, *, fresh: bool = False) -> Rename | None:
        """Where ``project/name`` was renamed or moved to (None: it was not)."""
        found = self._renames.get((project, name))
        if found is not None:
            return found
        checked = self._no_rename.get((project, name))
        if not fresh and checked is not None and time.monotonic() - checked < _NO_MARKER_TTL:
            return None
        key = layout.rename_key(project, name)
        try:
            data = self.store.get_json(key)
        except ObjectNotFound:
            self._no_rename[(project, name)] = time.monotonic()
            return None
        marker = Rename.parse(self.store, key, data)
        self._renames[(project, name)] = marker
        return marker

    def load_renames(self) -> None:
        """Read every rename marker (one LIST, one GET each), e.g. before a listing."""
        prefix = layout.RENAMES_PREFIX
        now = time.monotonic()
        for key in self.store.list_keys(prefix):
            if not key.endswith(".json"):
                continue
            project, name = layout.parse_dataset_key(key[len(prefix) : -len(".json")])
            if (project, name) not in self._renames:
                try:
                    data = self.store.get_json(key)
                except ObjectNotFound:
                    continue
                self._renames[(project, name)] = Rename.parse(self.store, key, data)
        self._loaded_renames_at = now

    def location(self, project: str, name: str) -> tuple[str, str]:
        """Where the dataset first named ``project/name`` lives now (following renames)."""
        for _ in range(_MAX_RENAME_HOPS):
            if self._loaded_renames_at and time.monotonic() - self._loaded_renames_at < (
                _NO_MARKER_TTL
            ):
                marker = self._renames.get((project, name))
            else:
                marker = self.rename_marker(project, name)
            if marker is None:
                return project, name
            project, name = marker.project, marker.name
        raise _corrupt(self.store, layout.rename_key(project, name), "a loop of renames")

    def located(self, record: VersionRecord) -> VersionRecord:
        """``record`` with the project and name its dataset has now."""
        project, name = self.location(record.project, record.name)
        if (project, name) == (record.project, record.name):
            return record
        return replace(record, project=project, name=name)

    def located_draft(self, draft: DraftRecord) -> DraftRecord:
        project, name = self.location(draft.project, draft.name)
        if (project, name) == (draft.project, draft.name):
            return draft
        return replace(draft, project=project, name=name)

    def forget(self, version_id: str) -> None:
        """Drop a record this process cached (its version was just deleted)."""
        self._records.pop(version_id, None)

    def remember(self, record: VersionRecord) -> None:
        """Keep a record this process just committed (records never change)."""
        self._records[record.id] = record

    def _parse_version(self, version_id: str, data: Any) -> VersionRecord:
        try:
            record = VersionRecord.from_dict(data)
        except ManifestError as exc:
            raise self._corrupt_version(version_id, str(exc)) from exc
        if record.id != version_id:
            raise self._corrupt_version(version_id, f"it names version {record.id!r}")
        return record

    def _corrupt_version(self, version_id: str, problem: str) -> CorruptRecord:
        key = layout.version_key(version_id)
        return CorruptRecord(
            f"Version record {key} in store {self.store.url} is corrupt "
            f"({problem.rstrip('.')}): restore it from a backup; its manifest "
            f"{layout.manifest_key(version_id)} holds a copy of the record in its metadata.",
            key=key,
            store=self.store.url,
            version_id=version_id,
        )

    def find_version(self, version_id: str) -> VersionRecord | None:
        try:
            return self.version(version_id)
        except VersionNotFound:
            return None

    def _find_live(self, version_id: str) -> VersionRecord | None:
        try:
            return self.version(version_id, known_live=True)
        except VersionNotFound:
            return None

    def draft(self, version_id: str) -> DraftRecord | None:
        key = layout.draft_key(version_id)
        try:
            return DraftRecord.from_dict(self.store.get_json(key))
        except ObjectNotFound:
            return None
        except ManifestError as exc:
            if isinstance(exc, CorruptRecord):
                raise
            raise _corrupt(self.store, key, str(exc).rstrip(".")) from exc

    def create_draft(self, record: DraftRecord) -> DraftRecord | None:
        """Write a new draft record create-only; None if a draft with its id exists."""
        try:
            self.store.put_if_absent(layout.draft_key(record.id), dump_json(record.to_dict()))
        except ObjectExists:
            return None
        return record

    def versions(
        self, ids: Iterable[str], on_corrupt: OnCorrupt | None = None
    ) -> list[VersionRecord]:
        """The records of ``ids``; with ``on_corrupt``, corrupt ones are reported and
        skipped instead of raising :class:`CorruptRecord`."""
        return read_many(lambda i: self.version(i, known_live=True), ids, on_corrupt)

    # --- resolution -------------------------------------------------------------------

    def resolve(self, ref: str | DatasetRef, *, _settle: bool = True) -> str:
        """The version id a reference names (drafts included for bare ids)."""
        parsed = ref if isinstance(ref, DatasetRef) else DatasetRef.parse(ref)
        if parsed.version_id:
            return parsed.version_id
        assert parsed.project is not None and parsed.name is not None
        key = (
            layout.name_key(parsed.project, parsed.name, parsed.label)
            if parsed.is_semver
            else layout.ref_key(parsed.project, parsed.name, parsed.label)
        )
        try:
            data = self.store.get_json(key)
        except ObjectNotFound:
            if _settle and self._complete_rename_into(parsed.project, parsed.name):
                return self.resolve(parsed, _settle=False)
            raise self._missing(parsed) from None
        if is_cleared(data):
            raise VersionNotFound(
                f"{parsed} points at nothing: its version was deleted and the alias cleared; "
                "set it again with `dsops alias`.",
                ref=str(parsed),
                store=self.store.url,
            )
        return version_id_in(self.store, key, data)

    def _complete_rename_into(self, project: str, name: str) -> bool:
        """Finish a committed rename onto ``project/name`` whose copies are not all
        there yet (True if one was found and completed)."""
        from dsops.catalog import lifecycle

        return lifecycle.complete_rename_into(self, project, name)

    def _missing(self, ref: DatasetRef) -> VersionNotFound:
        assert ref.project is not None and ref.name is not None
        marker = self.rename_marker(ref.project, ref.name, fresh=True)
        if marker is not None:
            return DatasetRenamed(
                f"Dataset {ref.project}/{ref.name} was renamed to {marker.project}/"
                f"{marker.name} at {marker.renamed_at}: use "
                f"{marker.project}/{marker.name}@{ref.label}.",
                ref=str(ref),
                store=self.store.url,
                new_project=marker.project,
                new_name=marker.name,
            )
        labels = self.labels(ref.project, ref.name)
        if not labels:
            return DatasetNotFound(
                f"Dataset {ref.project}/{ref.name} has no finalized version in store "
                f"{self.store.url}: check the spelling or finalize a version first.",
                ref=str(ref),
                store=self.store.url,
            )
        aliases = self.aliases(ref.project, ref.name)
        return VersionNotFound(
            f"{ref} does not exist: versions are {', '.join(self._sorted(labels)[-5:])}; "
            f"aliases are {', '.join(sorted(aliases)) or 'none'}.",
            ref=str(ref),
            store=self.store.url,
        )

    @staticmethod
    def _sorted(labels: Iterable[str]) -> list[str]:
        return sorted((x for x in labels if semver.is_semver(x)), key=semver.parse)

    def latest(self, project: str, name: str) -> str | None:
        try:
            return self.resolve(DatasetRef(project=project, name=name, label=LATEST))
        except VersionNotFound:
            return None

    # --- semantic versions ------------------------------------------------------------

    def direct_keys(self, prefix: str) -> list[str]:
        """Keys right under ``prefix``: ``names/a/b/`` also prefixes the keys of dataset
        ``c`` in project ``a/b`` (``names/a/b/c/1.0.0``), which are not dataset b's."""
        return [k for k in self.store.list_keys(prefix) if "/" not in k[len(prefix) :]]

    def labels(self, project: str, name: str) -> list[str]:
        prefix = layout.names_prefix(project, name)
        return [key[len(prefix) :] for key in self.direct_keys(prefix)]

    def claim_label(self, record: DraftRecord) -> str:
        """Claim the draft's semver (explicit, or the next free patch) create-only.

        A claim already made for this draft (an interrupted finalize) is reused, so a
        retried finalize does not burn another label.
        """
        prefix = layout.names_prefix(record.project, record.name)
        labels = self.labels(record.project, record.name)
        if record.version:
            key = prefix + record.version
            if not self._try_claim(key, record):
                raise VersionConflict(
                    f"{record.project}/{record.name}@{record.version} already exists; "
                    "choose another version or let dsops number it.",
                    version=record.version,
                )
            return record.version
        for label in labels:
            if self._claimed_by(prefix + label) == record.id:
                return label
        candidate = semver.next_after(labels)
        for _ in range(1000):
            if self._try_claim(prefix + candidate, record):
                return candidate
            candidate = semver.bump_patch(candidate)
        raise VersionConflict(f"Could not claim a version for {record.project}/{record.name}.")

    def _claimed_by(self, key: str) -> str | None:
        try:
            return self._pointer(key)
        except ObjectNotFound:
            return None

    def _pointer(self, key: str) -> str:
        """The version id a name claim or alias document points at (checked)."""
        return version_id_in(self.store, key, self.store.get_json(key))

    def _try_claim(self, key: str, record: DraftRecord) -> bool:
        body = dump_json({"version_id": record.id, "claimed_at": now_iso()})
        try:
            self.store.put_if_absent(key, body)
        except ObjectExists:
            return self._claimed_by(key) == record.id
        return True

    def release_label(self, project: str, name: str, label: str, version_id: str) -> None:
        key = layout.name_key(project, name, label)
        if self._claimed_by(key) == version_id:
            self.store.delete(key)

    # --- aliases ----------------------------------------------------------------------

    def aliases(
        self, project: str, name: str, on_corrupt: OnCorrupt | None = None
    ) -> dict[str, str]:
        """alias → version id for one dataset (``on_corrupt``: skip corrupt aliases)."""
        prefix = layout.refs_prefix(project, name)
        keys = self.direct_keys(prefix)
        result = {}
        for key in keys:
            try:
                owner = tolerant(on_corrupt, self._pointer, key)
            except ObjectNotFound:
                continue
            if owner is not None:
                result[key[len(prefix) :]] = owner
        return result

    def alias_history(self, project: str, name: str, alias: str) -> list[dict[str, Any]]:
        try:
            data = self.store.get_json(layout.ref_key(project, name, alias))
        except ObjectNotFound:
            return []
        return list(data.get("history", []))

    def set_alias(
        self, record: VersionRecord, alias: str, *, only_if_newer: bool = False
    ) -> AliasMove:
        """Point ``alias`` at ``record`` by compare-and-swap; keep the history.

        With ``only_if_newer`` the alias moves only forward in semver order (used for
        ``latest`` so concurrent finalizes settle on the highest version).
        """
        check_alias(alias)
        key = layout.ref_key(record.project, record.name, alias)
        entry = {"version_id": record.id, "version": record.version, "set_at": now_iso()}
        while True:
            try:
                current, etag = self.store.get_json_with_etag(key)
            except ObjectNotFound:
                body = dump_json({**entry, "history": [entry]})
                try:
                    self.store.put_if_absent(key, body)
                    return AliasMove(True, None)
                except ObjectExists:
                    continue
            raw = current.get("version_id") if isinstance(current, dict) else None
            previous = str(raw) if raw is not None else None
            if previous == record.id:
                return AliasMove(False, previous)
            current_label = str(current.get("version", "")) if previous else ""
            if (
                only_if_newer
                and semver.is_semver(current_label)
                and semver.parse(current_label) >= semver.parse(record.version)
            ):
                return AliasMove(False, previous)
            history = [*current.get("history", []), entry][-_HISTORY_LIMIT:]
            try:
                self.store.put_if_match(key, dump_json({**entry, "history": history}), etag)
                return AliasMove(True, previous)
            except PreconditionFailed:
                continue
            except ObjectNotFound:
                continue

    # --- listing ----------------------------------------------------------------------

    def all_version_ids(self) -> list[str]:
        prefix = layout.VERSIONS_PREFIX
        deleted = self.deleted_ids()
        ids = (key[len(prefix) : -len(".json")] for key in self.store.list_keys(prefix))
        return [i for i in ids if i not in deleted and is_version_id(i)]

    def dataset_version_ids(
        self, project: str, name: str, on_corrupt: OnCorrupt | None = None
    ) -> list[str]:
        prefix = layout.names_prefix(project, name)
        ids = []
        for key in self.direct_keys(prefix):
            owner = tolerant(on_corrupt, self._claimed_by, key)
            if owner and owner not in ids:
                ids.append(owner)
        return ids

    def iter_versions(
        self,
        project: str | None = None,
        name: str | None = None,
        on_corrupt: OnCorrupt | None = None,
    ) -> Iterator[VersionRecord]:
        """Finalized versions, oldest first (``on_corrupt``: skip corrupt records)."""
        self.load_renames()
        if project and name:
            deleted = self.deleted_ids()
            ids = [
                i for i in self.dataset_version_ids(project, name, on_corrupt) if i not in deleted
            ]
            found = (tolerant(on_corrupt, self._find_live, i) for i in ids)
            records = [r for r in found if r is not None]
        else:
            records = self.versions(self.all_version_ids(), on_corrupt)
        records = [
            r
            for r in records
            if (not project or r.project == project) and (not name or r.name == name)
        ]
        current = self.states((r.id for r in records), on_corrupt)
        for record in sorted(records, key=lambda r: (r.finalized_at, r.id)):
            yield effective(record, current.get(record.id))

    def state(self, version_id: str) -> VersionState:
        """The mutable state (description, tags, published, metadata) of an id."""
        return read_state(self.store, version_id)

    def states(
        self, ids: Iterable[str], on_corrupt: OnCorrupt | None = None
    ) -> dict[str, VersionState]:
        """The state documents of ``ids`` that have one (one LIST, a GET each)."""
        return states(self.store, ids, on_corrupt)

    def iter_drafts(self) -> Iterator[DraftRecord]:
        """Drafts that are not finalized, oldest first."""
        finalized = set(self.all_version_ids()) | self.deleted_ids()
        keys = [
            k
            for k in self.store.list_keys("drafts/")
            if k.endswith("/draft.json") and k.split("/")[1] not in finalized
        ]
        drafts = [d for d in (self.draft(k.split("/")[1]) for k in keys) if d is not None]
        yield from sorted(drafts, key=lambda d: (d.created_at, d.id))

    def ancestry(self, version_id: str) -> dict[str, list[str]]:
        """version id → parent ids over the whole ancestry (including ``version_id``)."""
        graph: dict[str, list[str]] = {}
        frontier = [version_id]
        while frontier:
            current = frontier.pop()
            if current in graph:
                continue
            record = self.find_version(current) or self.tombstone(current)
            if record is None:
                draft = self.draft(current)
                if draft is None:
                    raise VersionNotFound(f"Version {current} is missing.", version_id=current)
                parents = list(draft.parents)
            else:
                parents = list(record.parents)
            graph[current] = parents
            frontier.extend(p for p in parents if p not in graph)
        return graph
