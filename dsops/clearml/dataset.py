"""``dsops.clearml.Dataset``: ClearML's ``Dataset`` API, translated onto ``dsops.Dataset``.

Every method takes ClearML's argument names and returns what ClearML returns; the work is
done by the native SDK (no second engine). What needs a ClearML server is accepted as a
documented no-op or refused with :class:`~dsops.errors.ServerOnly` naming the dsops
equivalent. See ``docs/CLEARML.md``.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from dsops.clearml.entries import FileEntry, LinkEntry, entries, select_paths
from dsops.clearml.lookup import find, matching, normalize_version
from dsops.clearml.stores import StoreLike, clearml_store
from dsops.dataset import Dataset as Native
from dsops.errors import ConfigError, DsopsError, MetadataNotFound, ServerOnly
from dsops.manifest import ManifestDiff


class NullLogger:
    """What :meth:`Dataset.get_logger` returns: every ``report_*`` call is accepted and
    does nothing (there is no ClearML web app to show plots in)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("report_") or name in ("flush", "set_default_upload_destination"):
            return _ignore
        raise AttributeError(name)


def _ignore(*args: Any, **kwargs: Any) -> None:
    return None


class Dataset:
    """A dataset version with ClearML's interface; ``dsops`` underneath.

    Example:
        >>> import tempfile, pathlib
        >>> store = tempfile.mkdtemp()
        >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.csv").write_text("x")
        >>> ds = Dataset.create(dataset_name="toy", dataset_project="demo", output_uri=store)
        >>> ds.add_files(src)
        1
        >>> ds.upload(); ds.finalize()
        True
        >>> Dataset.get(dataset_project="demo", dataset_name="toy", store=store).list_files()
        ['a.csv']
    """

    def __init__(self, native: Native) -> None:
        self._ds = native

    # --- constructors -----------------------------------------------------------------

    @classmethod
    def create(
        cls,
        dataset_name: str | None = None,
        dataset_project: str | None = None,
        dataset_tags: Sequence[str] | None = None,
        parent_datasets: Sequence[str | Dataset] | None = None,
        use_current_task: bool = False,
        dataset_version: str | None = None,
        output_uri: str | None = None,
        description: str | None = None,
        *,
        store: StoreLike = None,
        **ignored: Any,
    ) -> Dataset:
        """A new draft (ClearML: a dataset "in progress").

        ``parent_datasets`` are ids or :class:`Dataset` objects; with none of
        ``dataset_name`` / ``dataset_project`` the first parent's are used.
        ``output_uri`` chooses the store (``s3://``, ``gs://``, ``azure://``, ``az://``, a
        path; ``store=`` is the same); ``use_current_task`` has no meaning without a
        server and is accepted. Other ClearML arguments (``description`` aside) are
        accepted and ignored.
        """
        opened = clearml_store(output_uri if output_uri is not None else store)
        parents = [p._ds if isinstance(p, Dataset) else str(p) for p in parent_datasets or ()]
        if not dataset_name or not dataset_project:
            if not parents:
                raise ConfigError(
                    "Dataset.create needs dataset_name= and dataset_project= (or "
                    "parent_datasets= to take them from)."
                )
            first = parents[0]
            source = first if isinstance(first, Native) else Native.get(first, store=opened)
            dataset_name = dataset_name or source.name
            dataset_project = dataset_project or source.project
        native = Native.create(
            project=dataset_project,
            name=dataset_name,
            parents=parents,
            store=opened,
            description=description or "",
            tags=list(dataset_tags or ()),
            version=normalize_version(dataset_version),
        )
        return cls(native)

    @classmethod
    def get(
        cls,
        dataset_id: str | None = None,
        dataset_project: str | None = None,
        dataset_name: str | None = None,
        dataset_tags: Sequence[str] | None = None,
        only_completed: bool = False,
        only_published: bool = False,
        include_archived: bool = False,
        auto_create: bool = False,
        writable_copy: bool = False,
        dataset_version: str | None = None,
        alias: str | None = None,
        overridable: bool = False,
        shallow_search: bool = False,
        *,
        store: StoreLike = None,
        **ignored: Any,
    ) -> Dataset:
        """The newest version (by creation time) matching every filter given.

        Drafts match too unless ``only_completed`` or ``only_published``, as in ClearML.
        None matching: with ``auto_create`` a new draft of ``dataset_project`` /
        ``dataset_name`` (tagged ``dataset_tags``), else
        :class:`~dsops.errors.NoMatchingDataset` (a ``ValueError`` and a
        ``LookupError``). ``writable_copy``: a new draft whose parent is the match.
        ``alias``, ``overridable``, ``include_archived`` and ``shallow_search`` only
        steer ClearML's server (task parameters, archive search) and are accepted.
        """
        opened = clearml_store(store)
        version = normalize_version(dataset_version)
        found = find(
            opened,
            dataset_id,
            dataset_project,
            dataset_name,
            dataset_tags,
            version,
            only_completed=only_completed,
            only_published=only_published,
            required=not auto_create,
        )
        if found is None:
            return cls.create(
                dataset_name=dataset_name,
                dataset_project=dataset_project,
                dataset_tags=dataset_tags,
                dataset_version=version,
                store=opened,
            )
        if writable_copy and found.is_final:
            return cls(Native.create(found.project, found.name, parents=[found], store=opened))
        return cls(found)

    @classmethod
    def list_datasets(
        cls,
        dataset_project: str | None = None,
        partial_name: str | None = None,
        tags: Sequence[str] | None = None,
        ids: Sequence[str] | None = None,
        only_completed: bool = True,
        recursive_project_search: bool = True,
        include_archived: bool = True,
        *,
        store: StoreLike = None,
    ) -> builtins.list[dict[str, Any]]:
        """ClearML-shaped dicts, oldest first: ``id``, ``name``, ``project``,
        ``version`` (None for a draft), ``tags``, ``created`` (a ``datetime``), plus
        ``description`` and ``state`` (``"final"`` / ``"draft"``).

        ``dataset_project`` also matches its sub-projects unless
        ``recursive_project_search=False``; ``partial_name`` is a case-insensitive
        substring; ``only_completed=False`` adds drafts.
        """
        rows = matching(
            clearml_store(store),
            dataset_project,
            None,
            tags,
            None,
            only_completed=only_completed,
            partial_name=partial_name,
            ids=ids,
            recursive=recursive_project_search,
        )
        return [
            {
                "id": d["id"],
                "name": d["name"],
                "project": d["project"],
                "version": d.get("version"),
                "tags": list(d.get("tags") or ()),
                "created": datetime.fromisoformat(d["created_at"]),
                "description": d.get("description", ""),
                "state": d.get("state", "draft"),
            }
            for d in rows
        ]

    # --- removing, squashing, renaming --------------------------------------------------

    @classmethod
    def delete(
        cls,
        dataset_id: str | None = None,
        dataset_project: str | None = None,
        dataset_name: str | None = None,
        force: bool = False,
        dataset_version: str | None = None,
        entire_dataset: bool = False,
        shallow_delete: bool = False,
        delete_files: bool = True,
        delete_external_files: bool = False,
        *,
        store: StoreLike = None,
    ) -> None:
        """Delete one version (``dataset_id``, or the one ``dataset_project`` /
        ``dataset_name`` / ``dataset_version`` match), or with ``entire_dataset`` every
        version of the dataset.

        Several versions matching without ``entire_dataset`` is a
        :class:`~dsops.errors.ConfigError`, as in ClearML. ``force`` deletes a version
        other versions name as parent (and a published one). Stored bytes are freed by
        ``dsops gc`` (``delete_files`` / ``shallow_delete`` are accepted); external
        files are never touched (``delete_external_files=True`` is refused).
        """
        opened = clearml_store(store)
        if delete_external_files:
            raise ServerOnly(
                "dsops never deletes external files (add_external_files sources): "
                "remove them at their source.",
            )
        if entire_dataset:
            if not dataset_project or not dataset_name:
                raise ConfigError("entire_dataset=True needs dataset_project= and dataset_name=.")
            Native.delete(
                project=dataset_project,
                name=dataset_name,
                entire_dataset=True,
                force=force,
                store=opened,
            )
            return
        if dataset_id:
            Native.delete(dataset_id, force=force, store=opened)
            return
        rows = matching(
            opened,
            dataset_project,
            dataset_name,
            None,
            normalize_version(dataset_version),
            only_completed=True,
            recursive=False,
        )
        if len(rows) != 1:
            found = cls.get(
                dataset_project=dataset_project,
                dataset_name=dataset_name,
                dataset_version=dataset_version,
                only_completed=True,
                store=opened,
            )  # raises NoMatchingDataset when none match
            if len(rows) > 1:
                raise ConfigError(
                    f"{len(rows)} versions of {found.project}/{found.name} match: pass "
                    "dataset_version=, dataset_id=, or entire_dataset=True.",
                )
        Native.delete(rows[0]["id"], force=force, store=opened)

    @classmethod
    def squash(
        cls,
        dataset_name: str,
        dataset_ids: Sequence[str | Dataset] | None = None,
        dataset_project_name_pairs: Sequence[tuple[str, str]] | None = None,
        output_url: str | None = None,
        *,
        store: StoreLike = None,
    ) -> Dataset:
        """One new finalized version named ``dataset_name`` (in the first source's
        project) holding the merge of the sources, later ones winning; no byte copied.

        Sources are ``dataset_ids`` (ids or Datasets) and/or the newest finalized version
        of each ``(project, name)`` pair. ``output_url`` is the store (as ``store=``).
        """
        opened = clearml_store(output_url if output_url is not None else store)
        sources: builtins.list[str | Native] = [
            d._ds if isinstance(d, Dataset) else str(d) for d in dataset_ids or ()
        ]
        for project, name in dataset_project_name_pairs or ():
            latest = cls.get(
                dataset_project=project, dataset_name=name, only_completed=True, store=opened
            )
            sources.append(latest._ds)
        if not sources:
            raise ConfigError("Dataset.squash needs dataset_ids= or dataset_project_name_pairs=.")
        return cls(Native.squash(dataset_name, sources, store=opened))

    @classmethod
    def rename(
        cls,
        new_dataset_name: str,
        dataset_project: str,
        dataset_name: str,
        *,
        store: StoreLike = None,
    ) -> None:
        """Rename every version of ``dataset_project/dataset_name`` (ids never change)."""
        Native.rename(dataset_project, dataset_name, new_dataset_name, store=clearml_store(store))

    @classmethod
    def move_to_project(
        cls,
        new_dataset_project: str,
        dataset_project: str,
        dataset_name: str,
        *,
        store: StoreLike = None,
    ) -> None:
        """Move every version of ``dataset_project/dataset_name`` to ``new_dataset_project``."""
        Native.move(dataset_project, dataset_name, new_dataset_project, store=clearml_store(store))

    # --- properties -------------------------------------------------------------------

    @property
    def id(self) -> str:
        return self._ds.id

    @property
    def name(self) -> str:
        return self._ds.name

    @property
    def project(self) -> str:
        return self._ds.project

    @property
    def version(self) -> str | None:
        """The semantic version; for a draft the one asked for (None: the next patch)."""
        return self._ds.version or self._ds.requested_version

    @property
    def tags(self) -> builtins.list[str]:
        return self._ds.tags

    @tags.setter
    def tags(self, values: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(values))
        gone = [t for t in self._ds.tags if t not in wanted]
        if gone:
            self._ds.remove_tags(*gone)
        if wanted:
            self._ds.add_tags(*wanted)

    @property
    def description(self) -> str:
        return self._ds.description

    @property
    def file_entries(self) -> builtins.list[FileEntry]:
        """The stored files (external files are in :attr:`link_entries`), by path."""
        return list(self.file_entries_dict.values())

    @property
    def file_entries_dict(self) -> dict[str, FileEntry]:
        """path → :class:`FileEntry` of each stored file."""
        return entries(self._ds.manifest())[0]

    @property
    def link_entries(self) -> builtins.list[LinkEntry]:
        return list(self.link_entries_dict.values())

    @property
    def link_entries_dict(self) -> dict[str, LinkEntry]:
        """path → :class:`LinkEntry` of each external file."""
        return entries(self._ds.manifest())[1]

    @property
    def native(self) -> Native:
        """The ``dsops.Dataset`` underneath (every dsops feature, e.g. aliases)."""
        return self._ds

    def is_final(self) -> bool:
        return self._ds.refresh().is_final

    def is_dirty(self) -> bool:
        """Always False: content is stored as it is added, nothing waits for upload."""
        return False

    def get_default_storage(self) -> str:
        """The store URL (ClearML: where ``upload()`` would send files)."""
        return self._ds.store.url

    def __repr__(self) -> str:
        return f"clearml.{self._ds!r}"

    # --- changing a draft -------------------------------------------------------------

    def add_files(
        self,
        path: str | os.PathLike[str],
        wildcard: str | Sequence[str] | None = None,
        local_base_folder: str | os.PathLike[str] | None = None,
        dataset_path: str | None = None,
        recursive: bool = True,
        verbose: bool = False,
        max_workers: int | None = None,
    ) -> int:
        """Add a file, a folder or a glob (``~/data/*.jpg``); returns how many files were
        added or modified. With ``local_base_folder`` a file or folder keeps its path
        relative to that folder under ``dataset_path``."""
        source = os.path.expanduser(os.fspath(path))
        target = dataset_path or ""
        if local_base_folder is not None:
            rel = os.path.relpath(source, os.path.expanduser(os.fspath(local_base_folder)))
            if rel.startswith(".."):
                raise ConfigError(
                    f"{source} is not inside local_base_folder {local_base_folder}.",
                    path=source,
                )
            folder = rel if os.path.isdir(source) else os.path.dirname(rel)
            if folder not in ("", "."):
                target = "/".join(p for p in (target.strip("/"), Path(folder).as_posix()) if p)
        summary = self._ds.add_files(source, target, wildcard=wildcard, recursive=recursive)
        return summary.added + summary.modified

    def add_external_files(
        self,
        source_url: str | Sequence[str],
        wildcard: str | Sequence[str] | None = None,
        dataset_path: str | None = None,
        recursive: bool = True,
        verbose: bool = False,
        max_workers: int | None = None,
    ) -> int:
        """Add files that stay at their URL(s); returns how many were added or modified."""
        urls = [source_url] if isinstance(source_url, str) else list(source_url)
        count = 0
        for url in urls:
            summary = self._ds.add_external_files(url, dataset_path or "", wildcard, recursive)
            count += summary.added + summary.modified
        return count

    def remove_files(
        self, dataset_path: str | None = None, recursive: bool = True, verbose: bool = False
    ) -> int:
        """Remove the files ``dataset_path`` selects (the rule of :meth:`list_files`);
        returns how many."""
        chosen = select_paths(self._ds.list_files(), dataset_path, recursive)
        if not chosen:
            return 0
        return self._ds.remove_files([_literal(p) for p in chosen]).removed

    def sync_folder(
        self,
        local_path: str | os.PathLike[str],
        dataset_path: str | None = None,
        verbose: bool = False,
    ) -> tuple[int, int, int]:
        """Mirror ``local_path`` into ``dataset_path``; returns ClearML's
        ``(removed, added, modified)`` counts."""
        summary = self._ds.sync_folder(
            os.path.expanduser(os.fspath(local_path)), dataset_path or ""
        )
        return summary.removed, summary.added, summary.modified

    def upload(
        self,
        show_progress: bool = True,
        verbose: bool = False,
        output_url: str | None = None,
        compression: str | None = None,
        chunk_size: int | None = None,
        max_workers: int | None = None,
        retries: int = 3,
        preview: bool = True,
    ) -> None:
        """Nothing to do: every add stored its content at once (and durably).

        ``output_url`` naming another store than the dataset's is refused (choose the
        store when creating: ``Dataset.create(output_uri=…)``).
        """
        if output_url is not None:
            wanted = clearml_store(output_url).url
            if wanted != self._ds.store.url:
                raise ConfigError(
                    f"This dataset lives in {self._ds.store.url}; dsops stores content as it "
                    f"is added, so upload(output_url={output_url!r}) cannot move it: pass "
                    "output_uri= to Dataset.create instead.",
                    output_url=output_url,
                )

    def finalize(
        self, verbose: bool = False, raise_on_error: bool = True, auto_upload: bool = False
    ) -> bool:
        """Commit the draft (atomic); True. A failure raises, or with
        ``raise_on_error=False`` returns False."""
        try:
            self._ds.finalize()
        except DsopsError:
            if raise_on_error:
                raise
            return False
        return True

    def publish(self, raise_on_error: bool = True) -> bool:
        """Protect the finalized version from delete and prune; True."""
        try:
            self._ds.publish()
        except DsopsError:
            if raise_on_error:
                raise
            return False
        return True

    def set_description(self, description: str) -> None:
        self._ds.set_description(description)

    def set_metadata(
        self, metadata: Any, metadata_name: str = "metadata", ui_visible: bool = True
    ) -> None:
        """Attach a DataFrame, dict/list, bytes or file as ``metadata_name``."""
        self._ds.set_metadata(metadata, metadata_name)

    def get_metadata(self, metadata_name: str = "metadata") -> Any:
        """The value set as ``metadata_name``, or None (as ClearML) when there is none."""
        try:
            return self._ds.get_metadata(metadata_name)
        except MetadataNotFound:
            return None

    def get_logger(self) -> NullLogger:
        """A logger whose ``report_*`` calls do nothing: plots and tables need ClearML's
        web app (keep statistics with :meth:`set_metadata`)."""
        return NullLogger()

    # --- reading ----------------------------------------------------------------------

    def list_files(
        self, dataset_path: str | None = None, recursive: bool = True, dataset_id: str | None = None
    ) -> builtins.list[str]:
        """Paths (stored and external), sorted; ``dataset_path`` a file, a folder or a
        wildcard (``"data/*.jpg"``; see :func:`~dsops.clearml.entries.select_paths`),
        ``dataset_id`` only files whose content that version introduced."""
        table = self._ds.manifest()
        paths = table.column("path").to_pylist()
        if dataset_id:
            origins = table.column("origin").to_pylist()
            paths = [p for p, o in zip(paths, origins, strict=True) if o == dataset_id]
        return select_paths([str(p) for p in paths], dataset_path, recursive)

    def _changes(self, dataset_id: str | None) -> ManifestDiff:
        if dataset_id is None:
            return self._ds.changes()
        return self._ds.diff(dataset_id)

    def list_added_files(self, dataset_id: str | None = None) -> builtins.list[str]:
        """Files added against the parents (or against version ``dataset_id``)."""
        return _paths(self._changes(dataset_id).added)

    def list_modified_files(self, dataset_id: str | None = None) -> builtins.list[str]:
        return _paths(self._changes(dataset_id).modified)

    def list_removed_files(self, dataset_id: str | None = None) -> builtins.list[str]:
        return _paths(self._changes(dataset_id).removed)

    def get_dependency_graph(self) -> dict[str, builtins.list[str]]:
        """version id → its parent ids, over the whole ancestry (ClearML's shape)."""
        return self._ds.get_dependency_graph()

    def verify_dataset_hash(
        self,
        local_copy_path: str | os.PathLike[str] | None = None,
        skip_hash: bool = False,
        verbose: bool = False,
    ) -> builtins.list[str]:
        """Paths that fail verification (empty: all good): the store's objects, and a
        local copy (``local_copy_path``, else the cached read-only copy) compared file by
        file (size only with ``skip_hash``)."""
        folder = local_copy_path if local_copy_path is not None else self.get_local_copy()
        result = self._ds.verify(folder=folder, filesize_only=skip_hash)
        bad = {
            *result.missing,
            *result.corrupted,
            *result.folder_missing,
            *result.folder_different,
            *result.folder_extra,
        }
        return sorted(bad)

    def get_local_copy(
        self,
        use_soft_links: bool | None = None,
        part: int | None = None,
        num_parts: int | None = None,
        raise_on_error: bool = True,
        max_workers: int | None = None,
    ) -> str:
        """A read-only, cached folder with the merged files (``part`` of ``num_parts``:
        a byte-balanced share of them)."""
        return self._ds.get_local_copy(part=part, num_parts=num_parts)

    def get_mutable_local_copy(
        self,
        target_folder: str | os.PathLike[str],
        overwrite: bool = False,
        part: int | None = None,
        num_parts: int | None = None,
        raise_on_error: bool = True,
        max_workers: int | None = None,
    ) -> str | None:
        """A writable copy in ``target_folder`` (refused when it has files, unless
        ``overwrite``: then replaced). A failure raises, or with
        ``raise_on_error=False`` returns None."""
        try:
            return self._ds.get_mutable_local_copy(
                target_folder, overwrite=overwrite, part=part, num_parts=num_parts
            )
        except DsopsError:
            if raise_on_error:
                raise
            return None

    # --- what needs a ClearML server ---------------------------------------------------

    @classmethod
    def get_offline_mode_folder(cls) -> None:
        raise ServerOnly(
            "dsops has no offline mode: it needs no server, so every session is already "
            "'offline'; write to a local store (output_uri='/path') and use it from there."
        )

    @classmethod
    def import_offline_session(cls, *args: Any, **kwargs: Any) -> None:
        raise ServerOnly(
            "dsops has no offline sessions to import: point output_uri= / DSOPS_STORE at "
            "the store that should hold the dataset and create it there."
        )

    @classmethod
    def is_offline(cls) -> bool:
        return False


def _paths(table: Any) -> builtins.list[str]:
    return [str(p) for p in table.column("path").to_pylist()]


def _literal(path: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)
