"""The machine-wide local cache: objects, manifests, read-only views, the stat cache.

Layout under the cache root (``$DSOPS_CACHE_DIR``)::

    objects/ab/<hash>      verified, read-only content
    manifests/<id>.parquet finalized manifests (immutable)
    views/<id>[-<sel>]/    read-only materialized versions (hard links to objects)
    locks/                 flock files: views in use, fetches in progress, eviction
    statcache.sqlite       (device, inode, size, mtime_ns) → hash
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from dsops.cache.audit import damaged_cache_content
from dsops.cache.objects import FetchResult, ObjectCache
from dsops.cache.sharing import Sharing
from dsops.cache.views import damaged_files, materialize
from dsops.disk import CACHE_FIX, space_for
from dsops.errors import TargetExists, UnsafeTarget
from dsops.hashing import StatCache
from dsops.progress import Callback, human_size
from dsops.storage import ObjectStore

# Views returned to this process stay locked (shared) until it exits, so another
# process's eviction never removes a folder someone is reading.
_HELD: dict[str, int] = {}
_HELD_LOCK = threading.Lock()


@dataclass
class EvictResult:
    removed_views: int = 0
    removed_objects: int = 0
    freed_bytes: int = 0
    size_after: int = 0
    # Views and objects this user may not remove (another member's, with private modes).
    skipped: int = 0


class LocalCache:
    """One cache folder, shared safely by every dsops process on the machine."""

    def __init__(self, root: Path, size_limit: int | None = None) -> None:
        self.root = Path(root)
        # A setgid, group-writable root is a team cache (see dsops.cache.sharing).
        self.sharing = Sharing.of(self.root)
        self.objects = ObjectCache(self.root, self.sharing)
        self.manifests_dir = self.root / "manifests"
        self.views_dir = self.root / "views"
        self.locks_dir = self.root / "locks"
        self.size_limit = size_limit
        self.statcache = StatCache(self.root / "statcache.sqlite", file_mode=self.sharing.file_mode)

    # --- locks ------------------------------------------------------------------------

    def _lock_fd(self, name: str) -> int:
        with space_for(self.locks_dir, 0, f"the lock file {name}", CACHE_FIX):
            self.sharing.mkdirs(self.locks_dir)
            return self.sharing.open_lock(self.locks_dir / name)

    @contextmanager
    def _locked(self, name: str, mode: int) -> Iterator[bool]:
        fd = self._lock_fd(name)
        try:
            try:
                fcntl.flock(fd, mode)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)

    def _hold_view(self, name: str) -> None:
        with _HELD_LOCK:
            if name in _HELD:
                return
            fd = self._lock_fd(f"view-{name}.lock")
            fcntl.flock(fd, fcntl.LOCK_SH)
            _HELD[name] = fd

    # --- views ------------------------------------------------------------------------

    @staticmethod
    def view_name(
        version_id: str,
        include: Sequence[str] | None,
        part: tuple[int, int] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> str:
        """``<id>`` for the whole version, ``<id>-<12 hex>`` for a selection.

        The digest covers the include globs, the exclude globs (when any) and, for a
        part, ``(part, num_parts)``, so each part of a version is a view of its own.
        Names of selections without ``exclude`` are those of earlier releases.

        Example:
            >>> LocalCache.view_name("ab" * 16, None) == "ab" * 16
            True
            >>> len({LocalCache.view_name("ab" * 16, None, (i, 2)) for i in range(2)})
            2
        """
        if not include and part is None and not exclude:
            return version_id
        selection: object = sorted(include or [])
        if part is not None or exclude:
            selection = {"include": selection}
            if part is not None:
                selection["part"] = list(part)
            if exclude:
                selection["exclude"] = sorted(exclude)
        digest = hashlib.sha256(json.dumps(selection).encode()).hexdigest()[:12]
        return f"{version_id}-{digest}"

    def view(
        self,
        store: ObjectStore,
        version_id: str,
        rows: pa.Table,
        include: Sequence[str] | None = None,
        *,
        workers: int = 8,
        progress: Callback | None = None,
        part: tuple[int, int] | None = None,
        exclude: Sequence[str] | None = None,
    ) -> Path:
        """A read-only folder with ``rows``; built once, then reused by every process.

        ``part`` names the view of one part (the rows are that part's): its fetch reads
        exactly those rows' byte ranges, never neighbouring files (another part's).
        """
        name = self.view_name(version_id, include, part, exclude)
        path = self.views_dir / name
        if path.is_dir():
            if not damaged_files(rows, path):
                self._hold_view(name)
                with contextlib.suppress(PermissionError):  # another member's view: LRU
                    os.utime(path)  # order is then theirs, which is close enough
                return path
            # An edited or deleted file: retire the whole view and build it again (the
            # fetch below re-hashes any cache object whose stamp changed with it).
            with contextlib.suppress(FileNotFoundError):
                _remove_tree(path)
        with self._locked("fetch.lock", fcntl.LOCK_SH):
            self.objects.fetch(store, rows, workers=workers, progress=progress, exact=bool(part))
            tmp = self.views_dir / f".tmp-{uuid.uuid4().hex}"
            try:
                with space_for(self.views_dir, 0, f"the view of {version_id}", CACHE_FIX):
                    self.sharing.mkdirs(self.views_dir)
                    materialize(
                        self.objects,
                        rows,
                        tmp,
                        mutable=False,
                        progress=progress,
                        mkdirs=self.sharing.mkdirs,
                    )
                self._hold_view(name)
                try:
                    os.rename(tmp, path)
                except OSError:
                    if not path.is_dir():
                        raise
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        self.evict_if_needed()
        return path

    def mutable_copy(
        self,
        store: ObjectStore,
        rows: pa.Table,
        target: Path,
        *,
        overwrite: bool = False,
        workers: int = 8,
        progress: Callback | None = None,
        protected: Sequence[tuple[str, Path]] = (),
        exact: bool = False,
    ) -> Path:
        """A writable copy at ``target``; built beside it, then swapped in whole.

        ``target`` may not be, contain or lie inside this cache's folder or any of the
        ``protected`` ``(what, folder)`` pairs (the local store root): replacing it would
        delete that folder (:class:`UnsafeTarget`). ``exact``: read only the rows' byte
        ranges (see :meth:`ObjectCache.fetch`), as a part does.
        """
        target = Path(target).absolute()
        check_target(target, [("the dsops cache", self.root), *protected])
        if target.exists() and not target.is_dir():
            raise TargetExists(
                f"{target} exists and is not a folder: choose another target.",
                target=str(target),
            )
        if target.is_dir() and any(target.iterdir()) and not overwrite:
            raise TargetExists(
                f"{target} is not empty: pass overwrite=True (--overwrite) to replace its "
                "contents, or choose an empty folder.",
                target=str(target),
            )
        with self._locked("fetch.lock", fcntl.LOCK_SH):
            self.objects.fetch(store, rows, workers=workers, progress=progress, exact=exact)
            tmp = target.parent / f".{target.name}.dsops-{uuid.uuid4().hex[:8]}"
            needed = sum(rows.column("size").to_pylist())
            what = f"a copy of {rows.num_rows} files ({human_size(needed)})"
            try:
                with space_for(
                    target.parent,
                    needed,
                    what,
                    "free space there or choose a target on a larger disk",
                ):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    materialize(
                        self.objects, rows, tmp, mutable=True, workers=workers, progress=progress
                    )
                if target.exists():
                    shutil.rmtree(target)
                os.rename(tmp, target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        self.evict_if_needed()
        return target

    def damaged_content(self, version_id: str, rows: pa.Table) -> list[str]:
        """Re-hash the cached content of ``rows`` (objects and the version's views).

        Returns the paths whose cached bytes are wrong; their objects are discarded and
        the views holding them removed, so the next fetch downloads them again.
        """
        bad, views = damaged_cache_content(self.objects, self.views_dir, version_id, rows)
        for view in views:
            with contextlib.suppress(FileNotFoundError):
                _remove_tree(view)
        return bad

    def fetch(self, store: ObjectStore, rows: pa.Table, **kwargs: object) -> FetchResult:
        with self._locked("fetch.lock", fcntl.LOCK_SH):
            return self.objects.fetch(store, rows, **kwargs)  # type: ignore[arg-type]

    # --- eviction ---------------------------------------------------------------------

    def _objects(self) -> list[tuple[float, int, int, str]]:
        found: list[tuple[float, int, int, str]] = []
        if not self.objects.objects_dir.is_dir():
            return found
        for sub in os.scandir(self.objects.objects_dir):
            if not sub.is_dir():
                continue
            for entry in os.scandir(sub.path):
                st = entry.stat(follow_symlinks=False)
                found.append((max(st.st_atime, st.st_mtime), st.st_size, st.st_nlink, entry.path))
        return found

    def size(self) -> int:
        """Bytes held: objects, plus view files no longer backed by an object."""
        total = sum(size for _, size, _, _ in self._objects())
        for name in self._view_names():
            total += _unshared_bytes(self.views_dir / name)
        return total

    def _view_names(self) -> list[str]:
        if not self.views_dir.is_dir():
            return []
        return [e.name for e in os.scandir(self.views_dir) if not e.name.startswith(".")]

    def evict_if_needed(self) -> EvictResult | None:
        if self.size_limit is None:
            return None
        return self.evict(self.size_limit)

    def evict(self, limit: int) -> EvictResult:
        """Free space down to ``limit`` bytes, least recently used first.

        Views another process holds are skipped; objects are removed only while no
        fetch is running, and only those no view links to.
        """
        result = EvictResult()
        with self._locked("evict.lock", fcntl.LOCK_EX | fcntl.LOCK_NB) as got:
            if not got:
                return result
            size = self.size()
            if size <= limit:
                result.size_after = size
                return result
            views = sorted(self._view_names(), key=lambda n: (self.views_dir / n).stat().st_mtime)
            for name in views:
                if size <= limit:
                    break
                with self._locked(f"view-{name}.lock", fcntl.LOCK_EX | fcntl.LOCK_NB) as free:
                    if not free or name in _HELD:
                        continue
                    if not _removable(self.views_dir / name):
                        result.skipped += 1
                        continue
                    freed = _unshared_bytes(self.views_dir / name)
                    _remove_tree(self.views_dir / name)
                    result.removed_views += 1
                    # Removing links may free objects' link counts; recount below.
                    size -= freed
            with self._locked("fetch.lock", fcntl.LOCK_EX | fcntl.LOCK_NB) as idle:
                if idle:
                    for _, obj_size, nlink, path in sorted(self._objects()):
                        if size <= limit:
                            break
                        if nlink > 1:
                            continue
                        try:
                            os.unlink(path)
                        except PermissionError:  # a folder another member made private
                            result.skipped += 1
                            continue
                        size -= obj_size
                        result.removed_objects += 1
                        result.freed_bytes += obj_size
            result.size_after = self.size()
        return result


def check_target(target: Path, protected: Sequence[tuple[str, Path]]) -> None:
    """Refuse a copy target that is, contains, or is inside a protected folder.

    Paths are compared after resolving symbolic links, so a link to the store (or a
    ``..`` detour) is caught too.
    """
    real = Path(os.path.realpath(target))
    for what, folder in protected:
        root = Path(os.path.realpath(folder))
        if real == root:
            relation = "is"
        elif root.is_relative_to(real):
            relation = "contains"
        elif real.is_relative_to(root):
            relation = "is inside"
        else:
            continue
        raise UnsafeTarget(
            f"Refusing to write a copy into {target}: it {relation} {what} ({root}), which "
            "the copy would replace or corrupt. Choose a folder outside it.",
            target=str(target),
            protected=str(root),
        )


def _removable(folder: Path) -> bool:
    """Whether this process may delete every entry of ``folder`` (its folders writable).

    Checked first so that eviction skips another user's view with private modes whole,
    instead of failing half way through it.
    """
    return all(os.access(dirpath, os.W_OK | os.X_OK) for dirpath, _, _ in os.walk(folder))


def _unshared_bytes(folder: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_nlink == 1:
                total += st.st_size
    return total


def _remove_tree(folder: Path) -> None:
    # Files are read-only; the folders are not, so unlinking works for the owner.
    tmp = folder.with_name(f".evict-{uuid.uuid4().hex}")
    os.rename(folder, tmp)
    shutil.rmtree(tmp)


def touch_now(path: Path) -> None:
    now = time.time()
    os.utime(path, (now, now))
