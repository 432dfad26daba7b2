"""Lineage and size renderings shared by the CLI and the web UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsops import Dataset, Store
from dsops.render import Lineage, LineageNode, human_size
from tests.helpers import write_tree

A, B, C, D = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def diamond() -> Lineage:
    """D merges B and C, which both derive from A."""
    node = LineageNode
    return Lineage(
        root=D,
        nodes={
            A: node(A, (), "p/n@1.0.0", 1, 10, version="1.0.0", finalized_at="1"),
            B: node(B, (A,), "p/n@1.0.1", 2, 20, version="1.0.1", finalized_at="2"),
            C: node(C, (A,), "p/n@1.0.2", 3, 30, version="1.0.2", finalized_at="3"),
            D: node(D, (B, C), "p/n@1.0.3", 4, 4096, version="1.0.3", finalized_at="4"),
        },
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (5 * 1024**3, "5.0 GiB"),
     (2 * 1024**6, "2048.0 PiB"), (None, "-")],
)  # fmt: skip
def test_human_size_uses_binary_units_and_exact_bytes(size: int | None, text: str) -> None:
    assert human_size(size) == text


def test_text_tree_draws_a_shared_ancestor_once() -> None:
    assert diamond().to_text().splitlines() == [
        "p/n@1.0.3  dddddddddddd  4 files, 4.0 KiB",
        "├── p/n@1.0.1  bbbbbbbbbbbb  2 files, 20 B",
        "│   └── p/n@1.0.0  aaaaaaaaaaaa  1 file, 10 B",
        "└── p/n@1.0.2  cccccccccccc  3 files, 30 B",
        "    └── p/n@1.0.0  (shown above)",
    ]


def test_mermaid_and_dot_have_one_edge_per_parent_and_mark_the_root() -> None:
    graph = diamond()
    mermaid = graph.to_mermaid().splitlines()
    assert sorted(line.strip() for line in mermaid if "-->" in line) == [
        f"v{A} --> v{B}",
        f"v{A} --> v{C}",
        f"v{B} --> v{D}",
        f"v{C} --> v{D}",
    ]
    assert mermaid[-1].strip() == f"class v{D} root"
    dot = graph.to_dot()
    assert dot.count(" -> ") == 4
    assert f'"{D}" [label="p/n@1.0.3\\n4 files, 4.0 KiB", style=bold];' in dot


def test_json_lists_nodes_oldest_first_and_edges_parent_to_child() -> None:
    data = diamond().to_dict()
    assert [n["id"] for n in data["nodes"]] == [A, B, C, D]
    assert {"parent": A, "child": B} in data["edges"] and len(data["edges"]) == 4
    assert data["nodes"][0]["final"] is True


def test_dot_labels_escape_quotes_and_backslashes() -> None:
    odd = Lineage(root=A, nodes={A: LineageNode(A, (), 'say "hi" \\ bye', 1, 1, version="1.0.0")})
    assert 'label="say \\"hi\\" \\\\ bye\\n1 file, 1 B"' in odd.to_dot()


def test_lineage_of_a_draft_includes_the_draft_and_its_finalized_parents(
    tmp_path: Path,
) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    parent = Dataset.create("p", "n", store=store)
    parent.add_files(write_tree(tmp_path / "src", {"a": "1"}))
    parent.finalize()
    draft = Dataset.create("p", "n", parents=[parent.id], store=store)
    graph = Lineage.of(draft)
    assert graph.root == draft.id and set(graph.nodes) == {parent.id, draft.id}
    assert graph.ordered()[-1].id == draft.id and not graph.nodes[draft.id].is_final
    assert graph.to_text().splitlines()[0] == f"p/n (draft)  {draft.id[:12]}  draft"
