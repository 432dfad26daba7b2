"""Parallel ingestion: many workers add shards to one draft, one finalize commits them all.

``add_files.map`` writes one change set per shard (they never touch the same key), and
``finalize_dataset`` waits for all of them, so the flow yields exactly one version that
holds every shard, each under its own folder.

    python example_dags/prefect/parallel_ingest_flow.py               # 4 demo shards
    python example_dags/prefect/parallel_ingest_flow.py /data/s0 /data/s1 --store my-store
"""

from __future__ import annotations

import argparse
from pathlib import Path

from demo_data import PROJECT, demo_folder, write_readings
from prefect import flow, unmapped

from prefect_tasks import add_files, create_dataset, finalize_dataset


@flow(name="dsops-parallel-ingestion")
def parallel_ingestion(
    shards: list[str], project: str = PROJECT, name: str = "shards", store: str | None = None
) -> str:
    """Add every shard folder (under its own name) to one new version; return its id."""
    draft = create_dataset(project, name, parents=["latest"], store=store)
    added = add_files.map(
        unmapped(draft),
        shards,
        dataset_path=[Path(shard).name for shard in shards],
        store=unmapped(store),
    )
    return finalize_dataset(draft, store=store, wait_for=added)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shards", nargs="*", help="shard folders (default: 4 demo shards)")
    parser.add_argument("--store", help="DsopsStore block name or store URL")
    args = parser.parse_args()
    shards = args.shards
    if not shards:
        root = demo_folder("shards")
        shards = []
        for n in range(4):
            write_readings(root / f"shard-{n}", seed=10 + n, files=2)
            shards.append(str(root / f"shard-{n}"))
    print("version:", parallel_ingestion(shards, store=args.store))


if __name__ == "__main__":
    main()
