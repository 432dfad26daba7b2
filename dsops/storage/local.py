"""Local or network-path store: a folder on disk with object-store semantics.

Writes go to a temporary file under ``.dsops-tmp`` on the same filesystem and are then
renamed (overwrite) or hard-linked (create-only, atomic ``EEXIST``) into place, so
readers never see a partial object. Compare-and-swap holds an ``flock`` on a per-key lock
file while it checks the etag and renames, which is safe across processes and, with
NFSv4 locking, across machines. The etag is derived from inode, mtime and size: every
write replaces the inode, so any write changes it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dsops.disk import disk_full, is_no_space
from dsops.errors import (
    AccessDenied,
    DsopsError,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)
from dsops.storage.base import ObjectInfo, ObjectStore, check_key

_TMP = ".dsops-tmp"
_LOCKS = ".dsops-locks"
_HIDDEN = (_TMP, _LOCKS)


def _size(path: str | os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _etag(st: os.stat_result) -> str:
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


class LocalStore(ObjectStore):
    """A store rooted at a local or network folder (created on first write)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()
        self.url = str(self.root)

    # --- helpers ----------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    @contextmanager
    def _errors(self, key: str, *, needed: int = 0, into: Path | None = None) -> Iterator[None]:
        """Translate local failures; a full disk is :class:`DiskFull` naming the folder
        written (``into``, else the store root) and the ``needed`` bytes."""
        try:
            yield
        except FileNotFoundError:
            raise ObjectNotFound(
                f"No object {key!r} in store {self.url}.", key=key, store=self.url
            ) from None
        except (NotADirectoryError, IsADirectoryError) as exc:
            raise StoreUnavailable(
                f"Store {self.url} is not usable at {key!r}: a file stands where a folder "
                "should be. Point the store at a dsops store folder.",
                key=key,
                store=self.url,
            ) from exc
        except PermissionError as exc:
            raise AccessDenied(
                f"Permission denied on {self.url}/{key}: check the folder's permissions "
                "for this user.",
                key=key,
                store=self.url,
            ) from exc
        except OSError as exc:
            if isinstance(exc, (StoreError, DsopsError)):
                raise
            if is_no_space(exc):
                where = into if into is not None else self.root
                what = f"{key!r} ({'a download from' if into else 'the store'} {self.url})"
                fix = "free space there" if into else "free space on the store's disk"
                raise disk_full(where, needed, what, exc, fix) from exc
            raise StoreError(
                f"Store {self.url} failed on {key!r}: {exc.strerror or exc}.",
                key=key,
                store=self.url,
            ) from exc

    def _write_temp(self, data: bytes | None = None, source: Path | None = None) -> Path:
        tmp_dir = self.root / _TMP
        tmp_dir.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / uuid.uuid4().hex
        try:
            if source is not None:
                shutil.copyfile(source, tmp)
            else:
                with open(tmp, "wb") as fh:
                    fh.write(data or b"")
        except BaseException:
            tmp.unlink(missing_ok=True)  # a full disk leaves no partial temporary file
            raise
        return tmp

    def _place(self, tmp: Path, dest: Path, *, exclusive: bool) -> str:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if exclusive:
                os.link(tmp, dest)
                tmp.unlink()
            else:
                os.replace(tmp, dest)
        finally:
            if tmp.exists():
                tmp.unlink()
        return _etag(dest.stat())

    @contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        lock_dir = self.root / _LOCKS
        lock_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(key.encode()).hexdigest()
        fd = os.open(lock_dir / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def check_reachable(self) -> None:
        """Raise StoreUnavailable if the root exists but is not a usable folder."""
        if self.root.exists() and not self.root.is_dir():
            raise StoreUnavailable(
                f"Store path {self.url} exists but is not a folder: point the store at a folder.",
                store=self.url,
            )

    # --- primitives -------------------------------------------------------------------

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        with self._errors(key), open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            return fh.read(), _etag(st)

    def get_range(self, key: str, start: int, end: int) -> bytes:
        path = self._path(key)
        with self._errors(key), open(path, "rb") as fh:
            return os.pread(fh.fileno(), max(0, end - start), start)

    def put(self, key: str, data: bytes) -> str:
        path = self._path(key)
        with self._errors(key, needed=len(data)):
            return self._place(self._write_temp(data), path, exclusive=False)

    def put_file(self, key: str, path: Path) -> str:
        dest = self._path(key)
        with self._errors(key, needed=_size(path)):
            return self._place(self._write_temp(source=Path(path)), dest, exclusive=False)

    def get_file(self, key: str, path: Path) -> None:
        src = self._path(key)
        with self._errors(key, needed=_size(src), into=Path(path).parent):
            try:
                shutil.copyfile(src, path)
            except BaseException:
                Path(path).unlink(missing_ok=True)  # no partial download left behind
                raise

    def put_if_absent(self, key: str, data: bytes) -> str:
        path = self._path(key)
        with self._errors(key, needed=len(data)):
            try:
                return self._place(self._write_temp(data), path, exclusive=True)
            except FileExistsError:
                raise ObjectExists(
                    f"Object {key!r} already exists in {self.url}.", key=key, store=self.url
                ) from None

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        dest = self._path(key)
        if dest.exists():
            return False
        staged = Path(path).parent == self.root / _TMP
        with self._errors(key, needed=_size(path)):
            try:
                if staged:
                    # Spooled in our own temporary folder (``staging_dir``): adopt it by
                    # a create-only hard link, without writing its bytes a second time.
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    os.link(path, dest)
                else:
                    self._place(self._write_temp(source=Path(path)), dest, exclusive=True)
            except FileExistsError:
                return False
        return True

    def staging_dir(self) -> Path:
        tmp_dir = self.root / _TMP
        with self._errors(_TMP):
            tmp_dir.mkdir(parents=True, exist_ok=True)
        return tmp_dir

    def refresh(self, key: str, source: Path | bytes) -> None:
        self.renew(key, 0)

    def renew(self, key: str, size: int) -> bool:
        with self._errors(key):
            os.utime(self._path(key))
        return True

    def put_if_match(self, key: str, data: bytes, etag: str) -> str:
        path = self._path(key)
        with self._errors(key, needed=len(data)), self._lock(key):
            current = _etag(path.stat())
            if current != etag:
                raise PreconditionFailed(
                    f"Object {key!r} changed since it was read (compare-and-swap lost).",
                    key=key,
                    store=self.url,
                )
            return self._place(self._write_temp(data), path, exclusive=False)

    def head(self, key: str) -> ObjectInfo:
        path = self._path(key)
        with self._errors(key):
            st = path.stat()
        if not os.path.isfile(path):
            raise ObjectNotFound(f"No object {key!r} in store {self.url}.", key=key)
        return ObjectInfo(key, st.st_size, _etag(st), st.st_mtime)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        # Walk only below the deepest folder the prefix names, then filter by string.
        folder, _, _ = prefix.rpartition("/")
        start = self.root / folder if folder else self.root
        if not start.is_dir():
            return
        yield from self._walk(start, folder, prefix)

    def _walk(self, directory: Path, rel: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for entry in entries:
            key = f"{rel}/{entry.name}" if rel else entry.name
            if not rel and entry.name in _HIDDEN:
                continue
            if entry.is_dir(follow_symlinks=False):
                if key.startswith(prefix) or prefix.startswith(key + "/"):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix):
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                yield ObjectInfo(key, st.st_size, _etag(st), st.st_mtime)

    def delete(self, key: str) -> None:
        path = self._path(key)
        with self._errors(key):
            try:
                path.unlink()
            except FileNotFoundError:
                return
            except IsADirectoryError:
                return
        # Tidy empty folders up to the root, so listings stay cheap.
        parent = path.parent
        while parent != self.root:
            try:
                parent.rmdir()
            except OSError as exc:
                if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT, errno.EBUSY):
                    break
                raise
            parent = parent.parent
