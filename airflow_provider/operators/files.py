"""Change a draft: ``AddFilesOperator``, ``SyncFolderOperator``, ``RemoveFilesOperator``.

Each returns the draft's version id, so the next step chains on ``.output``, and pushes
its change summary as XCom ``summary``. Retrying one is harmless: content already in the
draft is neither uploaded nor recorded again. Many of them may write to one draft at
once (dynamic task mapping): each call writes its own part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider._common import optional_text, require_text, text_list
from airflow_provider.hooks.dsops import DsopsHook
from airflow_provider.operators.base import DsopsBaseOperator
from dsops import Shard, ShardArg


class AddFilesOperator(DsopsBaseOperator):
    """Add files to a draft; returns the version id.

    Args:
        version_id: The draft (usually ``create.output``).
        source: A file, a folder (its contents are added), a glob, a URL prefix the store
            backends can read (``s3://landing/2024-05-01/``, downloaded to a scratch
            folder first), or a list of these.
        dataset_path: Folder inside the dataset to add under (default: the root).
        wildcard: Only add files whose dataset paths match these glob(s).
        recursive: Descend into sub-folders.
        source_conn_id: A ``dsops`` connection whose S3 settings (keys, endpoint, region)
            are used to read URL sources; default: those of ``dsops_conn_id`` when its
            store is on S3, else boto3's default credential chain.
        shard: Add only shard ``i`` of ``n`` of the source: ``(i, n)``, ``[i, n]`` (as
            XCom and JSON give a tuple back) or ``"i/n"``. Map it to fan one landing
            folder out to ``n`` workers:
            ``AddFilesOperator.partial(...).expand(shard=[[i, 8] for i in range(8)])``.

    Example:
        >>> AddFilesOperator(task_id="add", version_id="{{ ti.xcom_pull('create') }}",
        ...                  source="/data/landing", shard=[0, 8]).template_fields
        ('version_id', 'source', 'dataset_path', 'wildcard', 'shard')
    """

    template_fields: Sequence[str] = ("version_id", "source", "dataset_path", "wildcard", "shard")

    def __init__(
        self,
        *,
        version_id: str,
        source: str | Sequence[str],
        dataset_path: str = "",
        wildcard: str | Sequence[str] | None = None,
        recursive: bool = True,
        source_conn_id: str | None = None,
        shard: ShardArg = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.version_id = version_id
        self.source = source
        self.dataset_path = dataset_path
        self.wildcard = wildcard
        self.recursive = recursive
        self.source_conn_id = source_conn_id
        self.shard = shard

    def execute(self, context: Any) -> str:
        ds = self.open_version("version_id", self.version_id)
        sources = text_list("source", self.source, allow_empty=False)
        wildcard = text_list("wildcard", self.wildcard) or None
        dataset_path = optional_text("dataset_path", self.dataset_path) or ""
        shard = Shard.parse(self.shard)
        summary = ds.add_files(
            sources,
            dataset_path,
            wildcard,
            self.recursive,
            source_options=self._source_options(),
            shard=shard,
        )
        if shard is not None:
            self.log.info("Shard %s of %s", shard, ", ".join(sources))
        self.report_changes(context, ds, "Added to", summary)
        self.push_link(context, ds.id)
        return ds.id

    def _source_options(self) -> dict[str, Any] | None:
        """Options of ``source_conn_id`` for URL sources; None: the SDK's default (the
        dataset store's own options for sources of the same kind)."""
        if not self.source_conn_id:
            return None
        return dict(DsopsHook(dsops_conn_id=self.source_conn_id).settings.options)


class SyncFolderOperator(DsopsBaseOperator):
    """Mirror a local folder into a draft (add new, update changed, remove missing).

    Returns the version id; the change summary is logged and pushed as XCom ``summary``
    (``added``, ``modified``, ``removed``, ``unchanged``, byte counts). Pair it with
    ``FinalizeDatasetOperator(skip_if_unchanged=True)`` so that an unchanged folder
    makes no new version.

    Args:
        version_id: The draft (usually ``create.output``).
        folder: The local folder to mirror.
        dataset_path: Folder inside the dataset that mirrors it (default: the root).
        shard: Mirror only shard ``i`` of ``n`` (``(i, n)``, ``[i, n]`` or ``"i/n"``):
            only that shard's paths are added, updated or removed, so ``n`` mapped syncs
            (``.expand(shard=[[i, n] for i in range(n)])``) together mirror the folder.
    """

    template_fields: Sequence[str] = ("version_id", "folder", "dataset_path", "shard")

    def __init__(
        self,
        *,
        version_id: str,
        folder: str,
        dataset_path: str = "",
        shard: ShardArg = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.version_id = version_id
        self.folder = folder
        self.dataset_path = dataset_path
        self.shard = shard

    def execute(self, context: Any) -> str:
        ds = self.open_version("version_id", self.version_id)
        folder = require_text("folder", self.folder)
        dataset_path = optional_text("dataset_path", self.dataset_path) or ""
        summary = ds.sync_folder(folder, dataset_path, shard=Shard.parse(self.shard))
        self.report_changes(context, ds, "Synced into", summary)
        self.push_link(context, ds.id)
        return ds.id


class RemoveFilesOperator(DsopsBaseOperator):
    """Remove files matching glob pattern(s) from a draft; returns the version id.

    Args:
        version_id: The draft.
        patterns: Glob(s) on dataset paths; a folder name removes its contents.
    """

    template_fields: Sequence[str] = ("version_id", "patterns")

    def __init__(self, *, version_id: str, patterns: str | Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.version_id = version_id
        self.patterns = patterns

    def execute(self, context: Any) -> str:
        ds = self.open_version("version_id", self.version_id)
        patterns = text_list("patterns", self.patterns, allow_empty=False)
        summary = ds.remove_files(patterns)
        self.report_changes(context, ds, "Removed from", summary)
        self.push_link(context, ds.id)
        return ds.id
