"""Read many byte ranges of one object with few requests (coalesced ranged GETs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from dsops.storage import ObjectStore

# Ranges closer than this are read in one request; the gap bytes are discarded.
COALESCE_GAP = 256 * 1024
# One request never asks for more than this (keeps memory bounded, allows parallelism).
MAX_REQUEST = 8 * 1024 * 1024


@dataclass(frozen=True)
class ByteRange:
    offset: int
    length: int
    tag: object = None

    @property
    def end(self) -> int:
        return self.offset + self.length


def group_by_object(
    rows: Iterable[tuple[str, int, int, object]],
) -> dict[str, list[ByteRange]]:
    """``(object key, offset, length, tag)`` rows → the byte ranges wanted of each object.

    Rows without an object (empty files) are left out.

    Example:
        >>> rows = [("packs/p", 0, 3, "a"), ("", 0, 0, "e"), ("packs/p", 3, 2, "b")]
        >>> {k: [r.tag for r in v] for k, v in group_by_object(rows).items()}
        {'packs/p': ['a', 'b']}
    """
    by_object: dict[str, list[ByteRange]] = defaultdict(list)
    for obj, offset, length, tag in rows:
        if obj:
            by_object[obj].append(ByteRange(offset, length, tag))
    return dict(by_object)


def coalesce(
    ranges: Sequence[ByteRange], gap: int = COALESCE_GAP, limit: int = MAX_REQUEST
) -> list[list[ByteRange]]:
    """Group sorted ranges into requests: neighbours within ``gap`` share one request."""
    groups: list[list[ByteRange]] = []
    start = end = 0
    for rng in sorted(ranges, key=lambda r: r.offset):
        if groups and rng.offset - end <= gap and rng.end - start <= limit:
            groups[-1].append(rng)
            end = max(end, rng.end)
            continue
        groups.append([rng])
        start, end = rng.offset, rng.end
    return groups


def read_ranges(
    store: ObjectStore, key: str, group: Sequence[ByteRange]
) -> Iterator[tuple[ByteRange, memoryview]]:
    """One ranged GET for a coalesced group; yields each range with its bytes."""
    start = group[0].offset
    end = max(r.end for r in group)
    blob = store.get_range(key, start, end)
    view = memoryview(blob)
    for rng in group:
        yield rng, view[rng.offset - start : rng.end - start]
