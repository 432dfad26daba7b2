"""``Store``: a dataset store (URL root) opened for use, with its local cache."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dsops import config, layout
from dsops.cache import LocalCache
from dsops.catalog import Catalog
from dsops.drafts import DraftContext
from dsops.drafts.url_sources import source_options
from dsops.errors import (
    CorruptRecord,
    ObjectExists,
    ObjectNotFound,
    StoreFormatError,
    VersionDeleted,
)
from dsops.manifest import ManifestLoader
from dsops.objects.links import LinkReader
from dsops.storage import ObjectStore, dump_json, open_store

# Transfers wait on the network and the disk more than on the CPU: more threads than cores.
DEFAULT_TRANSFER_WORKERS = 8


class Store:
    """Where datasets live: a local/network path, ``s3://``, ``gs://`` or ``az://`` root.

    Args:
        url: Store root. None means ``$DSOPS_STORE``, else the embedded local store.
        cache_dir: Local cache folder. None means ``$DSOPS_CACHE_DIR`` or the user cache.
        cache_size: Cache size limit in bytes (None: ``$DSOPS_CACHE_SIZE`` or 100 GiB).
        workers: Threads for hashing and transfers (0: a default for this machine).
        **options: Backend options, e.g. ``endpoint_url=``, ``region=`` for S3.

    Example:
        >>> import tempfile
        >>> store = Store(tempfile.mkdtemp())
        >>> store.url.startswith("/")
        True
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        cache_dir: str | Path | None = None,
        cache_size: int | None = None,
        workers: int = 0,
        backend: ObjectStore | None = None,
        **options: Any,
    ) -> None:
        self.backend = backend or open_store(url or config.default_store_url(), **options)
        # Kept so sources on the same kind of store (a landing bucket) reuse credentials.
        self.options = dict(options)
        self.url = self.backend.url
        self.cache = LocalCache(
            Path(cache_dir) if cache_dir else config.cache_dir(),
            cache_size if cache_size is not None else config.cache_size_limit(),
        )
        self.catalog = Catalog(self.backend)
        self.manifests = ManifestLoader(
            self.backend,
            self.cache.manifests_dir,
            expected_hash=self._manifest_hash,
            missing=self._manifest_gone,
            mkdirs=self.cache.sharing.mkdirs,
            file_mode=self.cache.sharing.content_mode,
        )
        # External files: a source on the same kind of store reuses this store's options.
        self.links = LinkReader(lambda source: source_options(source, self.url, self.options, None))
        self.cache.objects.links = self.links
        self.workers = workers
        self._marked = False
        self._lock = threading.Lock()

    def _manifest_hash(self, version_id: str) -> str:
        """The manifest hash a version's record carries, a deleted version's included:
        a child's diff against its deleted parent reads the parent's manifest."""
        try:
            return self.catalog.version(version_id).manifest_hash
        except VersionDeleted:
            record = self.catalog.tombstone(version_id)
            if record is None:
                raise
            return record.manifest_hash

    def _manifest_gone(self, version_id: str) -> VersionDeleted | None:
        """The error for a missing manifest of a deleted version (None: not deleted)."""
        record = self.catalog.tombstone(version_id)
        if record is None:
            return None
        return VersionDeleted(
            f"Version {version_id} ({record.ref}) was deleted and gc removed its manifest: "
            "nothing can be compared with it any more (a child of it still reads back in "
            "full: every manifest is a full view; compare with another version instead).",
            version_id=version_id,
            store=self.url,
        )

    @property
    def transfer_workers(self) -> int:
        """Threads for transfers and materialization: ``workers``, or 8 when 0."""
        return self.workers or DEFAULT_TRANSFER_WORKERS

    @classmethod
    def coerce(cls, store: Store | str | None) -> Store:
        """Accept a Store, a URL, or None (the default store)."""
        if isinstance(store, Store):
            return store
        return cls(store)

    def context(self) -> DraftContext:
        return DraftContext(
            store=self.backend,
            catalog=self.catalog,
            manifests=self.manifests,
            statcache=self.cache.statcache,
            workers=self.workers,
        )

    def ensure_format(self) -> None:
        """Write the format marker on first use; refuse a store of a newer format."""
        with self._lock:
            if self._marked:
                return
            marker = {"format": "dsops", "version": layout.FORMAT_VERSION, "hash": "blake3"}
            try:
                current = self.backend.get_json(layout.MARKER)
            except ObjectNotFound:
                try:
                    self.backend.put_if_absent(layout.MARKER, dump_json(marker))
                    current = marker
                except ObjectExists:
                    current = self.backend.get_json(layout.MARKER)
            except CorruptRecord as exc:
                raise StoreFormatError(
                    f"{self.url}/{layout.MARKER} is not a dsops marker: is this the right "
                    "store root?",
                    store=self.url,
                ) from exc
            if not isinstance(current, dict):
                raise StoreFormatError(
                    f"{self.url}/{layout.MARKER} is not a dsops marker: is this the right "
                    "store root?",
                    store=self.url,
                )
            if current.get("format") != "dsops" or int(current.get("version", 0)) > (
                layout.FORMAT_VERSION
            ):
                raise StoreFormatError(
                    f"Store {self.url} has format {current.get('version')}, newer than this "
                    f"dsops understands ({layout.FORMAT_VERSION}): upgrade dsops.",
                    store=self.url,
                )
            self._marked = True

    def __repr__(self) -> str:
        return f"Store({self.url!r})"
