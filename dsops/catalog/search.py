"""Datasets as a whole: one summary per ``project/name``, and search over them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dsops.catalog import semver
from dsops.catalog.catalog import Catalog
from dsops.catalog.listing import list_versions
from dsops.catalog.records import VersionRecord
from dsops.catalog.refs import LATEST
from dsops.catalog.state import effective
from dsops.errors import CorruptRecord

OnCorrupt = Callable[[CorruptRecord], None]


def datasets(
    catalog: Catalog,
    query: str = "",
    tag: str = "",
    on_corrupt: OnCorrupt | None = None,
) -> list[dict[str, Any]]:
    """The summaries (see :func:`summarize`) of the datasets that :func:`matches` finds."""
    found = list_versions(catalog, on_corrupt=on_corrupt)
    records = [effective(r, found.states.get(r.id)) for r in found.records]
    keys = sorted({(r.project, r.name) for r in records})
    aliases = {key: found.aliases.get(key, {}) for key in keys}
    return [s for s in summarize(records, aliases) if matches(s, query, tag)]


def _semver_key(record: VersionRecord) -> tuple[Any, ...]:
    label = record.version
    return (1, semver.parse(label), record.finalized_at) if semver.is_semver(label) else (0, label)


def summarize(
    records: Iterable[VersionRecord], aliases: Mapping[tuple[str, str], Mapping[str, str]]
) -> list[dict[str, Any]]:
    """One summary per ``project/name``, sorted by project and name.

    ``records`` are finalized versions, oldest first; ``aliases`` maps ``(project,
    name)`` to that dataset's alias → version id. Only aliases pointing at one of
    ``records`` are kept. The latest version is the one ``latest`` points at, else the
    highest semantic version.
    """
    grouped: dict[tuple[str, str], list[VersionRecord]] = {}
    for record in records:
        grouped.setdefault((record.project, record.name), []).append(record)
    result = []
    for (project, name), versions in sorted(grouped.items()):
        by_id = {v.id: v for v in versions}
        named = aliases.get((project, name), {})
        kept = {alias: target for alias, target in sorted(named.items()) if target in by_id}
        latest = by_id.get(kept.get(LATEST, "")) or max(versions, key=_semver_key)
        result.append(
            {
                "project": project,
                "name": name,
                "version_count": len(versions),
                "latest": {"id": latest.id, "version": latest.version, "ref": latest.ref},
                "size": latest.total_size,
                "file_count": latest.file_count,
                "aliases": kept,
                "tags": sorted({t for v in versions for t in v.tags}),
                "updated": max(v.finalized_at for v in versions),
                # The latest description, or the newest one given (most versions give none).
                "description": latest.description
                or next((v.description for v in reversed(versions) if v.description), ""),
            }
        )
    return result


def matches(summary: Mapping[str, Any], query: str = "", tag: str = "") -> bool:
    """Search by words and by tag.

    Every word of ``query`` (case-insensitive) must occur in ``project/name`` or the
    description; ``tag`` must be one of the dataset's tags. Empty means any.
    """
    query, tag = query.strip(), tag.strip()
    if tag and tag not in summary["tags"]:
        return False
    text = f"{summary['project']}/{summary['name']} {summary['description']}".lower()
    return all(word in text for word in query.lower().split())
