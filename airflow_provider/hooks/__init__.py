"""dsops hooks: an Airflow connection turned into a dsops store."""

from __future__ import annotations

from airflow_provider.hooks.dsops import DsopsHook, StoreSettings

__all__ = ["DsopsHook", "StoreSettings"]
