"""Paging, searching and sorting a version's file table in memory with pyarrow.

A manifest is already sorted by path, so paging by path is a zero-copy slice. Sorting by
size computes ``sort_indices`` once per version; a search computes its matching row
numbers once per query. Each page is then a ``take`` of at most ``limit`` rows, so a
1,000,000-file version pages as fast as a 1,000-file one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

Sort = Literal["path", "size"]
Order = Literal["asc", "desc"]

_SEARCH_CACHE = 8
_NO_EXTENSION = "(none)"


@dataclass(frozen=True)
class Page:
    total: int
    rows: pa.Table


class VersionIndex:
    """One version's manifest plus the orderings and searches computed over it."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table.combine_chunks() if table.num_rows else table
        self._paths = self.table.column("path")
        self._size_order: pa.Array | None = None
        self._searches: OrderedDict[tuple[str, str, Sort], pa.Array] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return int(self.table.nbytes)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    def _by_size(self) -> pa.Array:
        with self._lock:
            if self._size_order is None:
                order = pc.sort_indices(
                    self.table, sort_keys=[("size", "ascending"), ("path", "ascending")]
                )
                self._size_order = order
            return self._size_order

    def _matches(self, query: str, folder: str, sort: Sort) -> pa.Array | None:
        """Row numbers matching the filters, in ``sort`` order (None: no filter)."""
        if not query and not folder:
            return None if sort == "path" else self._by_size()
        key = (query, folder, sort)
        with self._lock:
            if key in self._searches:
                self._searches.move_to_end(key)
                return self._searches[key]
        mask: pa.Array | None = None
        if folder:
            mask = pc.starts_with(self._paths, folder.rstrip("/") + "/")
        if query:
            found = pc.match_substring(self._paths, query, ignore_case=True)
            mask = found if mask is None else pc.and_(mask, found)
        assert mask is not None
        if sort == "path":
            rows = pc.indices_nonzero(mask)
        else:
            order = self._by_size()
            rows = pc.filter(order, pc.take(mask, order))
        rows = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
        with self._lock:
            self._searches[key] = rows
            while len(self._searches) > _SEARCH_CACHE:
                self._searches.popitem(last=False)
        return rows

    def page(
        self,
        *,
        offset: int = 0,
        limit: int = 100,
        query: str = "",
        folder: str = "",
        sort: Sort = "path",
        order: Order = "asc",
    ) -> Page:
        """Rows ``offset … offset+limit`` of the filtered, sorted table."""
        rows = self._matches(query, folder, sort)
        total = self.num_rows if rows is None else len(rows)
        start, stop = _window(total, offset, limit, order)
        if stop <= start:
            return Page(total, self.table.slice(0, 0))
        if rows is None:
            chosen = self.table.slice(start, stop - start)
        else:
            chosen = self.table.take(rows.slice(start, stop - start))
        if order == "desc":
            chosen = chosen.take(pa.array(range(chosen.num_rows - 1, -1, -1), pa.int64()))
        return Page(total, chosen)

    def row(self, path: str) -> pa.Table:
        """The single row for ``path`` (empty when the version has no such file)."""
        position = pc.index(self._paths, pa.scalar(path, pa.string())).as_py()
        if position is None or position < 0:
            return self.table.slice(0, 0)
        return self.table.slice(position, 1)

    def folder(self, folder: str) -> pa.Table:
        """Every row under ``folder`` (the whole version for ``""``)."""
        if not folder:
            return self.table
        return self.table.filter(pc.starts_with(self._paths, folder + "/"))

    def size_by_type(self, top: int = 12) -> list[dict[str, object]]:
        """Total size and count per file extension, largest first; the rest as "other"."""
        if self.num_rows == 0:
            return []
        names = pc.replace_substring_regex(self._paths, pattern=r"^.*/", replacement="")
        ext = pc.struct_field(pc.extract_regex(names, r"^.+\.(?P<ext>[^.]{1,16})$"), [0])
        ext = pc.fill_null(pc.utf8_lower(ext), _NO_EXTENSION)
        grouped = (
            pa.table({"ext": ext, "size": self.table.column("size")})
            .group_by("ext")
            .aggregate([("size", "sum"), ("size", "count")])
            .sort_by([("size_sum", "descending"), ("ext", "ascending")])
        )
        groups = list(
            zip(
                grouped.column("ext").to_pylist(),
                grouped.column("size_sum").to_pylist(),
                grouped.column("size_count").to_pylist(),
            )
        )
        if len(groups) > top:
            rest = groups[top - 1 :]
            groups = groups[: top - 1]
            groups.append(("other", sum(r[1] for r in rest), sum(r[2] for r in rest)))
        return [{"type": str(e), "size": int(s), "files": int(c)} for e, s, c in groups]


def _window(total: int, offset: int, limit: int, order: Order) -> tuple[int, int]:
    """Positions in ascending order that hold page ``offset/limit`` of ``order``."""
    offset = max(0, offset)
    limit = max(0, limit)
    if order == "asc":
        return min(offset, total), min(offset + limit, total)
    stop = max(0, total - offset)
    return max(0, stop - limit), stop
