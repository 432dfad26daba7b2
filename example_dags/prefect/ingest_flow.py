"""Scheduled ingestion: each run adds the day's drop of files as a new dataset version.

Every run builds on the dataset's latest version, puts the files under a folder named
after the run's scheduled date, and moves the ``prod`` alias to the new version. A run
that finds nothing new creates no version. After a new version, the dataset is pruned to
its retention policy: the newest ``keep_last`` versions and every one finalized within
``keep_within`` stay (and whatever an alias points at); the rest are deleted.

    python example_dags/prefect/ingest_flow.py                 # one run on demo data
    python example_dags/prefect/ingest_flow.py --serve         # hourly, until stopped
    python example_dags/prefect/ingest_flow.py --source /data/landing --store my-store
"""

from __future__ import annotations

import argparse

from demo_data import PROJECT, READINGS, demo_folder, write_readings
from prefect import flow
from prefect.runtime import flow_run

from prefect_tasks import add_files, create_dataset, finalize_dataset, prune_dataset


@flow(name="dsops-scheduled-ingestion")
def scheduled_ingestion(
    source: str,
    project: str = PROJECT,
    name: str = READINGS,
    alias: str = "prod",
    store: str | None = None,
    keep_last: int | None = 7,
    keep_within: str | None = "30d",
) -> str | None:
    """Add ``source`` under ``<scheduled date>/`` to a new version; return its id."""
    day = flow_run.scheduled_start_time.strftime("%Y-%m-%d")
    draft = create_dataset(
        project,
        name,
        parents=["latest"],
        description=f"Scheduled drop of {day} from {source}",
        tags=["scheduled"],
        store=store,
    )
    draft = add_files(draft, source, dataset_path=day, store=store)
    final = finalize_dataset(draft, alias=alias, store=store, skip_if_unchanged=True)
    if final == draft:  # a new version: apply the retention policy
        prune_dataset(project, name, keep_last=keep_last, keep_within=keep_within, store=store)
    return final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="folder to ingest (default: demo files)")
    parser.add_argument("--store", help="DsopsStore block name or store URL")
    parser.add_argument("--serve", action="store_true", help="serve on an hourly schedule")
    args = parser.parse_args()
    source = args.source
    if source is None:
        folder = demo_folder("landing")
        write_readings(folder, seed=1)
        source = str(folder)
    parameters = {"source": source, "store": args.store}
    if args.serve:
        scheduled_ingestion.serve(name="hourly", cron="0 * * * *", parameters=parameters)
    else:
        print("version:", scheduled_ingestion(**parameters))


if __name__ == "__main__":
    main()
