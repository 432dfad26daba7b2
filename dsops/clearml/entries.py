"""ClearML's file entries and its ``dataset_path`` selection rule, over a dsops manifest."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class FileEntry:
    """One stored file, as ClearML's ``file_entries_dict`` values read.

    ``parent_dataset_id`` is the version that introduced this content at this path (the
    manifest's ``origin``); ``local_path`` is always None (nothing is pending upload).
    """

    relative_path: str
    hash: str
    size: int
    parent_dataset_id: str
    local_path: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "relative_path": self.relative_path,
            "hash": self.hash,
            "size": self.size,
            "parent_dataset_id": self.parent_dataset_id,
        }


@dataclass(frozen=True)
class LinkEntry:
    """One external file (``add_external_files``), as ``link_entries_dict`` values read."""

    link: str
    relative_path: str
    hash: str
    size: int
    parent_dataset_id: str

    def as_dict(self) -> dict[str, object]:
        return {
            "link": self.link,
            "relative_path": self.relative_path,
            "hash": self.hash,
            "size": self.size,
            "parent_dataset_id": self.parent_dataset_id,
        }


def entries(table: pa.Table) -> tuple[dict[str, FileEntry], dict[str, LinkEntry]]:
    """The stored files and the external files of a manifest, each keyed by path."""
    files: dict[str, FileEntry] = {}
    links: dict[str, LinkEntry] = {}
    columns = ["path", "size", "hash", "origin", "link"]
    for path, size, digest, origin, link in zip(
        *(table.column(c).to_pylist() for c in columns), strict=True
    ):
        if link:
            links[path] = LinkEntry(str(link), path, str(digest), int(size), str(origin))
        else:
            files[path] = FileEntry(path, str(digest), int(size), str(origin))
    return files, links


def select_paths(
    paths: Iterable[str], dataset_path: str | None, recursive: bool = True
) -> list[str]:
    """The paths ClearML's ``dataset_path`` argument selects, sorted.

    - None or ``""``: every path.
    - A file's exact path: that file.
    - A folder (``"data"`` or ``"data/"``): everything below it, or with
      ``recursive=False`` only the files directly in it.
    - Otherwise the last segment is a wildcard (fnmatch) on file names, the rest a
      folder: ``"data/*.jpg"`` selects the ``.jpg`` files below ``data`` (directly in
      it with ``recursive=False``); ``"*.csv"`` those anywhere (top level only).
    """
    every = sorted(paths)
    if not dataset_path:
        return every if recursive else [p for p in every if "/" not in p]
    pattern = dataset_path.strip().lstrip("/")
    if pattern in ("", ".", "./"):
        return every if recursive else [p for p in every if "/" not in p]
    if not pattern.endswith("/") and pattern in set(every):
        return [pattern]
    folder = pattern.rstrip("/")
    below = [p for p in every if p.startswith(folder + "/")]
    if below and not any(c in folder for c in "*?["):
        return below if recursive else [p for p in below if "/" not in p[len(folder) + 1 :]]
    parent, wildcard = posixpath.split(folder)
    if any(c in parent for c in "*?["):
        return [p for p in every if fnmatch.fnmatchcase(p, folder)]
    prefix = f"{parent}/" if parent else ""
    chosen = []
    for path in every:
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        if not recursive and "/" in rest:
            continue
        if fnmatch.fnmatchcase(posixpath.basename(path), wildcard):
            chosen.append(path)
    return chosen
