"""Lineage for the pages: live versions and the deleted ones their children came from.

A delete keeps the version's record in its tombstone (``deleted/<id>.json``), so a
deleted parent is drawn with its own label, parents and deletion time, and the history
of its children runs through it instead of stopping at an unknown id.
"""

from __future__ import annotations

from typing import Any

from dsops.ui.context import UIContext
from dsops.ui.graph import place_nodes

# How many deleted ancestors a dataset's graph follows back through (each one read once).
MAX_DELETED_NODES = 100


def add_deleted_ancestors(
    ctx: UIContext, graph: dict[str, list[str]], project: str, name: str
) -> None:
    """Put this dataset's deleted ancestors of its live versions into ``graph``, with
    their parents from their tombstones, so the lineage runs through them."""
    deleted = ctx.deleted_ids()
    frontier = [p for parents in graph.values() for p in parents if p in deleted]
    added = 0
    while frontier and added < MAX_DELETED_NODES:
        node = frontier.pop(0)
        if node in graph:
            continue
        found = ctx.deletion(node)
        if found is None or (found.record.project, found.record.name) != (project, name):
            continue  # another dataset's: drawn as a boundary node, marked deleted
        graph[node] = list(found.record.parents)
        added += 1
        frontier.extend(p for p in found.record.parents if p in deleted and p not in graph)


def place(
    ctx: UIContext, graph: dict[str, list[str]], current: str | None = None
) -> dict[str, Any]:
    """Lay out ``graph`` with every node's record: a live one's, or a deleted one's
    from its tombstone (flagged deleted, with its deletion time)."""
    ids = set(graph) | {p for parents in graph.values() for p in parents}
    deleted_ids = ctx.deleted_ids()
    records: dict[str, Any] = {}
    deleted: dict[str, str] = {}
    for i in ids:
        found = ctx.deletion(i) if i in deleted_ids else None
        if found is not None:
            records[i], deleted[i] = found.record, found.deleted_at
        elif (record := ctx.find_record(i)) is not None:
            records[i] = record
    return place_nodes(graph, records, current=current, deleted=deleted)


def brief(ctx: UIContext, version_id: str) -> dict[str, Any]:
    """id, version and ref of a live or deleted version (only the id if unknown)."""
    found = ctx.deletion(version_id) if version_id in ctx.deleted_ids() else None
    if found is not None:
        record = found.record
        return {
            "id": version_id,
            "version": record.version,
            "ref": record.ref,
            "deleted": True,
            "deleted_at": found.deleted_at,
        }
    live = ctx.find_record(version_id)
    if live is None:
        return {"id": version_id}
    return {"id": version_id, "version": live.version, "ref": live.ref}
