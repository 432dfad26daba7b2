"""The README's Python example runs as written (so it cannot rot)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import write_tree

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path / "data" / "raw", {"a.jpg": "A", "b.tmp": "B", "sub/c.jpg": "C"})
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], str(README), "exec"), namespace)
    same = namespace["same"]
    assert same.version == "1.0.0"  # type: ignore[attr-defined]
    assert same.list_files() == ["images/a.jpg", "images/sub/c.jpg"]  # type: ignore[attr-defined]
    assert (tmp_path / "work" / "cats" / "images" / "a.jpg").read_text() == "A"
