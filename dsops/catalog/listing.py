"""Listing at O(datasets) requests: the per-dataset listing index (docs/FORMAT.md,
"Listing index").

``index/<project>/<name>/@index.json`` caches what the last listing of a dataset read:
label claims, version records, state documents and aliases, each with the etag it had.
It is checked on every read against one LIST each of ``names/``, ``refs/``, ``state/``
and ``deleted/``: only what changed is read again, and what was found is written back
by compare-and-swap. The records stay the truth; a missing, stale or corrupt index
costs requests, never a hidden or a deleted version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from dsops import layout
from dsops.catalog import semver
from dsops.catalog.catalog import Catalog, OnCorrupt, is_cleared, tolerant, version_id_in
from dsops.catalog.records import VersionRecord, is_version_id, now_iso
from dsops.catalog.refs import check_alias
from dsops.catalog.state import VersionState, parse_state, read_state
from dsops.errors import (
    AccessDenied,
    ConfigError,
    CorruptRecord,
    ManifestError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
)
from dsops.hashing import hash_bytes
from dsops.storage import ObjectStore, dump_json

INDEX_FORMAT = 1
_REFRESH_ATTEMPTS = 5
Key = tuple[str, str]


@dataclass
class DatasetIndex:
    """One dataset's index: label → (id, claim etag), id → record, id → (state etag,
    state), alias → (ref etag, id or None for a cleared alias)."""

    claims: dict[str, tuple[str, str]] = field(default_factory=dict)
    records: dict[str, tuple[str, VersionRecord]] = field(default_factory=dict)
    states: dict[str, tuple[str, VersionState]] = field(default_factory=dict)
    aliases: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.claims or self.aliases)

    def body(self, project: str, name: str) -> dict[str, Any]:
        content: dict[str, Any] = {
            "format": INDEX_FORMAT,
            "project": project,
            "name": name,
            "claims": {k: {"id": i, "etag": e} for k, (i, e) in sorted(self.claims.items())},
            "records": {
                i: {"etag": e, "record": r.to_dict()} for i, (e, r) in sorted(self.records.items())
            },
            "states": {
                i: {"etag": e, "state": s.to_dict()} for i, (e, s) in sorted(self.states.items())
            },
            "aliases": {a: {"etag": e, "id": i} for a, (e, i) in sorted(self.aliases.items())},
        }
        return {**content, "updated_at": now_iso(), "checksum": _checksum(content)}


def _checksum(content: dict[str, Any]) -> str:
    return hash_bytes(json.dumps(content, sort_keys=True, separators=(",", ":")).encode())


def parse_index(store: ObjectStore, project: str, name: str, data: Any) -> DatasetIndex:
    """Check an index document as a whole; any doubt raises ``ValueError``."""
    if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
        raise ValueError("not an index of this format")
    content = {k: v for k, v in data.items() if k not in ("updated_at", "checksum")}
    if data.get("checksum") != _checksum(content):
        raise ValueError("checksum mismatch")
    if (data.get("project"), data.get("name")) != (project, name):
        raise ValueError("it names another dataset")
    index = DatasetIndex()
    for label, entry in _object(data, "claims").items():
        if not semver.is_semver(label) or not isinstance(entry, dict):
            raise ValueError("bad claim")
        index.claims[label] = (_id(entry.get("id")), _text(entry.get("etag")))
    for version_id, entry in _object(data, "records").items():
        if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict):
            raise ValueError("bad record")
        record = VersionRecord.from_dict(entry["record"])  # ManifestError is a ValueError
        if record.id != _id(version_id):
            raise ValueError("a record under another id")
        index.records[version_id] = (_text(entry.get("etag")), record)
    for version_id, entry in _object(data, "states").items():
        if not isinstance(entry, dict):
            raise ValueError("bad state")
        state = parse_state(store, _id(version_id), entry.get("state"))
        index.states[version_id] = (_text(entry.get("etag")), state)
    for alias, entry in _object(data, "aliases").items():
        check_alias(alias)  # ConfigError is a ValueError
        target = entry.get("id") if isinstance(entry, dict) else ""
        if not isinstance(entry, dict) or (target is not None and not is_version_id(target)):
            raise ValueError("bad alias")
        index.aliases[alias] = (_text(entry.get("etag")), target)
    return index


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key!r} is not an object")
    return value


def _id(value: Any) -> str:
    if not isinstance(value, str) or not is_version_id(value):
        raise ValueError("not a version id")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not an etag")
    return value


def read_index(store: ObjectStore, project: str, name: str) -> tuple[DatasetIndex | None, str]:
    """The index (None: missing or not trusted) and its etag ("" when absent)."""
    try:
        raw, etag = store.get_with_etag(layout.index_key(project, name))
    except ObjectNotFound:
        return None, ""
    try:
        return parse_index(store, project, name, json.loads(raw)), etag
    except (ValueError, ManifestError, CorruptRecord, ConfigError):
        return None, etag  # corrupt: rebuilt from the records, and overwritten


@dataclass(frozen=True)
class Listing:
    """What a listing found: records (as stored, placed under their dataset's current
    name, oldest first), their state documents, and each dataset's aliases."""

    records: list[VersionRecord]
    states: dict[str, VersionState]
    aliases: dict[Key, dict[str, str]]


@dataclass
class _Seen:
    """One LIST pass: etags by dataset, and the store-wide tombstones and states."""

    claims: dict[Key, dict[str, str]] = field(default_factory=dict)
    refs: dict[Key, dict[str, str]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    versions: dict[str, str] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    # A writer's refresh (None: a listing): no store-wide LISTs; the ids it changed, and
    # those the index has no record of, are asked for with HEADs, the rest kept as
    # indexed (the next listing checks everything).
    changed: frozenset[str] | None = None
    store: ObjectStore | None = None

    def record_etag(self, owner: str, base: DatasetIndex) -> str | None:
        if self.changed is None:
            return None if owner in self.deleted else self.versions.get(owner)
        cached = base.records.get(owner)
        if cached is not None and owner not in self.changed:
            return cached[0]
        return self._head(layout.version_key(owner))

    def state_etag(self, owner: str, base: DatasetIndex, fresh_record: bool) -> str | None:
        if self.changed is None:
            return self.states.get(owner)
        if owner not in self.changed and not fresh_record:
            cached = base.states.get(owner)
            return cached[0] if cached is not None else None
        return self._head(layout.state_key(owner))

    def _head(self, key: str) -> str | None:
        assert self.store is not None
        try:
            return self.store.head(key).etag
        except ObjectNotFound:
            return None


def _group(store: ObjectStore, prefix: str, into: dict[Key, dict[str, str]]) -> None:
    """``prefix<dataset key>/<leaf>`` keys with their etags, by dataset."""
    for info in store.list(prefix):
        dataset, _, leaf = info.key[len(prefix) :].rpartition("/")
        if not dataset or not leaf:
            continue
        try:
            key = layout.parse_dataset_key(dataset)
        except UnicodeDecodeError:
            continue  # not a key dsops writes
        into.setdefault(key, {})[leaf] = info.etag


def _direct(store: ObjectStore, prefix: str) -> dict[str, str]:
    found = {}
    for info in store.list(prefix):
        leaf = info.key[len(prefix) :]
        if leaf and "/" not in leaf:
            found[leaf] = info.etag
    return found


def _look(
    catalog: Catalog,
    project: str | None,
    name: str | None,
    changed: frozenset[str] | None = None,
) -> _Seen:
    store = catalog.store
    seen = _Seen(changed=changed, store=store)
    if project and name:
        seen.claims[(project, name)] = _direct(store, layout.names_prefix(project, name))
        seen.refs[(project, name)] = _direct(store, layout.refs_prefix(project, name))
        if changed is not None:
            return seen
    else:
        _group(store, "names/", seen.claims)
        _group(store, "refs/", seen.refs)
    seen.deleted = catalog.deleted_ids()
    listed = ((layout.VERSIONS_PREFIX, seen.versions), (layout.STATE_PREFIX, seen.states))
    for prefix, into in listed:
        for info in store.list(prefix):
            if info.key.endswith(".json"):
                into[info.key[len(prefix) : -len(".json")]] = info.etag
    return seen


def _alias_target(catalog: Catalog, key: str) -> str | None:
    """The id an alias names (None: cleared or gone); a corrupt one raises."""
    try:
        data = catalog.store.get_json(key)
    except ObjectNotFound:
        return None
    return None if is_cleared(data) else version_id_in(catalog.store, key, data)


def _alias_target_box(catalog: Catalog, key: str) -> tuple[str | None]:
    return (_alias_target(catalog, key),)


def _resolve(
    catalog: Catalog, key: Key, seen: _Seen, base: DatasetIndex, on_corrupt: OnCorrupt | None
) -> DatasetIndex:
    """The index as the store says it is now, reading only what ``base`` lacks."""
    project, name = key
    new = DatasetIndex()
    for label, etag in sorted(seen.claims.get(key, {}).items()):
        if not semver.is_semver(label):
            continue
        cached = base.claims.get(label)
        if cached is not None and cached[1] == etag:
            owner: str | None = cached[0]
        else:
            claim = layout.name_key(project, name, label)
            try:
                owner = tolerant(on_corrupt, catalog._pointer, claim)
            except ObjectNotFound:
                owner = None
        if owner is not None:
            new.claims[label] = (owner, etag)
    for owner in dict.fromkeys(i for i, _ in new.claims.values()):
        record_etag = seen.record_etag(owner, base)
        if record_etag is None:
            continue  # deleted, or a finalize between its claim and its commit point
        cached_record = base.records.get(owner)
        fresh_record = cached_record is None or cached_record[0] != record_etag
        if cached_record is not None and not fresh_record:
            record = cached_record[1]
        else:
            found_record = tolerant(on_corrupt, catalog.stored_record, owner)
            if found_record is None:
                continue
            record = found_record
        new.records[owner] = (record_etag, record)
        state_etag = seen.state_etag(owner, base, fresh_record)
        if state_etag is None:
            continue
        cached_state = base.states.get(owner)
        if cached_state is not None and cached_state[0] == state_etag:
            new.states[owner] = cached_state
            continue
        state = tolerant(on_corrupt, partial(read_state, catalog.store), owner)
        if state is not None:
            new.states[owner] = (state_etag, state)
    for alias, etag in sorted(seen.refs.get(key, {}).items()):
        cached_alias = base.aliases.get(alias)
        if cached_alias is not None and cached_alias[0] == etag:
            new.aliases[alias] = cached_alias
            continue
        ref = layout.ref_key(project, name, alias)
        found = tolerant(on_corrupt, partial(_alias_target_box, catalog), ref)
        if found is not None:
            new.aliases[alias] = (etag, found[0])
    return new


def _write(store: ObjectStore, key: Key, new: DatasetIndex, etag: str) -> bool:
    """Compare-and-swap the index; False when another writer won (or no permission)."""
    body = dump_json(new.body(*key))
    target = layout.index_key(*key)
    try:
        if etag:
            store.put_if_match(target, body, etag)
        else:
            store.put_if_absent(target, body)
    except (ObjectExists, PreconditionFailed, ObjectNotFound, AccessDenied):
        return False
    return True


def _settle(catalog: Catalog, key: Key, seen: _Seen, on_corrupt: OnCorrupt | None) -> DatasetIndex:
    """Read, check and (if it differs) repair one dataset's index; one attempt."""
    old, etag = read_index(catalog.store, *key)
    new = _resolve(catalog, key, seen, old or DatasetIndex(), on_corrupt)
    if new != old and not (old is None and not etag and new.is_empty()):
        _write(catalog.store, key, new, etag)
    return new


def list_versions(
    catalog: Catalog,
    project: str | None = None,
    name: str | None = None,
    on_corrupt: OnCorrupt | None = None,
) -> Listing:
    """Live versions (of one dataset when ``project`` and ``name`` are given), their
    states and aliases, through the listing indexes (repairing those that differ)."""
    catalog.load_renames()
    seen = _look(catalog, project, name)
    keys = sorted(set(seen.claims) | set(seen.refs))
    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(lambda k: _settle(catalog, k, seen, on_corrupt), keys))
    records: dict[str, VersionRecord] = {}
    states: dict[str, VersionState] = {}
    aliases: dict[Key, dict[str, str]] = {}
    for key, index in zip(keys, found):
        for version_id, (_, record) in index.records.items():
            located = catalog.located(record)
            if (project and located.project != project) or (name and located.name != name):
                continue
            records.setdefault(version_id, located)
            if version_id in index.states:
                states[version_id] = index.states[version_id][1]
        aliases[key] = {a: i for a, (_, i) in index.aliases.items() if i is not None}
    ordered = sorted(records.values(), key=lambda r: (r.finalized_at, r.id))
    return Listing(records=ordered, states=states, aliases=aliases)


def refresh(
    catalog: Catalog,
    project: str,
    name: str,
    changed: Iterable[str] = (),
    *,
    seed: Key | None = None,
) -> None:
    """Bring one dataset's index up to date after a write (finalize, delete, rename,
    a state change) of the ``changed`` ids. ``seed``: a dataset whose index may lend
    its records when this one has none (a rename's old name). No store-wide LIST: the
    changed ids, and those not indexed yet, are asked for with HEADs. Best effort: the
    write has committed already and the next listing checks and repairs the index, so
    a failing store is not an error here."""
    try:
        project, name = catalog.location(project, name)
        for _ in range(_REFRESH_ATTEMPTS):
            seen = _look(catalog, project, name, frozenset(changed))
            old, etag = read_index(catalog.store, project, name)
            base = old
            if base is None and seed is not None:
                base, _ = read_index(catalog.store, *seed)
            new = _resolve(catalog, (project, name), seen, base or DatasetIndex(), _ignore)
            if new == old or (old is None and not etag and new.is_empty()):
                return
            if _write(catalog.store, (project, name), new, etag):
                return
    except (StoreError, CorruptRecord):
        return


def _ignore(_: CorruptRecord) -> None:
    return None


def drop_index(catalog: Catalog, project: str, name: str) -> None:
    """Remove the index of a name that no longer holds a dataset (renamed away)."""
    try:
        catalog.store.delete(layout.index_key(project, name))
    except StoreError:
        return


__all__ = ["DatasetIndex", "Listing", "drop_index", "list_versions", "read_index", "refresh"]
