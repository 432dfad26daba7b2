"""Progress reporting as a callback passed down (as fsspec's ``Callback``).

The core never imports a progress-bar library; the CLI subclasses :class:`Callback`.
Methods may be called from worker threads.
"""

from __future__ import annotations

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int | float | None) -> str:
    """``1536`` → ``'1.5 KiB'`` (binary units; bytes are shown exactly).

    Example:
        >>> human_size(512), human_size(1536), human_size(3 * 1024**3), human_size(None)
        ('512 B', '1.5 KiB', '3.0 GiB', '-')
    """
    if size is None:
        return "-"
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class Callback:
    """No-op progress sink. Override to display or record progress."""

    def begin(self, phase: str, total_files: int, total_bytes: int) -> None:
        """A phase (``"hash"``, ``"upload"``, ``"download"``, ``"materialize"``) starts."""

    def advance(self, files: int, nbytes: int) -> None:
        """``files`` more files and ``nbytes`` more bytes of the current phase are done."""

    def end(self) -> None:
        """The current phase is over."""


class Recorder(Callback):
    """Keeps totals per phase; useful in tests and for summaries."""

    def __init__(self) -> None:
        self.phases: dict[str, dict[str, int]] = {}
        self._current = ""

    def begin(self, phase: str, total_files: int, total_bytes: int) -> None:
        self._current = phase
        self.phases[phase] = {
            "total_files": total_files,
            "total_bytes": total_bytes,
            "files": 0,
            "bytes": 0,
        }

    def advance(self, files: int, nbytes: int) -> None:
        entry = self.phases.setdefault(
            self._current, {"total_files": 0, "total_bytes": 0, "files": 0, "bytes": 0}
        )
        entry["files"] += files
        entry["bytes"] += nbytes
