"""Find the local files an add or sync names: a file, a folder, a glob, or a list.

Symbolic links are treated the same by a folder walk and a glob. A link whose target
stays inside the source folder (the folder given, or a glob's fixed leading folders) is
followed: a file link stores the target's content under the link's name, a folder link
is walked. A link that leads outside raises :class:`UnsafeSymlink` naming it, unless
``follow_symlinks=True``; a folder link back into a folder being walked (a loop) always
does. Dangling links are skipped. A path given explicitly (``add ID ./link``) is followed.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsops.errors import InvalidPath, SourceNotFound, UnsafeSymlink
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


def readable(local_path: str) -> str:
    """A local path as text: bytes that are not UTF-8 appear escaped (``bad\\xff.txt``)."""
    return os.fsencode(local_path).decode("utf-8", "backslashreplace")


def shown(local_path: str) -> str:
    """:func:`readable`, quoted for a message."""
    return f"'{readable(local_path)}'"


def _entry(source: str, path: str, st: os.stat_result) -> LocalFile:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidPath(
            f"Cannot add {shown(source)}: its name is not valid UTF-8 (the bytes that are "
            "not are shown escaped), and dataset paths are UTF-8. Rename it (e.g. with "
            "convmv) or move it out of the source folder.",
            path=readable(source),
        ) from None
    return LocalFile(source, path, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)


def _inside(real: str, real_root: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _leaves(link: str, target: str, root: str) -> UnsafeSymlink:
    what = f"Symbolic link {shown(link)}"
    if not os.path.islink(link):  # a glob match below a folder link
        what = f"{shown(link)} is reached through a symbolic link that"
    return UnsafeSymlink(
        f"{what} points outside the source folder {shown(root)} "
        f"(to {shown(target)}): pass follow_symlinks=True (--follow-symlinks) to add "
        "what it points to, or remove the link.",
        link=link,
        target=target,
    )


def walk(
    folder: str,
    prefix: str,
    recursive: bool = True,
    *,
    follow_symlinks: bool = False,
    root: str | None = None,
) -> Iterator[LocalFile]:
    """Files below ``folder``; symbolic links as the module doc says (``root``, the
    folder links must stay inside, defaults to ``folder``)."""
    real_root = os.path.realpath(root or folder)
    real_top = os.path.realpath(folder)
    # (folder, dataset-relative name, real paths of it and its ancestors: loop check)
    stack: list[tuple[str, str, tuple[str, ...]]] = [(folder, "", (real_top,))]
    while stack:
        directory, rel, chain = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                real = os.path.join(chain[-1], entry.name)
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if not os.path.exists(real):
                        continue  # dangling: nothing to add
                    if not follow_symlinks and not _inside(real, real_root):
                        raise _leaves(entry.path, real, real_root)
                if entry.is_dir():
                    if real in chain:
                        raise UnsafeSymlink(
                            f"Symbolic link {shown(entry.path)} loops back to "
                            f"{shown(real)}, a folder that contains it: remove the link.",
                            link=entry.path,
                            target=real,
                        )
                    if recursive:
                        stack.append((entry.path, name, (*chain, real)))
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
    *,
    follow_symlinks: bool = False,
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
            real_base = os.path.realpath(base)
            for match in sorted(matches):
                real = os.path.realpath(match)
                if not os.path.exists(real):
                    continue  # a dangling link, as in a walk
                if not follow_symlinks and not _inside(real, real_base):
                    raise _leaves(match, real, real_base)  # the match is, or is below, a link
                if os.path.isdir(match):
                    rel = os.path.relpath(match, base).replace(os.sep, "/")
                    files.extend(
                        walk(
                            match,
                            join(dataset_path, rel),
                            recursive,
                            follow_symlinks=follow_symlinks,
                            root=base,
                        )
                    )
                elif os.path.isfile(match):
                    rel = os.path.relpath(match, base).replace(os.sep, "/")
                    files.append(
                        _entry(os.path.abspath(match), join(dataset_path, rel), os.stat(match))
                    )
        elif os.path.isdir(text):
            files = list(
                walk(
                    os.path.abspath(text),
                    dataset_path,
                    recursive,
                    follow_symlinks=follow_symlinks,
                )
            )
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
