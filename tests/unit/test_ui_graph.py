"""Lineage layout: every edge points right, merges and branches are apart, no hangs."""

from __future__ import annotations

from dsops.catalog import VersionRecord
from dsops.ui.graph import place_nodes


def record(version_id: str, n: int, parents: tuple[str, ...] = ()) -> VersionRecord:
    return VersionRecord(
        id=version_id,
        project="p",
        name="d",
        version=f"1.0.{n}",
        parents=parents,
        finalized_at=f"2024-01-01T00:00:{n:02d}",
    )


def test_long_linear_history_is_one_row_and_edges_point_right() -> None:
    ids = [f"{i:032x}" for i in range(2000)]
    graph = {v: ([ids[i - 1]] if i else []) for i, v in enumerate(ids)}
    records = {v: record(v, i % 60) for i, v in enumerate(ids)}
    result = place_nodes(graph, records, max_nodes=5000)
    nodes = {n["id"]: n for n in result["nodes"]}
    assert result["rows"] == 1 and result["columns"] == 2000
    assert all(nodes[e["source"]]["column"] < nodes[e["target"]]["column"] for e in result["edges"])


def test_too_many_versions_draw_the_newest_with_their_parents_as_boundary() -> None:
    ids = [f"{i:032x}" for i in range(10)]
    graph = {v: ([ids[i - 1]] if i else []) for i, v in enumerate(ids)}
    records = {v: record(v, i) for i, v in enumerate(ids)}
    result = place_nodes(graph, records, max_nodes=3)
    assert result["truncated"]
    drawn = [n["id"] for n in result["nodes"]]
    assert set(drawn) == set(ids[6:])
    assert len(result["edges"]) == 3


def test_parent_from_another_dataset_is_an_external_node() -> None:
    graph = {"b" * 32: ["a" * 32]}
    result = place_nodes(graph, {"b" * 32: record("b" * 32, 1)})
    external = [n for n in result["nodes"] if n["external"]]
    assert [n["id"] for n in external] == ["a" * 32]
    assert external[0]["label"] == "aaaaaaaa"


def test_a_cycle_from_a_tampered_store_does_not_hang() -> None:
    graph = {"a" * 32: ["b" * 32], "b" * 32: ["a" * 32]}
    result = place_nodes(graph, {})
    assert {n["id"] for n in result["nodes"]} == {"a" * 32, "b" * 32}
