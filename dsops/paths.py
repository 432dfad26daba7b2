"""Dataset paths: relative POSIX paths that can never leave the dataset's root."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from dsops.errors import InvalidPath

# A path is unsafe if absolute, has an empty, "." or ".." segment, a backslash or a NUL,
# or starts with a drive letter (``C:/x`` is absolute on Windows, ``C:x`` drive-relative).
_UNSAFE = r"(^/)|(^$)|(//)|(/$)|((^|/)\.\.?(/|$))|\\|\x00|(^[A-Za-z]:)"


def normalize_dataset_path(path: str | None) -> str:
    """Normalize a folder inside a dataset (``""`` is the root); refuse escapes.

    Example:
        >>> normalize_dataset_path("images/./train/")
        'images/train'
    """
    if path is None:
        return ""
    text = str(path).replace("\\", "/")
    if text.startswith("/") or re.match(r"^[A-Za-z]:/", text):
        raise InvalidPath(
            f"dataset_path {path!r} is absolute: give a folder relative to the dataset root.",
            path=str(path),
        )
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidPath(
            f"dataset_path {path!r} climbs out of the dataset with '..': give a folder "
            "inside the dataset.",
            path=str(path),
        )
    return "/".join(parts)


def join(folder: str, relative: str) -> str:
    return f"{folder}/{relative}" if folder else relative


def unsafe_paths(paths: pa.Array | pa.ChunkedArray) -> list[str]:
    """The paths (at most a few) that are absolute, climb with ``..`` or are malformed."""
    mask = pc.match_substring_regex(paths, _UNSAFE)
    bad = pc.filter(paths, mask)
    return [str(p) for p in bad.to_pylist()[:5]]


def check_paths(paths: pa.Array | pa.ChunkedArray, where: str) -> None:
    """Raise :class:`InvalidPath` if any path could escape the target folder."""
    bad = unsafe_paths(paths)
    if bad:
        raise InvalidPath(
            f"{where} holds unsafe paths {bad} (absolute, drive letter, '..' or empty "
            "segments); refusing to use it. The store may be corrupted or tampered with.",
            paths=bad,
        )


def glob_regex(patterns: Iterable[str]) -> str:
    """One regex for glob patterns matched against whole dataset paths.

    ``*`` and ``?`` do not cross ``/``, ``**`` does; a pattern without ``/`` also
    matches the file name in any folder, and a folder name matches everything below it.
    """
    alternatives = []
    for pattern in patterns:
        pat = pattern.strip().removeprefix("./").rstrip("/")
        if not pat:
            continue
        body = _translate(pat)
        prefix = "(?:.*/)?" if "/" not in pat else ""
        alternatives.append(f"^{prefix}{body}(?:/.*)?$")
    return "|".join(alternatives) if alternatives else "(?!)"


def _translate(pattern: str) -> str:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
                i += 1
            else:
                cls = pattern[i + 1 : end]
                if cls.startswith("!"):
                    cls = "^" + cls[1:]
                out.append(f"[{cls}]")
                i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def match_mask(paths: pa.Array | pa.ChunkedArray, patterns: Iterable[str]) -> pa.Array:
    """Boolean mask of the paths matching any of the glob patterns (vectorized)."""
    return pc.match_substring_regex(paths, glob_regex(list(patterns)))


def matches(path: str, patterns: Iterable[str]) -> bool:
    return re.match(glob_regex(list(patterns)), path) is not None


def wildcard_match(name: str, wildcard: str | Sequence[str] | None) -> bool:
    """ClearML-style ``wildcard``: match a file's name (or relative path) with fnmatch."""
    if not wildcard:
        return True
    patterns = [wildcard] if isinstance(wildcard, str) else list(wildcard)
    base = posixpath.basename(name)
    return any(fnmatch.fnmatchcase(base, p) or fnmatch.fnmatchcase(name, p) for p in patterns)
