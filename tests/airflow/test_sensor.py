"""DatasetVersionSensor (poke and deferrable) and its trigger."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred

from airflow_provider.sensors import DatasetVersionSensor
from airflow_provider.triggers.version import DatasetVersionTrigger
from dsops import Dataset
from dsops.errors import InvalidReference


def _version(alias: str | None = None) -> str:
    ds = Dataset.create("demo", "events", parents=["latest"])
    return ds.finalize(alias=alias)


def _poke(context: dict[str, Any], **kwargs: Any) -> Any:
    return DatasetVersionSensor(task_id="wait", **kwargs).poke(context)


def test_poke_waits_for_the_first_version(context):
    assert not _poke(context, dataset="demo/events")
    first = _version()
    found = _poke(context, dataset="demo/events")
    assert found.is_done and found.xcom_value == first


def test_poke_with_newer_than_waits_for_a_higher_version(context):
    first = _version()
    for baseline in (first, "1.0.0", "demo/events@1.0.0", "latest"):
        assert not _poke(context, dataset="demo/events", newer_than=baseline), baseline
    second = _version()
    for baseline in (first, "1.0.0", "demo/events@1.0.0"):
        assert _poke(context, dataset="demo/events", newer_than=baseline).xcom_value == second


def test_poke_on_an_alias_ignores_a_move_back_to_an_older_version(context):
    first = _version(alias="prod")
    second = _version(alias="prod")
    Dataset.get(first).set_alias("prod")  # rollback
    assert not _poke(context, dataset="demo/events@prod", newer_than=second)


def test_a_fixed_version_cannot_be_waited_on(context):
    with pytest.raises(InvalidReference, match="a fixed version never changes"):
        _poke(context, dataset="demo/events@1.0.0")


def test_deferrable_sensor_returns_at_once_when_the_version_exists(context):
    first = _version()
    sensor = DatasetVersionSensor(task_id="wait", dataset="demo/events", deferrable=True)
    assert sensor.execute(context) == first


def test_deferrable_sensor_defers_to_the_trigger(context):
    sensor = DatasetVersionSensor(
        task_id="wait",
        dataset="demo/events",
        newer_than="1.0.3",
        deferrable=True,
        poke_interval=5,
        timeout=600,
        dsops_conn_id="dsops_other",
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)
    trigger = deferred.value.trigger
    assert isinstance(trigger, DatasetVersionTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider.triggers.version.DatasetVersionTrigger"
    assert kwargs == {
        "dataset": "demo/events",
        "newer_than": "1.0.3",
        "dsops_conn_id": "dsops_other",
        "poll_interval": 5.0,
    }
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout.total_seconds() == 600


def test_execute_complete_returns_the_version_or_fails_on_an_error_event(context):
    sensor = DatasetVersionSensor(task_id="wait", dataset="demo/events", deferrable=True)
    event = {"status": "success", "version_id": "ab" * 16, "version": "1.0.1"}
    assert sensor.execute_complete(context, event) == "ab" * 16
    with pytest.raises(AirflowException, match="failed: StoreError: boom"):
        sensor.execute_complete(context, {"status": "error", "message": "StoreError: boom"})


def _first_event(trigger: DatasetVersionTrigger, timeout: float = 20.0) -> Any:
    async def first() -> Any:
        async for event in trigger.run():
            return event.payload
        return None

    return asyncio.run(asyncio.wait_for(first(), timeout))


def test_trigger_fires_when_a_new_version_is_finalized_while_it_polls():
    first = _version()
    trigger = DatasetVersionTrigger(dataset="demo/events", newer_than=first, poll_interval=0.05)
    later = threading.Timer(0.3, _version)
    later.start()
    payload = _first_event(trigger)
    later.join()
    latest = Dataset.get("demo/events@latest")
    assert payload == {"status": "success", "version_id": latest.id, "version": "1.0.1"}


def test_trigger_reports_errors_as_an_event():
    trigger = DatasetVersionTrigger(dataset="not a reference", poll_interval=0.05)
    payload = _first_event(trigger)
    assert payload["status"] == "error" and "InvalidReference" in payload["message"]
