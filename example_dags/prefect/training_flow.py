"""Downstream training: pin one dataset version and train on it, reading it in place.

The flow resolves its ``dataset`` reference to a version id first and uses only that id,
so the run is reproducible even if ``prod`` moves meanwhile; the id is the run's result.
``fetch_dataset(..., mode="uri")`` downloads nothing: training reads the CSV files of
that version through the ``dsops://`` fsspec filesystem.
Served with ``--serve``, a deployment trigger starts it for every new version of the
ingested dataset, passing the version id from the ``dsops.version.finalized`` event.

    python example_dags/prefect/training_flow.py                          # examples/...@prod
    python example_dags/prefect/training_flow.py --dataset <version id>
    python example_dags/prefect/training_flow.py --serve                  # run on new data
"""

from __future__ import annotations

import argparse
import csv
import io
from typing import Any

import fsspec
from demo_data import PROJECT, READINGS
from prefect import flow, task
from prefect.events import DeploymentEventTrigger

from prefect_tasks import EVENT_FINALIZED, dataset_resource_id, fetch_dataset, resolve_version


def new_version_trigger(project: str = PROJECT, name: str = READINGS) -> DeploymentEventTrigger:
    """Start the deployment with ``dataset=<new version id>`` for each new version."""
    return DeploymentEventTrigger(
        expect={EVENT_FINALIZED},
        match={"prefect.resource.id": dataset_resource_id(project, name)},
        parameters={"dataset": "{{ event.payload.version_id }}"},
    )


@task
def fit(url: str, store: str | None = None) -> dict[str, Any]:
    """A stand-in for training: the mean reading per sensor over every CSV file."""
    fs = fsspec.filesystem("dsops", store=store)
    totals: dict[str, list[float]] = {}
    for path in sorted(fs.glob(url + "**/*.csv")):
        with io.TextIOWrapper(fs.open(path, "rb"), newline="") as fh:
            for row in csv.DictReader(fh):
                totals.setdefault(row["sensor"], []).append(float(row["value"]))
    means = {sensor: sum(values) / len(values) for sensor, values in sorted(totals.items())}
    return {"rows": sum(len(v) for v in totals.values()), "mean_by_sensor": means}


@flow(name="dsops-training")
def training(dataset: str = f"{PROJECT}/{READINGS}@prod", store: str | None = None) -> dict:
    """Train on one version of ``dataset`` (an id, or a reference pinned to an id first)."""
    version_id = resolve_version(dataset, store=store)
    url = fetch_dataset(version_id, store=store, mode="uri")
    return {"version_id": version_id, **fit(url, store)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=f"{PROJECT}/{READINGS}@prod")
    parser.add_argument("--store", help="DsopsStore block name or store URL")
    parser.add_argument("--serve", action="store_true", help="run for every new version")
    args = parser.parse_args()
    if args.serve:
        training.serve(
            name="on-new-version",
            triggers=[new_version_trigger()],
            parameters={"store": args.store},
        )
    else:
        print(training(args.dataset, store=args.store))


if __name__ == "__main__":
    main()
