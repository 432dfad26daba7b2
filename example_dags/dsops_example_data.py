"""Shared by the dsops example DAGs: dataset names, folders, and demo data.

Not a DAG (listed in ``.airflowignore``). The folders come from the environment so a
deployment points them at real data; the defaults live under the system temp folder.

Demo data, honestly: when a landing folder is empty and the DAG's ``generate_demo_data``
param is true (the default), the DAG writes a few small CSV files there itself and says
so in the task log, so that the examples run with no setup. Their content depends only
on the date or shard number, so re-running a day changes nothing. Set the param to
false to ingest only what really arrived.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from airflow_provider.assets import create_asset

PROJECT = "examples"
EVENTS = create_asset(project=PROJECT, name="events")
SHARDS = create_asset(project=PROJECT, name="shards")


def example_dir(env: str, default: str) -> str:
    """``$env``, else ``<tmp>/dsops-examples/<default>`` (read when the DAG is parsed)."""
    configured = os.environ.get(env, "").strip()
    return configured or str(Path(tempfile.gettempdir()) / "dsops-examples" / default)


def is_empty(folder: Path) -> bool:
    return not folder.is_dir() or not any(p.is_file() for p in folder.rglob("*"))


def write_csv(path: Path, rows: list[tuple[int, str, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label", "value"])
        writer.writerows(rows)


def demo_rows(seed: int, count: int) -> list[tuple[int, str, float]]:
    labels = ("cat", "dog", "bird")
    return [
        (seed * 1000 + i, labels[(seed + i) % 3], round((seed * 7 + i) % 97 / 9.7, 3))
        for i in range(count)
    ]


def generate_day(folder: Path, day: str, files: int = 3) -> int:
    """Demo files for one day (``events-<day>-<n>.csv``); returns how many were written."""
    seed = int(day.replace("-", ""))
    for n in range(files):
        write_csv(folder / f"events-{day}-{n}.csv", demo_rows(seed % 10_000 + n, 20))
    return files


def generate_shards(root: Path, shards: int, files_per_shard: int = 2) -> int:
    """Demo shards ``shard-<i>/part-<i>-<n>.csv``; returns how many files were written."""
    for i in range(shards):
        for n in range(files_per_shard):
            write_csv(root / f"shard-{i:02d}" / f"part-{i:02d}-{n}.csv", demo_rows(i * 10 + n, 10))
    return shards * files_per_shard


def generate_folder(folder: Path) -> int:
    """A small demo folder to mirror (config + data); returns how many files were written."""
    (folder / "config").mkdir(parents=True, exist_ok=True)
    (folder / "config" / "settings.json").write_text('{"threshold": 0.5}\n')
    write_csv(folder / "data" / "table.csv", demo_rows(1, 50))
    return 2
