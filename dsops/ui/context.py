"""What the web app keeps between requests: the store, and caches of immutable things.

Finalized versions never change, so their records, manifests and derived indexes are
cached without invalidation (bounded by size); only the dataset list — new versions and
moved aliases — is re-read after a short time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from dsops.catalog import Deletion, VersionRecord, is_version_id
from dsops.dataset import Dataset
from dsops.errors import CorruptRecord, VersionDeleted, VersionNotFound
from dsops.store import Store
from dsops.ui import summaries
from dsops.ui.contents import VersionIndex

K = TypeVar("K")
V = TypeVar("V")

StoreSource = Store | str | Callable[[], Store] | None

log = logging.getLogger(__name__)

# Manifests kept in memory for paging: a 1M-file manifest is ~200-300 MB of Arrow data.
DEFAULT_MANIFEST_BUDGET = 2 * 1024**3
LIST_TTL_SECONDS = 5.0


class LRU(Generic[K, V]):
    """A thread-safe LRU bounded by a total weight (bytes, or 1 per item)."""

    def __init__(self, budget: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._budget = budget
        self._weigh = weigh
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            total = sum(self._weigh(v) for v in self._items.values())
            # Always keep the newest item, even when it alone exceeds the budget.
            while total > self._budget and len(self._items) > 1:
                _, evicted = self._items.popitem(last=False)
                total -= self._weigh(evicted)
            return value


class UIContext:
    """The store behind one app, opened on first use, and the caches over it."""

    def __init__(
        self, store: StoreSource, *, manifest_budget: int = DEFAULT_MANIFEST_BUDGET
    ) -> None:
        self._source = store
        self._store: Store | None = None
        self._lock = threading.Lock()
        self._records: LRU[str, VersionRecord] = LRU(100_000)
        self._indexes: LRU[str, VersionIndex] = LRU(manifest_budget, lambda v: v.nbytes)
        self._index_locks: dict[str, threading.Lock] = {}
        self.derived: LRU[tuple[Any, ...], Any] = LRU(64)
        self._listings: LRU[tuple[str, ...], tuple[float, Any]] = LRU(64)

    @property
    def store(self) -> Store:
        """The store, opened lazily so that importing or mounting the app is free."""
        with self._lock:
            if self._store is None:
                source = self._source
                self._store = source() if callable(source) else Store.coerce(source)
            return self._store

    # --- versions ---------------------------------------------------------------------

    def dataset(self, version_id: str) -> Dataset:
        """A finalized version by id; anything else (bad id, draft) is not found."""
        return Dataset.get(self.record(version_id).id, store=self.store)

    def record(self, version_id: str) -> VersionRecord:
        """A live version's record; a deleted one raises :meth:`gone` (seen within
        ``LIST_TTL_SECONDS`` of a delete made by another process)."""
        if not is_version_id(version_id):
            raise VersionNotFound(
                f"{version_id!r} is not a version id (32 hexadecimal characters).",
                version_id=version_id,
            )
        if version_id in self.deleted_ids():
            raise self.gone(version_id)
        cached = self._records.get(version_id)
        if cached is not None:
            return cached
        try:
            record = self.store.catalog.version(version_id)
        except VersionDeleted:
            raise self.gone(version_id) from None
        return self._records.put(version_id, record)

    def deleted_ids(self) -> frozenset[str]:
        """Ids with a tombstone (one LIST of ``deleted/``, re-read every few seconds)."""
        return self._listed(("deleted",), lambda: frozenset(self.store.catalog.deleted_ids()))

    def deletion(self, version_id: str) -> Deletion | None:
        """The tombstone of a deleted version (None: not deleted)."""
        return self.store.catalog.deletion(version_id)

    def gone(self, version_id: str) -> VersionDeleted:
        """The error (HTTP 410) for a request naming a deleted version."""
        found = self.deletion(version_id)
        if found is None:  # an interrupted delete, or the tombstone is being written
            return VersionDeleted(
                f"Version {version_id} was deleted: use another version.",
                version_id=version_id,
                ref=None,
                deleted_at=None,
            )
        record = found.record
        return VersionDeleted(
            f"Version {version_id} ({record.ref}) was deleted at {found.deleted_at}: only "
            "its place in its children's lineage remains; use another version.",
            version_id=version_id,
            ref=record.ref,
            deleted_at=found.deleted_at,
        )

    def find_record(self, version_id: str) -> VersionRecord | None:
        try:
            return self.record(version_id)
        except VersionNotFound:
            return None

    def index(self, version_id: str) -> VersionIndex:
        """The version's manifest, held in memory for paging, search and sorting."""
        dataset = self.dataset(version_id)  # refuses a deleted version, cached or not
        cached = self._indexes.get(version_id)
        if cached is not None:
            return cached
        with self._lock:
            lock = self._index_locks.setdefault(version_id, threading.Lock())
        with lock:  # one load per version even when many requests arrive at once
            cached = self._indexes.get(version_id)
            if cached is None:
                cached = self._indexes.put(version_id, VersionIndex(dataset.manifest()))
        with self._lock:
            self._index_locks.pop(version_id, None)
        return cached

    def labels(self, version_ids: list[str]) -> dict[str, str]:
        """version id → ``project/name@semver`` for the ids that exist or were deleted
        (a deleted version's files live on in its children: their origin keeps its name)."""
        result = {}
        deleted = self.deleted_ids()
        for version_id in set(version_ids):
            found = self.deletion(version_id) if version_id in deleted else None
            record = found.record if found is not None else self.find_record(version_id)
            if record is not None:
                result[version_id] = record.ref
        return result

    # --- listing ----------------------------------------------------------------------

    def versions(self, *, fresh: bool = False) -> list[dict[str, Any]]:
        """Every finalized version (oldest first), as the pages show it.

        :meth:`Dataset.list` is re-read every few seconds (``fresh``: now); records
        are immutable, so the store's catalog reads each one once, and only the
        listing and the aliases are read again.
        """
        return self._listed(
            ("versions",),
            lambda: [
                summaries.version_row(row)
                for row in Dataset.list(store=self.store, on_corrupt=_skip)
            ],
            fresh=fresh,
        )

    def listed_version(self, version_id: str) -> dict[str, Any]:
        """The :meth:`versions` row of one version (listed again if it is newer)."""
        for fresh in (False, True):
            row = next((v for v in self.versions(fresh=fresh) if v["id"] == version_id), None)
            if row is not None:
                return row
        if self.deletion(version_id) is not None:  # deleted since its record was read
            raise self.gone(version_id)
        raise VersionNotFound(f"Version {version_id} is not listed.", version_id=version_id)

    def datasets(self, q: str = "", tag: str = "") -> list[dict[str, Any]]:
        """:meth:`Dataset.datasets` (the summaries found), re-read every few seconds."""
        return self._listed(
            ("datasets", q, tag),
            lambda: Dataset.datasets(q, tag, store=self.store, on_corrupt=_skip),
        )

    def _listed(self, key: tuple[str, ...], compute: Callable[[], V], *, fresh: bool = False) -> V:
        # Listings change (new versions, moved aliases): each is kept LIST_TTL_SECONDS.
        now = time.monotonic()
        cached = None if fresh else self._listings.get(key)
        if cached is not None and now - cached[0] < LIST_TTL_SECONDS:
            result: V = cached[1]
            return result
        value = compute()
        self._listings.put(key, (now, value))
        return value

    def derive(self, key: tuple[Any, ...], compute: Callable[[], V]) -> V:
        """A cached result computed from immutable inputs (diffs, previews, thumbnails)."""
        cached = self.derived.get(key)
        if cached is None:
            cached = self.derived.put(key, compute())
        result: V = cached
        return result


def _skip(error: CorruptRecord) -> None:
    # One bad record must not take the whole listing (and every page) down with it.
    log.warning("skipped a corrupt record: %s", error)
