"""The base of dsops operators: connection id, hook, link, and opening a version."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from airflow_provider._common import DsopsHookMixin, require_text
from airflow_provider.hooks.dsops import DsopsHook
from airflow_provider.links import DsopsVersionLink
from dsops import ChangeSummary, Dataset

SUMMARY_XCOM_KEY = "summary"


class DsopsBaseOperator(DsopsHookMixin, BaseOperator):
    """Shared by every dsops operator.

    Args:
        dsops_conn_id: Connection of type ``dsops`` (missing: ``$DSOPS_STORE`` or the
            embedded local store).
    """

    operator_extra_links = (DsopsVersionLink(),)
    ui_color = "#e8f1fb"

    def __init__(self, *, dsops_conn_id: str = DsopsHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dsops_conn_id = dsops_conn_id

    def open_version(self, argument: str, reference: Any) -> Dataset:
        """The version or draft a rendered argument names."""
        return Dataset.get(require_text(argument, reference), store=self.hook.store)

    def report_changes(self, context: Any, ds: Dataset, what: str, summary: ChangeSummary) -> None:
        """Log a change summary and push it as XCom ``summary`` (a small dict)."""
        self.log.info("%s %s/%s draft %s: %s", what, ds.project, ds.name, ds.id, summary)
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key=SUMMARY_XCOM_KEY, value=summary.to_dict())
