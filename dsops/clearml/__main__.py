"""``python -m dsops.clearml``: the same as the ``dsops-clearml-data`` script."""

from __future__ import annotations

from dsops.clearml.cli import main

main()
