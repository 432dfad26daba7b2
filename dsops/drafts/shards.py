"""Shards: a deterministic 1/n of a source, so n workers split one landing folder.

A file belongs to shard ``i`` of ``n`` when ``blake2b(dataset path) mod n == i``. The
rule looks at nothing but the file's own dataset path, so:

- it is **stable**: re-listing the folder, a different listing order, files added or
  removed elsewhere, or a file whose content changes never move a file to another shard
  (a retried shard sees the same files; a sync by shard removes only its own paths);
- the n shards are **disjoint** and together **are the whole source**.

The trade-off is that balance is statistical, not exact. Bytes per shard have mean
``total / n`` and standard deviation ``sqrt((1/n)(1 - 1/n) * sum(size**2))``: a folder of
many files of comparable size splits within a few percent, and one huge file makes its
shard heavy (no rule that keeps files whole and stable could do better). An exact
greedy split of the sorted ``(path, size)`` listing would balance perfectly once, but one
new file would reshuffle every later file between shards, so a retry or a re-run would
upload again what another shard already has.

A sharded change call tags its part id (``<t>-<r>-s<i>of<n>``) and reads only the parts
that may hold its paths — untagged ones, its own, those of another split — so n
shards into one draft read O(n) parts between them, not O(n²) (docs/SCALING.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from dsops.errors import ConfigError

T = TypeVar("T")

_USAGE = "give shard=(i, n) with integers 0 <= i < n (a list [i, n] or the text 'i/n' too)"


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (``Shard(0, 1)`` is the whole source).

    Example:
        >>> Shard.parse([1, 4]), Shard.parse("1/4") == Shard.parse("[1, 4]") == Shard(1, 4)
        (Shard(index=1, count=4), True)
        >>> [Shard(i, 2).contains("data/a.csv") for i in range(2)].count(True)
        1
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        for value in (self.index, self.count):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(
                    f"Bad shard ({self.index!r}, {self.count!r}): {_USAGE}.", shard=repr(value)
                )
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ConfigError(
                f"Bad shard ({self.index}, {self.count}): {_USAGE}.",
                shard=f"{self.index}/{self.count}",
            )

    @classmethod
    def parse(cls, value: Any) -> Shard | None:
        """A shard from ``(i, n)``, ``[i, n]`` (as XCom/JSON gives it back), ``"i/n"`` or
        ``"[i, n]"`` (a rendered template), a Shard, or None (no sharding). Anything else
        is a :class:`ConfigError`."""
        if value is None or isinstance(value, Shard):
            return value
        if isinstance(value, str):  # "i/n", or "[i, n]" as a template renders a list
            text = value.strip().removeprefix("[").removesuffix("]").strip()
            index, sep, count = text.replace(",", "/", 1).partition("/")
            if not (sep and index.strip().isdigit() and count.strip().isdigit()):
                return cls._bad(value)
            return cls(int(index), int(count))
        if isinstance(value, Sequence) and len(value) == 2:
            return cls(value[0], value[1])
        return cls._bad(value)

    @staticmethod
    def _bad(value: Any) -> Shard:
        raise ConfigError(f"Bad shard {value!r}: {_USAGE}.", shard=repr(value))

    def contains(self, path: str) -> bool:
        """Whether dataset path ``path`` belongs to this shard."""
        return self.count == 1 or shard_of(path, self.count) == self.index

    def select(self, items: Iterable[T], path_of: Any) -> list[T]:
        """The items whose ``path_of(item)`` belongs to this shard, in order."""
        if self.count == 1:
            return list(items)
        return [item for item in items if shard_of(path_of(item), self.count) == self.index]

    @property
    def tag(self) -> str:
        """The suffix of the part ids this shard writes (``-s3of8``; none for 1 of 1)."""
        return "" if self.count == 1 else f"-s{self.index}of{self.count}"

    def disjoint_from(self, part_id: str) -> bool:
        """Whether part ``part_id`` was written by another shard of the same split: it
        holds none of this shard's paths, so this shard's change calls need not read it.

        Example:
            >>> Shard(0, 8).disjoint_from("00000000000000000001-ab12-s3of8")
            True
            >>> [Shard(0, 8).disjoint_from(p) for p in ("1-ab-s0of8", "1-ab-s1of4", "1-ab")]
            [False, False, False]
        """
        _, _, tag = part_id.rpartition("-")
        index, sep, count = tag.removeprefix("s").partition("of")
        if not (tag.startswith("s") and sep and index.isdigit() and count.isdigit()):
            return False
        return int(count) == self.count and int(index) != self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


ShardArg: TypeAlias = "Shard | tuple[int, int] | Sequence[int] | str | None"
"""What ``shard=`` accepts: ``(i, n)``, ``[i, n]``, ``"i/n"``, a :class:`Shard`, or None."""


def shard_of(path: str, count: int) -> int:
    """The shard (of ``count``) that dataset path ``path`` belongs to.

    Example:
        >>> shard_of("a.txt", 1), 0 <= shard_of("a.txt", 8) < 8
        (0, True)
    """
    digest = hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


__all__ = ["Shard", "ShardArg", "shard_of"]
