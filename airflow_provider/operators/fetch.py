"""``FetchDatasetOperator``: materialize a version on the worker and return the local path,
or (``mode="uri"``) return the pinned ``dsops://`` URL to read in place."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from typing import Any

from airflow_provider._common import optional_text, text_list
from airflow_provider.lineage import LineageDataset, operator_lineage
from airflow_provider.operators.base import DsopsBaseOperator
from dsops.errors import ConfigError

VERSION_XCOM_KEY = "version_id"
STORE_XCOM_KEY = "store_url"
MODES = ("local", "uri")


class FetchDatasetOperator(DsopsBaseOperator):
    """Fetch a version and return the local folder; the resolved id goes to XCom ``version_id``.

    Without ``target_dir`` or ``mutable``, the folder is the shared read-only view in the
    local cache (only new content is downloaded). With ``target_dir``, or
    ``mutable=True`` (a new temporary folder), it is a writable copy of its own.

    Args:
        dataset: A version id or a reference: ``project/name@latest``,
            ``project/name@1.2.0``, ``project/name@<alias>``.
        target_dir: Put a writable copy here (must be empty unless ``overwrite``).
        include: Only files matching these glob(s).
        mutable: A writable copy even without ``target_dir``.
        overwrite: Allow a non-empty ``target_dir`` (its files are replaced).
        mode: ``"local"`` (default) downloads as above; ``"uri"`` downloads nothing and
            returns the pinned ``dsops://<version id>/`` URL, for code that reads in place
            through fsspec (``pd.read_parquet(url + "t.parquet")``); the store's URL goes
            to XCom ``store_url`` (readers find it in ``DSOPS_STORE`` or pass
            ``storage_options={"store": ...}``).
    """

    template_fields: Sequence[str] = ("dataset", "target_dir", "include", "mode")

    def __init__(
        self,
        *,
        dataset: str,
        target_dir: str | None = None,
        include: str | Sequence[str] | None = None,
        mutable: bool = False,
        overwrite: bool = False,
        mode: str = "local",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        self.dataset = dataset
        self.target_dir = target_dir
        self.include = include
        self.mutable = mutable
        self.overwrite = overwrite
        self._lineage: list[LineageDataset] = []

    def execute(self, context: Any) -> str:
        mode = optional_text("mode", self.mode) or "local"
        if mode not in MODES:
            raise ConfigError(f"mode must be 'local' or 'uri', not {mode!r}.", mode=mode)
        ds = self.open_version("dataset", self.dataset)
        include = text_list("include", self.include) or None
        target = optional_text("target_dir", self.target_dir)
        if mode == "uri":
            if target or self.mutable or include:
                raise ConfigError(
                    "mode='uri' downloads nothing: drop target_dir, mutable and include "
                    "(select files when reading the URL instead).",
                    mode=mode,
                )
            path = ds.url()
            self.log.info("Pinned %s (%s) as %s, nothing downloaded", ds.ref, ds.id, path)
        else:
            if target is None and self.mutable:
                target = tempfile.mkdtemp(prefix=f"dsops-{ds.name}-")
            if target is None:
                path = ds.get_local_copy(include=include)
            else:
                path = ds.get_mutable_local_copy(target, overwrite=self.overwrite, include=include)
            self.log.info("Fetched %s (%s) into %s", ds.ref, ds.id, path)
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=VERSION_XCOM_KEY, value=ds.id)
            if mode == "uri":
                ti.xcom_push(key=STORE_XCOM_KEY, value=self.hook.store.url)
        self._lineage = [LineageDataset(ds.project, ds.name, ds.id)]
        self.push_link(context, ds.id)
        return path

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Input: the fetched version (OpenLineage installed)."""
        return operator_lineage(inputs=self._lineage)
