"""Small, deterministic demo files for the example flows (not a flow itself).

Each example runs with no setup: when it is given no folder, it makes one under the
system temp folder with a few CSV files whose content depends only on their seed, so a
re-run with the same seed writes the same bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

PROJECT = "examples"
READINGS = "sensor-readings"


def demo_folder(name: str) -> Path:
    """``<tmp>/dsops-prefect-examples/<name>``, created if missing."""
    folder = Path(tempfile.gettempdir()) / "dsops-prefect-examples" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_readings(folder: Path, seed: int, files: int = 3, rows: int = 20) -> list[Path]:
    """``readings-<seed>-<n>.csv`` files of (sensor, value) rows; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for n in range(files):
        lines = ["sensor,value"]
        lines += [f"s{(seed + i) % 5},{(seed * 31 + n * 7 + i) % 100 / 10}" for i in range(rows)]
        path = folder / f"readings-{seed}-{n}.csv"
        path.write_text("\n".join(lines) + "\n")
        written.append(path)
    return written
