"""Verify a version: every referenced object exists; ``deep`` re-hashes the content."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import blake3
import pyarrow as pa

from dsops.errors import ObjectNotFound, SourceNotFound
from dsops.hashing import hash_bytes
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

    def __bool__(self) -> bool:
        return self.ok

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["missing"] = list(self.missing)
        data["corrupted"] = list(self.corrupted)
        data["cache_corrupted"] = list(self.cache_corrupted)
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
