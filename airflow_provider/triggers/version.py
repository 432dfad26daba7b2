"""``DatasetVersionTrigger``: the triggerer side of ``DatasetVersionSensor(deferrable=True)``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider.hooks.dsops import DsopsHook
from dsops.errors import DsopsError
from dsops.watch import newer_version


class DatasetVersionTrigger(BaseTrigger):
    """Fire once ``dataset`` has a finalized version newer than ``newer_than``.

    Store reads are blocking calls, so each poll runs in a worker thread
    (``asyncio.to_thread``) and the triggerer's event loop stays free. Only the
    connection id is serialized, never the credentials.

    The event payload is ``{"status": "success", "version_id": …, "version": …}`` or
    ``{"status": "error", "message": …}``.
    """

    def __init__(
        self,
        dataset: str,
        newer_than: str | None = None,
        dsops_conn_id: str = DsopsHook.default_conn_name,
        poll_interval: float = 60.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's is unannotated
        self.dataset = dataset
        self.newer_than = newer_than
        self.dsops_conn_id = dsops_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "dataset": self.dataset,
                "newer_than": self.newer_than,
                "dsops_conn_id": self.dsops_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            settings = await DsopsHook(dsops_conn_id=self.dsops_conn_id).asettings()
            store = await asyncio.to_thread(settings.open)
            while True:
                record = await asyncio.to_thread(
                    newer_version, store, self.dataset, self.newer_than
                )
                if record is not None:
                    yield TriggerEvent(  # type: ignore[no-untyped-call]
                        {"status": "success", "version_id": record.id, "version": record.version}
                    )
                    return
                self.log.info(
                    "No version of %s newer than %s yet; next check in %ss",
                    self.dataset,
                    self.newer_than,
                    self.poll_interval,
                )
                await asyncio.sleep(self.poll_interval)
        except DsopsError as exc:
            message = f"{type(exc).__name__}: {exc}"
            yield TriggerEvent({"status": "error", "message": message})  # type: ignore[no-untyped-call]
