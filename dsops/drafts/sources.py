"""Find the local files an add or sync names: a file, a folder, a glob, or a list."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsops.errors import SourceNotFound
from dsops.paths import join, wildcard_match


@dataclass(frozen=True)
class LocalFile:
    source: str  # absolute local path
    path: str  # path inside the dataset
    size: int
    mtime_ns: int
    dev: int
    ino: int

    @property
    def stat_key(self) -> tuple[int, int, int, int]:
        return (self.dev, self.ino, self.size, self.mtime_ns)


def _entry(source: str, path: str, st: os.stat_result) -> LocalFile:
    return LocalFile(source, path, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def walk(folder: str, prefix: str, recursive: bool = True) -> Iterator[LocalFile]:
    """Files below ``folder`` (symlinked folders are not followed, to avoid loops)."""
    stack = [(folder, "")]
    while stack:
        directory, rel = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        stack.append((entry.path, name))
                elif entry.is_file():
                    yield _entry(entry.path, join(prefix, name), entry.stat())


def _has_magic(text: str) -> bool:
    return any(c in text for c in "*?[")


def _glob_base(pattern: str) -> str:
    parts = Path(pattern).parts
    base = []
    for part in parts:
        if _has_magic(part):
            break
        base.append(part)
    return str(Path(*base)) if base else "."


def collect(
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    dataset_path: str,
    wildcard: str | Sequence[str] | None = None,
    recursive: bool = True,
) -> list[LocalFile]:
    """Resolve sources to files with their dataset paths; later sources win on clashes."""
    items = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    found: dict[str, LocalFile] = {}
    patterns = [wildcard] if isinstance(wildcard, str) else wildcard
    for item in items:
        text = os.fspath(item)
        if _has_magic(text) and not os.path.exists(text):
            base = _glob_base(text)
            matches = glob.glob(text, recursive=True)
            if not matches:
                raise SourceNotFound(
                    f"No file matches {text!r}: check the pattern and the working folder.",
                    path=text,
                )
            files: list[LocalFile] = []
            for match in sorted(matches):
                if os.path.isdir(match):
                    rel = os.path.relpath(match, base).replace(os.sep, "/")
                    files.extend(walk(match, join(dataset_path, rel), recursive))
                elif os.path.isfile(match):
                    rel = os.path.relpath(match, base).replace(os.sep, "/")
                    files.append(
                        _entry(os.path.abspath(match), join(dataset_path, rel), os.stat(match))
                    )
        elif os.path.isdir(text):
            files = list(walk(os.path.abspath(text), dataset_path, recursive))
        elif os.path.isfile(text):
            path = join(dataset_path, os.path.basename(text))
            files = [_entry(os.path.abspath(text), path, os.stat(text))]
        else:
            raise SourceNotFound(
                f"No such file or folder: {text!r}. Check the path (relative paths are read "
                f"from {os.getcwd()}).",
                path=text,
            )
        for f in files:
            if wildcard_match(f.path, patterns if patterns else None):
                found[f.path] = f
    return [found[p] for p in sorted(found)]
