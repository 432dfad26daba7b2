"""Verify a version: every referenced object exists; ``deep`` re-hashes the content;
``folder`` compares a local folder against the version (missing, extra, different)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any

import blake3
import pyarrow as pa

from dsops.drafts.sources import readable
from dsops.errors import ObjectNotFound, SourceNotFound
from dsops.hashing import StatCache, hash_bytes, hash_files
from dsops.objects import ByteRange, coalesce, group_by_object, read_ranges
from dsops.store import Store


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :meth:`Dataset.verify`; truthy only when the version verified.

    Reads like a mapping too (``result["missing"]``, ``dict(result)``).
    """

    ok: bool
    version_id: str
    files: int
    objects: int
    deep: bool
    missing: tuple[str, ...] = ()
    corrupted: tuple[str, ...] = ()
    # ``deep`` only: files whose bytes in the local cache (objects or views) were wrong;
    # they were discarded and are fetched again on next use.
    cache_corrupted: tuple[str, ...] = ()
    # With a ``folder``: the folder compared, the version's files it lacks, files it has
    # that the version does not (names that are not UTF-8 shown escaped, links leading
    # outside it, sockets…), and files whose size (or, unless ``filesize_only``, BLAKE3)
    # differs.
    folder: str | None = None
    filesize_only: bool = False
    folder_missing: tuple[str, ...] = ()
    folder_extra: tuple[str, ...] = ()
    folder_different: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    def keys(self) -> list[str]:
        return list(self.to_dict())

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]


def verify_version(store: Store, version_id: str, table: pa.Table, deep: bool) -> VerifyResult:
    """Check every row's object (and, with ``deep``, its bytes and the local cache's)."""
    backend = store.backend
    objects = group_by_object(
        (obj, offset, length, (path, digest))
        for path, digest, obj, offset, length in zip(
            table.column("path").to_pylist(),
            table.column("hash").to_pylist(),
            table.column("object").to_pylist(),
            table.column("offset").to_pylist(),
            table.column("length").to_pylist(),
        )
    )
    missing: list[str] = []
    corrupted: list[str] = []

    def check(item: tuple[str, list[ByteRange]]) -> tuple[list[str], list[str]]:
        key, ranges = item
        lost: list[str] = []
        bad: list[str] = []
        try:
            info = backend.head(key)
        except ObjectNotFound:
            return [str(r.tag[0]) for r in ranges], []  # type: ignore[index]
        for rng in ranges:
            if rng.end > info.size:
                lost.append(str(rng.tag[0]))  # type: ignore[index]
        if deep:
            for group in coalesce(ranges):
                for rng, data in read_ranges(backend, key, group):
                    tag: tuple[str, str] = rng.tag  # type: ignore[assignment]
                    if hash_bytes(data) != tag[1]:
                        bad.append(tag[0])
        return lost, bad

    links = _links(table)

    def check_link(item: tuple[str, str, str, str]) -> tuple[list[str], list[str]]:
        path, url, validator, digest = item
        return _check_link(store, path, url, validator, digest, deep)

    with ThreadPoolExecutor(max_workers=8) as pool:
        for lost, bad in [*pool.map(check, objects.items()), *pool.map(check_link, links)]:
            missing.extend(lost)
            corrupted.extend(bad)
    cached = store.cache.damaged_content(version_id, table) if deep else []
    return VerifyResult(
        ok=not missing and not corrupted and not cached,
        version_id=version_id,
        files=table.num_rows,
        objects=len(objects),
        deep=deep,
        missing=tuple(sorted(missing)),
        corrupted=tuple(sorted(corrupted)),
        cache_corrupted=tuple(cached),
    )


def _links(table: pa.Table) -> list[tuple[str, str, str, str]]:
    """``(path, url, validator, hash)`` of every external file of ``table``."""
    if "link" not in table.column_names:
        return []
    return [
        (path, url, validator, digest)
        for path, url, validator, digest in zip(
            table.column("path").to_pylist(),
            table.column("link").to_pylist(),
            table.column("link_validator").to_pylist(),
            table.column("hash").to_pylist(),
        )
        if url
    ]


def _check_link(
    store: Store, path: str, url: str, validator: str, digest: str, deep: bool
) -> tuple[list[str], list[str]]:
    """An external file: its source is there with the recorded validator (a HEAD);
    ``deep`` also streams and re-hashes its bytes. ``(missing, corrupted)`` paths."""
    try:
        if not deep:
            same = store.links.head(url).validator == validator
            return [], [] if same else [path]
        _, chunks = store.links.stream(url, expect=validator)
    except SourceNotFound:
        return [path], []
    if chunks is None:
        return [], [path]
    hasher = blake3.blake3()
    for chunk in chunks:
        hasher.update(chunk)
    return [], [] if hasher.hexdigest() == digest else [path]


@dataclass(frozen=True)
class FolderComparison:
    """How a local folder differs from a version's files (paths sorted)."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    different: tuple[str, ...]

    @property
    def same(self) -> bool:
        return not (self.missing or self.extra or self.different)


def with_folder(
    result: VerifyResult, folder: str, found: FolderComparison, size_only: bool
) -> VerifyResult:
    """``result`` with a folder comparison added (OK only if both are)."""
    return replace(
        result,
        ok=result.ok and found.same,
        folder=folder,
        filesize_only=size_only,
        folder_missing=found.missing,
        folder_extra=found.extra,
        folder_different=found.different,
    )


def _inside(real: str, real_root: str) -> bool:
    return os.path.commonpath([real, real_root]) == real_root


def _scan(folder: str) -> tuple[dict[str, tuple[str, os.stat_result]], list[str], set[str]]:
    """Regular files below ``folder`` (path → (local path, stat)), entries that are
    extra whatever the version holds, and paths present but not followed.

    Symbolic links are followed only while they stay inside ``folder`` (and do not loop);
    any other link is reported, never read.
    """
    real_root = os.path.realpath(folder)
    files: dict[str, tuple[str, os.stat_result]] = {}
    extra: list[str] = []
    unfollowed: set[str] = set()
    stack: list[tuple[str, str, tuple[str, ...]]] = [(folder, "", (real_root,))]
    while stack:
        directory, rel, chain = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                try:
                    name.encode("utf-8")
                except UnicodeEncodeError:
                    extra.append(readable(name))  # no dataset path is like it
                    continue
                real = os.path.join(chain[-1], entry.name)
                if entry.is_symlink():
                    real = os.path.realpath(entry.path)
                    if not os.path.exists(real) or not _inside(real, real_root) or real in chain:
                        unfollowed.add(name)
                        continue
                if entry.is_dir():
                    stack.append((entry.path, name, (*chain, real)))
                elif entry.is_file():
                    files[name] = (entry.path, entry.stat())
                else:
                    extra.append(name)  # a socket, a fifo, a device
    return files, extra, unfollowed


def compare_folder(
    table: pa.Table, folder: str, statcache: StatCache, *, filesize_only: bool, algo: str
) -> FolderComparison:
    """Compare ``folder`` with the version's file table ``table``.

    Sizes are compared first; unless ``filesize_only``, files of the right size are
    hashed (the stat cache skips files already hashed at this inode, size and mtime).
    """
    if not os.path.isdir(folder):
        raise SourceNotFound(
            f"Cannot compare {folder!r} with the version: it is not a folder.", path=folder
        )
    files, extra, unfollowed = _scan(folder)
    expected = dict(
        zip(
            table.column("path").to_pylist(),
            zip(table.column("size").to_pylist(), table.column("hash").to_pylist()),
        )
    )
    missing = [p for p in expected if p not in files and p not in unfollowed]
    extra += [p for p in (*files, *unfollowed) if p not in expected]
    different = [p for p in unfollowed if p in expected]
    same_size = [
        p for p, (_, st) in files.items() if p in expected and st.st_size == expected[p][0]
    ]
    different += [
        p for p, (_, st) in files.items() if p in expected and st.st_size != expected[p][0]
    ]
    if not filesize_only and same_size:
        keys = [files[p] for p in same_size]
        digests = hash_files(
            [
                (path, st.st_size, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
                for path, st in keys
            ],
            statcache,
            algo=algo,
        )
        different += [p for p, d in zip(same_size, digests) if d != expected[p][1]]
    return FolderComparison(tuple(sorted(missing)), tuple(sorted(extra)), tuple(sorted(different)))
