"""What may change about a version over its life: ``state/<id>.json`` (docs/FORMAT.md).

Content, lineage and labels are immutable. Description, tags, the published flag and
named metadata live in one compare-and-swap document per version or draft id; a missing
document or a ``null`` field means "as the record says".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from dsops import layout
from dsops.catalog.records import now_iso, read_many
from dsops.errors import (
    ConfigError,
    CorruptRecord,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
)
from dsops.storage import ObjectStore, dump_json

R = TypeVar("R")
_METADATA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TAG = re.compile(r"^[^\x00-\x1f/]{1,128}$")
METADATA_KINDS = ("parquet", "json", "bytes")


def effective(record: R, state: VersionState | None) -> R:
    """``record`` (a version or draft record) with the state's description and tags."""
    if state is None:
        return record
    changes: dict[str, Any] = {}
    if state.description is not None:
        changes["description"] = state.description
    if state.tags is not None:
        changes["tags"] = state.tags
    return replace(record, **changes) if changes else record  # type: ignore[type-var]


def check_metadata_name(name: str) -> str:
    """Refuse a metadata name that could not be a plain key segment."""
    if not isinstance(name, str) or not _METADATA_NAME.match(name) or ".." in name:
        raise ConfigError(
            f"Invalid metadata name {name!r}: use letters, digits, '.', '_' or '-' "
            "(no '/' or '..', at most 128 characters), e.g. 'metadata' or 'stats.v2'.",
            name=name,
        )
    return name


def check_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags as a tuple, each a non-empty string without control characters or '/'."""
    checked = []
    for tag in tags:
        if not isinstance(tag, str) or not _TAG.match(tag) or tag != tag.strip():
            raise ConfigError(
                f"Invalid tag {tag!r}: a tag is 1-128 characters, no '/', no control "
                "characters, no leading or trailing spaces.",
                tag=tag,
            )
        if tag not in checked:
            checked.append(tag)
    return tuple(checked)


@dataclass(frozen=True)
class MetadataEntry:
    """One named metadata value: where its bytes are and how to read them back."""

    object: str
    hash: str
    size: int
    kind: str
    set_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "object": self.object,
            "hash": self.hash,
            "size": self.size,
            "kind": self.kind,
            "set_at": self.set_at,
        }


@dataclass(frozen=True)
class VersionState:
    """The mutable state of one version or draft (None: not set, the record's applies)."""

    id: str
    description: str | None = None
    tags: tuple[str, ...] | None = None
    published_at: str | None = None
    metadata: dict[str, MetadataEntry] = field(default_factory=dict)
    updated_at: str = ""

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "tags": None if self.tags is None else list(self.tags),
            "published_at": self.published_at,
            "metadata": {k: v.to_dict() for k, v in sorted(self.metadata.items())},
            "updated_at": self.updated_at,
        }


def _corrupt(store: ObjectStore, key: str, problem: str) -> CorruptRecord:
    return CorruptRecord(
        f"State document {key} in store {store.url} is corrupt ({problem}): delete it to "
        "fall back to the record's description and tags (its metadata names are lost).",
        key=key,
        store=store.url,
    )


def parse_state(store: ObjectStore, version_id: str, data: Any) -> VersionState:
    """Check a state document's types field by field (a hostile store fails here)."""
    key = layout.state_key(version_id)
    if not isinstance(data, dict):
        raise _corrupt(store, key, f"expected an object, got {type(data).__name__}")
    if data.get("id") != version_id:
        raise _corrupt(store, key, f"it names {data.get('id')!r}")
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise _corrupt(store, key, "'description' is not a string")
    tags = data.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        raise _corrupt(store, key, "'tags' is not a list of strings")
    published_at = data.get("published_at")
    if published_at is not None and not isinstance(published_at, str):
        raise _corrupt(store, key, "'published_at' is not a string")
    raw_metadata = data.get("metadata") or {}
    if not isinstance(raw_metadata, dict):
        raise _corrupt(store, key, "'metadata' is not an object")
    metadata = {}
    for name, entry in raw_metadata.items():
        metadata[name] = _parse_entry(store, key, name, entry)
    updated_at = data.get("updated_at", "")
    return VersionState(
        id=version_id,
        description=description,
        tags=None if tags is None else tuple(tags),
        published_at=published_at,
        metadata=metadata,
        updated_at=updated_at if isinstance(updated_at, str) else "",
    )


def _parse_entry(store: ObjectStore, key: str, name: Any, entry: Any) -> MetadataEntry:
    if not isinstance(name, str) or not _METADATA_NAME.match(name) or ".." in name:
        raise _corrupt(store, key, f"metadata name {str(name)[:40]!r} is not allowed")
    if not isinstance(entry, dict):
        raise _corrupt(store, key, f"metadata {name!r} is not an object")
    digest, kind, size = entry.get("hash"), entry.get("kind"), entry.get("size")
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise _corrupt(store, key, f"metadata {name!r} has no valid hash")
    if entry.get("object") != layout.object_key(digest):
        raise _corrupt(store, key, f"metadata {name!r} names an object other than its hash")
    if kind not in METADATA_KINDS:
        raise _corrupt(store, key, f"metadata {name!r} has unknown kind {str(kind)[:20]!r}")
    if (
        not isinstance(size, int)
        or isinstance(size, bool)
        or not 0 <= size <= layout.MAX_OBJECT_SIZE
    ):
        raise _corrupt(store, key, f"metadata {name!r} has an invalid size")
    set_at = entry.get("set_at", "")
    return MetadataEntry(
        object=layout.object_key(digest),
        hash=digest,
        size=size,
        kind=str(kind),
        set_at=set_at if isinstance(set_at, str) else "",
    )


def read_state(store: ObjectStore, version_id: str) -> VersionState:
    """The state of ``version_id`` (empty when no document exists)."""
    try:
        data = store.get_json(layout.state_key(version_id))
    except ObjectNotFound:
        return VersionState(id=version_id)
    return parse_state(store, version_id, data)


def update_state(
    store: ObjectStore, version_id: str, change: Callable[[VersionState], VersionState]
) -> VersionState:
    """Apply ``change`` by compare-and-swap, re-reading and re-applying on a conflict."""
    key = layout.state_key(version_id)
    while True:
        try:
            data, etag = store.get_json_with_etag(key)
            current: VersionState | None = parse_state(store, version_id, data)
        except ObjectNotFound:
            current, etag = None, ""
        base = current or VersionState(id=version_id)
        changed = change(base)
        if changed == base:
            return base  # nothing to change: write nothing (a refused or repeated change)
        new = replace(changed, updated_at=now_iso())
        body = dump_json(new.to_dict())
        try:
            if current is None:
                store.put_if_absent(key, body)
            else:
                store.put_if_match(key, body, etag)
        except (ObjectExists, PreconditionFailed, ObjectNotFound):
            continue
        return new


def states(
    store: ObjectStore,
    ids: Iterable[str],
    on_corrupt: Callable[[CorruptRecord], None] | None = None,
) -> dict[str, VersionState]:
    """State of each of ``ids`` that has a document: one LIST, then one GET per document.

    A corrupt document raises :class:`CorruptRecord`, or with ``on_corrupt`` is passed
    to it and left out (the record's description and tags then apply).
    """
    wanted = set(ids)
    prefix = layout.STATE_PREFIX
    present = [
        key[len(prefix) : -len(".json")]
        for key in store.list_keys(prefix)
        if key.endswith(".json") and key[len(prefix) : -len(".json")] in wanted
    ]

    found = read_many(lambda i: read_state(store, i), present, on_corrupt)
    return {s.id: s for s in found}
