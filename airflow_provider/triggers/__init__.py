"""dsops triggers (the triggerer side of deferrable sensors)."""

from __future__ import annotations

from airflow_provider.triggers.version import DatasetVersionTrigger

__all__ = ["DatasetVersionTrigger"]
