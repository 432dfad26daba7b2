"""ClearML Data compatibility: ``from dsops.clearml import Dataset`` runs scripts written
for ``clearml.Dataset`` on dsops, with no server (see ``docs/CLEARML.md``).

The ``dsops-clearml-data`` command (``python -m dsops.clearml``) is ``clearml-data``.
"""

from __future__ import annotations

from dsops.clearml.dataset import Dataset, NullLogger
from dsops.clearml.entries import FileEntry, LinkEntry

__all__ = ["Dataset", "FileEntry", "LinkEntry", "NullLogger"]
