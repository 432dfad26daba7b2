"""``(device, inode, size, mtime_ns) → hash``, so re-syncing an unchanged folder costs a stat.

Kept in SQLite (WAL mode) in the cache folder: several processes may read and write it
at once. A hit needs every field to match, so an edited file (new mtime or size) or a
replaced one (new inode) is always re-hashed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

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


class StatCache:
    """A persistent stat → hash map; a no-op when ``path`` is None."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._path is None:
            return None
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
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

    def lookup(self, keys: Sequence[Key], algo: str) -> list[str | None]:
        """The known hash for each key, or None."""
        with self._lock:
            db = self._connect()
            if db is None or not keys:
                return [None] * len(keys)
            return _patiently(lambda: self._lookup(db, keys, algo))

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
            db = self._connect()
            if db is None:
                return
            rows = [(*key, algo, digest) for key, digest in items]

            def write() -> None:
                db.execute("BEGIN IMMEDIATE")
                try:
                    db.executemany("INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)", rows)
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")

            _patiently(write)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
