"""``DsopsFileSystem``: finalized versions as a read-only fsspec filesystem (``dsops://``).

Paths name a version and a file in it: ``<project>/<name>@<ref>/<path>`` (``ref``: a
semantic version, an alias or ``latest``; projects may nest; the first ``@`` ends the
dataset part) or ``<version id>/<path>``. A filesystem made with ``version=`` is rooted
at that version and takes plain relative paths (``t.parquet``).

Each reference is resolved once and then pinned for the life of the filesystem object
(and of its pickled copies): an alias that moves meanwhile never mixes two versions.
Instances are therefore not cached by fsspec (``cachable = False``): a new
``fsspec.filesystem("dsops")`` or ``pd.read_csv("dsops://…@latest/…")`` resolves again.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

import blake3
from fsspec.caching import ReadAheadCache
from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from dsops.catalog import DatasetRef, parse_version_url
from dsops.dataset import Dataset
from dsops.errors import (
    ConfigError,
    IntegrityError,
    NotFinalized,
    PathNotFound,
    ReadOnlyFileSystem,
    VersionNotFound,
)
from dsops.fs.index import FileRow, ManifestIndex
from dsops.fs.reads import read_parts, read_whole
from dsops.objects.reader import COALESCE_GAP
from dsops.store import Store

# Options fsspec itself takes; everything else is for the dsops Store.
_FSSPEC_OPTIONS = ("use_listings_cache", "listings_expiry_time", "max_paths", "skip_instance_cache")


class DsopsFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """Read finalized dsops versions in place, from pandas, pyarrow or any fsspec user.

    Args:
        version: Root the filesystem at this version (an id, ``project/name@ref`` or a
            ``dsops://`` URL of it) so that paths are relative to it. None: paths start
            with the version (``project/name@ref/path`` or ``<id>/path``).
        store: A :class:`dsops.Store` or a store URL; None means ``$DSOPS_STORE``, else
            the embedded local store.
        **store_options: For the store: ``cache_dir=``, ``endpoint_url=``, keys...

    Example:
        >>> import tempfile, pathlib
        >>> from dsops import Dataset, Store
        >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
        >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.csv").write_text("x\\n1\\n")
        >>> ds = Dataset.create("demo", "toy", store=s); _ = ds.add_files(src)
        >>> _ = ds.finalize()
        >>> fs = DsopsFileSystem(store=s)
        >>> fs.ls("demo/toy@latest", detail=False), fs.cat("demo/toy@latest/a.csv")
        (['demo/toy@latest/a.csv'], b'x\\n1\\n')
        >>> DsopsFileSystem(version="demo/toy@1.0.0", store=s).version_id == ds.id
        True
    """

    protocol = "dsops"
    root_marker = ""
    cachable = False

    def __init__(
        self,
        version: str | None = None,
        store: Store | str | None = None,
        **store_options: Any,
    ) -> None:
        own = {k: store_options.pop(k) for k in _FSSPEC_OPTIONS if k in store_options}
        super().__init__(**own)
        self.store = store if isinstance(store, Store) else Store(store, **store_options)
        self._lock = threading.RLock()
        self._pins: dict[str, str] = {}  # a reference as written → the version id read
        self._indexes: dict[str, ManifestIndex] = {}
        self._root: str | None = None
        if version is not None:
            self._root = self._pin(_version_ref(version))

    # --- versions -----------------------------------------------------------------------

    @property
    def version_id(self) -> str | None:
        """The version this filesystem reads.

        Rooted (``version=``): that version. Otherwise the one version read so far (None
        before the first); with several, :class:`ConfigError` — ask :meth:`resolve`.
        """
        if self._root is not None:
            return self._root
        ids = set(self._pins.values())
        if len(ids) > 1:
            raise ConfigError(
                f"This filesystem has read {len(ids)} versions: ask fs.resolve(<url>) for "
                "the version of one path.",
                versions=sorted(ids),
            )
        return next(iter(ids), None)

    def resolve(self, path: str) -> str:
        """The version id ``path`` (a URL or path of this filesystem) reads, pinned."""
        return self._split(path)[0]

    def _pin(self, ref: DatasetRef) -> str:
        key = str(ref)
        with self._lock:
            pinned = self._pins.get(key)
            if pinned is not None:
                return pinned
            ds = Dataset.get(key, store=self.store)
            if not ds.is_final:
                raise NotFinalized(
                    f"{key} is a draft: dsops:// reads finalized versions only; finalize it first.",
                    version_id=ds.id,
                )
            self._pins[key] = ds.id
            if ds.id not in self._indexes:
                self._indexes[ds.id] = ManifestIndex(ds.manifest())
            return ds.id

    def _split(self, path: str) -> tuple[str, str, str]:
        """``path`` → (version id, path inside the version, the prefix names carry)."""
        text = self._strip_protocol(path)
        if self._root is not None:
            return self._root, text.strip("/"), ""
        ref, inner = parse_version_url(text)
        text = text.lstrip("/")
        prefix = text[: len(text) - len(inner)].rstrip("/") if inner else text.rstrip("/")
        return self._pin(ref), inner, prefix

    def _index(self, version_id: str) -> ManifestIndex:
        return self._indexes[version_id]

    # --- listing (from the manifest only) -----------------------------------------------

    @staticmethod
    def _join(prefix: str, inner: str) -> str:
        return f"{prefix}/{inner}" if prefix and inner else prefix or inner

    def _file_info(self, name: str, row: FileRow, version_id: str) -> dict[str, Any]:
        info = {
            "name": name,
            "size": row.size,
            "type": "file",
            "blake3": row.hash,
            "mtime": datetime.fromtimestamp(row.mtime / 1e9, tz=timezone.utc),
            "version_id": version_id,
        }
        if row.link:  # an external file: where its bytes live (docs/FORMAT.md)
            info["link"] = row.link
        return info

    @staticmethod
    def _dir_info(name: str) -> dict[str, Any]:
        return {"name": name, "size": 0, "type": "directory"}

    def _missing(self, path: str, version_id: str) -> PathNotFound:
        return PathNotFound(
            f"No file or folder {path!r} in version {version_id}: list it with "
            "fs.ls(...) or fs.find(...).",
            path=path,
            version_id=version_id,
        )

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        version_id, inner, prefix = self._split(path)
        index = self._index(version_id)
        row = index.file(inner)
        if row is not None:
            return self._file_info(self._join(prefix, inner), row, version_id)
        if index.is_dir(inner):
            return self._dir_info(self._join(prefix, inner))
        raise self._missing(inner, version_id)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        version_id, inner, prefix = self._split(path)
        index = self._index(version_id)
        row = index.file(inner)
        if row is not None:
            entries = [self._file_info(self._join(prefix, inner), row, version_id)]
        elif index.is_dir(inner):
            entries = [
                self._dir_info(self._join(prefix, name))
                if child is None
                else self._file_info(self._join(prefix, name), child, version_id)
                for name, child in index.children(inner)
            ]
        else:
            raise self._missing(inner, version_id)
        return entries if detail else [e["name"] for e in entries]

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        version_id, inner, prefix = self._split(path)
        index = self._index(version_id)
        out: dict[str, dict[str, Any]] = {}
        row = index.file(inner)
        if row is not None:
            out[self._join(prefix, inner)] = self._file_info(
                self._join(prefix, inner), row, version_id
            )
        elif index.is_dir(inner):
            if withdirs and (prefix or inner):  # as fsspec: the folder itself, not the root ""
                out[self._join(prefix, inner)] = self._dir_info(self._join(prefix, inner))
            skip = len(inner) + 1 if inner else 0
            for i in index.below(inner):
                full = index.paths[i]
                parts = full[skip:].split("/")
                if withdirs:
                    for depth in range(1, len(parts)):
                        if maxdepth is not None and depth > maxdepth:
                            break
                        folder = full[: skip + len("/".join(parts[:depth]))]
                        name = self._join(prefix, folder)
                        if name not in out:
                            out[name] = self._dir_info(name)
                if maxdepth is None or len(parts) <= maxdepth:
                    out[self._join(prefix, full)] = self._file_info(
                        self._join(prefix, full), index.row(i), version_id
                    )
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    def exists(self, path: str, **kwargs: Any) -> bool:
        # Only "not there" is False: a bad URL, an auth or network error propagates.
        try:
            self.info(path)
        except (FileNotFoundError, VersionNotFound):
            return False
        return True

    def isdir(self, path: str) -> bool:
        try:
            return bool(self.info(path)["type"] == "directory")
        except (FileNotFoundError, VersionNotFound):
            return False

    def isfile(self, path: str) -> bool:
        try:
            return bool(self.info(path)["type"] == "file")
        except (FileNotFoundError, VersionNotFound):
            return False

    def checksum(self, path: str) -> int:
        return int(self.info(path).get("blake3", "0")[:32] or "0", 16)

    def ukey(self, path: str) -> str:
        info = self.info(path)
        return str(info.get("blake3") or f"dir:{info['name']}")

    def modified(self, path: str) -> datetime:
        info = self.info(path)
        if info["type"] != "file":
            raise IsADirectoryError(f"{path!r} is a folder; folders have no time in dsops")
        return info["mtime"]  # type: ignore[no-any-return]

    created = modified

    # --- reading ------------------------------------------------------------------------

    def _row(self, path: str) -> tuple[str, FileRow]:
        version_id, inner, _ = self._split(path)
        row = self._index(version_id).file(inner)
        if row is None:
            if self._index(version_id).is_dir(inner):
                raise PathNotFound(
                    f"{inner or '/'!r} is a folder of version {version_id}, not a file: "
                    "open one of the files fs.ls(...) lists.",
                    path=inner,
                    version_id=version_id,
                )
            raise self._missing(inner, version_id)
        return version_id, row

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> DsopsFile:
        if mode != "rb":
            raise _refused(f"open {path!r} with mode {mode!r}")
        _, row = self._row(path)
        return DsopsFile(
            self,
            path,
            row,
            block_size=block_size,
            cache_options=cache_options,
            cache_type=kwargs.get("cache_type"),
        )

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        result = self.cat_ranges([path], [start], [end], on_error="raise")[0]
        assert isinstance(result, bytes)
        return result

    def cat_ranges(  # type: ignore[override]
        self,
        paths: list[str],
        starts: int | list[int | None] | None,
        ends: int | list[int | None] | None,
        max_gap: int | None = None,
        on_error: str = "return",
        **kwargs: Any,
    ) -> list[bytes | Exception]:
        """Byte ranges of many files with few requests (see :mod:`dsops.fs.reads`).

        Whole files (no range, or the full one) are read verified through the cache;
        other ranges of one pack or object within ``max_gap`` bytes (default 256 KiB)
        share one ranged GET.
        """
        if not isinstance(paths, list):
            raise TypeError("cat_ranges takes a list of paths")
        starts_ = starts if isinstance(starts, list) else [starts] * len(paths)
        ends_ = ends if isinstance(ends, list) else [ends] * len(paths)
        if len(starts_) != len(paths) or len(ends_) != len(paths):
            raise ValueError("cat_ranges: paths, starts and ends differ in length")
        out: list[bytes | Exception | None] = [None] * len(paths)
        whole: list[tuple[int, FileRow]] = []
        parts: list[tuple[int, tuple[FileRow, int, int]]] = []
        for i, (path, start, end) in enumerate(zip(paths, starts_, ends_)):
            try:
                _, row = self._row(path)
            except (FileNotFoundError, VersionNotFound) as exc:
                if on_error != "return":
                    raise
                out[i] = exc
                continue
            lo, hi = _clip(start, end, row.size)
            if lo == 0 and hi == row.size:
                whole.append((i, row))
            else:
                parts.append((i, (row, lo, hi)))
        if whole:
            for (i, _), data in zip(whole, read_whole(self.store, [r for _, r in whole])):
                out[i] = data
        if parts:
            got = read_parts(self.store, [p for _, p in parts], gap=_gap(max_gap))
            for (i, _), data in zip(parts, got):
                out[i] = data
        return [b"" if o is None else o for o in out]

    def cat(
        self, path: str | list[str], recursive: bool = False, on_error: str = "raise", **kwargs: Any
    ) -> bytes | dict[str, bytes | Exception]:
        """One file's bytes, or ``{path: bytes}`` of many read together (coalesced)."""
        paths = self.expand_path(path, recursive=recursive)
        if (
            len(paths) == 1
            and not isinstance(path, list)
            and paths[0] == self._strip_protocol(path)
        ):
            return self.cat_file(paths[0])
        files = [p for p in paths if not self.isdir(p)]
        got = self.cat_ranges(
            files, None, None, on_error="raise" if on_error == "raise" else "return"
        )
        return {
            p: data for p, data in zip(files, got) if on_error != "omit" or isinstance(data, bytes)
        }

    # --- writes are refused -------------------------------------------------------------

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        raise _refused(f"create the folder {path!r}")

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        raise _refused(f"create the folder {path!r}")

    def rmdir(self, path: str) -> None:
        raise _refused(f"remove the folder {path!r}")

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        raise _refused(f"remove {path!r}")

    def rm_file(self, path: str) -> None:
        raise _refused(f"remove {path!r}")

    def _rm(self, path: str) -> None:
        raise _refused(f"remove {path!r}")

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        raise _refused(f"write {path!r}")

    def put_file(self, lpath: str, rpath: str, *args: Any, **kwargs: Any) -> None:
        raise _refused(f"upload to {rpath!r}")

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        raise _refused(f"copy {path1!r} to {path2!r}")

    def mv(self, path1: str, path2: str, *args: Any, **kwargs: Any) -> None:
        raise _refused(f"move {path1!r} to {path2!r}")

    def touch(self, path: str, truncate: bool = True, **kwargs: Any) -> None:
        raise _refused(f"touch {path!r}")

    # --- pickling keeps the pins ----------------------------------------------------------

    def __reduce__(self) -> tuple[Any, ...]:
        store = self.store
        spec = {"url": store.url, "cache_dir": str(store.cache.root), **store.options}
        return (_rebuild, (spec, self._root, dict(self._pins)))


class DsopsFile(AbstractBufferedFile):  # type: ignore[misc]
    """A seekable read-only file of a version (fsspec's buffered file over ranged reads).

    Reads that continue from the start without a gap feed a running BLAKE3; when they
    reach the end of the file, the hash is compared with the manifest's before the last
    bytes are returned (a mismatch raises :class:`IntegrityError`). A read of the whole
    file at once is verified by :func:`dsops.fs.reads.read_whole`.
    """

    def __init__(
        self,
        fs: DsopsFileSystem,
        path: str,
        row: FileRow,
        *,
        block_size: int | None,
        cache_options: dict[str, Any] | None,
        cache_type: str | None,
    ) -> None:
        self.row = row
        self._hasher = blake3.blake3()
        self._hashed = 0
        super().__init__(
            fs,
            path,
            mode="rb",
            block_size=block_size or fs.blocksize,
            cache_type=cache_type or "none",
            cache_options=cache_options,
            size=row.size,
        )
        if cache_type is None:
            self.cache = SequentialReadAhead(self.blocksize, self._fetch_range, self.size)

    def _fetch_range(self, start: int, end: int) -> bytes:
        fs: DsopsFileSystem = self.fs
        lo, hi = _clip(start, end, self.row.size)
        if lo == 0 and hi == self.row.size:
            self._hashed = -1  # verified whole; no running hash needed
            return read_whole(fs.store, [self.row])[0]
        data = read_parts(fs.store, [(self.row, lo, hi)])[0]
        if self._hashed >= 0 and lo <= self._hashed < hi:
            self._hasher.update(data[self._hashed - lo :])
            self._hashed = hi
            if hi == self.row.size and self._hasher.hexdigest() != self.row.hash:
                raise IntegrityError(
                    f"{self.row.path!r} read to its end does not match its hash "
                    f"{self.row.hash[:16]}…: the store object is damaged; run "
                    "`dsops verify --deep` on the version.",
                    path=self.row.path,
                    hash=self.row.hash,
                )
        return data


class SequentialReadAhead(ReadAheadCache):  # type: ignore[misc]
    """fsspec's read-ahead, but only while reads are sequential.

    A read that continues the previous one (or starts a file at 0: pandas, csv, lines)
    also fetches the next block; a read elsewhere (pyarrow reading a Parquet footer,
    then the column chunks it needs) fetches exactly the bytes asked for, so reading
    one column transfers about that column, not a block more for each chunk.
    """

    name = "dsops-sequential"

    def _fetch(self, start: int | None, end: int | None) -> bytes:
        lo = start or 0
        hi = self.size if end is None else min(end, self.size)
        if lo >= hi:
            return b""
        cached_from: int = self.start  # type: ignore[has-type]
        cached_to: int = self.end  # type: ignore[has-type]
        if cached_from <= lo < cached_to or lo == cached_to:
            return super()._fetch(lo, hi)  # type: ignore[no-any-return]
        self.miss_count += 1
        self.total_requested_bytes += hi - lo
        data: bytes = self.fetcher(lo, hi)
        self.cache, self.start, self.end = data, lo, lo + len(data)
        return data


def _version_ref(version: str) -> DatasetRef:
    if str(version).startswith("dsops://"):
        ref, inner = parse_version_url(version)
        if inner:
            raise ConfigError(
                f"version={version!r} names a file; give the version only "
                "(dsops://<project>/<name>@<ref>/ or a version id).",
                version=version,
            )
        return ref
    return DatasetRef.parse(version)


def _clip(start: int | None, end: int | None, size: int) -> tuple[int, int]:
    """Python-slice semantics of ``start``/``end`` (None, negative) clipped to the file."""
    lo = 0 if start is None else (max(0, size + start) if start < 0 else min(start, size))
    hi = size if end is None else (max(0, size + end) if end < 0 else min(end, size))
    return lo, max(lo, hi)


def _gap(max_gap: int | None) -> int:
    return COALESCE_GAP if max_gap is None else max(0, int(max_gap))


def _refused(action: str) -> ReadOnlyFileSystem:
    return ReadOnlyFileSystem(
        f"Cannot {action}: dsops:// is read-only because versions are immutable. Make a new "
        "version instead: Dataset.create(..., parents=[...]), add_files, finalize.",
        action=action,
    )


def _rebuild(spec: dict[str, Any], root: str | None, pins: dict[str, str]) -> DsopsFileSystem:
    spec = dict(spec)
    fs = DsopsFileSystem(store=Store(spec.pop("url"), **spec))
    for ref, version_id in pins.items():
        fs._pins[ref] = version_id
        fs._indexes.setdefault(
            version_id, ManifestIndex(Dataset.open_id(version_id, fs.store).manifest())
        )
    fs._root = root
    return fs
