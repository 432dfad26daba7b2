"""Content hashing: BLAKE3 (chosen on measurement, recorded in every manifest)."""

from __future__ import annotations

import os

import blake3

from dsops.hashing.statcache import StatCache

HASH_ALGO = "blake3"

# Above this size a file is hashed in blocks of this size with BLAKE3's own threads.
# Blocks, not mmap: a mapped file's touched pages count in the process's RSS (a 128 MiB
# file hashed through mmap costs 128 MiB of it); a reused block costs 8 MiB and hashes
# as fast on the reference machine.
BLOCK_SIZE = 8 * 1024 * 1024


def hash_bytes(data: bytes | memoryview) -> str:
    """Hex digest of ``data``.

    Example:
        >>> hash_bytes(b"")[:16]
        'af1349b9f5f9a1a6'
    """
    return blake3.blake3(data).hexdigest()


def hash_file(path: str | os.PathLike[str], size: int | None = None) -> str:
    """Hex digest of a file's bytes; large files are read in blocks, hashed by several
    threads, in bounded memory."""
    if size is None:
        size = os.stat(path).st_size
    if size >= BLOCK_SIZE:
        return hash_stream(path)[0]
    with open(path, "rb") as fh:
        return blake3.blake3(fh.read()).hexdigest()


def hash_stream(path: str | os.PathLike[str], block_size: int = BLOCK_SIZE) -> tuple[str, int]:
    """Hex digest and byte count of a file read in ``block_size`` blocks (one buffer)."""
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    buffer = bytearray(block_size)
    view = memoryview(buffer)
    total = 0
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            hasher.update(view[:n])
            total += n
    return hasher.hexdigest(), total


def empty_digest() -> str:
    return hash_bytes(b"")


__all__ = [
    "BLOCK_SIZE",
    "HASH_ALGO",
    "StatCache",
    "empty_digest",
    "hash_bytes",
    "hash_file",
    "hash_stream",
]


from dsops.hashing.batch import default_workers, hash_files  # noqa: E402

__all__ += ["default_workers", "hash_files"]
