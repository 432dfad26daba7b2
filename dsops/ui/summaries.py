"""Turn SDK listings into what the pages show: versions, provenance, growth."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

_URL_PREFIXES = ("http://", "https://")


def provenance(data: Mapping[str, Any]) -> dict[str, Any]:
    """Where a version came from: the orchestrator, a one-line summary, links to its run.

    The operators and tasks record ``orchestrator`` (``airflow``/``prefect``), their run
    ids and a ``run_url``; older or hand-written records are recognized by their keys.
    Only http(s) URLs become links (a ``javascript:`` URL in a record stays text).
    """
    links: list[dict[str, str]] = []
    keys: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
            return
        keys.append(prefix.lower())
        if isinstance(value, str) and value.lower().startswith(_URL_PREFIXES):
            links.append({"label": prefix, "url": value})

    walk("", data)
    source = str(data.get("orchestrator", "")).lower() or None
    joined = " ".join(keys)
    if source not in ("airflow", "prefect"):
        source = None
        if "airflow" in joined or "dag_id" in joined:
            source = "airflow"
        elif "prefect" in joined or "flow_run" in joined:
            source = "prefect"
    if source and len(links) == 1:
        links[0]["label"] = f"{source.capitalize()} run"
    summary = _summary(data, source)
    return {"source": source, "summary": summary, "links": links, "fields": dict(data)}


def _summary(data: Mapping[str, Any], source: str | None) -> str:
    flat = dict(data)
    if source and isinstance(data.get(source), Mapping):
        flat = {**flat, **data[source]}
    if source == "airflow":
        parts = [flat.get("dag_id"), flat.get("task_id"), flat.get("run_id")]
    elif source == "prefect":
        parts = [flat.get("flow_name") or flat.get("flow_run_name"), flat.get("task_name")]
        parts.append(None if parts[0] else flat.get("flow_run_id"))
    else:
        return ""
    return " / ".join(str(p) for p in parts if p)


def version_row(listed: Mapping[str, Any]) -> dict[str, Any]:
    """A :meth:`Dataset.list` row (the one version shape, docs/SHAPES.md) plus
    ``produced_by``: its provenance read for the page (orchestrator, summary, links)."""
    return {**listed, "produced_by": provenance(listed["provenance"])}


def growth(versions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": v["id"],
            "version": v["version"],
            "finalized": v["finalized_at"],
            "file_count": v["file_count"],
            "size": v["total_size"],
        }
        for v in versions
    ]
