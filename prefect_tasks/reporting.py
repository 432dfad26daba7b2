"""How a new version shows up in Prefect: artifacts, an event, an asset materialization."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from dsops import ChangeSummary, Dataset, VersionRecord
from dsops.catalog import dataset_url
from dsops.config import dataset_page, version_page

try:  # asset materialization arrived in Prefect 3.4's public API
    from prefect.assets import Asset, AssetProperties, add_asset_metadata, materialize
except ImportError:
    materialize = None  # type: ignore[assignment]

EVENT_FINALIZED = "dsops.version.finalized"
_EVENT_NAMESPACE = uuid.UUID("6f1c7a52-4d0e-4a55-9f51-1f3cbf0d5a11")
_KEY_UNSAFE = re.compile(r"[^a-z0-9]+")
_CHANGE_KINDS = ("added", "modified", "removed", "unchanged")


def dataset_resource_id(project: str, name: str) -> str:
    """The Prefect event resource id of a dataset: ``dsops.dataset.<project>/<name>``."""
    return f"dsops.dataset.{project}/{name}"


def dataset_asset_key(project: str, name: str) -> str:
    """The Prefect asset key of a dataset: ``dsops://<project>/<name>``."""
    return dataset_url(project, name)


def artifact_key(*parts: str) -> str:
    """An artifact key (lowercase letters, digits, dashes) made of ``parts``."""
    return _KEY_UNSAFE.sub("-", "-".join(("dsops", *parts)).lower()).strip("-")


def ui_links(ui_url: str | None, record: VersionRecord) -> dict[str, str]:
    """UI pages of a version and of its dataset (empty without a UI base URL)."""
    version = version_page(ui_url, record.id)
    dataset = dataset_page(ui_url, record.project, record.name)
    return {"version": version, "dataset": dataset} if version and dataset else {}


def change_rows(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    """Table rows (change, files, bytes) from a ChangeSummary dict or a record's changes."""
    return [
        {"change": kind, "files": int(counts[kind]), "bytes": int(counts.get(f"{kind}_bytes", 0))}
        for kind in _CHANGE_KINDS
        if kind in counts
    ]


def sync_artifact(dataset: Dataset, folder: str, summary: ChangeSummary) -> None:
    """A table artifact of what one folder sync changed in a draft."""
    create_table_artifact(
        table=change_rows(summary.to_dict()),
        key=artifact_key("sync", dataset.project, dataset.name),
        description=(
            f"Sync of `{folder}` into draft `{dataset.id}` of **{dataset.project}/"
            f"{dataset.name}**: {summary}."
        ),
    )


def version_artifacts(record: VersionRecord, links: Mapping[str, str]) -> None:
    """The change summary as a table artifact, and a link to the UI page when there is one."""
    stored = int(record.changes.get("stored_bytes", 0))
    create_table_artifact(
        table=change_rows(record.changes),
        key=artifact_key(record.project, record.name),
        description=(
            f"**{record.ref}** (version `{record.id}`): {record.file_count} files, "
            f"{record.total_size} B; {stored} B newly stored."
        ),
    )
    if links:
        create_link_artifact(
            link=links["version"],
            link_text=record.ref,
            key=artifact_key(record.project, record.name, "ui"),
            description=(
                f"Version {record.ref} in the dsops UI; all versions: "
                f"[{record.project}/{record.name}]({links['dataset']})."
            ),
        )


def emit_finalized(record: VersionRecord, payload: dict[str, Any]) -> None:
    """Emit ``dsops.version.finalized`` about the dataset, with the version id in the payload.

    The event id derives from the version id, so a retried finalize re-sends the same event
    and Prefect does not trigger downstream deployments twice.
    """
    emit_event(
        event=EVENT_FINALIZED,
        resource={
            "prefect.resource.id": dataset_resource_id(record.project, record.name),
            "prefect.resource.name": f"{record.project}/{record.name}",
            "dsops.project": record.project,
            "dsops.name": record.name,
        },
        related=[
            {
                "prefect.resource.id": f"dsops.version.{record.id}",
                "prefect.resource.role": "dataset-version",
                "prefect.resource.name": record.ref,
            }
        ],
        payload=payload,
        id=uuid.uuid5(_EVENT_NAMESPACE, f"{EVENT_FINALIZED}:{record.id}"),
    )


def report_asset(record: VersionRecord, description: str, links: Mapping[str, str]) -> bool:
    """Report the dataset as a materialized Prefect asset; False where Prefect has no assets."""
    if materialize is None:
        return False
    asset = Asset(
        key=dataset_asset_key(record.project, record.name),
        properties=AssetProperties(
            name=f"{record.project}/{record.name}",
            description=description[:2500] or None,
            url=links.get("dataset"),
        ),
    )
    metadata = {
        "version_id": record.id,
        "version": record.version,
        "ref": record.ref,
        "file_count": record.file_count,
        "total_size": record.total_size,
    }
    _materialized.with_options(assets=[asset])(asset.key, metadata)
    return True


if materialize is not None:

    @materialize(
        "dsops://dataset/placeholder", by="dsops", name="dsops-asset", cache_policy=NO_CACHE
    )
    def _materialized(key: str, metadata: dict[str, Any]) -> str:
        # The real asset is set per call with .with_options(assets=[...]).
        add_asset_metadata(key, metadata)
        return key
