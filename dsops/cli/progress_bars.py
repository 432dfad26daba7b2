"""Progress bars on stderr: the CLI's :class:`~dsops.progress.Callback` (tqdm)."""

from __future__ import annotations

import threading
from typing import IO, Any

from tqdm import tqdm

from dsops.progress import Callback

_PHASES = {
    "hash": "Hashing",
    "upload": "Uploading",
    "download": "Downloading",
    "materialize": "Writing files",
}


class TqdmProgress(Callback):
    """One tqdm bar per phase (bytes, throughput, ETA, files); safe from worker threads."""

    def __init__(self, file: IO[str], *, mininterval: float = 0.1) -> None:
        self._file = file
        self._mininterval = mininterval
        self._lock = threading.Lock()
        self._bar: tqdm[Any] | None = None
        self._files = 0
        self._total_files = 0

    def begin(self, phase: str, total_files: int, total_bytes: int) -> None:
        with self._lock:
            self._close()
            if total_files == 0:
                return
            self._files, self._total_files = 0, total_files
            self._bar = tqdm(
                total=total_bytes,
                desc=_PHASES.get(phase, phase.capitalize()),
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self._file,
                dynamic_ncols=True,
                leave=False,
                postfix=f"0/{total_files} files",
                mininterval=self._mininterval,
            )

    def advance(self, files: int, nbytes: int) -> None:
        with self._lock:
            if self._bar is None:
                return
            self._files += files
            self._bar.set_postfix_str(f"{self._files}/{self._total_files} files", refresh=False)
            self._bar.update(nbytes)

    def end(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
