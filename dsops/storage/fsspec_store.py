"""Google Cloud Storage and Azure Blob stores through fsspec (gcsfs, adlfs).

fsspec has no conditional-write API, so each backend gets a small *dialect* that reaches
the service's own preconditions:

- **GCS** (``gs://bucket/prefix``): the etag is the object *generation*. Writes are
  multipart uploads with ``ifGenerationMatch`` (``0`` = create-only, ``<generation>`` =
  compare-and-swap); reads take the generation from the ``X-Goog-Generation`` header of
  the same response.
- **Azure** (``az://container/prefix``, ``abfs[s]://container@account.dfs.core.windows.net/…``):
  the etag is the blob ETag; create-only is ``overwrite=False`` (``If-None-Match: *``),
  compare-and-swap ``If-Match`` through ``match_condition``.
- **Any other fsspec filesystem** has no atomic conditional write: create-only and
  compare-and-swap are refused with :class:`ConfigError` (so a concurrent finalize can
  never lose an update), unless the store is opened with ``single_writer=True``, which
  emulates them with check-then-write for setups where one process writes at a time.

The filesystem is created on first use (gcsfs looks for credentials when it starts) and
``use_listings_cache`` is off, so a listing never answers from a stale cache.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dsops.disk import is_no_space
from dsops.errors import (
    ConfigError,
    MissingDependency,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
)
from dsops.storage.base import ObjectInfo, ObjectStore, check_key
from dsops.storage.errors import store_error
from dsops.storage.fsspec_dialects import Dialect, dialect_for, modified
from dsops.storage.remote import RemoteStoreMixin

# scheme → (fsspec protocol, package, dsops extra)
_SCHEMES: dict[str, tuple[str, str | None, str | None]] = {
    "gs": ("gcs", "gcsfs", "gcs"),
    "gcs": ("gcs", "gcsfs", "gcs"),
    "az": ("abfs", "adlfs", "azure"),
    "abfs": ("abfs", "adlfs", "azure"),
    "abfss": ("abfs", "adlfs", "azure"),
}


def _split_url(url: str, options: dict[str, Any]) -> tuple[str, str, str]:
    """``(scheme, protocol, root path)``; fills ``account_name`` from an ``abfs`` host."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if not scheme or not parsed.netloc:
        raise ConfigError(f"Store URL {url!r} needs a bucket or container: scheme://name/prefix.")
    if parsed.query or parsed.fragment:
        raise ConfigError(
            f"Store URL {url!r} has a query or fragment: pass options as keyword arguments.",
            url=url,
        )
    protocol = _SCHEMES.get(scheme, (scheme, None, None))[0]
    container = parsed.netloc
    if "@" in container and protocol == "abfs":
        container, host = container.split("@", 1)
        options.setdefault("account_name", host.split(".", 1)[0])
    prefix = parsed.path.strip("/")
    if prefix:
        check_key(prefix)
    return scheme, protocol, f"{container}/{prefix}" if prefix else container


def _require_package(scheme: str) -> None:
    _, package, extra = _SCHEMES.get(scheme, ("", None, None))
    if package and importlib.util.find_spec(package) is None:
        raise MissingDependency(
            f"The {scheme}:// store needs the {package} package: run pip install 'dsops[{extra}]'.",
            scheme=scheme,
            extra=extra,
        )


class FsspecStore(RemoteStoreMixin, ObjectStore):
    """A store on any fsspec filesystem; conditional writes where the service has them.

    Args:
        url: ``gs://bucket/prefix``, ``az://container/prefix``,
            ``abfss://container@account.dfs.core.windows.net/prefix``, or any fsspec URL
            (``memory://root``).
        single_writer: Allow create-only and compare-and-swap on a filesystem without
            atomic conditional writes, emulated by check-then-write. Only safe when a
            single process writes to the store at a time.
        **storage_options: Passed to the fsspec filesystem (``token``, ``project``,
            ``endpoint_url`` for gcsfs; ``account_name``, ``credential``,
            ``connection_string`` for adlfs; …).

    Example:
        >>> store = FsspecStore("memory://dsops-doc", single_writer=True)
        >>> store.put("a/b.txt", b"hi") != ""
        True
        >>> store.get("a/b.txt")
        b'hi'
    """

    _connections = ("_fs",)

    def __init__(self, url: str, *, single_writer: bool = False, **storage_options: Any) -> None:
        options = dict(storage_options)
        scheme, self.protocol, self.root = _split_url(url, options)
        _require_package(scheme)
        self.url = f"{scheme}://{self.root}"
        self.single_writer = single_writer
        self.dialect: Dialect = dialect_for(self.protocol)
        options.setdefault("use_listings_cache", False)
        options.setdefault("skip_instance_cache", True)
        self._options = options
        self._container_exists: bool | None = None
        self._fs: Any
        self._init_remote()

    # --- filesystem --------------------------------------------------------------------

    @property
    def fs(self) -> Any:
        """The fsspec filesystem, created on first use."""
        return self._connection("_fs", self._make_fs)

    def _make_fs(self) -> Any:
        with self._errors(None):
            return self.dialect.filesystem(self.protocol, self._options)

    # --- errors -------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}"

    @contextmanager
    def _errors(
        self, key: str | None, conflict: type[PreconditionFailed] = PreconditionFailed
    ) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except Exception as exc:
            if is_no_space(exc):
                raise  # a full local disk: the caller says which folder (dsops.disk)
            error = self._translate(exc, key, conflict)
            if error is None:
                raise
            raise error from exc

    def _translate(
        self, exc: Exception, key: str | None, conflict: type[PreconditionFailed]
    ) -> StoreError | MissingDependency | None:
        """The dsops error for a backend exception, or None to let it through unchanged."""
        context: dict[str, Any] = {"store": self.url, "key": key}
        if isinstance(exc, ImportError):
            return MissingDependency(
                f"The {self.protocol} filesystem for {self.url} needs a package that is not "
                f"installed ({exc.name}).",
                **context,
            )
        kind = self.dialect.classify(exc)
        if isinstance(exc, FileExistsError) or kind == "conflict":
            return store_error("conflict", conflict=conflict, **context)
        not_found = isinstance(exc, FileNotFoundError) or kind == "not_found"
        if kind == "no_container" or (not_found and self._container_missing()):
            return store_error("no_container", container=self.root.split("/", 1)[0], **context)
        if not_found:
            return store_error("not_found", **context)
        if isinstance(exc, PermissionError) or kind == "denied":
            return store_error("denied", **context)
        if isinstance(exc, (TimeoutError, ConnectionError)) or kind == "unavailable":
            return store_error("unavailable", detail=f"{type(exc).__name__}: {exc}", **context)
        if isinstance(exc, OSError):
            return store_error("failed", detail=f"{type(exc).__name__}: {exc}", **context)
        return None

    def _container_missing(self) -> bool:
        if not self.dialect.has_containers:
            return False
        if self._container_exists is None:
            container = self.root.split("/", 1)[0]
            try:
                self._container_exists = bool(self.fs.exists(container))
            except (OSError, ValueError):
                return False
        return self._container_exists is False

    def _refuse_unsafe(self, what: str) -> None:
        if not self.dialect.conditional and not self.single_writer:
            raise ConfigError(
                f"The {self.protocol} filesystem behind {self.url} has no atomic {what}, so "
                "two writers could overwrite each other (a lost update). Use s3://, gs:// or "
                "az:// for concurrent writers, or open the store with single_writer=True if "
                "only one process ever writes.",
                store=self.url,
            )

    # --- primitives ---------------------------------------------------------------------

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        with self._errors(key):
            data, etag = self.dialect.get_with_etag(self.fs, self._path(key))
        self._stats.count("GET", received=len(data))
        return data, etag

    def get_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0:
            raise ConfigError(f"Range start must be ≥ 0, not {start}.", key=key)
        if end <= start:
            self.head(key)
            return b""
        with self._errors(key):
            data = self.dialect.get_range(self.fs, self._path(key), start, end)
        self._stats.count("GET", received=len(data))
        return data

    def put(self, key: str, data: bytes) -> str:
        with self._errors(key):
            etag = self.dialect.put(self.fs, self._path(key), data)
        self._stats.count("PUT", sent=len(data))
        return etag

    def put_if_absent(self, key: str, data: bytes) -> str:
        self._refuse_unsafe("create-only write")
        try:
            with self._errors(key, conflict=ObjectExists):
                etag = self.dialect.put_if_absent(self.fs, self._path(key), data)
        except ObjectExists:
            # The client library may have retried after our own write's reply was lost,
            # and cannot say so: identical bytes are taken as ours (create-only keys
            # hold a fresh timestamp or are named by content, so they are the same state).
            # Compare-and-swap gets no such reading: two writers may send equal bytes.
            own = self._own_write(key, data)
            if own is None:
                raise
            return own
        self._stats.count("PUT", sent=len(data))
        return etag

    def put_if_match(self, key: str, data: bytes, etag: str) -> str:
        self._refuse_unsafe("compare-and-swap")
        with self._errors(key):
            new_etag = self.dialect.put_if_match(self.fs, self._path(key), data, etag)
        self._stats.count("PUT", sent=len(data))
        return new_etag

    def head(self, key: str) -> ObjectInfo:
        with self._errors(key):
            info = self.fs.info(self._path(key))
        self._stats.count("HEAD")
        if info.get("type") != "file":
            raise ObjectNotFound(f"No object {key!r} in store {self.url}.", key=key, store=self.url)
        return ObjectInfo(key, int(info.get("size") or 0), self.dialect.etag(info), modified(info))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        # Walk below the deepest folder the prefix names, then filter by string prefix.
        folder = prefix.rpartition("/")[0]
        base = f"{self.root}/{folder}" if folder else self.root
        skip = len(self.root) + 1
        with self._errors(None):
            try:
                found = self.fs.find(base, detail=True)
            except FileNotFoundError:
                found = {}
        self._stats.count("LIST")
        for path in sorted(found):
            info = found[path]
            key = path.lstrip("/")[skip:] if path.startswith("/") else path[skip:]
            if info.get("type") == "file" and key.startswith(prefix):
                yield ObjectInfo(
                    key, int(info.get("size") or 0), self.dialect.etag(info), modified(info)
                )

    def delete(self, key: str) -> None:
        with self._errors(key):
            try:
                self.fs.rm_file(self._path(key))
            except FileNotFoundError:
                pass
        self._stats.count("DELETE")

    # --- file transfers -----------------------------------------------------------------

    def put_file(self, key: str, path: Path) -> str:
        """Upload a local file with the filesystem's own (chunked/resumable) transfer."""
        with self._errors(key):
            etag = self.dialect.put_file(self.fs, str(path), self._path(key), create_only=False)
        self._stats.count("PUT", sent=Path(path).stat().st_size)
        return etag

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        """Upload unless the key exists; create-only on the service where it has it."""
        self._refuse_unsafe("create-only write")
        if self.exists(key):
            return False
        try:
            with self._errors(key, conflict=ObjectExists):
                self.dialect.put_file(self.fs, str(path), self._path(key), create_only=True)
        except ObjectExists:
            return False
        self._stats.count("PUT", sent=Path(path).stat().st_size)
        return True

    def get_file(self, key: str, path: Path) -> None:
        """Download through the filesystem (to a temporary name, then renamed)."""
        target = Path(path)
        partial = target.with_name(f".{target.name}.dsops-part")
        with self._errors(key):
            try:
                self.fs.get_file(self._path(key), str(partial))
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
        self._stats.count("GET", received=target.stat().st_size)
