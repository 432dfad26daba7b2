"""The ``dsops`` command line: parse arguments, call the SDK, format the result.

Every command is a thin adapter over :class:`dsops.Dataset`; anything a command needs
that the SDK lacks belongs in the SDK. Results go to stdout (one JSON document with
``--json``), notes and progress bars to stderr. Exit codes: 0 success, 1 the operation
failed, 2 a usage error.

Modules: ``output`` (global options, settings, printing, tables, REF completion),
``failures`` (errors → one line and exit 1), ``progress_bars`` (tqdm), the commands by
group — ``versions`` (create, add, remove, sync, finalize, squash), ``fetch`` (get),
``inspect`` (list, search, ls, diff, lineage, verify), ``lifecycle`` (delete, prune,
publish, rename, move), ``describe`` (describe, metadata set|get|ls|rm), ``admin``
(alias, gc, ui) — and
``group`` (the ``dsops`` group that lists them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsops.cli.group import cli, main

if TYPE_CHECKING:
    from dsops.cli.progress_bars import TqdmProgress


def __getattr__(name: str) -> Any:
    if name == "TqdmProgress":  # tqdm only when bars are drawn
        from dsops.cli.progress_bars import TqdmProgress

        return TqdmProgress
    raise AttributeError(f"module 'dsops.cli' has no attribute {name!r}")


__all__ = ["TqdmProgress", "cli", "main"]
