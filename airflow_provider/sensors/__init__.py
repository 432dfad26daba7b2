"""dsops sensors: wait for a new dataset version."""

from __future__ import annotations

from airflow_provider.sensors.version import DatasetVersionSensor

__all__ = ["DatasetVersionSensor"]
