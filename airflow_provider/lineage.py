"""OpenLineage facets for dsops operators, when the OpenLineage provider is installed.

dsops datasets are OpenLineage datasets in namespace ``dsops`` named ``<project>/<name>``,
with the version id in a ``version`` (DatasetVersionDatasetFacet) facet. Without the
provider (``pip install apache-airflow-providers-openlineage``) these return None and
the operators report nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider.assets import OPENLINEAGE_NAMESPACE


@dataclass(frozen=True)
class LineageDataset:
    """One version read or written by a task."""

    project: str
    name: str
    version_id: str


def operator_lineage(
    inputs: Sequence[LineageDataset] = (), outputs: Sequence[LineageDataset] = ()
) -> Any:
    """An ``OperatorLineage`` for these datasets, or None without the OpenLineage provider."""
    try:
        from airflow.providers.openlineage.extractors import OperatorLineage
        from openlineage.client.event_v2 import Dataset
        from openlineage.client.facet_v2 import dataset_version_dataset
    except ImportError:
        return None

    def convert(item: LineageDataset) -> Any:
        facet = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=item.version_id)
        return Dataset(
            namespace=OPENLINEAGE_NAMESPACE,
            name=f"{item.project}/{item.name}",
            facets={"version": facet},
        )

    return OperatorLineage(
        inputs=[convert(i) for i in inputs], outputs=[convert(o) for o in outputs]
    )
