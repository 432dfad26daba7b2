"""A full local disk, said once: ``ENOSPC``/``EDQUOT`` become :class:`DiskFull`.

Every place dsops writes local files (cache admission, views and mutable copies, the
local store's temporary files, URL-source downloads) wraps the write in
:func:`space_for`, which names the folder, its filesystem, the bytes the operation needed
and the bytes free, and says what to do. The caller removes its temporary files (it
knows them); this module only classifies and words the failure.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from dsops.errors import DiskFull, DsopsError
from dsops.progress import human_size

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_no_space(exc: BaseException) -> bool:
    """True for an ``OSError`` meaning "no space left" or "quota exceeded"."""
    return isinstance(exc, OSError) and not isinstance(exc, DsopsError) and exc.errno in NO_SPACE


def _existing(folder: str) -> str:
    path = os.path.abspath(folder)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def mount_point(folder: str | os.PathLike[str]) -> str:
    """The mount point of the filesystem holding ``folder`` (or its nearest parent)."""
    path = os.path.realpath(_existing(os.fspath(folder)))
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


CACHE_FIX = (
    "free space there (`dsops gc`, a smaller DSOPS_CACHE_SIZE, or other files), or point "
    "DSOPS_CACHE_DIR at a larger disk"
)


def disk_full(
    folder: str | os.PathLike[str],
    needed: int,
    what: str,
    cause: OSError | None = None,
    fix: str = "free space there",
) -> DiskFull:
    """The :class:`DiskFull` for writing ``what`` (``needed`` bytes) under ``folder``.

    ``fix`` says what to do (free space, another folder); "then run again" is added.
    """
    where = os.fspath(folder)
    try:
        free = shutil.disk_usage(_existing(where)).free
        disk = mount_point(where)
    except OSError:
        free, disk = -1, "?"
    quota = cause is not None and getattr(cause, "errno", None) == errno.EDQUOT
    reason = "the disk quota is exceeded" if quota else "no space is left"
    free_text = f"{human_size(free)} free" if free >= 0 else "free space unknown"
    need_text = f"needed at least {human_size(needed)}" if needed else "needed room for new entries"
    return DiskFull(
        f"Cannot write {what} in {where}: {reason} on the filesystem at {disk} ({need_text}, "
        f"{free_text}): {fix}, then run again. Nothing partial was kept.",
        folder=where,
        disk=disk,
        needed=needed,
        free=free,
        errno=errno.EDQUOT if quota else errno.ENOSPC,
        what=what,
    )


@contextmanager
def space_for(
    folder: str | os.PathLike[str], needed: int, what: str, fix: str = "free space there"
) -> Iterator[None]:
    """Turn "no space"/"quota exceeded" raised inside into :class:`DiskFull`.

    A :class:`DiskFull` from a lower layer about one file is reworded for the whole
    operation (``what``, ``needed``), which is what the user can act on.

    Example:
        >>> try:
        ...     with space_for("/tmp", 10, "a test file"):
        ...         raise OSError(errno.ENOSPC, "No space left on device")
        ... except DiskFull as exc:
        ...     exc.needed, exc.folder
        (10, '/tmp')
    """
    try:
        yield
    except OSError as exc:
        if not (is_no_space(exc) or isinstance(exc, DiskFull)):
            raise
        raise disk_full(folder, needed, what, exc, fix) from exc


def write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte: a nearly full disk makes ``os.write`` stop short, silently."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


__all__ = [
    "CACHE_FIX",
    "NO_SPACE",
    "disk_full",
    "is_no_space",
    "mount_point",
    "space_for",
    "write_all",
]
