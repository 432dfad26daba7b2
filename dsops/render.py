"""Text renderings of dsops values for people: sizes, and a version's lineage DAG.

Shared by the CLI and the web UI so both draw the same graph. Nothing here touches a
store except :meth:`Lineage.of`, which reads the ancestry through the public SDK.

Example:
    >>> human_size(1536)
    '1.5 KiB'
    >>> graph = Lineage(root="b" * 32, nodes={
    ...     "a" * 32: LineageNode("a" * 32, (), "demo/toy@1.0.0", 2, 10),
    ...     "b" * 32: LineageNode("b" * 32, ("a" * 32,), "demo/toy@1.0.1", 3, 2048),
    ... })
    >>> print(graph.to_text())
    demo/toy@1.0.1  bbbbbbbbbbbb  3 files, 2.0 KiB
    └── demo/toy@1.0.0  aaaaaaaaaaaa  2 files, 10 B
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from dsops.progress import human_size

if TYPE_CHECKING:
    from dsops.dataset import Dataset

SHORT_ID = 12


# C0/C1 controls and DEL (terminal escapes, newlines), bidirectional overrides that
# reorder what a terminal shows, line/paragraph separators, lone surrogates.
_UNPRINTABLE = re.compile(
    "[\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ud800-\\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    r"""``text`` safe to print for people: control characters escaped, the rest as is.

    A file name may hold terminal escapes or newlines; printed raw they would recolour
    the terminal or forge output lines. JSON output keeps the exact text.

    Example:
        >>> print(printable("a\x1b[31mred\nfile.txt"))
        a\x1b[31mred\nfile.txt
    """
    return _UNPRINTABLE.sub(_escape, text)


def plural(count: int, word: str) -> str:
    """``plural(1, "file")`` → ``'1 file'``, ``plural(2, "file")`` → ``'2 files'``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def short_id(version_id: str) -> str:
    return version_id[:SHORT_ID]


@dataclass(frozen=True)
class LineageNode:
    """One version in a lineage graph (a draft has no semantic version yet)."""

    id: str
    parents: tuple[str, ...]
    ref: str  # project/name@version, or "project/name (draft)"
    file_count: int | None = None
    size: int | None = None
    project: str = ""
    name: str = ""
    version: str | None = None
    finalized_at: str = ""
    description: str = ""

    @property
    def is_final(self) -> bool:
        return self.version is not None

    def summary(self) -> str:
        if self.file_count is None:
            return "draft"
        return f"{plural(self.file_count, 'file')}, {human_size(self.size)}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["parents"] = list(self.parents)
        data["final"] = self.is_final
        return data


@dataclass(frozen=True)
class Lineage:
    """The ancestry DAG of ``root``: every node reachable through parents."""

    root: str
    nodes: dict[str, LineageNode]

    @classmethod
    def of(cls, dataset: Dataset) -> Lineage:
        """Read the ancestry of a version (or draft) through the SDK."""
        nodes = {
            r.id: LineageNode(
                id=r.id,
                parents=tuple(r.parents),
                ref=r.ref,
                file_count=r.file_count,
                size=r.total_size,
                project=r.project,
                name=r.name,
                version=r.version,
                finalized_at=r.finalized_at,
                description=r.description,
            )
            for r in dataset.lineage()
        }
        if dataset.id not in nodes:  # a draft: it has no version record yet
            nodes[dataset.id] = LineageNode(
                id=dataset.id,
                parents=tuple(dataset.parents),
                ref=f"{dataset.project}/{dataset.name} (draft)",
                project=dataset.project,
                name=dataset.name,
                description=dataset.description,
            )
        return cls(root=dataset.id, nodes=nodes)

    def ordered(self) -> list[LineageNode]:
        """Nodes oldest first; drafts last."""
        return sorted(self.nodes.values(), key=lambda n: (not n.is_final, n.finalized_at, n.id))

    def edges(self) -> list[tuple[str, str]]:
        """``(parent, child)`` pairs, in node order."""
        return [(p, n.id) for n in self.ordered() for p in n.parents]

    def _label(self, version_id: str) -> str:
        node = self.nodes.get(version_id)
        return node.ref if node else f"{short_id(version_id)} (missing)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "nodes": [n.to_dict() for n in self.ordered()],
            "edges": [{"parent": p, "child": c} for p, c in self.edges()],
        }

    def to_text(self) -> str:
        """A tree from ``root`` up through its parents; a shared ancestor is drawn once."""
        lines: list[str] = []
        seen: set[str] = set()

        def line(version_id: str) -> str:
            node = self.nodes.get(version_id)
            if node is None:
                return f"{short_id(version_id)}  (missing from the store)"
            return f"{printable(node.ref)}  {short_id(node.id)}  {node.summary()}"

        def walk(version_id: str, prefix: str, is_last: bool, depth: int) -> None:
            branch = "" if depth == 0 else ("└── " if is_last else "├── ")
            if version_id in seen:
                shown = printable(self._label(version_id))
                lines.append(f"{prefix}{branch}{shown}  (shown above)")
                return
            seen.add(version_id)
            lines.append(f"{prefix}{branch}{line(version_id)}")
            node = self.nodes.get(version_id)
            parents = list(node.parents) if node else []
            child_prefix = prefix if depth == 0 else prefix + ("    " if is_last else "│   ")
            for i, parent in enumerate(parents):
                walk(parent, child_prefix, i == len(parents) - 1, depth + 1)

        walk(self.root, "", True, 0)
        return "\n".join(lines)

    def to_mermaid(self) -> str:
        """A Mermaid flowchart, parents above children, the root outlined."""
        lines = ["flowchart TD"]
        for node in self.ordered():
            lines.append(f'    v{node.id}["{_mermaid_text(node.ref)}<br/>{node.summary()}"]')
        for parent, child in self.edges():
            lines.append(f"    v{parent} --> v{child}")
        lines.append("    classDef root stroke-width:3px")
        lines.append(f"    class v{self.root} root")
        return "\n".join(lines)

    def to_dot(self) -> str:
        """A Graphviz digraph, parents above children, the root in bold."""
        lines = [
            "digraph lineage {",
            "    rankdir=TB;",
            '    node [shape=box, fontname="Helvetica"];',
        ]
        for node in self.ordered():
            style = ", style=bold" if node.id == self.root else ""
            label = _dot_text(f"{node.ref}\n{node.summary()}")
            lines.append(f'    "{node.id}" [label="{label}"{style}];')
        for parent, child in self.edges():
            lines.append(f'    "{parent}" -> "{child}";')
        lines.append("}")
        return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


__all__ = ["Lineage", "LineageNode", "human_size", "plural", "printable", "short_id"]
