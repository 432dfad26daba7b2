"""Airflow Assets for dsops datasets: ``dsops://<project>/<name>``.

A finalized version is announced as an Asset event on its dataset's Asset, with the
version in the event's ``extra``; a DAG scheduled on the Asset reads it from
``triggering_asset_events``. Registered in the provider info under ``asset-uris``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult

from airflow.sdk import Asset

from dsops.catalog import URL_SCHEME, dataset_url, parse_dataset_url

if TYPE_CHECKING:
    from collections.abc import Mapping

SCHEME = URL_SCHEME
#: OpenLineage namespace of dsops datasets (the name is ``<project>/<name>``).
OPENLINEAGE_NAMESPACE = "dsops"


def dataset_uri(project: str, name: str) -> str:
    """The Asset URI of ``project/name`` (``dsops.catalog.dataset_url``).

    Example:
        >>> dataset_uri("vision/cats", "train")
        'dsops://vision/cats/train'
    """
    return dataset_url(project, name)


def create_asset(*, project: str, name: str, extra: dict[str, Any] | None = None) -> Asset:
    """The Asset of dataset ``project/name``; use it in ``outlets`` and ``schedule``.

    Example:
        >>> create_asset(project="demo", name="events").uri
        'dsops://demo/events'
    """
    return Asset(uri=dataset_uri(project, name), extra=extra or {})


def parse_dataset_uri(uri: str) -> tuple[str, str]:
    """``dsops://a/b/name`` → ``("a/b", "name")`` (``dsops.catalog.parse_dataset_url``).

    Example:
        >>> parse_dataset_uri("dsops://vision/cats/train")
        ('vision/cats', 'train')
    """
    return parse_dataset_url(uri)


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI check for the ``dsops`` scheme (project and name must be valid)."""
    parse_dataset_uri(uri.geturl())
    return uri


def version_from_events(events: Mapping[Any, Any], asset: Asset) -> str | None:
    """The version id carried by the newest event for ``asset`` in ``triggering_asset_events``.

    A run may consume several events (versions finalized since the previous run); the
    newest by timestamp wins. Returns None when no event for the Asset carries a
    version (a manual run).
    """
    try:
        received = list(events[asset])
    except KeyError:
        return None
    with_version = [e for e in received if (e.extra or {}).get("version_id")]
    if not with_version:
        return None
    newest = max(with_version, key=lambda e: e.timestamp)
    return str(newest.extra["version_id"])


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """OpenLineage dataset of a dsops Asset (used by the OpenLineage provider)."""
    from airflow.providers.common.compat.openlineage.facet import Dataset as OpenLineageDataset

    project, name = parse_dataset_uri(asset.uri)
    return OpenLineageDataset(namespace=OPENLINEAGE_NAMESPACE, name=f"{project}/{name}")
