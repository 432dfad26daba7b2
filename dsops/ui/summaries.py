"""Turn SDK listings into what the pages show: datasets, versions, provenance, growth."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dsops.catalog import VersionRecord, semver, version_dict

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


def version_row(record: VersionRecord, aliases: Mapping[str, str]) -> dict[str, Any]:
    """The version as :meth:`Dataset.to_dict` gives it, plus ``produced_by``: its
    provenance read for the page (orchestrator, summary, links)."""
    names = [a for a, v in aliases.items() if v == record.id]
    return {**version_dict(record, names), "produced_by": provenance(record.provenance)}


def _semver_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    label = str(row["version"])
    return (1, semver.parse(label), row["finalized_at"]) if semver.is_semver(label) else (0, label)


def datasets(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One summary per ``project/name`` from all versions (:meth:`Dataset.list` dicts)."""
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        grouped.setdefault((row["project"], row["name"]), []).append(row)
    result = []
    for (project, name), versions in sorted(grouped.items()):
        aliases = {alias: str(v["id"]) for v in versions for alias in v["aliases"]}
        by_id = {v["id"]: v for v in versions}
        latest = by_id.get(aliases.get("latest", "")) or max(versions, key=_semver_key)
        tags = sorted({t for v in versions for t in v["tags"]})
        result.append(
            {
                "project": project,
                "name": name,
                "version_count": len(versions),
                "latest": {"id": latest["id"], "version": latest["version"], "ref": latest["ref"]},
                "size": latest["total_size"],
                "file_count": latest["file_count"],
                "aliases": dict(sorted(aliases.items())),
                "tags": tags,
                "updated": max(str(v["finalized_at"]) for v in versions),
                # The latest description, or the newest one given (most versions give none).
                "description": latest["description"]
                or next((v["description"] for v in reversed(versions) if v["description"]), ""),
            }
        )
    return result


def matches(summary: Mapping[str, Any], query: str, tag: str) -> bool:
    """Search by name (substring of ``project/name`` or the description) and by tag."""
    if tag and tag not in summary["tags"]:
        return False
    if not query:
        return True
    text = f"{summary['project']}/{summary['name']} {summary['description']}".lower()
    return all(word in text for word in query.lower().split())


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
