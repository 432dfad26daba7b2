"""Read versions in place through fsspec: ``dsops://<project>/<name>@<ref>/<path>``.

Registered with fsspec through the ``fsspec.specs`` entry point, so pandas, pyarrow,
DuckDB and every other fsspec user open ``dsops://`` URLs once dsops is installed. See
docs/FSSPEC.md.
"""

from __future__ import annotations

from dsops.fs.filesystem import DsopsFile, DsopsFileSystem
from dsops.fs.index import FileRow, ManifestIndex

__all__ = ["DsopsFile", "DsopsFileSystem", "FileRow", "ManifestIndex"]
