"""``dsops --version`` and ``--help`` start without the SDK: the command table is honest."""

from __future__ import annotations

import importlib
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


def _modules_after(*args: str) -> set[str]:
    code = (
        "import sys\nfrom dsops.cli import main\n"
        f"try:\n    main({list(args)!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
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
