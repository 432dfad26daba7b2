"""Content hashing: BLAKE3 (chosen on measurement, recorded in every manifest)."""

from __future__ import annotations

import os

import blake3

from dsops.hashing.statcache import StatCache

HASH_ALGO = "blake3"

# Above this size a file is hashed through mmap with BLAKE3's own threads.
_MMAP_THRESHOLD = 8 * 1024 * 1024


def hash_bytes(data: bytes | memoryview) -> str:
    """Hex digest of ``data``.

    Example:
        >>> hash_bytes(b"")[:16]
        'af1349b9f5f9a1a6'
    """
    return blake3.blake3(data).hexdigest()


def hash_file(path: str | os.PathLike[str], size: int | None = None) -> str:
    """Hex digest of a file's bytes; large files use mmap and several threads."""
    if size is None:
        size = os.stat(path).st_size
    if size >= _MMAP_THRESHOLD:
        hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
        hasher.update_mmap(str(path))
        return hasher.hexdigest()
    with open(path, "rb") as fh:
        return blake3.blake3(fh.read()).hexdigest()


def empty_digest() -> str:
    return hash_bytes(b"")


__all__ = ["HASH_ALGO", "StatCache", "empty_digest", "hash_bytes", "hash_file"]


from dsops.hashing.batch import default_workers, hash_files  # noqa: E402

__all__ += ["default_workers", "hash_files"]
