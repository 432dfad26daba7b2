"""Version and draft records: the JSON documents that make a version exist."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, TypeVar

from dsops.errors import ConfigError, CorruptRecord, ManifestError

_MAX_SEGMENT = 128
_CONTROL = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_VERSION_ID = re.compile(r"^[0-9a-f]{32}$")


T = TypeVar("T")


def read_many(
    read: Callable[[str], T],
    keys: Iterable[str],
    on_corrupt: Callable[[CorruptRecord], None] | None = None,
) -> list[T]:
    """``read`` each key on 16 threads, in order. A :class:`CorruptRecord` raises, or
    with ``on_corrupt`` is passed to it and left out."""

    def attempt(key: str) -> T | CorruptRecord:
        try:
            return read(key)
        except CorruptRecord as exc:
            if on_corrupt is None:
                raise
            return exc

    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(attempt, keys))
    kept = []
    for item in found:
        if isinstance(item, CorruptRecord):
            assert on_corrupt is not None
            on_corrupt(item)
        else:
            kept.append(item)
    return kept


def new_version_id() -> str:
    return uuid.uuid4().hex


def is_version_id(text: str) -> bool:
    return bool(_VERSION_ID.match(text))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _segment_problem(text: str) -> str | None:
    """Why ``text`` cannot be a project segment or a dataset name (None: it can)."""
    if not text:
        return "it is empty"
    if text in (".", ".."):
        return f"{text!r} is not a name"
    if len(text) > _MAX_SEGMENT:
        return f"it is longer than {_MAX_SEGMENT} characters"
    if text != text.strip():
        return "it starts or ends with a space"
    for c in text:
        if c in "/@\\" or unicodedata.category(c) in _CONTROL:
            return f"it contains {c!r} ('/', '@', '\\' and control characters are refused)"
    return None


def check_project_name(project: str, name: str) -> None:
    """Projects may nest with ``/``; each segment, and the name, is a display name.

    Letters of any script, digits, spaces inside, punctuation: ``"dataset_examples/MNIST"``
    / ``"MNIST Training Dataset"``. Refused: empty segments, ``.`` and ``..``, leading or
    trailing spaces, ``/`` in a name, ``@`` (it ends the name in a reference), ``\\``, and
    control characters (NUL, newlines, tabs, …). Keys escape them (docs/FORMAT.md, "Names").
    """
    for segment in project.split("/") if project else [""]:
        problem = _segment_problem(segment)
        if problem:
            raise ConfigError(
                f"Invalid project {project!r}: {problem}. Nest projects with '/' "
                "(e.g. 'vision/cats').",
                project=project,
            )
    problem = _segment_problem(name) if isinstance(name, str) else "it is not text"
    if problem:
        raise ConfigError(f"Invalid dataset name {name!r}: {problem}.", name=name)


def _to_dict(record: Any) -> dict[str, Any]:
    """JSON-ready dict of a record; tuples become lists."""
    data: dict[str, Any] = asdict(record)
    data["parents"] = list(record.parents)
    data["tags"] = list(record.tags)
    data["squashed_from"] = list(record.squashed_from)
    return data


def _type_problem(annotation: str, value: Any) -> str | None:
    """Why ``value`` does not fit a record field annotated ``annotation`` (None: it fits)."""
    if annotation == "str | None" and value is None:
        return None
    if annotation in ("str", "str | None"):
        return None if isinstance(value, str) else "a string"
    if annotation == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "an integer"
    if annotation == "tuple[str, ...]":
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        return None if ok else "a list of strings"
    if annotation == "dict[str, int]":
        ok = isinstance(value, dict) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value.values()
        )
        return None if ok else "an object of integers"
    if annotation.startswith("dict["):
        return None if isinstance(value, dict) else "an object"
    return None


def _from_dict(cls: type[Any], data: dict[str, Any], what: str) -> Any:
    """Build a record, checking every field's JSON type (a corrupt record fails here)."""
    if not isinstance(data, dict):
        raise ManifestError(
            f"Malformed {what}: expected a JSON object, got {type(data).__name__}.", what=what
        )
    known = {f.name: str(f.type) for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in known}
    for key, value in values.items():
        expected = _type_problem(known[key], value)
        if expected is not None:
            raise ManifestError(
                f"Malformed {what}: {key!r} should be {expected}, not {value!r}.",
                what=what,
                field=key,
            )
    for key in ("parents", "tags", "squashed_from"):
        if key in values:
            values[key] = tuple(values[key])
    try:
        return cls(**values)
    except TypeError as exc:
        raise ManifestError(f"Malformed {what}: {exc}.", what=what) from exc


@dataclass(frozen=True)
class DraftRecord:
    """``drafts/<id>/draft.json``: what a draft will become, written create-only."""

    id: str
    project: str
    name: str
    parents: tuple[str, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()
    version: str | None = None
    created_at: str = field(default_factory=now_iso)
    hash_algo: str = "blake3"
    # A squash's draft: the versions it merges (carried into the version record, so a
    # re-run finalize writes the same record).
    squashed_from: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DraftRecord:
        record: DraftRecord = _from_dict(cls, data, "draft record")
        return record


@dataclass(frozen=True)
class VersionRecord:
    """``versions/<id>.json``: a finalized version. Creating it is the commit point."""

    id: str
    project: str
    name: str
    version: str
    parents: tuple[str, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()
    created_at: str = ""
    finalized_at: str = ""
    manifest: str = ""
    # BLAKE3 of the manifest file's bytes, checked on every load ("" in records written
    # before dsops recorded it: those manifests are loaded unchecked).
    manifest_hash: str = ""
    hash_algo: str = "blake3"
    file_count: int = 0
    total_size: int = 0
    changes: dict[str, int] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    format: int = 1
    # The versions a squash merged (in order; later won), () for any other version.
    squashed_from: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.project}/{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionRecord:
        record: VersionRecord = _from_dict(cls, data, "version record")
        return record


# --- a version as a dict (docs/SHAPES.md) ---------------------------------------------

_VERSION_FIELDS = tuple(f.name for f in fields(VersionRecord))


def version_dict(
    record: VersionRecord, aliases: Iterable[str] = (), state: Any = None
) -> dict[str, Any]:
    """A finalized version as a dict: the record's fields plus ``ref``, ``state`` and
    ``aliases`` (the names given, sorted). The one shape every interface prints.

    Example:
        >>> r = VersionRecord(id="ab" * 16, project="demo", name="toy", version="1.0.0")
        >>> d = version_dict(r, ["prod", "latest"])
        >>> d["ref"], d["state"], d["aliases"]
        ('demo/toy@1.0.0', 'final', ['latest', 'prod'])
    """
    return {
        **record.to_dict(),
        "ref": record.ref,
        "state": "final",
        "aliases": sorted(aliases),
        **lifecycle_fields(state),
    }


def lifecycle_fields(state: Any) -> dict[str, Any]:
    """``published``, ``published_at`` and ``metadata`` (names) of a ``VersionState``."""
    if state is None:
        return {"published": False, "published_at": None, "metadata": []}
    return {
        "published": state.published_at is not None,
        "published_at": state.published_at,
        "metadata": sorted(state.metadata),
    }


def draft_dict(draft: DraftRecord, state: Any = None) -> dict[str, Any]:
    """A draft in the same shape: ``version``, and every field only a finalized version
    has (``finalized_at``, ``manifest``, ``file_count``, ``total_size``, ``changes``, …),
    are None; ``requested_version`` is the semver asked for; ``ref`` is the id.

    Example:
        >>> d = draft_dict(DraftRecord(id="cd" * 16, project="demo", name="toy"))
        >>> d["state"], d["version"], d["total_size"], d["ref"] == d["id"], d["aliases"]
        ('draft', None, None, True, [])
    """
    data = draft.to_dict()
    return {
        **{key: data.get(key) for key in _VERSION_FIELDS},
        "version": None,
        "requested_version": data["version"],
        "ref": draft.id,
        "state": "draft",
        "aliases": [],
        **lifecycle_fields(state),
    }
