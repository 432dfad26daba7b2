"""Imports go down only (docs/ARCHITECTURE.md): a module never imports a layer above it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Rank of each top-level part of dsops; a module may import equal or lower ranks only.
RANKS = {
    "errors": 0, "disk": 0, "config": 0, "layout": 0, "paths": 0, "progress": 0, "storage": 0,
    "hashing": 1, "objects": 1, "manifest": 1,
    "catalog": 2, "drafts": 2, "cache": 2,
    "store": 3, "dataset": 3, "verify": 3, "gc": 3, "events": 3, "watch": 3, "__init__": 3,
    "render": 4, "cli": 4, "ui": 4, "fs": 4, "__main__": 4, "clearml": 4,
}  # fmt: skip
# Within rank 2 the cache stands alone: it knows nothing of records or drafts.
FORBIDDEN_SIDEWAYS = {"cache": {"catalog", "drafts"}}
_PUBLIC = {"Dataset": "dataset", "Store": "store"}  # names ``dsops`` re-exports
ADAPTERS = ("airflow", "prefect", "click", "tqdm", "fastapi", "starlette", "uvicorn")


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "dsops":
            found += [f"dsops.{_PUBLIC.get(a.name, a.name)}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_every_part_of_dsops_has_a_rank() -> None:
    parts = {p.stem if p.is_file() else p.name for p in (ROOT / "dsops").iterdir()}
    parts = {p for p in parts if not p.startswith((".", "_")) or p == "__init__"} - {"py"}
    assert parts <= set(RANKS), sorted(parts - set(RANKS))  # "py" is py.typed


def test_imports_go_down_only() -> None:
    wrong = []
    for path in sorted((ROOT / "dsops").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        here = _part(".".join(rel.parts))
        for name in _imports(path):
            top = name.split(".")[0]
            if top in ("airflow_provider", "prefect_tasks"):
                wrong.append(f"{rel}: imports the adapter {name}")
            if top in ADAPTERS and RANKS[here] < 4:
                wrong.append(f"{rel}: imports {name} below the adapters")
            if top != "dsops" or name == "dsops":
                continue
            there = _part(name)
            if there not in RANKS:
                continue
            if RANKS[there] > RANKS[here] or there in FORBIDDEN_SIDEWAYS.get(here, ()):
                wrong.append(f"{rel} (rank {RANKS[here]}) imports {name} (rank {RANKS[there]})")
    assert not wrong, "\n".join(wrong)
