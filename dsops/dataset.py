"""The public SDK: ``Dataset`` — create, change, finalize, inspect and fetch versions."""

from __future__ import annotations

import builtins
import io
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, overload

import pyarrow as pa

from dsops import drafts
from dsops.catalog import (
    LATEST,
    DatasetRef,
    DraftRecord,
    VersionRecord,
    check_alias,
    check_project_name,
    draft_dict,
    is_version_id,
    new_version_id,
    now_iso,
    version_dict,
    version_url,
)
from dsops.catalog import lifecycle as _lifecycle
from dsops.catalog import listing as _listing
from dsops.catalog import metadata as _metadata
from dsops.catalog import search as _search
from dsops.catalog import semver as _semver
from dsops.catalog.state import (
    MetadataEntry,
    VersionState,
    check_tags,
    effective,
    update_state,
)
from dsops.drafts import ChangeSummary, Shard, ShardArg
from dsops.errors import (
    ConfigError,
    CorruptRecord,
    DatasetRenamed,
    DsopsWarning,
    NotFinalized,
    ObjectExists,
    VersionConflict,
    VersionDeleted,
    VersionNotFound,
)
from dsops.manifest import ManifestDiff, check_part, diff, merge_parents, select, select_part
from dsops.paths import join, match_mask, normalize_dataset_path
from dsops.progress import Callback
from dsops.store import Store
from dsops.verify import VerifyResult, compare_folder, verify_version, with_folder

if TYPE_CHECKING:
    import pandas as pd

StoreLike = Store | str | None

_KEY_NAMESPACE = uuid.UUID("5d1c2b0e-8f0a-4c3e-9a57-6d2f0c1e7b44")
_KEY_SLOTS = 1000


def keyed_draft_id(key: str, slot: int = 0) -> str:
    """The draft id of ``key`` in ``slot`` (32 hex characters, like any version id).

    Example:
        >>> keyed_draft_id("dag/run/task/-1") == keyed_draft_id("dag/run/task/-1")
        True
    """
    return uuid.uuid5(_KEY_NAMESPACE, f"{key}#{slot}").hex


def _keyed_ids(key: str) -> Iterator[str]:
    return (keyed_draft_id(key, slot) for slot in range(_KEY_SLOTS))


Paths = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


class Dataset:
    """One dataset version: a draft you can change, or an immutable finalized version.

    Example:
        >>> import tempfile, pathlib
        >>> store = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
        >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.txt").write_text("hi")
        >>> ds = Dataset.create(project="demo", name="toy", store=store)
        >>> ds.add_files(src).added
        1
        >>> ds.finalize() == ds.id, ds.version
        (True, '1.0.0')
    """

    def __init__(
        self,
        store: Store,
        draft: DraftRecord | None,
        record: VersionRecord | None,
        *,
        created: bool = False,
    ) -> None:
        self._store = store
        self._draft = draft
        self._record = record
        self._state: VersionState | None = None
        #: True when this object's ``create`` call made the draft (False: reopened/got).
        self.created = created

    # --- constructors -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        project: str,
        name: str,
        parents: Sequence[str | Dataset] | str | Dataset | None = None,
        *,
        store: StoreLike = None,
        description: str = "",
        tags: Sequence[str] | None = None,
        version: str | None = None,
        key: str | None = None,
    ) -> Dataset:
        """Start a draft of ``project/name``.

        Args:
            project: Project, optionally nested (``"vision/cats"``).
            name: Dataset name.
            parents: Versions to inherit from: ids, refs (``"p/n@1.0.0"``), Datasets, or
                ``"latest"`` for this dataset's latest version (skipped when none yet).
            store: A :class:`Store`, a URL, or None for the default store.
            description: Free text.
            tags: Labels for search.
            version: Explicit semantic version for finalize (else the next patch).
            key: Makes creation retry-safe: calls with the same key (for the same
                dataset) return the same open draft instead of a new one, e.g. an
                orchestrator's ``dag/run/task`` id. Once that draft is finalized, the
                key starts a new draft. ``ds.created`` tells whether this call made it.
        """
        opened = Store.coerce(store)
        check_project_name(project, name)
        if version is not None:
            _semver.parse(version)
        opened.ensure_format()
        moved = opened.catalog.rename_marker(project, name, fresh=True)
        if moved is not None:
            raise DatasetRenamed(
                f"Dataset {project}/{name} was renamed to {moved.project}/{moved.name}: "
                "create versions there (a name once renamed away is never reused).",
                new_project=moved.project,
                new_name=moved.name,
            )
        slots = [new_version_id()] if key is None else _keyed_ids(f"{project}/{name}:{key}")
        for draft_id in slots:
            if key is not None:
                if opened.catalog.find_version(draft_id) is not None:
                    continue  # finalized by an earlier, successful run: next slot
                existing = opened.catalog.draft(draft_id)
                if existing is not None:
                    return cls(opened, existing, None, created=False)
            record = DraftRecord(
                id=draft_id,
                project=project,
                name=name,
                parents=tuple(cls._resolve_parents(opened, project, name, parents)),
                description=description or "",
                tags=tuple(tags or ()),
                version=version,
            )
            if opened.catalog.create_draft(record) is not None:
                return cls(opened, record, None, created=True)
            if key is None:
                raise ObjectExists(f"Draft {draft_id} already exists.", key=draft_id)
            existing = opened.catalog.draft(draft_id)  # a concurrent attempt won
            if existing is not None:
                return cls(opened, existing, None, created=False)
        raise ConfigError(
            f"More than {_KEY_SLOTS} finalized drafts for key {key!r}: use a new key.", key=key
        )

    @staticmethod
    def _resolve_parents(
        store: Store,
        project: str,
        name: str,
        parents: Sequence[str | Dataset] | str | Dataset | None,
    ) -> builtins.list[str]:
        if parents is None:
            return []
        items = [parents] if isinstance(parents, (str, Dataset)) else list(parents)
        ids: builtins.list[str] = []
        for item in items:
            if isinstance(item, str) and item.strip() == LATEST:
                latest = store.catalog.latest(project, name)
                if latest is None:
                    continue
                parent_id = latest
            else:
                parent_id = Dataset._finalized_id(store, item, "using it as a parent")
            if parent_id not in ids:
                ids.append(parent_id)
        return ids

    @classmethod
    def squash(
        cls,
        name: str,
        versions: Sequence[str | Dataset] | str | Dataset,
        project: str | None = None,
        *,
        store: StoreLike = None,
        description: str = "",
        tags: Sequence[str] | None = None,
        version: str | None = None,
        alias: str | None = None,
        provenance: dict[str, Any] | None = None,
    ) -> Dataset:
        """One new finalized version, with no parents, holding the merge of ``versions``.

        Files are merged as parents are (on a path in several versions the later one
        wins), and the new version names the content already stored: **no content
        byte is copied**. It goes through the ordinary commit protocol (a draft with one
        part, then finalize: label claim, seal, manifest, record, ``latest``); its record's
        ``squashed_from`` lists the merged version ids in order.

        Args:
            name: Dataset name of the new version.
            versions: Ids, refs (``"p/n@1.0.0"``) or Datasets; finalized, at least one.
            project: Its project (default: the first version's).
            store: A :class:`Store`, a URL, or None for the default store.
            description: Free text.
            tags: Labels for search.
            version: Explicit semantic version (else the next patch of ``project/name``).
            alias: Also point this alias at it.
            provenance: Kept in its record.

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> a = Dataset.create("demo", "daily", store=s); _ = a.finalize()
            >>> b = Dataset.create("demo", "daily", parents=[a], store=s); _ = b.finalize()
            >>> flat = Dataset.squash("flat", [a, b.ref], store=s)
            >>> flat.ref, flat.parents, flat.record.squashed_from == (a.id, b.id)
            ('demo/flat@1.0.0', [], True)
        """
        opened = Store.coerce(store)
        items = [versions] if isinstance(versions, (str, Dataset)) else builtins.list(versions)
        if not items:
            raise ConfigError(
                "Dataset.squash needs at least one version to squash: give ids or refs.",
                name=name,
            )
        ids = [cls._finalized_id(opened, item, "squashing it") for item in items]
        records = [opened.catalog.version(i) for i in ids]
        project = project or records[0].project
        check_project_name(project, name)
        if version is not None:
            _semver.parse(version)
            if version in opened.catalog.labels(project, name):
                raise VersionConflict(
                    f"{project}/{name}@{version} already exists; choose another version "
                    "or let dsops number it.",
                    version=version,
                )
        if alias:
            check_alias(alias)
        merged = merge_parents([opened.manifests.table(i) for i in ids])
        draft = DraftRecord(
            id=new_version_id(),
            project=project,
            name=name,
            description=description or "",
            tags=tuple(tags or ()),
            version=version,
            squashed_from=tuple(ids),
        )
        if opened.catalog.create_draft(draft) is None:
            raise ObjectExists(f"Draft {draft.id} already exists.", key=draft.id)
        ctx = opened.context()
        if merged.num_rows:
            drafts.add_stored(ctx, draft, merged)
        record = drafts.finalize(ctx, draft, provenance, alias)
        return cls(opened, None, record)

    @staticmethod
    def _finalized_id(store: Store, item: str | Dataset, use: str) -> str:
        """The id of a finalized version given as an id, a ref or a Dataset.

        A draft raises :class:`NotFinalized` (naming ``use``), an unknown version
        :class:`VersionNotFound`.
        """
        version_id = item.id if isinstance(item, Dataset) else store.catalog.resolve(str(item))
        if store.catalog.find_version(version_id) is None:
            if store.catalog.draft(version_id) is not None:
                raise NotFinalized(
                    f"{version_id} is still a draft: finalize it first, before {use}.",
                    version_id=version_id,
                )
            store.catalog.version(version_id)  # raises VersionNotFound
        return version_id

    @classmethod
    def get(
        cls,
        ref: str | None = None,
        *,
        project: str | None = None,
        name: str | None = None,
        version: str | None = None,
        alias: str | None = None,
        store: StoreLike = None,
    ) -> Dataset:
        """Open a version or draft by id or reference.

        ``ref`` is a version id, ``project/name@1.2.0``, ``project/name@latest`` or
        ``project/name@<alias>``; or give ``project=``, ``name=`` and optionally
        ``version=`` / ``alias=`` (default: latest).
        """
        opened = Store.coerce(store)
        if ref is None:
            if not project or not name:
                raise ConfigError(
                    "Dataset.get needs a reference or project= and name=.", project=project
                )
            label = version or alias or LATEST
            parsed = DatasetRef(project=project, name=name, label=label)
        else:
            parsed = DatasetRef.parse(ref)
        version_id = opened.catalog.resolve(parsed)
        if parsed.version_id:
            return cls.open_id(version_id, opened)  # an id may name a draft too
        try:
            return cls(opened, None, opened.catalog.version(version_id))
        except VersionDeleted:
            raise
        except VersionNotFound:
            # A label claimed by a finalize that has not reached its commit point.
            raise VersionNotFound(
                f"{parsed} is claimed by version {version_id}, whose finalize has not "
                "completed: re-run its finalize, or use another version.",
                ref=str(parsed),
                version_id=version_id,
            ) from None

    @classmethod
    def open_id(cls, version_id: str, store: Store) -> Dataset:
        try:
            return cls(store, None, store.catalog.version(version_id))
        except VersionDeleted:
            raise
        except VersionNotFound:
            pass
        draft = store.catalog.draft(version_id)
        if draft is None:
            raise VersionNotFound(
                f"No version or draft {version_id} in store {store.url}: check the id and "
                "the store (--store / DSOPS_STORE).",
                version_id=version_id,
                store=store.url,
            )
        return cls(store, draft, None)

    @classmethod
    def list(
        cls,
        project: str | None = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        partial_name: str | None = None,
        only_published: bool = False,
        *,
        store: StoreLike = None,
        on_corrupt: Callable[[CorruptRecord], None] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Finalized, live versions, oldest first, each as :meth:`to_dict` gives it.

        Filters (all optional, combined with "and"): ``project`` and ``name`` exactly;
        ``tags`` all present (current tags, see :meth:`add_tags`); ``ids`` among these
        version ids; ``partial_name`` a case-insensitive substring of the name;
        ``only_published``. Deleted versions are never listed.

        A corrupt record (a version record or alias that is not valid JSON or has wrong
        types) does not break the listing: it is skipped and passed to ``on_corrupt``,
        by default issued as a :class:`~dsops.errors.DsopsWarning` naming the key.

        Example:
            >>> import tempfile
            >>> Dataset.list(store=Store(tempfile.mkdtemp()))
            []
        """
        opened = Store.coerce(store)
        report = on_corrupt or _warn_corrupt
        wanted = set(tags or ())
        chosen = set(ids) if ids is not None else None
        part = (partial_name or "").lower()
        # Through the listing indexes: O(datasets) requests, checked against the claims,
        # tombstones, states and aliases (docs/FORMAT.md, "Listing index").
        found = _listing.list_versions(opened.catalog, project, name, on_corrupt=report)
        rows = []
        for stored in found.records:
            state = found.states.get(stored.id)
            record = effective(stored, state)
            if not (
                wanted.issubset(record.tags)
                and (chosen is None or record.id in chosen)
                and part in record.name.lower()
            ):
                continue
            if only_published and not (state and state.published):
                continue
            aliases = found.aliases.get((record.project, record.name), {})
            names = [a for a, v in aliases.items() if v == record.id]
            rows.append(version_dict(record, names, state))
        return rows

    @classmethod
    def list_drafts(
        cls,
        project: str | None = None,
        name: str | None = None,
        *,
        store: StoreLike = None,
    ) -> builtins.list[dict[str, Any]]:
        """Open drafts (not finalized yet), oldest first, as dicts."""
        opened = Store.coerce(store)
        rows = []
        for draft in opened.catalog.iter_drafts():
            if (project and draft.project != project) or (name and draft.name != name):
                continue
            rows.append({**draft.to_dict(), "ref": f"{draft.project}/{draft.name}"})
        return rows

    @classmethod
    def datasets(
        cls,
        q: str | None = None,
        tag: str | None = None,
        *,
        store: StoreLike = None,
        on_corrupt: Callable[[CorruptRecord], None] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """One summary per dataset (``project/name``), sorted by project and name.

        Args:
            q: Search words: each must occur (case-insensitive) in ``project/name`` or
                the description. None or empty: every dataset.
            tag: Only datasets with a version so tagged.
            store: A :class:`Store`, a URL, or None for the default store.
            on_corrupt: Called with each corrupt record or alias, which is skipped (by
                default a :class:`~dsops.errors.DsopsWarning` naming the key).

        Returns:
            Dicts with ``project``, ``name``, ``version_count``, ``latest`` (``id``,
            ``version``, ``ref`` of the version ``latest`` points at, else the highest
            semantic version), ``size`` and ``file_count`` of that latest version,
            ``aliases`` (alias → version id), ``tags`` (of any version), ``updated``
            (the newest finalize time, ISO 8601) and ``description`` (the latest one,
            else the newest given).

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> _ = Dataset.create("demo", "toy", store=s, tags=["img"]).finalize()
            >>> [toy] = Dataset.datasets(tag="img", store=s)
            >>> toy["latest"]["ref"], toy["version_count"]
            ('demo/toy@1.0.0', 1)
            >>> list(toy["aliases"]), toy["tags"]
            (['latest'], ['img'])
            >>> Dataset.datasets(q="cats", store=s)
            []
        """
        opened = Store.coerce(store)
        return _search.datasets(opened.catalog, q or "", tag or "", on_corrupt or _warn_corrupt)

    def to_dict(self) -> dict[str, Any]:
        """The version as a dict, the shape the CLI, events and the UI use too.

        A finalized version: its record's fields (``VersionRecord.to_dict()``) plus
        ``ref``, ``state: "final"`` and ``aliases`` (names pointing at it, sorted). A
        draft: the same keys, with ``version`` and the fields only a finalized version
        has set to None, ``requested_version``, ``state: "draft"``, ``ref`` = its id and
        ``aliases: []``. See docs/SHAPES.md.

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> ds = Dataset.create("demo", "toy", store=s)
            >>> ds.to_dict()["state"], ds.to_dict()["total_size"]
            ('draft', None)
            >>> _ = ds.finalize(); d = ds.to_dict()
            >>> d["state"], d["ref"], d["aliases"], d["total_size"]
            ('final', 'demo/toy@1.0.0', ['latest'], 0)
        """
        state = self._current_state()
        if self._record is not None:
            return version_dict(effective(self._record, state), self.aliases(), state)
        return draft_dict(effective(self._draft_record, state), state)

    # --- properties -------------------------------------------------------------------

    @property
    def requested_version(self) -> str | None:
        """The semantic version asked for at create time (None: the next patch)."""
        return self._draft.version if self._draft is not None else self.version

    @property
    def id(self) -> str:
        return self._record.id if self._record else self._draft_record.id

    @property
    def _draft_record(self) -> DraftRecord:
        assert self._draft is not None
        return self._draft

    @property
    def project(self) -> str:
        return self._record.project if self._record else self._draft_record.project

    @property
    def name(self) -> str:
        return self._record.name if self._record else self._draft_record.name

    @property
    def version(self) -> str | None:
        """The semantic version once finalized; None for a draft."""
        return self._record.version if self._record else None

    @property
    def parents(self) -> builtins.list[str]:
        source = self._record or self._draft_record
        return list(source.parents)

    @property
    def description(self) -> str:
        """The current description (:meth:`set_description` changes it)."""
        state = self._current_state()
        if state.description is not None:
            return state.description
        return (self._record or self._draft_record).description

    @property
    def tags(self) -> builtins.list[str]:
        """The current tags (:meth:`add_tags` / :meth:`remove_tags` change them)."""
        state = self._current_state()
        if state.tags is not None:
            return list(state.tags)
        return list((self._record or self._draft_record).tags)

    @property
    def is_published(self) -> bool:
        """True once :meth:`publish` was called: protected from delete and prune."""
        return self._current_state().published

    @property
    def created_at(self) -> str:
        return (self._record or self._draft_record).created_at

    @property
    def is_final(self) -> bool:
        return self._record is not None

    @property
    def record(self) -> VersionRecord | None:
        """The version record (None while a draft)."""
        return self._record

    @property
    def provenance(self) -> dict[str, Any]:
        return dict(self._record.provenance) if self._record else {}

    @property
    def store(self) -> Store:
        return self._store

    @property
    def ref(self) -> str:
        return self._record.ref if self._record else self.id

    def refresh(self) -> Dataset:
        """Re-read the state from the store (a draft may have been finalized elsewhere)."""
        fresh = Dataset.open_id(self.id, self._store)
        self._draft, self._record = fresh._draft, fresh._record
        self._state = None
        return self

    def _current_state(self) -> VersionState:
        if self._state is None:
            self._state = self._store.catalog.state(self.id)
        return self._state

    def _change_state(self, change: Callable[[VersionState], VersionState]) -> VersionState:
        self._state = update_state(self._store.backend, self.id, change)
        self._refresh_index()
        return self._state

    def _refresh_index(self) -> None:
        """A finalized version's listing index follows its state (drafts are not listed)."""
        if self._record is not None:
            _listing.refresh(
                self._store.catalog, self._record.project, self._record.name, [self.id]
            )

    # --- what may change over a version's life (docs/FORMAT.md, "Mutable state") --------

    def set_description(self, text: str) -> None:
        """Replace the description (drafts and finalized versions; content is untouched).

        Example:
            >>> import tempfile
            >>> ds = Dataset.create("demo", "toy", store=Store(tempfile.mkdtemp()))
            >>> ds.set_description("cats, 2024"); ds.description
            'cats, 2024'
        """
        if not isinstance(text, str):
            raise ConfigError(f"A description is text, not {type(text).__name__}.")
        self._change_state(lambda s: replace(s, description=text))

    def add_tags(self, *tags: str) -> builtins.list[str]:
        """Add tags (kept once each, in order); returns the tags now.

        Example:
            >>> import tempfile
            >>> ds = Dataset.create("demo", "toy", store=Store(tempfile.mkdtemp()), tags=["a"])
            >>> ds.add_tags("b", "a")
            ['a', 'b']
        """
        added = check_tags(tags)
        base = self._record_tags()
        state = self._change_state(
            lambda s: replace(
                s, tags=check_tags([*(s.tags if s.tags is not None else base), *added])
            )
        )
        return list(state.tags or ())

    def remove_tags(self, *tags: str) -> builtins.list[str]:
        """Remove tags (absent ones are ignored); returns the tags now."""
        gone = set(tags)
        base = self._record_tags()
        state = self._change_state(
            lambda s: replace(
                s, tags=tuple(t for t in (s.tags if s.tags is not None else base) if t not in gone)
            )
        )
        return list(state.tags or ())

    def _record_tags(self) -> tuple[str, ...]:
        return tuple((self._record or self._draft_record).tags)

    def publish(self) -> None:
        """Mark this finalized version published: delete and prune refuse it unless forced.

        Idempotent: publishing again keeps the first time.
        """
        self._final("publish it")
        stamp = now_iso()
        self._change_state(lambda s: s if s.published else replace(s, published_at=stamp))

    def set_metadata(self, obj: Any, name: str = "metadata") -> None:
        """Attach ``obj`` under ``name``: a pandas DataFrame (Parquet), a dict or list
        (JSON), bytes, or a file path (its bytes). Drafts and finalized versions alike;
        setting a name again replaces its value.

        Example:
            >>> import tempfile
            >>> ds = Dataset.create("demo", "toy", store=Store(tempfile.mkdtemp()))
            >>> ds.set_metadata({"classes": ["cat", "dog"]}, name="labels")
            >>> ds.get_metadata("labels"), ds.list_metadata()
            ({'classes': ['cat', 'dog']}, ['labels'])
        """
        _metadata.set_metadata(self._store.backend, self.id, name, obj)
        self._state = None
        self._refresh_index()

    def get_metadata(self, name: str = "metadata") -> Any:
        """The value set as ``name`` (a DataFrame, a dict/list, or bytes), hash-checked.

        Raises :class:`~dsops.errors.MetadataNotFound` naming what exists.
        """
        return _metadata.get_metadata(self._store.backend, self.id, name)

    def list_metadata(self) -> builtins.list[str]:
        """Names of this version's metadata, sorted."""
        self._state = None
        return sorted(self._current_state().metadata)

    def metadata_entries(self) -> dict[str, MetadataEntry]:
        """name → entry (``kind``: parquet, json or bytes; ``size``; ``hash``;
        ``set_at``) of this version's metadata, sorted by name, read afresh."""
        self._state = None
        return dict(sorted(self._current_state().metadata.items()))

    def get_metadata_bytes(self, name: str = "metadata") -> bytes:
        """The stored bytes of metadata ``name`` (Parquet, UTF-8 JSON, or the bytes as
        given), hash-checked: what a download offers without decoding it."""
        return _metadata.read_metadata(self._store.backend, self.id, name)[1]

    def remove_metadata(self, name: str) -> bool:
        """Forget metadata ``name``; True if it existed."""
        self._state = None
        removed = _metadata.remove_metadata(self._store.backend, self.id, name)
        self._refresh_index()
        return removed

    # --- removing and renaming ------------------------------------------------------

    @classmethod
    def delete(
        cls,
        ref: str | Dataset | None = None,
        *,
        force: bool = False,
        project: str | None = None,
        name: str | None = None,
        entire_dataset: bool = False,
        store: StoreLike = None,
    ) -> builtins.list[dict[str, Any]]:
        """Delete a version (``ref``: an id, a reference or a Dataset), or with
        ``project=``, ``name=``, ``entire_dataset=True, force=True`` a whole dataset.

        A published version, one another version names as a parent, or one an alias
        other than ``latest`` points at is refused with
        :class:`~dsops.errors.ProtectedVersion` unless ``force``. Children keep reading
        back exactly (manifests are full views); ``latest`` moves back to the highest
        remaining version. Labels are never reused. Returns the deleted versions as
        dicts. A deleted version no longer resolves
        (:class:`~dsops.errors.VersionDeleted`, a ``LookupError``).

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> first = Dataset.create("demo", "toy", store=s).finalize()
            >>> [gone] = Dataset.delete(first, store=s)
            >>> gone["ref"], Dataset.list(store=s)
            ('demo/toy@1.0.0', [])
        """
        opened = ref.store if isinstance(ref, Dataset) else Store.coerce(store)
        if entire_dataset:
            if ref is not None or not project or not name:
                raise ConfigError(
                    "entire_dataset=True deletes a whole dataset: pass project= and name= "
                    "(and no ref)."
                )
            records = _lifecycle.delete_dataset(opened.catalog, project, name, force=force)
        else:
            if ref is None:
                if not project or not name:
                    raise ConfigError(
                        "Dataset.delete needs a ref (id or project/name@version), or "
                        "project=, name= and entire_dataset=True."
                    )
                ref = f"{project}/{name}@{LATEST}"
            version_id = ref.id if isinstance(ref, Dataset) else opened.catalog.resolve(ref)
            records = [_lifecycle.delete_version(opened.catalog, version_id, force=force)]
        return [version_dict(r) for r in records]

    @classmethod
    def prune(
        cls,
        project: str,
        name: str,
        keep_last: int | None = None,
        keep_within: timedelta | str | None = None,
        keep_aliases: bool = True,
        dry_run: bool = False,
        *,
        store: StoreLike = None,
    ) -> builtins.list[dict[str, Any]]:
        """Retention: delete the versions of ``project/name`` beyond the newest
        ``keep_last`` and older than ``keep_within`` (a ``timedelta`` or ``"30d"``,
        ``"12h"``); never a published one, nor (``keep_aliases``) one an alias points
        at. Returns what was deleted — or, with ``dry_run``, what would be.

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> for _ in range(3): _ = Dataset.create("demo", "toy", store=s).finalize()
            >>> [v["version"] for v in Dataset.prune("demo", "toy", keep_last=1, store=s)]
            ['1.0.0', '1.0.1']
        """
        opened = Store.coerce(store)
        plan = _lifecycle.prune_plan(
            opened.catalog,
            project,
            name,
            keep_last=keep_last,
            keep_within=keep_within,
            keep_aliases=keep_aliases,
        )
        if not dry_run:
            for record in plan.delete:
                _lifecycle.delete_version(opened.catalog, record.id, force=True, reason="prune")
        return [version_dict(r) for r in plan.delete]

    @classmethod
    def rename(
        cls, project: str, name: str, new_name: str, *, store: StoreLike = None
    ) -> dict[str, Any]:
        """Rename dataset ``project/name`` to ``project/new_name``: every version, label
        and alias follows, ids never change, the old name stops resolving
        (:class:`~dsops.errors.DatasetRenamed`) and is never reused.

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> vid = Dataset.create("demo", "toy", store=s).finalize()
            >>> _ = Dataset.rename("demo", "toy", "cats", store=s)
            >>> Dataset.get("demo/cats@1.0.0", store=s).id == vid
            True
        """
        return cls._rename(project, name, project, new_name, store)

    @classmethod
    def move(
        cls, project: str, name: str, new_project: str, *, store: StoreLike = None
    ) -> dict[str, Any]:
        """Move dataset ``project/name`` to ``new_project/name`` (as :meth:`rename`)."""
        return cls._rename(project, name, new_project, name, store)

    @classmethod
    def _rename(
        cls, project: str, name: str, new_project: str, new_name: str, store: StoreLike
    ) -> dict[str, Any]:
        opened = Store.coerce(store)
        marker = _lifecycle.rename_dataset(opened.catalog, project, name, new_project, new_name)
        return {
            "from": {"project": project, "name": name},
            "to": {"project": marker.project, "name": marker.name},
            "renamed_at": marker.renamed_at,
            "labels": len(marker.labels),
            "aliases": sorted(marker.aliases),
        }

    def __repr__(self) -> str:
        state = self.version or "draft"
        return f"Dataset({self.project}/{self.name}@{state}, id={self.id})"

    # --- changing a draft -------------------------------------------------------------

    def _open_draft(self) -> DraftRecord:
        if self._record is not None or self._draft is None:
            self.refresh()
        if self._record is not None:
            drafts.ensure_open(
                self._store.context(), DraftRecord(id=self.id, project=self.project, name=self.name)
            )
        return self._draft_record

    def add_files(
        self,
        path: Paths,
        dataset_path: str = "",
        wildcard: str | Sequence[str] | None = None,
        recursive: bool = True,
        *,
        progress: Callback | None = None,
        source_options: dict[str, Any] | None = None,
        follow_symlinks: bool = False,
        shard: ShardArg = None,
    ) -> ChangeSummary:
        """Add a file, a folder's contents, a glob, or a list of them under ``dataset_path``.

        ``shard=(i, n)`` adds only shard ``i`` of ``n`` (``[i, n]`` and ``"i/n"`` are
        accepted too): the files whose dataset path hashes to ``i`` (see
        :mod:`dsops.drafts.shards`), so ``n`` workers adding the same source with shards
        ``0 … n-1`` into one draft add it exactly once between them. The split depends
        only on each file's path: stable when the source gains files, and a retried shard
        uploads nothing it already added. A URL source downloads only its shard's objects.

        A source may also be a store URL (``s3://landing/2024-01-01/``): its objects are
        downloaded to a temporary folder and added with their keys as paths (a
        ``file://`` URL too; a URL with nothing under it is an error, unlike an empty
        folder).
        ``source_options`` are that store's options (``endpoint_url=``, keys…), for
        every URL source; by default a source of the same kind as this dataset's store
        reuses the store's options (see ``dsops.drafts.url_sources.source_options``). Content
        already stored (by any ancestor) is not uploaded again.

        Symbolic links inside a source folder (or below a glob's fixed leading folders)
        whose target stays inside it are followed: a file link stores the target's
        content under the link's name, a folder link is walked. A link pointing outside
        raises :class:`~dsops.errors.UnsafeSymlink` naming it, unless
        ``follow_symlinks=True``; a folder link that loops back always does. Dangling
        links are skipped; a path named explicitly is followed. A file whose name is not
        valid UTF-8 raises :class:`~dsops.errors.InvalidPath` naming it: rename it.

        Example:
            >>> import tempfile, pathlib
            >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.txt").write_text("a")
            >>> (src / "b.txt").symlink_to(src / "a.txt")  # inside: stored as a file
            >>> ds = Dataset.create("demo", "links", store=Store(tempfile.mkdtemp()))
            >>> ds.add_files(src).added, ds.list_files()
            (2, ['a.txt', 'b.txt'])
        """
        import tempfile
        from pathlib import Path

        from dsops.drafts.url_sources import download_prefix, is_url
        from dsops.drafts.url_sources import source_options as options_for

        part = Shard.parse(shard)
        folder = normalize_dataset_path(dataset_path)
        keep = None if part is None else (lambda key: part.contains(join(folder, key)))
        items = [path] if isinstance(path, (str, os.PathLike)) else builtins.list(path)
        remote = [str(i) for i in items if is_url(str(i))]
        local: builtins.list[str | os.PathLike[str]] = [i for i in items if not is_url(str(i))]
        with tempfile.TemporaryDirectory(prefix="dsops-source-") as scratch:
            for n, url in enumerate(remote):
                options = options_for(url, self._store.url, self._store.options, source_options)
                target = Path(scratch) / str(n)
                download_prefix(url, target, select=keep, **options)
                local.append(str(target))
            return drafts.add_files(
                self._store.context(),
                self._open_draft(),
                local,
                dataset_path,
                wildcard,
                recursive,
                progress,
                follow_symlinks=follow_symlinks,
                shard=part,
            )

    def add_external_files(
        self,
        source_url: str,
        dataset_path: str = "",
        wildcard: str | Sequence[str] | None = None,
        recursive: bool = True,
    ) -> ChangeSummary:
        """Add files that stay where they are: an ``s3://``, ``gs://``, ``az://``,
        ``http(s)://`` or ``file://`` URL of one file or a prefix (everything below it).

        Each file lands at ``dataset_path/<path relative to the prefix>`` (one file: at
        ``dataset_path/<basename>``); ``wildcard`` filters by name or relative path, as
        for :meth:`add_files`. The bytes are streamed once to hash them and stored
        nowhere: the version records the URL, size, BLAKE3 hash and the source's
        validator (ETag, generation, Last-Modified, mtime). Fetching downloads them
        through the cache and refuses a source that changed since
        (:class:`~dsops.errors.ExternalSourceChanged`). A source of the same kind as
        this dataset's store reuses the store's options (credentials, endpoint).

        Example:
            >>> import tempfile, pathlib
            >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.txt").write_text("hi")
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> ds = Dataset.create("demo", "ext", store=s)
            >>> ds.add_external_files(f"file://{src}", "raw").added
            1
            >>> _ = ds.finalize(); ds.read_file("raw/a.txt")
            b'hi'
        """
        return drafts.add_external_files(
            self._store.context(),
            self._open_draft(),
            self._store.links,
            source_url,
            dataset_path,
            wildcard,
            recursive,
        )

    def remove_files(self, pattern: str | Sequence[str]) -> ChangeSummary:
        """Remove files matching glob pattern(s) (a folder name removes its contents)."""
        return drafts.remove_files(self._store.context(), self._open_draft(), pattern)

    def sync_folder(
        self,
        folder: str | os.PathLike[str],
        dataset_path: str = "",
        *,
        progress: Callback | None = None,
        follow_symlinks: bool = False,
        shard: ShardArg = None,
    ) -> ChangeSummary:
        """Mirror ``folder`` into ``dataset_path``: added, modified and removed files.

        ``shard=(i, n)`` mirrors only shard ``i`` of ``n`` (as in :meth:`add_files`): it
        adds, updates and removes only the paths of that shard, so ``n`` sharded syncs of
        one folder into one draft together equal one full sync.

        Symbolic links are handled as in :meth:`add_files`: followed while they stay
        inside ``folder``, refused (:class:`~dsops.errors.UnsafeSymlink`) when they lead
        outside unless ``follow_symlinks=True``.
        """
        return drafts.sync_folder(
            self._store.context(),
            self._open_draft(),
            folder,
            dataset_path,
            progress,
            follow_symlinks=follow_symlinks,
            shard=Shard.parse(shard),
        )

    @overload
    def finalize(
        self,
        *,
        provenance: dict[str, Any] | None = ...,
        alias: str | None = ...,
        skip_if_unchanged: Literal[False] = ...,
    ) -> str: ...

    @overload
    def finalize(
        self,
        *,
        provenance: dict[str, Any] | None = ...,
        alias: str | None = ...,
        skip_if_unchanged: bool,
    ) -> str | None: ...

    def finalize(
        self,
        *,
        provenance: dict[str, Any] | None = None,
        alias: str | None = None,
        skip_if_unchanged: bool = False,
    ) -> str | None:
        """Commit the draft atomically and return the version id (idempotent).

        Args:
            provenance: What made the version (orchestrator run ids, URLs), kept in its
                record.
            alias: Also point ``project/name@<alias>`` at the new version.
            skip_if_unchanged: Create no version when the draft would repeat existing
                content: with **one parent** and no change, return that parent's id
                (the version that already holds exactly these files); with **no
                parent** and no file, return None. With **several parents** the merge
                is itself new content and is always finalized. A skipped draft stays
                open (``ds.is_final`` is False); a finalized one returns its own id.
                So ``finalize(...) != ds.id`` tells a skip.

        Example:
            >>> import tempfile
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> first = Dataset.create("demo", "toy", store=s).finalize()
            >>> again = Dataset.create("demo", "toy", parents=[first], store=s)
            >>> again.finalize(skip_if_unchanged=True) == first, again.is_final
            (True, False)
        """
        if alias:
            check_alias(alias)
        if self._record is None:
            self.refresh()
        repeats = skip_if_unchanged and self._record is None and len(self.parents) <= 1
        if repeats and not self.changes().changed:
            return self.parents[0] if self.parents else None
        draft = self._draft or DraftRecord(id=self.id, project=self.project, name=self.name)
        self._record = drafts.finalize(self._store.context(), draft, provenance, alias)
        return self._record.id

    def set_alias(self, alias: str) -> str | None:
        """Point ``project/name@alias`` at this finalized version (history is kept).

        Returns the version id the alias pointed at before (None if it is new).
        """
        check_alias(alias)
        return self._store.catalog.set_alias(self._final("set an alias"), alias).previous

    def aliases(self) -> builtins.list[str]:
        """Aliases currently pointing at this version."""
        mapping = self._store.catalog.aliases(self.project, self.name)
        return sorted(a for a, v in mapping.items() if v == self.id)

    def alias_history(self, alias: str) -> builtins.list[dict[str, Any]]:
        return self._store.catalog.alias_history(self.project, self.name, alias)

    def _final(self, action: str) -> VersionRecord:
        if self._record is None:
            self.refresh()
        if self._record is None:
            raise NotFinalized(
                f"Version {self.id} is a draft: finalize it before you {action}.",
                version_id=self.id,
            )
        return self._record

    # --- inspection -------------------------------------------------------------------

    def manifest(self) -> pa.Table:
        """The full file table (path, size, hash, object, offset, length, origin, mtime)."""
        if self._record is not None:
            return self._store.manifests.table(self.id)
        view, _ = drafts.current_view(self._store.context(), self._draft_record)
        return view

    def _parent_view(self) -> pa.Table:
        draft = DraftRecord(
            id=self.id, project=self.project, name=self.name, parents=tuple(self.parents)
        )
        return drafts.base_view(self._store.context(), draft)

    def list_files(self, pattern: str | Sequence[str] | None = None) -> builtins.list[str]:
        """Paths in the version, sorted; optionally only those matching glob(s)."""
        table = select(self.manifest(), pattern)
        return [str(p) for p in table.column("path").to_pylist()]

    def files(self, pattern: str | Sequence[str] | None = None) -> pd.DataFrame:
        """A DataFrame of files: path, size, hash, origin (the version that added it),
        mtime, and ``link`` (an external file's source URL, ``""`` for stored files)."""
        table = select(self.manifest(), pattern)
        columns = ["path", "size", "hash", "origin", "mtime", "link"]
        frame: pd.DataFrame = table.select(columns).to_pandas()
        return frame

    def changes(self) -> ManifestDiff:
        """Difference against the merged parents."""
        return diff(self._parent_view(), self.manifest())

    def list_added_files(self) -> builtins.list[str]:
        return [str(p) for p in self.changes().added.column("path").to_pylist()]

    def list_modified_files(self) -> builtins.list[str]:
        return [str(p) for p in self.changes().modified.column("path").to_pylist()]

    def list_removed_files(self) -> builtins.list[str]:
        return [str(p) for p in self.changes().removed.column("path").to_pylist()]

    def diff(self, other: Dataset | str) -> ManifestDiff:
        """What changes from ``other`` to this version (other = old, self = new)."""
        if not isinstance(other, Dataset):
            other = Dataset.get(str(other), store=self._store)
        return diff(other.manifest(), self.manifest())

    def get_dependency_graph(self) -> dict[str, builtins.list[str]]:
        """version id → parent ids, over this version's whole ancestry."""
        if self._record is None and self._draft is not None:
            graph = {self.id: list(self._draft.parents)}
            for parent in self._draft.parents:
                graph.update(self._store.catalog.ancestry(parent))
            return graph
        return self._store.catalog.ancestry(self.id)

    def lineage(self) -> builtins.list[VersionRecord]:
        """The finalized ancestors (including this version), oldest first."""
        graph = self.get_dependency_graph()
        records = [r for r in (self._store.catalog.find_version(v) for v in graph) if r is not None]
        return sorted(records, key=lambda r: (r.finalized_at, r.id))

    def verify(
        self,
        folder: str | os.PathLike[str] | None = None,
        filesize_only: bool = False,
        deep: bool = False,
    ) -> VerifyResult:
        """Check every referenced object exists (``deep``: re-hash the content).

        External files: each source is asked for its validator (a HEAD); a source that
        is gone is ``missing``, a changed validator ``corrupted``; ``deep`` also streams
        and re-hashes their bytes.

        With ``folder``, also compare that local folder with the version:
        ``result.folder_missing`` (the version's files it lacks), ``folder_extra``
        (files it has that the version does not; a name that is not UTF-8 appears
        escaped) and ``folder_different`` (a different size, or unless
        ``filesize_only`` a different BLAKE3). Symbolic links are followed only while
        they stay inside the folder; others count as extra (or different).

        The result is truthy only if everything checked is OK; ``result.missing`` and
        ``result.corrupted`` list the affected paths of the store.

        Example:
            >>> import tempfile, pathlib
            >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
            >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.txt").write_text("a")
            >>> ds = Dataset.create("demo", "check", store=s); _ = ds.add_files(src)
            >>> _ = ds.finalize(); _ = (src / "b.txt").write_text("b")
            >>> result = ds.verify(folder=src)
            >>> bool(result), result.folder_extra, result.folder_missing
            (False, ('b.txt',), ())
        """
        if isinstance(folder, bool):
            raise ConfigError(
                "verify(folder=…) takes a folder path; pass deep=True by name.", folder=folder
            )
        table = self.manifest()
        result = verify_version(self._store, self.id, table, deep=deep)
        if folder is None:
            return result
        local = os.fspath(folder)
        found = compare_folder(
            table,
            local,
            self._store.cache.statcache,
            filesize_only=filesize_only,
            algo=(self._record or self._draft_record).hash_algo,
        )
        return with_folder(result, local, found, filesize_only)

    # --- fetching ---------------------------------------------------------------------

    def get_local_copy(
        self,
        include: str | Sequence[str] | None = None,
        *,
        exclude: str | Sequence[str] | None = None,
        progress: Callback | None = None,
        part: int | None = None,
        num_parts: int | None = None,
    ) -> str:
        """A read-only folder with the merged files (cached; downloads only what's new).

        Args:
            include: Only files matching these globs.
            exclude: Leave out files matching these globs (after ``include``; a file
                both include and exclude match is left out).
            progress: Progress callback.
            part: With ``num_parts``: only part ``part`` (0 … ``num_parts - 1``) of the
                files (of those ``include`` selects). The parts are disjoint, their union
                is the whole selection, and they are balanced by bytes (contiguous runs
                of sorted paths, within one file's size of an equal share; docs/FORMAT.md
                "Parts"), so N workers each fetch only their share: a part downloads only
                the byte ranges of its own files.
            num_parts: How many parts the files are split into (≥ 1).

        Example:
            >>> import tempfile, pathlib, os
            >>> src = pathlib.Path(tempfile.mkdtemp())
            >>> for n in "abcd": _ = (src / n).write_text(n * 10)
            >>> ds = Dataset.create("demo", "parts", store=Store(tempfile.mkdtemp(),
            ...     cache_dir=tempfile.mkdtemp()))
            >>> _ = ds.add_files(src); _ = ds.finalize()
            >>> [sorted(os.listdir(ds.get_local_copy(part=i, num_parts=2))) for i in (0, 1)]
            [['a', 'b'], ['c', 'd']]
        """
        selection = check_part(part, num_parts)
        record = self._final("fetch a read-only copy (or use get_mutable_local_copy)")
        patterns = [include] if isinstance(include, str) else include
        excluded = [exclude] if isinstance(exclude, str) else exclude
        rows = select(self._store.manifests.table(record.id), patterns, excluded)
        rows = select_part(rows, part, num_parts)
        path = self._store.cache.view(
            self._store.backend,
            record.id,
            rows,
            patterns,
            workers=self._store.transfer_workers,
            progress=progress,
            part=selection,
            exclude=excluded,
        )
        return str(path)

    def get_mutable_local_copy(
        self,
        target_folder: str | os.PathLike[str],
        overwrite: bool = False,
        include: str | Sequence[str] | None = None,
        *,
        exclude: str | Sequence[str] | None = None,
        progress: Callback | None = None,
        part: int | None = None,
        num_parts: int | None = None,
    ) -> str:
        """A writable copy in ``target_folder`` (must be empty unless ``overwrite``).

        ``include`` / ``exclude`` select files by glob as in :meth:`get_local_copy`.

        The target may not be, contain, or lie inside the local store root or the
        cache folder (symbolic links resolved): that raises :class:`UnsafeTarget`
        before anything is written, since replacing it would delete the store.
        ``part`` / ``num_parts``: only that part of the files, as in
        :meth:`get_local_copy`.
        """
        from pathlib import Path

        from dsops.storage import LocalStore

        selection = check_part(part, num_parts)
        protected = []
        if isinstance(self._store.backend, LocalStore):
            protected.append(("the dsops store", self._store.backend.root))
        rows = select_part(select(self.manifest(), include, exclude), part, num_parts)
        path = self._store.cache.mutable_copy(
            self._store.backend,
            rows,
            Path(target_folder),
            overwrite=overwrite,
            workers=self._store.transfer_workers,
            progress=progress,
            protected=protected,
            exact=selection is not None,
        )
        return str(path)

    def _file_row(self, path: str) -> pa.Table:
        table = self.manifest()
        row = table.filter(match_mask(table.column("path"), [_literal(path)]))
        row = row.filter(pa.compute.equal(row.column("path"), path))
        if row.num_rows == 0:
            raise VersionNotFound(
                f"No file {path!r} in {self.ref}: list files with ds.list_files().",
                path=path,
                version_id=self.id,
            )
        return row

    def open(self, path: str) -> BinaryIO:
        """A read-only binary file object for one file (fetched through the cache)."""
        row = self._file_row(path)
        if int(row.column("size")[0].as_py()) == 0:
            return io.BytesIO(b"")
        self._store.cache.fetch(self._store.backend, row)
        return open(self._store.cache.objects.path(str(row.column("hash")[0].as_py())), "rb")

    def url(self, path: str = "") -> str:
        """The pinned ``dsops://<version id>/<path>`` URL, to read in place through fsspec.

        Example:
            >>> import tempfile
            >>> ds = Dataset.create("demo", "url", store=Store(tempfile.mkdtemp()))
            >>> version_id = ds.finalize()
            >>> ds.url("t.csv") == f"dsops://{version_id}/t.csv"
            True
        """
        return version_url(self._final("read it through a URL").id, path)

    def read_file(self, path: str) -> bytes:
        """The bytes of one file of the version (through the cache)."""
        with self.open(path) as fh:
            return fh.read()

    def children(self) -> builtins.list[str]:
        """Ids of finalized versions (of any dataset) that list this one as a parent."""
        return [r.id for r in self._store.catalog.iter_versions() if self.id in r.parents]


def _warn_corrupt(error: CorruptRecord) -> None:
    warnings.warn(f"Skipped a corrupt record: {error}", DsopsWarning, stacklevel=3)


def _literal(path: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def is_dataset_id(text: str) -> bool:
    return is_version_id(text)
