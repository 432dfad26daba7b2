"""Lay out a lineage DAG for drawing: parents left of children, merges visible.

Each node's column is the length of the longest path from a root, so every edge points
right. Within a column, nodes are ordered by the mean row of their parents (the
barycenter heuristic), which keeps a linear history on one line and puts branches and
merges next to the nodes they come from. The browser only draws the coordinates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dsops.catalog import VersionRecord

# Above this many versions only the most recent ones are drawn (with their parents).
MAX_NODES = 300


def place_nodes(
    graph: Mapping[str, Sequence[str]],
    records: Mapping[str, VersionRecord],
    *,
    current: str | None = None,
    max_nodes: int = MAX_NODES,
    deleted: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Columns and rows for ``graph`` (version id → parent ids).

    Parents missing from ``graph`` (another dataset's versions, or ancestors cut by
    ``max_nodes``) become nodes too, flagged ``external`` or ``truncated``. Ids in
    ``deleted`` (id → when it was deleted) are flagged ``deleted``; ``records`` holds
    their tombstone records, so they keep their label.
    """
    deleted = deleted or {}

    def sort_key(node: str) -> tuple[str, str]:
        record = records.get(node)
        return (record.finalized_at if record else "", node)

    nodes = sorted(graph, key=sort_key)
    truncated = len(nodes) > max_nodes
    if truncated:
        nodes = nodes[-max_nodes:]
    keep = set(nodes)
    for node in list(nodes):
        for parent in graph.get(node, ()):
            if parent not in keep:
                keep.add(parent)
                nodes.insert(0, parent)
    edges = [(p, n) for n in nodes for p in graph.get(n, ()) if n in graph and p in keep]
    # Parents that are themselves drawn only as a boundary have no drawn parents.
    parents = {n: [p for p in graph.get(n, ()) if p in keep] if n in graph else [] for n in nodes}

    column = _columns(nodes, parents)
    rows: dict[str, float] = {}
    by_column: dict[int, list[str]] = {}
    for node in nodes:
        by_column.setdefault(column[node], []).append(node)
    height = 0
    for col in sorted(by_column):
        members = by_column[col]

        def barycenter(node: str) -> tuple[float, str, str]:
            placed = [rows[p] for p in parents[node] if p in rows]
            mean = sum(placed) / len(placed) if placed else 0.0
            return (mean, *sort_key(node))

        members.sort(key=barycenter)
        taken: set[int] = set()
        for node in members:
            wanted = round(barycenter(node)[0])
            slot = wanted
            while slot in taken:
                slot += 1
            taken.add(slot)
            rows[node] = slot
            height = max(height, slot + 1)

    result_nodes = []
    for node in nodes:
        record = records.get(node)
        result_nodes.append(
            {
                "id": node,
                "label": record.version if record else node[:8],
                "ref": record.ref if record else None,
                "dataset": f"{record.project}/{record.name}" if record else None,
                "created": record.finalized_at if record else None,
                "parents": list(graph.get(node, ())),
                "merge": len(graph.get(node, ())) > 1,
                "external": node not in graph,
                "deleted": node in deleted,
                "deleted_at": deleted.get(node),
                "current": node == current,
                "column": column[node],
                "row": int(rows[node]),
            }
        )
    return {
        "nodes": result_nodes,
        "edges": [{"source": p, "target": c} for p, c in edges],
        "columns": (max(column.values()) + 1) if column else 0,
        "rows": height,
        "truncated": truncated,
    }


def _columns(nodes: Sequence[str], parents: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Longest distance from a root, computed iteratively (deep histories are fine).

    A cycle cannot come from the commit protocol (a parent is final before its child
    exists); a tampered store that has one gets its back edge ignored, not a hang.
    """
    column: dict[str, int] = {}
    for start in nodes:
        stack = [start]
        entered: set[str] = set()
        while stack:
            node = stack[-1]
            if node in column:
                stack.pop()
                continue
            entered.add(node)
            pending = [p for p in parents.get(node, ()) if p not in column and p not in entered]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            done = [column[p] for p in parents.get(node, ()) if p in column]
            column[node] = 1 + max(done, default=-1)
    return column
