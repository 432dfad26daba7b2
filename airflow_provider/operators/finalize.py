"""``FinalizeDatasetOperator``: commit a draft, record provenance, announce the version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from airflow.sdk import Asset, AssetAlias, conf
from airflow.sdk.exceptions import AirflowSkipException

from airflow_provider._common import optional_text
from airflow_provider.assets import SCHEME, dataset_uri
from airflow_provider.lineage import LineageDataset, operator_lineage
from airflow_provider.operators.base import DsopsBaseOperator
from dsops import Dataset, VersionRecord
from dsops.errors import ConfigError
from dsops.events import version_event


class FinalizeDatasetOperator(DsopsBaseOperator):
    """Finalize a draft and return the version id (a retry after success returns the same).

    The version record gets the Airflow provenance (dag id, run id, task id, try number,
    logical date, run URL). The dataset's Asset ``dsops://<project>/<name>`` gets an
    event whose ``extra`` is the version as a dict (``Dataset.to_dict``'s shape, see
    docs/SHAPES.md) plus ``version_id`` and ``store``, when it is declared in
    ``outlets`` — either the Asset itself (see
    :func:`airflow_provider.assets.create_asset`) or an ``AssetAlias`` when the dataset
    is only known at run time (the event is then attached to the dataset's Asset through
    the alias).

    Args:
        version_id: The draft to finalize (usually ``create.output`` or ``add.output``).
        alias: Also point this alias (``prod``, ``daily``…) at the new version.
        skip_if_unchanged: When the draft repeats existing content (one parent and no
            change, or no parent and no file; see ``Dataset.finalize``), create no
            version: the task is skipped (no Asset event), the draft is left unfinalized
            and nothing is deleted. A merge of several parents is always finalized.
        dsops_conn_id: Connection of type ``dsops``.
    """

    template_fields: Sequence[str] = ("version_id", "alias")

    def __init__(
        self,
        *,
        version_id: str,
        alias: str | None = None,
        skip_if_unchanged: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.version_id = version_id
        self.alias = alias
        self.skip_if_unchanged = skip_if_unchanged
        self._lineage: tuple[list[LineageDataset], list[LineageDataset]] = ([], [])

    def execute(self, context: Any) -> str:
        ds = self.open_version("version_id", self.version_id)
        alias = optional_text("alias", self.alias)
        self._check_outlets(ds)
        version_id = ds.finalize(
            provenance=provenance(context), alias=alias, skip_if_unchanged=self.skip_if_unchanged
        )
        if version_id != ds.id:
            self.push_link(context, None)  # no version: an empty link
            raise AirflowSkipException(
                f"Draft {ds.id} of {ds.project}/{ds.name} changes nothing against its "
                f"parents (it repeats {version_id or 'nothing: no parent, no file'}): no "
                "version created (skip_if_unchanged=True; see Dataset.finalize)."
            )
        record = ds.record
        assert record is not None
        self.log.info(
            "Finalized %s (%s): %d files, %d B; changes %s",
            record.ref,
            version_id,
            record.file_count,
            record.total_size,
            record.changes,
        )
        event = version_event(record, self.hook.store.url, ds.aliases())
        self._announce(context, record, event)
        self._lineage = (self._parents(record), [_lineage_of(record)])
        self.push_link(context, version_id)
        return version_id

    def _check_outlets(self, ds: Dataset) -> None:
        """A dsops Asset in ``outlets`` must be this draft's dataset (fail before commit)."""
        expected = dataset_uri(ds.project, ds.name)
        for outlet in self.outlets or ():
            is_dsops = isinstance(outlet, Asset) and outlet.uri.startswith(f"{SCHEME}://")
            if is_dsops and outlet.uri != expected:
                raise ConfigError(
                    f"Outlet {outlet.uri} does not match the draft's dataset {expected}: "
                    "declare the dataset's own Asset, or an AssetAlias.",
                    outlet=outlet.uri,
                )

    def _announce(self, context: Any, record: VersionRecord, extra: dict[str, Any]) -> None:
        events = context.get("outlet_events")
        if events is None:
            return
        uri = dataset_uri(record.project, record.name)
        for outlet in self.outlets or ():
            if isinstance(outlet, AssetAlias):
                events[outlet].add(Asset(uri=uri), extra=extra)
            elif isinstance(outlet, Asset) and outlet.uri == uri:
                events[outlet].extra = extra

    def _parents(self, record: VersionRecord) -> list[LineageDataset]:
        parents = [Dataset.get(p, store=self.hook.store) for p in record.parents]
        return [LineageDataset(p.project, p.name, p.id) for p in parents]

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs: the parent versions; output: the new version (OpenLineage installed)."""
        inputs, outputs = self._lineage
        return operator_lineage(inputs, outputs)


def _lineage_of(record: VersionRecord) -> LineageDataset:
    return LineageDataset(record.project, record.name, record.id)


def provenance(context: Any) -> dict[str, Any]:
    """What the version record keeps about the Airflow task that finalized it."""
    ti = context.get("ti")
    if ti is None:
        return {"orchestrator": "airflow"}
    base_url = str(conf.get("api", "base_url", fallback="http://localhost:8080/")).rstrip("/")
    logical_date = context.get("logical_date")
    return {
        "orchestrator": "airflow",
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "try_number": ti.try_number,
        "logical_date": logical_date.isoformat() if logical_date else None,
        "run_url": f"{base_url}/dags/{quote(ti.dag_id)}/runs/{quote(ti.run_id)}",
    }
