"""The public SDK: ``Dataset`` — create, change, finalize, inspect and fetch versions."""

from __future__ import annotations

import builtins
import io
import os
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
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
    version_dict,
    version_url,
)
from dsops.catalog import search as _search
from dsops.catalog import semver as _semver
from dsops.drafts import ChangeSummary
from dsops.errors import (
    ConfigError,
    CorruptRecord,
    DsopsWarning,
    NotFinalized,
    ObjectExists,
    VersionConflict,
    VersionNotFound,
)
from dsops.manifest import ManifestDiff, check_part, diff, merge_parents, select, select_part
from dsops.paths import match_mask
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
        return cls.open_id(version_id, opened)

    @classmethod
    def open_id(cls, version_id: str, store: Store) -> Dataset:
        record = store.catalog.find_version(version_id)
        if record is not None:
            return cls(store, None, record)
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
        *,
        store: StoreLike = None,
        on_corrupt: Callable[[CorruptRecord], None] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Finalized versions, oldest first, each as :meth:`to_dict` gives it.

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
        rows = []
        alias_cache: dict[tuple[str, str], dict[str, str]] = {}
        for record in opened.catalog.iter_versions(project, name, on_corrupt=report):
            if wanted and not wanted.issubset(record.tags):
                continue
            key = (record.project, record.name)
            if key not in alias_cache:
                alias_cache[key] = opened.catalog.aliases(*key, on_corrupt=report)
            names = [a for a, v in alias_cache[key].items() if v == record.id]
            rows.append(version_dict(record, names))
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
        if self._record is not None:
            return version_dict(self._record, self.aliases())
        return draft_dict(self._draft_record)

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
        return (self._record or self._draft_record).description

    @property
    def tags(self) -> builtins.list[str]:
        return list((self._record or self._draft_record).tags)

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
        return self

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
    ) -> ChangeSummary:
        """Add a file, a folder's contents, a glob, or a list of them under ``dataset_path``.

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

        items = [path] if isinstance(path, (str, os.PathLike)) else builtins.list(path)
        remote = [str(i) for i in items if is_url(str(i))]
        local: builtins.list[str | os.PathLike[str]] = [i for i in items if not is_url(str(i))]
        with tempfile.TemporaryDirectory(prefix="dsops-source-") as scratch:
            for n, url in enumerate(remote):
                options = options_for(url, self._store.url, self._store.options, source_options)
                target = Path(scratch) / str(n)
                download_prefix(url, target, **options)
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
    ) -> ChangeSummary:
        """Mirror ``folder`` into ``dataset_path``: added, modified and removed files.

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
        """A DataFrame of files: path, size, hash, origin (the version that added it)."""
        table = select(self.manifest(), pattern)
        frame: pd.DataFrame = table.select(["path", "size", "hash", "origin", "mtime"]).to_pandas()
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
        progress: Callback | None = None,
        part: int | None = None,
        num_parts: int | None = None,
    ) -> str:
        """A read-only folder with the merged files (cached; downloads only what's new).

        Args:
            include: Only files matching these globs.
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
        rows = select(self._store.manifests.table(record.id), patterns)
        rows = select_part(rows, part, num_parts)
        path = self._store.cache.view(
            self._store.backend,
            record.id,
            rows,
            patterns,
            workers=self._store.transfer_workers,
            progress=progress,
            part=selection,
        )
        return str(path)

    def get_mutable_local_copy(
        self,
        target_folder: str | os.PathLike[str],
        overwrite: bool = False,
        include: str | Sequence[str] | None = None,
        *,
        progress: Callback | None = None,
        part: int | None = None,
        num_parts: int | None = None,
    ) -> str:
        """A writable copy in ``target_folder`` (must be empty unless ``overwrite``).

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
        rows = select_part(select(self.manifest(), include), part, num_parts)
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
