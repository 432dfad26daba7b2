"""``dsops --version`` and ``--help`` start without the SDK: the command table is honest."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

from dsops.cli import cli
from dsops.cli.group import COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_lists_every_command_in_order_with_its_own_help_line() -> None:
    modules = ["versions", "fetch", "inspect", "lifecycle", "describe", "admin"]
    real = [
        (command.name, module, command.get_short_help_str(limit=300))
        for module in modules
        for command in importlib.import_module(f"dsops.cli.{module}").COMMANDS
    ]
    assert real == COMMANDS
    for name, _, _ in COMMANDS:
        assert cli.get_command(None, name) is not None  # type: ignore[arg-type]
    assert cli.get_command(None, "close") is cli.get_command(None, "finalize")  # type: ignore[arg-type]
    assert cli.get_command(None, "nope") is None  # type: ignore[arg-type]


def _modules_after(*args: str, env: dict[str, str] | None = None) -> set[str]:
    code = (
        "import sys\nfrom dsops.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return set(proc.stderr.split())


def test_version_and_help_import_neither_pyarrow_nor_the_sdk() -> None:
    for args in (["--version"], ["--help"]):
        loaded = _modules_after(*args)
        assert "dsops.cli.group" in loaded
        heavy = {"pyarrow", "pandas", "dsops.dataset", "dsops.store", "tqdm"} & loaded
        assert not heavy, f"dsops {args[0]} imported {sorted(heavy)}"
    # a real command still loads what it needs
    assert "dsops.dataset" in _modules_after("list")


def test_get_of_a_cached_version_does_not_import_pandas(tmp_path: Path) -> None:
    """pandas costs a third of a second; only metadata tables need it. Any Python value
    turned into Arrow imports it (pyarrow checks for pandas types), so the warm path
    builds its Arrow constants from buffers (dsops/manifest/scalars.py)."""
    from dsops import Dataset, Store

    (tmp_path / "src").mkdir()
    for n in range(20):
        (tmp_path / "src" / f"f{n}.txt").write_text(str(n))
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    ds = Dataset.create("p", "v", store=store)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    env = {"DSOPS_STORE": str(tmp_path / "store"), "DSOPS_CACHE_DIR": str(tmp_path / "cache")}
    _modules_after("get", "p/v@latest", env=env)  # the first get builds the view
    loaded = _modules_after("get", "p/v@latest", env=env)
    assert "dsops.dataset" in loaded
    assert "pandas" not in loaded, "a warm dsops get imported pandas"
