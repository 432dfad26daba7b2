"""Vectorized manifest operations: merge parents, apply draft parts, diff, select."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from dsops.errors import ConfigError
from dsops.manifest.schema import COLUMNS, MANIFEST_SCHEMA, empty_manifest
from dsops.paths import match_mask


def sort_by_path(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[("path", "ascending")]))


def last_per_path(table: pa.Table) -> pa.Table:
    """Keep the last row of each path (later rows win), sorted by path."""
    if table.num_rows == 0:
        return table
    n = table.num_rows
    indexed = table.append_column("_i", pa.array(range(n), pa.int64()))
    last = indexed.group_by("path", use_threads=False).aggregate([("_i", "max")])
    keep = pc.sort_indices(last.column("_i_max"))
    order = pc.take(last.column("_i_max"), keep)
    result = table.take(order)
    return sort_by_path(result)


def merge_parents(parents: Sequence[pa.Table]) -> pa.Table:
    """The merged view of several parent manifests; later parents win on conflicts."""
    if not parents:
        return empty_manifest()
    if len(parents) == 1:
        return parents[0]
    return last_per_path(pa.concat_tables([p.select(COLUMNS) for p in parents]))


def apply_parts(base: pa.Table, parts: Sequence[pa.Table], version_id: str) -> pa.Table:
    """Apply draft parts in order (adds upsert, removes delete) on top of ``base``.

    A path whose content is unchanged keeps its base row, so ``origin`` still names the
    version that introduced that content.
    """
    if not parts:
        return base
    # The last operation per path decides: "add" keeps the new row, "remove" drops it.
    ops = last_per_path(pa.concat_tables(parts))
    adds = ops.filter(pc.equal(ops.column("op"), "add")).drop_columns(["op"])
    touched = pc.is_in(base.column("path"), value_set=ops.column("path"))

    # Join only the few base rows the adds replace (never hash-join the whole base).
    replaced = base.filter(pc.is_in(base.column("path"), value_set=adds.column("path")))
    previous = replaced.select(["path", "hash", "origin"]).rename_columns(
        ["path", "base_hash", "base_origin"]
    )
    # Single-threaded, as every Arrow call here: a pool thread alive at interpreter exit
    # can abort the process ("terminate called without an active exception").
    joined = adds.join(previous, keys="path", join_type="left outer", use_threads=False)
    same = pc.fill_null(pc.equal(joined.column("hash"), joined.column("base_hash")), False)
    origin = pc.if_else(same, joined.column("base_origin"), pa.scalar(version_id))
    added = joined.append_column("origin", origin).select(COLUMNS).cast(MANIFEST_SCHEMA)
    # One take over [base, added] in path order: the kept base rows are not copied
    # into an intermediate table first (a 1M-row base would be copied twice).
    keep = pc.indices_nonzero(pc.invert(touched)).cast(pa.int64())
    paths = pa.chunked_array(
        [*pc.take(base.column("path"), keep).chunks, *added.column("path").chunks], pa.string()
    )
    rows = pa.concat_arrays(
        [
            keep.combine_chunks() if isinstance(keep, pa.ChunkedArray) else keep,
            pa.array(range(base.num_rows, base.num_rows + added.num_rows), pa.int64()),
        ]
    )
    order = pc.take(rows, pc.sort_indices(paths))
    return pa.concat_tables([base.select(COLUMNS).cast(MANIFEST_SCHEMA), added]).take(order)


@dataclass(frozen=True)
class ManifestDiff:
    """Rows added, removed and modified going from ``old`` to ``new``."""

    added: pa.Table
    removed: pa.Table
    modified: pa.Table  # rows of ``new``; column ``old_size`` holds the previous size

    @property
    def changed(self) -> bool:
        """True if any file was added, modified or removed."""
        return bool(self.added.num_rows or self.modified.num_rows or self.removed.num_rows)

    @property
    def added_paths(self) -> list[str]:
        return [str(p) for p in self.added.column("path").to_pylist()]

    @property
    def removed_paths(self) -> list[str]:
        return [str(p) for p in self.removed.column("path").to_pylist()]

    @property
    def modified_paths(self) -> list[str]:
        return [str(p) for p in self.modified.column("path").to_pylist()]

    def to_dict(self) -> dict[str, object]:
        """Paths and totals, JSON-ready."""
        return {
            "added": self.added_paths,
            "modified": self.modified_paths,
            "removed": self.removed_paths,
            "counts": self.counts(),
        }

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added.num_rows,
            "modified": self.modified.num_rows,
            "removed": self.removed.num_rows,
            "added_bytes": _total(self.added, "size"),
            "modified_bytes": _total(self.modified, "size"),
            "removed_bytes": _total(self.removed, "size"),
        }


def _total(table: pa.Table, column: str) -> int:
    if table.num_rows == 0:
        return 0
    return int(pc.sum(table.column(column)).as_py() or 0)


def _content_keys(table: pa.Table) -> pa.Array | pa.ChunkedArray:
    # An external file's source and validator count as content: a new one is a change.
    return pc.binary_join_element_wise(
        table.column("path"),
        table.column("hash"),
        table.column("link"),
        table.column("link_validator"),
        "\x00",
    )


def diff(old: pa.Table, new: pa.Table) -> ManifestDiff:
    """Compare two manifests by path and content (a move is removed + added).

    Content is the hash, plus the source URL and validator of an external file.

    Rows equal in (path, hash) on both sides are set aside first with one hash-set
    probe each way, so only the changed rows — usually few — are joined.
    """
    old_keys, new_keys = _content_keys(old), _content_keys(new)
    changed_new = new.filter(pc.invert(pc.is_in(new_keys, value_set=old_keys)))
    changed_old = old.filter(pc.invert(pc.is_in(old_keys, value_set=new_keys)))
    del old_keys, new_keys
    in_old = pc.is_in(changed_new.column("path"), value_set=changed_old.column("path"))
    in_new = pc.is_in(changed_old.column("path"), value_set=changed_new.column("path"))
    added = changed_new.filter(pc.invert(in_old))
    removed = changed_old.filter(pc.invert(in_new))
    previous = changed_old.filter(in_new).select(["path", "size"])
    modified = changed_new.filter(in_old).join(
        previous.rename_columns(["path", "old_size"]),
        keys="path",
        join_type="inner",
        use_threads=False,
    )
    return ManifestDiff(added=added, removed=removed, modified=sort_by_path(modified))


def select(
    table: pa.Table,
    include: Sequence[str] | str | None,
    exclude: Sequence[str] | str | None = None,
) -> pa.Table:
    """Rows whose path matches any glob in ``include`` (all rows when None) and none in
    ``exclude`` (exclude wins over include).

    Example:
        >>> t = pa.table({"path": ["a.txt", "b.bin", "c/d.txt"]})
        >>> select(t, "*.txt", exclude="c/*").column("path").to_pylist()
        ['a.txt']
    """
    patterns = [include] if isinstance(include, str) else list(include or [])
    if patterns:
        table = table.filter(match_mask(table.column("path"), patterns))
    excluded = [exclude] if isinstance(exclude, str) else list(exclude or [])
    if excluded:
        table = table.filter(pc.invert(match_mask(table.column("path"), excluded)))
    return table


def total_size(table: pa.Table) -> int:
    return _total(table, "size")


def check_part(part: int | None, num_parts: int | None) -> tuple[int, int] | None:
    """``(part, num_parts)`` checked, or None when neither is given.

    Example:
        >>> check_part(None, None) is None, check_part(1, 4)
        (True, (1, 4))
    """
    if part is None and num_parts is None:
        return None
    if part is None or num_parts is None:
        raise ConfigError(
            "part and num_parts go together: give both (e.g. part=0, num_parts=4) or neither.",
            part=part,
            num_parts=num_parts,
        )
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (part, num_parts))
    if not ints or num_parts < 1 or not 0 <= part < num_parts:
        raise ConfigError(
            f"Invalid part {part!r} of num_parts {num_parts!r}: num_parts must be an integer "
            "≥ 1 and part an integer from 0 to num_parts - 1.",
            part=part,
            num_parts=num_parts,
        )
    return part, num_parts


def part_numbers(table: pa.Table, num_parts: int) -> pa.Array:
    """The part (0 … ``num_parts - 1``) of each row of a **path-sorted** ``table``.

    Row ``i`` goes to part ``min(floor(bytes_before_i * num_parts / total_bytes),
    num_parts - 1)``, where ``bytes_before_i`` is the sum of the sizes of the rows before
    it (the ``min`` only catches empty files after the last byte): parts are
    contiguous runs of paths, each within one file's size of ``total / num_parts``
    bytes. With no bytes at all (only empty files) rows are split by count instead:
    ``floor(i * num_parts / rows)``. See docs/FORMAT.md, "Parts".

    Example:
        >>> t = pa.table({"path": ["a", "b", "c", "d"], "size": [10, 10, 10, 10]})
        >>> part_numbers(t, 2).to_pylist()
        [0, 0, 1, 1]
    """
    n = table.num_rows
    if n == 0:
        return pa.array([], pa.int64())
    sizes = table.column("size").combine_chunks().cast(pa.int64())
    total = int(pc.sum(sizes).as_py() or 0)
    if total == 0:
        before: pa.Array = pa.array(range(n), pa.int64())
        total = n
    else:
        before = pc.subtract(pc.cumulative_sum(sizes), sizes)
    scaled = pc.multiply_checked(before, pa.scalar(num_parts, pa.int64()))
    numbers = pc.divide(scaled, pa.scalar(total, pa.int64()))  # integer division: floor
    # Empty files after the last byte have bytes_before == total: the last part's.
    return pc.min_element_wise(numbers, pa.scalar(num_parts - 1, pa.int64()))


def select_part(table: pa.Table, part: int | None, num_parts: int | None) -> pa.Table:
    """Rows of part ``part`` of ``num_parts`` (see :func:`part_numbers`); all when None.

    The table is sorted by path first, so the split depends only on its rows.

    Example:
        >>> t = pa.table({"path": ["b", "a", "c"], "size": [1, 1, 1]})
        >>> [select_part(t, i, 3).column("path").to_pylist() for i in range(3)]
        [['a'], ['b'], ['c']]
    """
    checked = check_part(part, num_parts)
    if checked is None:
        return table
    ordered = sort_by_path(table)
    return ordered.filter(pc.equal(part_numbers(ordered, checked[1]), checked[0]))
