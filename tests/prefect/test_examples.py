"""The example flows in example_dags/prefect run as shipped, and chain into each other."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dsops import Dataset
from prefect_tasks import EVENT_FINALIZED, dataset_resource_id
from tests.helpers import snapshot, write_tree
from tests.prefect.helpers import read_events

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags" / "prefect"


@pytest.fixture(scope="module")
def examples() -> Iterator[dict[str, ModuleType]]:
    """The example modules, imported the way ``python example_dags/prefect/x.py`` sees them."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield {
            name: importlib.import_module(name)
            for name in (
                "demo_data",
                "ingest_flow",
                "folder_sync_flow",
                "parallel_ingest_flow",
                "training_flow",
            )
        }
    finally:
        sys.path.remove(str(EXAMPLES))


def test_ingestion_then_training_on_the_pinned_new_version(
    examples: dict[str, Any], tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    examples["demo_data"].write_readings(landing, seed=1)
    ingest = examples["ingest_flow"].scheduled_ingestion

    first = ingest(str(landing), project="ex-ingest")
    again = ingest(str(landing), project="ex-ingest")  # same drop, same day: no new version
    assert again == first
    version = Dataset.get(first)
    day = version.list_files()[0].split("/")[0]
    assert version.list_files() == [f"{day}/readings-1-{n}.csv" for n in range(3)]
    assert Dataset.get("ex-ingest/sensor-readings@prod").id == first

    result = examples["training_flow"].training("ex-ingest/sensor-readings@prod")
    assert result["version_id"] == first
    assert result["rows"] == 60 and set(result["mean_by_sensor"]) == {f"s{i}" for i in range(5)}


def test_ingestion_prunes_to_its_retention_policy_after_each_new_version(
    examples: dict[str, Any], tmp_path: Path
) -> None:
    ingest = examples["ingest_flow"].scheduled_ingestion
    policy = {"project": "ex-prune", "keep_last": 2, "keep_within": None}
    drops = []
    for seed in range(3):
        drops.append(tmp_path / f"drop-{seed}")
        examples["demo_data"].write_readings(drops[-1], seed=seed)
        ingest(str(drops[-1]), **policy)
    kept = Dataset.list(project="ex-prune")
    assert [v["version"] for v in kept] == ["1.0.1", "1.0.2"]
    latest = Dataset.get("ex-prune/sensor-readings@prod")
    assert latest.id == kept[-1]["id"]
    fetched = snapshot(latest.get_local_copy())
    day = next(iter(fetched)).split("/")[0]
    assert fetched == {
        f"{day}/{p.name}": p.read_bytes() for drop in drops for p in sorted(drop.iterdir())
    }
    # The default policy (newest 7, last 30 days) keeps every recent version.
    examples["demo_data"].write_readings(drops[0], seed=9)
    ingest(str(drops[0]), project="ex-prune")
    assert len(Dataset.list(project="ex-prune")) == 3


def test_the_training_trigger_matches_the_event_a_finalize_emits(
    examples: dict[str, Any], tmp_path: Path
) -> None:
    folder = write_tree(tmp_path / "landing", {"readings-0.csv": "sensor,value\ns0,1.5\n"})
    version_id = examples["ingest_flow"].scheduled_ingestion(str(folder), project="ex-trigger")
    (event,) = read_events(EVENT_FINALIZED, dataset_resource_id("ex-trigger", "sensor-readings"))

    trigger = examples["training_flow"].new_version_trigger("ex-trigger", "sensor-readings")
    assert trigger.expect == {event.event}
    assert trigger.match.includes([event.resource])
    assert trigger.parameters == {"dataset": "{{ event.payload.version_id }}"}
    assert event.payload["version_id"] == version_id


def test_folder_sync_example_makes_versions_only_for_real_changes(
    examples: dict[str, Any], tmp_path: Path
) -> None:
    sync = examples["folder_sync_flow"].folder_sync
    folder = write_tree(tmp_path / "labels", {"a.txt": "a"})
    first = sync(str(folder), project="ex-sync")
    assert sync(str(folder), project="ex-sync") == first
    (folder / "a.txt").write_text("A")
    second = sync(str(folder), project="ex-sync")
    assert second != first
    assert [row["version"] for row in Dataset.list("ex-sync")] == ["1.0.0", "1.0.1"]
    assert snapshot(Dataset.get(second).get_local_copy()) == {"a.txt": b"A"}


def test_parallel_example_yields_one_version_with_every_shard(
    examples: dict[str, Any], tmp_path: Path
) -> None:
    shards = [write_tree(tmp_path / f"shard-{n}", {f"{n}.csv": str(n)}) for n in range(3)]
    version_id = examples["parallel_ingest_flow"].parallel_ingestion(
        [str(s) for s in shards], project="ex-parallel"
    )
    assert Dataset.get(version_id).list_files() == [f"shard-{n}/{n}.csv" for n in range(3)]
    assert len(Dataset.list("ex-parallel")) == 1


def test_parallel_example_splits_one_landing_folder_into_hash_shards(
    examples: dict[str, Any], tmp_path: Path
) -> None:
    files = {f"d{n % 3}/{n:02d}.csv": f"row {n}" for n in range(24)}
    landing = write_tree(tmp_path / "landing", files)
    version_id = examples["parallel_ingest_flow"].parallel_ingestion(
        [str(landing)], project="ex-split", split=4
    )
    fetched = snapshot(Dataset.get(version_id).get_local_copy())
    assert fetched == {f"landing/{rel}": text.encode() for rel, text in files.items()}
    assert len(Dataset.list("ex-split")) == 1
