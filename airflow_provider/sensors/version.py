"""``DatasetVersionSensor``: wait until a dataset has a new finalized version."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException

from airflow_provider._common import DsopsHookMixin, optional_text, require_text
from airflow_provider.hooks.dsops import DsopsHook
from airflow_provider.links import DsopsVersionLink
from airflow_provider.triggers.version import DatasetVersionTrigger
from dsops.watch import newer_version


class DatasetVersionSensor(DsopsHookMixin, BaseSensorOperator):
    """Wait for a finalized version of ``dataset`` newer than ``newer_than``.

    Returns (XCom) the id of the version found.

    Args:
        dataset: ``project/name`` (its latest version) or ``project/name@<alias>``.
        newer_than: A version id, semantic version or reference; None waits for any
            finalized version. Newer means another version with a higher semantic version.
        deferrable: Wait in the triggerer (:class:`DatasetVersionTrigger`) instead of
            holding a worker slot; it polls every ``poke_interval`` seconds.
        dsops_conn_id: Connection of type ``dsops``.
    """

    template_fields: Sequence[str] = ("dataset", "newer_than")
    operator_extra_links = (DsopsVersionLink(),)

    def __init__(
        self,
        *,
        dataset: str,
        newer_than: str | None = None,
        deferrable: bool = False,
        dsops_conn_id: str = DsopsHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset = dataset
        self.newer_than = newer_than
        self.deferrable = deferrable
        self.dsops_conn_id = dsops_conn_id

    def poke(self, context: Any) -> PokeReturnValue:
        dataset = require_text("dataset", self.dataset)
        newer_than = optional_text("newer_than", self.newer_than)
        record = newer_version(self.hook.store, dataset, newer_than)
        if record is None:
            self.log.info("No version of %s newer than %s yet.", dataset, newer_than)
            return PokeReturnValue(is_done=False)
        self.log.info("Found %s (%s).", record.ref, record.id)
        self.push_link(context, record.id)
        return PokeReturnValue(is_done=True, xcom_value=record.id)

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        found = self.poke(context)
        if found.is_done:
            return found.xcom_value
        self.defer(
            trigger=DatasetVersionTrigger(
                dataset=require_text("dataset", self.dataset),
                newer_than=optional_text("newer_than", self.newer_than),
                dsops_conn_id=self.dsops_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )
        return None  # not reached: defer() raises TaskDeferred

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        if event.get("status") != "success":
            raise AirflowException(
                f"Waiting for a new version of {self.dataset} failed: {event.get('message')}"
            )
        self.push_link(context, str(event["version_id"]))
        self.log.info("Found version %s (%s).", event.get("version"), event["version_id"])
        return str(event["version_id"])
