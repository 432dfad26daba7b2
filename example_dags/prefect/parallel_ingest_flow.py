"""Parallel ingestion: many workers add shards to one draft, one finalize commits them all.

``add_files.map`` writes one change set per shard (they never touch the same key), and
``finalize_dataset`` waits for all of them, so the flow yields exactly one version that
holds every shard, each under its own folder. The shards are either the folders given,
or — with ``split=n`` — ``n`` hash shards of each folder (``add_files(shard=(i, n))``: a
stable 1/n of its files by path), so one big landing folder fans out to n workers with no
pre-splitting. Run it on a Dask cluster to spread the shards over machines:
``parallel_ingestion.with_options(task_runner=DaskTaskRunner(address=...))``.

    python example_dags/prefect/parallel_ingest_flow.py               # 4 demo shards
    python example_dags/prefect/parallel_ingest_flow.py /data/s0 /data/s1 --store my-store
    python example_dags/prefect/parallel_ingest_flow.py /data/landing --split 8
    python example_dags/prefect/parallel_ingest_flow.py /data/landing --split 8 \\
        --dask tcp://scheduler:8786                       # needs dsops[prefect-dask]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from demo_data import PROJECT, demo_folder, write_readings
from prefect import flow, unmapped

from prefect_tasks import add_files, create_dataset, finalize_dataset


@flow(name="dsops-parallel-ingestion")
def parallel_ingestion(
    shards: list[str],
    project: str = PROJECT,
    name: str = "shards",
    store: str | None = None,
    split: int = 0,
) -> str:
    """Add every shard folder (under its own name) to one new version; return its id.

    ``split=n`` (> 0) adds each folder as ``n`` mapped tasks of ``shard=(i, n)``.
    """
    pieces = [(s, [i, split]) for s in shards for i in range(split)] if split else []
    pieces = pieces or [(s, None) for s in shards]
    draft = create_dataset(project, name, parents=["latest"], store=store)
    added = add_files.map(
        unmapped(draft),
        [folder for folder, _ in pieces],
        dataset_path=[Path(folder).name for folder, _ in pieces],
        store=unmapped(store),
        shard=[shard for _, shard in pieces],
    )
    return finalize_dataset(draft, store=store, wait_for=added)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shards", nargs="*", help="shard folders (default: 4 demo shards)")
    parser.add_argument("--store", help="DsopsStore block name or store URL")
    parser.add_argument("--split", type=int, default=0, help="hash shards per folder")
    parser.add_argument("--dask", help="a Dask scheduler's address to run the tasks on")
    args = parser.parse_args()
    shards = args.shards
    if not shards:
        root = demo_folder("shards")
        shards = []
        for n in range(4):
            write_readings(root / f"shard-{n}", seed=10 + n, files=2)
            shards.append(str(root / f"shard-{n}"))
    run = parallel_ingestion
    if args.dask:
        from prefect_dask import DaskTaskRunner

        run = parallel_ingestion.with_options(task_runner=DaskTaskRunner(address=args.dask))
    print("version:", run(shards, store=args.store, split=args.split))


if __name__ == "__main__":
    main()
