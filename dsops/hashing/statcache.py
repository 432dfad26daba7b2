"""``(device, inode, size, mtime_ns) → hash``, so re-syncing an unchanged folder costs a stat.

Kept in SQLite (WAL mode) in the cache folder: several processes may read and write it
at once. A hit needs every field to match, so an edited file (new mtime or size) or a
replaced one (new inode) is always re-hashed.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from dsops.errors import DsopsWarning

Key = tuple[int, int, int, int]
T = TypeVar("T")

_LOCK_WAIT = 60.0


def _patiently(action: Callable[[], T]) -> T:
    """Run ``action``, retrying while another process holds the database lock.

    SQLite's busy timeout does not cover every lock (switching to WAL mode, creating the
    table), so concurrent first use by several processes needs its own retry.
    """
    deadline = time.monotonic() + _LOCK_WAIT
    delay = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _unwritable(exc: sqlite3.Error) -> bool:
    """A write refused for want of space or permission (not a bug, not contention)."""
    text = str(exc).lower()
    return any(
        s in text for s in ("disk is full", "readonly database", "unable to open", "disk i/o")
    )


class StatCache:
    """A persistent stat → hash map; a no-op when ``path`` is None.

    ``file_mode`` (a team cache's ``0o664``) is given to the database file when this
    process creates it; SQLite gives its ``-wal`` and ``-shm`` files the same mode, so
    every member of the group can write it. The map only saves re-hashing: when it cannot
    be written (a full disk, a file another user made read-only) the hashes are simply
    not remembered, with a :class:`~dsops.errors.DsopsWarning` saying why.
    """

    def __init__(self, path: Path | None, *, file_mode: int | None = None) -> None:
        self._path = path
        self._file_mode = file_mode
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._warned = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._path is None:
            return None
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            if self._file_mode is not None:
                self._create(self._path, self._file_mode)
            db = sqlite3.connect(
                self._path, timeout=30, check_same_thread=False, isolation_level=None
            )

            def setup() -> None:
                if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS stat ("
                    " dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER, algo TEXT,"
                    " hash TEXT NOT NULL, PRIMARY KEY (dev, ino, size, mtime_ns, algo))"
                    " WITHOUT ROWID"
                )

            _patiently(setup)
            db.execute("PRAGMA synchronous=NORMAL")
            self._db = db
        return self._db

    @staticmethod
    def _create(path: Path, mode: int) -> None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)
        except (FileExistsError, PermissionError):
            return
        try:
            with contextlib.suppress(PermissionError):
                os.fchmod(fd, mode)  # the umask would narrow it
        finally:
            os.close(fd)

    def _skip(self, exc: sqlite3.Error) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"The stat cache {self._path} cannot be written ({exc}): files are hashed "
                "again next time. Free space on that disk, or give this user write access "
                "to it (a team cache: chmod g+w on it and its -wal/-shm files).",
                DsopsWarning,
                stacklevel=3,
            )

    def lookup(self, keys: Sequence[Key], algo: str) -> list[str | None]:
        """The known hash for each key, or None."""
        with self._lock:
            try:
                db = self._connect()
                if db is None or not keys:
                    return [None] * len(keys)
                return _patiently(lambda: self._lookup(db, keys, algo))
            except sqlite3.OperationalError as exc:
                if not _unwritable(exc):
                    raise
                self._skip(exc)
                return [None] * len(keys)

    @staticmethod
    def _lookup(db: sqlite3.Connection, keys: Sequence[Key], algo: str) -> list[str | None]:
        db.execute(
            "CREATE TEMP TABLE IF NOT EXISTS probe ("
            " i INTEGER PRIMARY KEY, dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER)"
        )
        found: list[str | None] = [None] * len(keys)
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM probe")
            db.executemany(
                "INSERT INTO probe VALUES (?, ?, ?, ?, ?)",
                ((i, *key) for i, key in enumerate(keys)),
            )
            for i, digest in db.execute(
                "SELECT probe.i, stat.hash FROM probe JOIN stat USING (dev, ino, size, mtime_ns)"
                " WHERE stat.algo = ?",
                (algo,),
            ):
                found[i] = digest
            db.execute("DELETE FROM probe")
        finally:
            db.execute("COMMIT")
        return found

    def store(self, items: Iterable[tuple[Key, str]], algo: str) -> None:
        with self._lock:
            try:
                self._store(items, algo)
            except sqlite3.OperationalError as exc:
                if not _unwritable(exc):
                    raise
                self._skip(exc)

    def _store(self, items: Iterable[tuple[Key, str]], algo: str) -> None:
        db = self._connect()
        if db is None:
            return
        rows = [(*key, algo, digest) for key, digest in items]

        def write() -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)", rows)
                db.execute("COMMIT")  # may fail too (a full disk): then roll back
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        _patiently(write)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
