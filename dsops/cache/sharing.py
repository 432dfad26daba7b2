"""Who else may use the cache folder: one user, or a team sharing it through a group.

A cache root that is group-writable with the setgid bit (``chgrp team DIR && chmod 2775
DIR``) is a *team cache*: the kernel gives every file created below it the root's group
(and new folders the setgid bit), and dsops makes what it creates group-usable whatever
the umask — folders ``2775``, lock files and the stat cache ``0664`` — so any member can
fetch, hold views and evict. Objects and view files stay read-only (``0444``) for
everyone. Any other root is private: modes follow the umask, as before.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sharing:
    """The modes dsops gives what it creates under one cache root."""

    group: bool = False

    @classmethod
    def of(cls, root: Path) -> Sharing:
        """A team cache if ``root`` is setgid and group-writable, else private."""
        try:
            mode = os.stat(root).st_mode
        except FileNotFoundError:
            return cls(False)
        return cls(bool(mode & stat.S_ISGID and mode & stat.S_IWGRP))

    @property
    def file_mode(self) -> int | None:
        """Mode for writable shared files (locks, the stat cache); None: the umask's."""
        return 0o664 if self.group else None

    @property
    def content_mode(self) -> int | None:
        """Mode for read-only content others read (manifest copies); None: the umask's."""
        return 0o444 if self.group else None

    def mkdirs(self, path: str | os.PathLike[str]) -> None:
        """``os.makedirs(path, exist_ok=True)``; in a team cache each new folder is 2775."""
        if not self.group:
            os.makedirs(path, exist_ok=True)
            return
        path = os.fspath(path)
        if os.path.isdir(path):
            return
        parent = os.path.dirname(path)
        if parent and parent != path:
            self.mkdirs(parent)
        try:
            os.mkdir(path)
        except FileExistsError:
            return  # made by another process (maybe another user): its mode is theirs
        # The umask (often 022) removed the group's write bit; setgid came from the parent.
        with contextlib.suppress(PermissionError):
            os.chmod(path, 0o2775)

    def created(self, fd: int, mode: int) -> None:
        """Give a file this process just created ``mode`` in a team cache (no-op else)."""
        if self.group:
            with contextlib.suppress(PermissionError):  # another member's file
                os.fchmod(fd, mode)

    def open_lock(self, path: str | os.PathLike[str]) -> int:
        """An fd to ``flock``: created group-writable in a team cache.

        A lock file another user created with a narrow umask may not be writable here;
        ``flock`` needs no write access on a local disk, so it is then opened read-only.
        """
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            return os.open(path, os.O_RDONLY)
        self.created(fd, 0o664)
        return fd


__all__ = ["Sharing"]
