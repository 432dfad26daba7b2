"""The "dsops" extra link: a button on the task that opens the version in the dsops web UI.

The operator pushes the page's URL to XCom (key :data:`LINK_XCOM_KEY`): the version's page
when a UI base URL is configured (connection extra ``ui_base_url`` or ``$DSOPS_UI_URL``),
else an empty string, which leaves the button without a target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

LINK_XCOM_KEY = "dsops_ui_url"


class DsopsVersionLink(BaseOperatorLink):
    """Opens ``<ui>/versions/<id>`` for the version the task created, changed or fetched."""

    name = "dsops"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        url: Any = XCom.get_value(ti_key=ti_key, key=LINK_XCOM_KEY)
        return str(url) if url else ""
