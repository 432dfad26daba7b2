"""``python -m dsops``: the same as the ``dsops`` script."""

from __future__ import annotations

from dsops.cli import main

main()
