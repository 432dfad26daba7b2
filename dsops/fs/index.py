"""A version's file table arranged for listing: files by path, folders implied by paths.

Everything ``ls``, ``info``, ``find`` and ``glob`` answer comes from here, built once
per version from its manifest: no object of the store is read to list a version.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

# The character after "/": every path below folder ``d`` sorts before ``d + _AFTER_SEP``.
_AFTER_SEP = chr(ord("/") + 1)


@dataclass(frozen=True)
class FileRow:
    """One file of a version, as its manifest row says."""

    path: str
    size: int
    hash: str
    object: str
    offset: int
    length: int
    mtime: int  # ns
    link: str = ""  # an external file's source URL (docs/FORMAT.md "External files")
    link_validator: str = ""


class ManifestIndex:
    """The sorted paths of one version, with binary search for folders and files.

    Example:
        >>> import pyarrow as pa
        >>> t = pa.table({"path": ["a/b.txt", "a/c/d.txt", "e.txt"], "size": [1, 2, 3],
        ...     "hash": ["h"] * 3, "object": ["o"] * 3, "offset": [0, 1, 3],
        ...     "length": [1, 2, 3], "mtime": [0] * 3})
        >>> index = ManifestIndex(t)
        >>> [(name, row is None) for name, row in index.children("a")]
        [('a/b.txt', False), ('a/c', True)]
        >>> index.is_dir("a/c"), index.is_dir("a/c/d.txt"), index.file("e.txt").size
        (True, False, 3)
    """

    def __init__(self, table: pa.Table) -> None:
        table = table.take(pc.sort_indices(table, [("path", "ascending")]))
        self.paths: list[str] = table.column("path").to_pylist()
        self._sizes: list[int] = table.column("size").to_pylist()
        self._hashes: list[str] = table.column("hash").to_pylist()
        self._objects: list[str] = table.column("object").to_pylist()
        self._offsets: list[int] = table.column("offset").to_pylist()
        self._lengths: list[int] = table.column("length").to_pylist()
        self._mtimes: list[int] = table.column("mtime").to_pylist()
        n = table.num_rows
        names = table.column_names
        self._links: list[str] = table.column("link").to_pylist() if "link" in names else [""] * n
        self._validators: list[str] = (
            table.column("link_validator").to_pylist() if "link_validator" in names else [""] * n
        )
        self._where = {path: i for i, path in enumerate(self.paths)}

    def __len__(self) -> int:
        return len(self.paths)

    def row(self, i: int) -> FileRow:
        return FileRow(
            self.paths[i],
            self._sizes[i],
            self._hashes[i],
            self._objects[i],
            self._offsets[i],
            self._lengths[i],
            self._mtimes[i],
            self._links[i],
            self._validators[i],
        )

    def file(self, path: str) -> FileRow | None:
        """The file at ``path``, or None (a folder or nothing)."""
        i = self._where.get(path)
        return None if i is None else self.row(i)

    def is_dir(self, path: str) -> bool:
        """True for the version's root (``""``) and every folder a file path implies."""
        if not path:
            return True
        i = bisect_left(self.paths, path + "/")
        return i < len(self.paths) and self.paths[i].startswith(path + "/")

    def below(self, path: str) -> range:
        """Indices of every file under folder ``path`` (all of them for ``""``)."""
        if not path:
            return range(len(self.paths))
        start = bisect_left(self.paths, path + "/")
        return range(start, bisect_left(self.paths, path + _AFTER_SEP, start))

    def children(self, path: str) -> Iterator[tuple[str, FileRow | None]]:
        """The entries directly inside folder ``path``: (full path, row), None for a folder.

        A sub-folder is skipped over with one binary search, so listing a folder costs
        its own entries, not every file below it.
        """
        prefix = f"{path}/" if path else ""
        i = bisect_left(self.paths, prefix)
        end = len(self.paths)
        while i < end and self.paths[i].startswith(prefix):
            rest = self.paths[i][len(prefix) :]
            folder, sep, _ = rest.partition("/")
            if sep:
                yield prefix + folder, None
                i = bisect_left(self.paths, prefix + folder + _AFTER_SEP, i)
            else:
                yield self.paths[i], self.row(i)
                i += 1
