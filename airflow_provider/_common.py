"""What every dsops operator and sensor shares: the hook, argument checks, the UI link.

Arguments are checked in ``execute()`` (after templates rendered), never in
``__init__``: a template or an XComArg is not a string until run time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_provider.hooks.dsops import DsopsHook
from airflow_provider.links import LINK_XCOM_KEY
from dsops.errors import ConfigError


class DsopsHookMixin:
    """The ``dsops_conn_id`` argument, and the hook built from it on first use."""

    dsops_conn_id: str

    @cached_property
    def hook(self) -> DsopsHook:
        return DsopsHook(dsops_conn_id=self.dsops_conn_id)

    def push_link(self, context: Any, version_id: str | None) -> None:
        """Store the version's UI URL for the "dsops" link ("" when no UI is configured).

        Pushed even when empty: Airflow resolves every extra link when a task ends, and a
        missing XCom would be logged as an error on every task.
        """
        ti = context.get("ti")
        if ti is not None:
            url = self.hook.version_url(version_id) if version_id else None
            ti.xcom_push(key=LINK_XCOM_KEY, value=url or "")


def require_text(argument: str, value: Any) -> str:
    """A non-empty string argument (after rendering), stripped."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(
            f"{argument} must be a non-empty string after templating; got {value!r}.",
            argument=argument,
        )
    return value.strip()


def optional_text(argument: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return require_text(argument, value)


def text_list(argument: str, value: Any, *, allow_empty: bool = True) -> list[str]:
    """A string or a list of strings (a rendered template or a pulled XCom) as a list."""
    if value is None:
        items: list[Any] = []
    elif isinstance(value, (str, os.PathLike)):
        items = [value]
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise ConfigError(
            f"{argument} must be a string or a list of strings; got {type(value).__name__}.",
            argument=argument,
        )
    result = [
        require_text(argument, os.fspath(i) if isinstance(i, os.PathLike) else i) for i in items
    ]
    if not result and not allow_empty:
        raise ConfigError(f"{argument} must name at least one item.", argument=argument)
    return result


def run_key(context: Any) -> str | None:
    """``dag_id/run_id/task_id/map_index`` of the running task (None outside a task)."""
    ti = context.get("ti") if context else None
    if ti is None:
        return None
    return f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}"
