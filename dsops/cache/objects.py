"""The local object cache: content by hash, verified before it is admitted.

Objects are written to a temporary name, hashed, made read-only and hard-linked into
place create-only, so several processes can fetch at once and nobody ever sees a partial
or wrong object. An admitted object's inode is never replaced: a process linking it into
a view can never find it gone (``os.replace`` of a duplicate admission used to unlink the
inode another process was linking, which failed with ``FileNotFoundError``).

Each admitted object carries an admission stamp in its mtime (see :func:`stamp`): before
an object is reused for a new view, copy or read, a ``stat`` compares size and stamp, and
a mismatch re-hashes it (re-fetching it if wrong), so a same-size edit of a cached object
is never served again.

Reading one store object (a pack or a whole object) is serialized across processes by a
striped ``flock`` under ``locks/``: a process that waits finds the content admitted and
reads nothing, so concurrent cold fetches of one version read its bytes once, while
fetches of different content proceed in parallel.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import blake3
import pyarrow as pa

from dsops.cache.sharing import Sharing
from dsops.disk import CACHE_FIX, space_for, write_all
from dsops.errors import ExternalSourceChanged, IntegrityError, InvalidDigest, SourceNotFound
from dsops.hashing import hash_bytes, hash_file
from dsops.objects import ByteRange, coalesce, group_by_object, read_ranges
from dsops.objects.links import LinkReader
from dsops.progress import Callback, human_size
from dsops.storage import ObjectStore

_DIGEST = re.compile(r"[0-9a-f]{64}")
# Whether admissions may use unnamed files (Linux O_TMPFILE, linked via /proc/self/fd);
# cleared the first time the cache's filesystem refuses one.
_TMPFILE = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")


def _stamp_fraction(digest: str) -> int:
    # A per-content sub-second part, in whole microseconds (so filesystems that keep
    # only µs keep it) and never 0 (what coarse timestamps and most tools write).
    # Inlined in is_stamped, which runs once per file of a view.
    return (int(digest[:8], 16) % 999_999 + 1) * 1000


def stamp(path: str | os.PathLike[str], digest: str) -> None:
    """Set the admission stamp: mtime = now in whole seconds + the content's fraction.

    Any write to the file (through any hard link) sets a new mtime, which then fails
    :func:`is_stamped` (but for a one-in-a-million coincidence), so a cheap ``stat``
    tells an untouched object from one that must be re-hashed.
    """
    now = time.time_ns()
    os.utime(path, ns=(now, now // 1_000_000_000 * 1_000_000_000 + _stamp_fraction(digest)))


def is_stamped(st: os.stat_result, digest: str, size: int) -> bool:
    """True if ``st`` is of an object of ``size`` bytes not written since admission."""
    return (
        st.st_size == size
        and st.st_mtime_ns % 1_000_000_000 == (int(digest[:8], 16) % 999_999 + 1) * 1000
    )


@dataclass
class FetchResult:
    """What a fetch transferred: a partial failure never leaves a bad object behind."""

    objects: int = 0
    downloaded_bytes: int = 0
    requests: int = 0


class ObjectCache:
    """Files named by content hash under ``root/objects``."""

    def __init__(self, root: Path, sharing: Sharing | None = None) -> None:
        self.root = root
        self.sharing = sharing or Sharing.of(root)
        self.objects_dir = root / "objects"
        self.tmp_dir = root / "tmp"
        self.locks_dir = root / "locks"
        #: Reads external files (manifest rows with a ``link``); the SDK sets one whose
        #: credentials follow the store's (see ``dsops.Store``).
        self.links = LinkReader()

    def path(self, digest: str) -> Path:
        """Where content ``digest`` lives; anything but 64 lowercase hex is refused.

        Manifests are validated on read already; this is the second line, so no caller
        can ever make the cache resolve ``/etc/passwd`` or ``../..`` from a hash.
        """
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise InvalidDigest(
                f"{str(digest)[:80]!r} is not a content hash (64 lowercase hex characters); "
                "refusing to look it up in the cache. The manifest that named it is invalid.",
                digest=str(digest)[:200],
            )
        return self.objects_dir / digest[:2] / digest

    def has(self, digest: str, size: int) -> bool:
        """True if verified content ``digest`` is present (checked cheaply, see below).

        An object whose size or admission stamp changed since it was admitted (an edit
        through a hard-linked view after ``chmod u+w``, a same-size overwrite) is
        re-hashed: if its bytes are still right it is re-stamped, otherwise it is
        discarded and this returns False, so the caller fetches it again.
        """
        path = self.path(digest)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return False
        if is_stamped(st, digest, size):
            return True
        return self.recheck(digest)

    def recheck(self, digest: str) -> bool:
        """Re-hash one cached object: re-stamp it if intact, discard it if not."""
        path = self.path(digest)
        try:
            intact = hash_file(path) == digest
        except FileNotFoundError:
            return False
        if intact:
            with contextlib.suppress(PermissionError):  # another user's object: re-hash again
                stamp(path, digest)
        else:
            self.discard(digest)
        return intact

    def discard(self, digest: str) -> None:
        """Remove a cached object (views keep their own links to its inode)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(digest))

    def _admit_bytes(self, digest: str, data: bytes | memoryview, source: str) -> None:
        if hash_bytes(data) != digest:
            raise IntegrityError(
                f"Content from {source} does not match its hash {digest[:16]}…: the store "
                "object is corrupted. Run `dsops verify --deep` on the version; the bytes "
                "were not cached or served.",
                hash=digest,
                source=source,
            )
        if _TMPFILE and self._admit_unnamed(digest, data):
            return
        # Unique per thread and content; created read-only, so no chmod is needed.
        tmp = f"{self.tmp_dir}/{digest}.{os.getpid()}.{threading.get_ident()}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        except PermissionError:  # a read-only leftover of a crashed process (pid reused)
            os.unlink(tmp)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o444)
        try:
            try:
                self.sharing.created(fd, 0o444)  # readable by the team whatever the umask
                write_all(fd, data)
            finally:
                os.close(fd)
            self._place(tmp, digest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # a full disk leaves no partial temporary file
            raise

    def _admit_unnamed(self, digest: str, data: bytes | memoryview) -> bool:
        """Admit verified bytes through an unnamed file (``O_TMPFILE``) in the object's
        own folder, linked into place create-only once written and stamped.

        One namespace operation (the link) instead of three (create a named temporary,
        link it, unlink it): on a cold fetch of many small files that is most of what
        admission costs beyond writing the bytes. A crash leaves nothing behind (the
        inode has no name). False where the filesystem lacks ``O_TMPFILE``: the caller
        then uses a named temporary file.
        """
        global _TMPFILE
        path = self.path(digest)
        try:
            fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY, 0o444)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                _TMPFILE = False  # not on this filesystem: named temporaries from now on
                return False
            raise
        try:
            self.sharing.created(fd, 0o444)
            write_all(fd, data)
            now = time.time_ns()
            os.utime(fd, ns=(now, now // 1_000_000_000 * 1_000_000_000 + _stamp_fraction(digest)))
            try:
                # A dir fd makes CPython call linkat(AT_SYMLINK_FOLLOW), which follows
                # the /proc link to the unnamed inode (plain link() would not); the
                # path is absolute, so the fd itself is never used as a folder.
                os.link(f"/proc/self/fd/{fd}", path, src_dir_fd=fd, follow_symlinks=True)
            except FileExistsError:
                pass  # admitted meanwhile (same verified bytes); never replace its inode
        finally:
            os.close(fd)
        return True

    def _tmp(self) -> str:
        return f"{self.tmp_dir}/{uuid.uuid4().hex}"

    def _prepare(self) -> None:
        self.sharing.mkdirs(self.tmp_dir)
        for i in range(256):
            self.sharing.mkdirs(self.objects_dir / f"{i:02x}")

    def _install(self, tmp: str, digest: str) -> None:
        os.chmod(tmp, 0o444)  # explicit: the team reads it whatever the umask
        self._place(tmp, digest)

    def _place(self, tmp: str, digest: str) -> None:
        """Stamp and link a verified temp file into place create-only; a copy present wins."""
        stamp(tmp, digest)
        try:
            os.link(tmp, self.path(digest))
        except FileExistsError:
            pass  # admitted meanwhile (same verified bytes); never replace its inode
        finally:
            os.unlink(tmp)

    @contextmanager
    def _reading(self, key: str) -> Iterator[None]:
        """Hold the cross-process lock for reading store object ``key``.

        Striped over 4096 lock files (so they never pile up); two unrelated objects
        sharing a stripe only wait for each other.
        """
        self.sharing.mkdirs(self.locks_dir)
        stripe = hashlib.sha256(key.encode()).hexdigest()[:3]
        fd = self.sharing.open_lock(self.locks_dir / f"read-{stripe}.lock")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def fetch(
        self,
        store: ObjectStore,
        rows: pa.Table,
        *,
        workers: int = 8,
        progress: Callback | None = None,
        exact: bool = False,
    ) -> FetchResult:
        """Make every row's content present locally, reading only what is missing.

        Rows of one pack are read with coalesced ranged GETs, packs in parallel. Near
        ranges share a request (the gap bytes are read and dropped); with ``exact`` only
        touching ranges do, so no byte outside the rows is read (a part of a version
        never downloads another part's files).
        """
        progress = progress or Callback()
        wanted: dict[str, tuple[str, int, int, int]] = {}
        linked: dict[str, tuple[str, str, str, int]] = {}
        n = rows.num_rows
        links = rows.column("link").to_pylist() if "link" in rows.column_names else [""] * n
        validators = (
            rows.column("link_validator").to_pylist()
            if "link_validator" in rows.column_names
            else [""] * n
        )
        for digest, obj, offset, length, size, path, link, validator in zip(
            rows.column("hash").to_pylist(),
            rows.column("object").to_pylist(),
            rows.column("offset").to_pylist(),
            rows.column("length").to_pylist(),
            rows.column("size").to_pylist(),
            rows.column("path").to_pylist(),
            links,
            validators,
        ):
            if not size or digest in wanted or digest in linked or self.has(digest, size):
                continue
            if obj:
                wanted[digest] = (obj, offset, length, size)
            elif link:
                linked[digest] = (link, validator, path, size)
        by_object = group_by_object(
            (obj, offset, length, digest) for digest, (obj, offset, length, _) in wanted.items()
        )
        jobs: list[tuple[str, Sequence[ByteRange]]] = []
        for obj, ranges in by_object.items():
            for group in coalesce(ranges, gap=0) if exact else coalesce(ranges):
                jobs.append((obj, group))
        result = FetchResult()
        needed = sum(v[2] for v in wanted.values()) + sum(v[3] for v in linked.values())
        count = len(wanted) + len(linked)
        what = f"{count} new objects ({human_size(needed)}) into the cache"
        progress.begin("download", count, needed)
        try:

            def run(job: tuple[str, Sequence[ByteRange]]) -> tuple[int, int, int]:
                obj, group = job
                with self._reading(obj):
                    # Another process may have admitted these while this one waited.
                    present = [self.has(str(r.tag), r.length) for r in group]
                    todo = [r for r, done in zip(group, present) if not done]
                    if len(todo) < len(group):
                        skipped = [r.length for r, done in zip(group, present) if done]
                        progress.advance(len(skipped), sum(skipped))
                    if not todo:
                        return 0, 0, 0
                    count, nbytes = self._read(store, obj, todo, progress)
                    return count, nbytes, 1

            # A full disk fails the fetch as DiskFull; each admission removed its own
            # temporary file, and only whole, verified objects were linked into place.
            def run_link(digest: str) -> tuple[int, int, int]:
                url, validator, path, size = linked[digest]
                with self._reading(url):
                    if self.has(digest, size):
                        progress.advance(1, size)
                        return 0, 0, 0
                    got = self._read_link(url, validator, path, digest)
                    progress.advance(1, got)
                    return 1, got, 1

            with space_for(self.root, needed, what, CACHE_FIX):
                if wanted or linked:
                    self._prepare()
                with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                    done = [*pool.map(run, jobs), *pool.map(run_link, list(linked))]
                    for objects, nbytes, requests in done:
                        result.objects += objects
                        result.downloaded_bytes += nbytes
                        result.requests += requests
        finally:
            progress.end()
        return result

    def _read_link(self, url: str, validator: str, path: str, digest: str) -> int:
        """Download external file ``url`` (at dataset ``path``), verify it, admit it.

        A validator other than the recorded one, or bytes that do not hash to
        ``digest``, raise :class:`ExternalSourceChanged`; nothing is admitted.
        """
        tmp = self._tmp()
        hasher, got = blake3.blake3(), 0
        try:
            info, chunks = self.links.stream(url, expect=validator)
            if chunks is None:
                raise _changed(
                    url, path, f"its validator is now {info.validator!r}, not {validator!r}"
                )
            with open(tmp, "wb") as fh:
                for chunk in chunks:
                    hasher.update(chunk)
                    fh.write(chunk)
                    got += len(chunk)
            if hasher.hexdigest() != digest:
                raise _changed(url, path, "its bytes no longer hash to the recorded hash")
            self._install(tmp, digest)
        except SourceNotFound:
            raise _changed(url, path, "it is no longer there") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return got

    def _read(
        self, store: ObjectStore, obj: str, group: Sequence[ByteRange], progress: Callback
    ) -> tuple[int, int]:
        """Read one coalesced group from the store, verify and admit each range."""
        if len(group) == 1 and group[0].offset == 0 and obj.startswith("objects/"):
            digest = str(group[0].tag)
            tmp = Path(self._tmp())
            try:
                store.get_file(obj, tmp)
                if hash_file(tmp) != digest:
                    raise IntegrityError(
                        f"Object {obj} does not match its hash: the store object is "
                        "corrupted. Run `dsops verify --deep`; it was not cached.",
                        hash=digest,
                        source=obj,
                    )
                self._install(str(tmp), digest)
            finally:
                if tmp.exists():
                    tmp.unlink()
            progress.advance(1, group[0].length)
            return 1, group[0].length
        got = 0
        for rng, data in read_ranges(store, obj, group):
            self._admit_bytes(str(rng.tag), data, f"{store.url}/{obj}")
            got += len(data)
            progress.advance(1, len(data))
        return len(group), got


def _changed(url: str, path: str, how: str) -> ExternalSourceChanged:
    return ExternalSourceChanged(
        f"External file {path!r} changed at its source {url} since it was added ({how}): "
        "it was not fetched. Add it again in a new version (ds.add_external_files) to "
        "take the new content.",
        url=url,
        path=path,
    )
