"""Prefect tasks over the dsops SDK: create, change, finalize, fetch, prune and delete
dataset versions.

Every task takes ``store=`` (a :class:`~prefect_tasks.DsopsStore` block, a saved block's
name, or a store URL; None: ``$DSOPS_STORE`` or the embedded local store), returns a plain
string (prune and delete: the deleted versions as dicts), keeps no state on the worker,
and can be retried: transient store errors are retried three times, and re-running a
task with the same inputs adds no data twice.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from dsops import Dataset, Shard, ShardArg
from dsops.errors import ConfigError
from dsops.events import version_event
from prefect_tasks import reporting
from prefect_tasks.blocks import DsopsStore, StoreArg, resolve_store
from prefect_tasks.runtime import (
    RETRIES,
    RETRY_DELAYS,
    logger,
    provenance,
    retry_key,
    retry_on_store_errors,
)

# Every task writes to the store or reads a moving reference: never serve a cached result.
_TASK_OPTIONS: dict[str, Any] = {
    "retries": RETRIES,
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_condition_fn": retry_on_store_errors,
    "cache_policy": NO_CACHE,
}

PathArg = str | Path | Sequence[str | Path]


@task(name="dsops-create-dataset", **_TASK_OPTIONS)
def create_dataset(
    project: str,
    name: str,
    parents: str | Sequence[str] | None = None,
    description: str | None = None,
    tags: Sequence[str] | None = None,
    store: StoreArg = None,
) -> str:
    """Start a draft version of ``project/name`` and return its id.

    The draft id derives from the task run, so a retry of this task reopens the draft
    its earlier attempt created instead of leaving an orphan behind.

    Args:
        project: Project, optionally nested (``"vision/cats"``).
        name: Dataset name.
        parents: Version ids or references to build on; ``"latest"`` for this dataset's
            latest version (ignored while there is none).
        description: Free text shown with the version.
        tags: Labels for search.
        store: A DsopsStore block, a saved block's name, or a store URL.

    Example:
        ```python
        from prefect import flow
        from prefect_tasks import add_files, create_dataset, finalize_dataset

        @flow
        def ingest() -> str:
            draft = create_dataset("vision", "cats", parents=["latest"])
            return finalize_dataset(add_files(draft, "/data/cats"))
        ```
    """
    arguments: dict[str, Any] = {
        "store": resolve_store(store).store,
        "description": description or "",
        "tags": tags,
    }
    dataset = Dataset.create(project, name, parents, key=retry_key(), **arguments)
    logger().info(
        "%s draft %s of %s/%s (parents: %s)",
        "Created" if dataset.created else "Reopened the earlier attempt's",
        dataset.id,
        project,
        name,
        ", ".join(dataset.parents) or "none",
    )
    return dataset.id


@task(name="dsops-add-files", **_TASK_OPTIONS)
def add_files(
    version_id: str,
    source: PathArg,
    dataset_path: str = "",
    wildcard: str | Sequence[str] | None = None,
    store: StoreArg = None,
    source_block: DsopsStore | str | None = None,
    shard: ShardArg = None,
) -> str:
    """Add a file, a folder's contents, or several of them to a draft; return the draft id.

    Many ``add_files`` calls may run in parallel on one draft (``add_files.map``): each
    writes its own change set. Content the store already holds is not uploaded again, so
    a retry records nothing twice. ``shard=(i, n)`` adds only shard ``i`` of ``n`` of
    the source (a stable split by path hash), so one landing folder fans out to ``n``
    tasks: ``add_files.map(unmapped(draft), unmapped(folder), shard=[(i, n) for i in
    range(n)])``.

    Args:
        version_id: The draft, as returned by :func:`create_dataset`.
        source: A local file or folder, a URL prefix the store backends read
            (``s3://landing/2024-05-01/``, downloaded to a scratch folder first), or a
            list of them.
        dataset_path: Folder inside the dataset to add under (default: the root).
        wildcard: Glob(s) selecting files within ``source`` folders.
        store: A DsopsStore block, a saved block's name, or a store URL.
        source_block: A DsopsStore block (or its name) whose S3 endpoint and credentials
            read URL sources; default: those of ``store`` when it is a block, else boto3's
            default credential chain.
        shard: Only shard ``i`` of ``n`` of the source: ``(i, n)``, ``[i, n]`` or
            ``"i/n"``.

    Example:
        ```python
        shards = ["/data/shard-0", "/data/shard-1"]
        added = add_files.map(draft, shards, dataset_path=["s0", "s1"])
        version_id = finalize_dataset(draft, wait_for=added)

        # or split one folder into 8 shards:
        added = add_files.map(unmapped(draft), unmapped("/data/landing"),
                              shard=[(i, 8) for i in range(8)])
        ```
    """
    resolved = resolve_store(store)
    dataset = Dataset.get(version_id, store=resolved.store)
    sources = [source] if isinstance(source, (str, Path)) else list(source)
    # The SDK downloads URL sources (with the dataset store's options for sources of the
    # same kind, unless a source block gives its own).
    options = resolve_store(source_block).options if source_block else None
    summary = dataset.add_files(
        sources, dataset_path, wildcard, source_options=options, shard=shard
    )
    logger().info(
        "Added%s to %s (%s): %s",
        f" shard {Shard.parse(shard)}" if shard is not None else "",
        dataset.id,
        _name(dataset),
        summary,
    )
    return dataset.id


@task(name="dsops-sync-folder", **_TASK_OPTIONS)
def sync_folder(
    version_id: str,
    folder: str | Path,
    dataset_path: str = "",
    store: StoreArg = None,
    shard: ShardArg = None,
) -> str:
    """Mirror ``folder`` into ``dataset_path`` of a draft; return the draft id.

    Files new in the folder are added, changed ones replaced, and files missing from the
    folder removed from the draft. The change summary is logged and published as a table
    artifact (key ``dsops-sync-<project>-<name>``). Finalize with
    ``skip_if_unchanged=True`` so that a sync that changed nothing creates no version.

    Args:
        version_id: The draft, as returned by :func:`create_dataset`.
        folder: The local folder to mirror.
        dataset_path: Folder inside the dataset it mirrors into (default: the root).
        store: A DsopsStore block, a saved block's name, or a store URL.
        shard: Mirror only shard ``i`` of ``n`` (``(i, n)``, ``[i, n]`` or ``"i/n"``):
            only that shard's paths are added, updated or removed, so ``n`` mapped syncs
            together mirror the whole folder.
    """
    dataset = _open(version_id, store)
    summary = dataset.sync_folder(folder, dataset_path, shard=shard)
    logger().info("Synced %s into %s (%s): %s", folder, dataset.id, _name(dataset), summary)
    reporting.sync_artifact(dataset, str(folder), summary)
    return dataset.id


@task(name="dsops-remove-files", **_TASK_OPTIONS)
def remove_files(
    version_id: str,
    patterns: str | Sequence[str],
    store: StoreArg = None,
) -> str:
    """Remove the files matching glob pattern(s) from a draft; return the draft id.

    Args:
        version_id: The draft, as returned by :func:`create_dataset`.
        patterns: Glob(s) over dataset paths; a folder name removes its contents.
        store: A DsopsStore block, a saved block's name, or a store URL.
    """
    dataset = _open(version_id, store)
    summary = dataset.remove_files(patterns)
    logger().info("Removed from %s (%s): %s", dataset.id, _name(dataset), summary)
    return dataset.id


@task(name="dsops-finalize-dataset", **_TASK_OPTIONS)
def finalize_dataset(
    version_id: str,
    alias: str | None = None,
    store: StoreArg = None,
    skip_if_unchanged: bool = False,
) -> str | None:
    """Commit a draft as an immutable version and return its id.

    Records the Prefect flow run, task and deployment (and a link to the run) in the
    version's provenance; publishes the change summary as a table artifact and, when a
    UI base URL is configured, a link artifact to the version's page; emits the event
    ``dsops.version.finalized`` about resource ``dsops.dataset.<project>/<name>`` with
    the version id in its payload; and reports asset ``dsops://<project>/<name>`` as
    materialized. Re-running it on a finalized version returns the same id.

    Args:
        version_id: The draft to commit.
        alias: Also point ``project/name@<alias>`` at the new version (e.g. ``"prod"``).
        store: A DsopsStore block, a saved block's name, or a store URL.
        skip_if_unchanged: Create no version when the draft repeats existing content,
            as ``Dataset.finalize(skip_if_unchanged=True)``: one parent and no change
            returns the parent's id, no parent and no file returns None; a draft with
            several parents is always finalized.

    Example:
        ```python
        draft = sync_folder(create_dataset("ops", "logs", parents=["latest"]), "/logs")
        version_id = finalize_dataset(draft, skip_if_unchanged=True)
        ```
    """
    resolved = resolve_store(store)
    dataset = Dataset.get(version_id, store=resolved.store)
    log = logger()
    final_id = dataset.finalize(
        provenance=provenance(), alias=alias, skip_if_unchanged=skip_if_unchanged
    )
    if final_id != dataset.id:
        log.info(
            "Draft %s of %s changes nothing: no new version; returning %s",
            dataset.id,
            _name(dataset),
            final_id or "None (no parent, no file)",
        )
        return final_id
    record = dataset.record
    assert record is not None  # finalize() sets it
    links = reporting.ui_links(resolved.ui_url, record)
    log.info(
        "Finalized %s (%s): %d files, %d B; changes %s",
        record.ref,
        final_id,
        record.file_count,
        record.total_size,
        record.changes,
    )
    reporting.version_artifacts(record, links)
    payload = version_event(record, resolved.store.url, dataset.aliases())
    reporting.emit_finalized(record, payload)
    reporting.report_asset(record, record.description, links)
    return final_id


@task(name="dsops-fetch-dataset", **_TASK_OPTIONS)
def fetch_dataset(
    dataset: str,
    target_dir: str | Path | None = None,
    include: str | Sequence[str] | None = None,
    mutable: bool = False,
    store: StoreArg = None,
    overwrite: bool = False,
    mode: str = "local",
) -> str:
    """Materialize a finalized version locally and return the folder's path.

    Without ``target_dir`` and ``mutable``, the folder is a read-only view in the local
    cache (nothing is downloaded twice). With ``target_dir``, a writable copy is made
    there (the folder must be empty or missing unless ``overwrite``); with ``mutable``
    alone, in a new temporary folder.

    Args:
        dataset: A version id, ``project/name@1.2.0``, ``project/name@latest`` or
            ``project/name@<alias>``. Pin an id for reproducible runs.
        target_dir: Where to put a writable copy.
        include: Glob(s) selecting the files to fetch (default: all).
        mutable: Return a writable copy rather than the read-only cached view.
        store: A DsopsStore block, a saved block's name, or a store URL.
        overwrite: Replace what ``target_dir`` holds (the copy is built beside it and
            swapped in whole); makes a retry after a successful copy succeed too.
        mode: ``"local"`` (default) as above; ``"uri"`` downloads nothing and returns the
            pinned ``dsops://<version id>/`` URL to read in place through fsspec (the
            reader finds the store in ``DSOPS_STORE`` or ``storage_options={"store": …}``).

    Example:
        ```python
        path = fetch_dataset("vision/cats@prod", include="train/**")
        ```
    """
    if mode not in ("local", "uri"):
        raise ConfigError(f"mode must be 'local' or 'uri', not {mode!r}.", mode=mode)
    version = _open(dataset, store)
    if mode == "uri":
        if target_dir is not None or mutable or include:
            raise ConfigError(
                "mode='uri' downloads nothing: drop target_dir, mutable and include "
                "(select files when reading the URL instead).",
                mode=mode,
            )
        url = version.url()
        logger().info("Pinned %s (%s) as %s, nothing downloaded", version.ref, version.id, url)
        return url
    if target_dir is None and not mutable:
        path = version.get_local_copy(include)
    else:
        target = target_dir if target_dir is not None else tempfile.mkdtemp(prefix="dsops-")
        path = version.get_mutable_local_copy(target, overwrite=overwrite, include=include)
    logger().info("Fetched %s (%s) to %s", version.ref, version.id, path)
    return path


@task(name="dsops-resolve-version", **_TASK_OPTIONS)
def resolve_version(dataset: str, store: StoreArg = None) -> str:
    """The version id a reference names (``project/name@latest`` → its current id).

    Resolve once at the start of a flow and pass the id on, so every step sees the
    same version even if ``latest`` moves meanwhile.
    """
    version = _open(dataset, store)
    logger().info("%s is version %s (%s)", dataset, version.id, version.ref)
    return version.id


@task(name="dsops-prune-dataset", **_TASK_OPTIONS)
def prune_dataset(
    project: str,
    name: str,
    keep_last: int | None = None,
    keep_within: timedelta | str | None = None,
    keep_aliases: bool = True,
    dry_run: bool = False,
    store: StoreArg = None,
) -> list[dict[str, Any]]:
    """Apply a retention policy to ``project/name``; return the deleted versions as dicts.

    Deletes the versions beyond the newest ``keep_last`` that were also finalized longer
    ago than ``keep_within``; never a published one, nor (``keep_aliases``) one an alias
    points at (``latest`` included, so the newest always stays). At least one of
    ``keep_last`` / ``keep_within`` is required (else ``ConfigError``, not retried). The
    children of deleted versions keep reading back exactly; gc reclaims the storage. A
    retry deletes what is left to delete.

    Args:
        project: Project of the dataset.
        name: Dataset name.
        keep_last: Keep the newest N versions.
        keep_within: Keep versions finalized within this age: a ``timedelta`` or
            ``"30d"``, ``"12h"``, ``"90m"``, ``"2w"``.
        keep_aliases: Keep every version an alias points at.
        dry_run: Delete nothing; return what would be deleted.
        store: A DsopsStore block, a saved block's name, or a store URL.

    Example:
        ```python
        deleted = prune_dataset("vision", "cats", keep_last=7, keep_within="30d")
        ids = [v["id"] for v in deleted]
        ```
    """
    deleted = Dataset.prune(
        project,
        name,
        keep_last=keep_last,
        keep_within=keep_within,
        keep_aliases=keep_aliases,
        dry_run=dry_run,
        store=resolve_store(store).store,
    )
    logger().info(
        "%s %d version(s) of %s/%s (keep_last=%s, keep_within=%s): %s",
        "Would delete" if dry_run else "Deleted",
        len(deleted),
        project,
        name,
        keep_last,
        keep_within,
        ", ".join(v["ref"] for v in deleted) or "none",
    )
    return deleted


@task(name="dsops-delete-dataset", **_TASK_OPTIONS)
def delete_dataset(
    ref: str | None = None,
    force: bool = False,
    project: str | None = None,
    name: str | None = None,
    entire_dataset: bool = False,
    store: StoreArg = None,
) -> list[dict[str, Any]]:
    """Delete one version, or a whole dataset; return the deleted versions as dicts.

    A version that is published, that another version names as a parent, or that an
    alias other than ``latest`` points at is refused (``ProtectedVersion``, not retried)
    unless ``force``; its children keep reading back exactly either way, and ``latest``
    moves back to the highest remaining version.

    Args:
        ref: The version: an id (e.g. a :func:`finalize_dataset` result) or a reference
            (``project/name@1.2.0``, ``project/name@latest``).
        force: Delete even a published, parent or aliased version.
        project: With ``name`` and ``entire_dataset=True``: the dataset to delete whole.
        name: See ``project``.
        entire_dataset: Delete every version of ``project/name`` (needs ``force=True``).
        store: A DsopsStore block, a saved block's name, or a store URL.

    Example:
        ```python
        delete_dataset("vision/cats@1.0.3")
        delete_dataset(project="scratch", name="tmp", entire_dataset=True, force=True)
        ```
    """
    if not entire_dataset and not ref:
        # Never fall back to "latest": an empty ref must delete nothing.
        raise ConfigError(
            f"delete_dataset needs ref= (an id or project/name@version; got {ref!r}), or "
            "project=, name= and entire_dataset=True."
        )
    deleted = Dataset.delete(
        ref,
        force=force,
        project=project,
        name=name,
        entire_dataset=entire_dataset,
        store=resolve_store(store).store,
    )
    logger().info("Deleted %s", ", ".join(f"{v['ref']} ({v['id']})" for v in deleted))
    return deleted


def _open(ref: str, store: StoreArg) -> Dataset:
    return Dataset.get(ref, store=resolve_store(store).store)


def _name(dataset: Dataset) -> str:
    return f"{dataset.project}/{dataset.name}"
