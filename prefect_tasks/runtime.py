"""What the tasks read from Prefect's run context: provenance, logger, retry decisions."""

from __future__ import annotations

import logging
from typing import Any

from prefect.exceptions import MissingContextError
from prefect.logging import get_logger, get_run_logger
from prefect.runtime import deployment, flow_run, task_run
from prefect.utilities.urls import url_for

from dsops.errors import (
    AccessDenied,
    DsopsError,
    FileChangedError,
    ObjectNotFound,
    StoreError,
    StoreFormatError,
)

# Store errors that another attempt cannot fix: wrong credentials, missing data, a store
# of another format. Everything else from the store (unreachable, throttled, a lost
# compare-and-swap, a 5xx) is worth retrying; dsops errors about the inputs are not.
_PERMANENT_STORE_ERRORS = (AccessDenied, ObjectNotFound, StoreFormatError)

RETRIES = 3
RETRY_DELAYS = [2, 10, 30]


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the same call may succeed."""
    if isinstance(exc, _PERMANENT_STORE_ERRORS):
        return False
    if isinstance(exc, (StoreError, FileChangedError)):
        return True
    if isinstance(exc, DsopsError):
        return False
    return isinstance(exc, (ConnectionError, TimeoutError))


def retry_on_store_errors(task: Any, run: Any, state: Any) -> bool:
    """``retry_condition_fn`` for every dsops task: retry transient store errors only."""
    error = state.data
    return isinstance(error, BaseException) and is_transient(error)


def logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The task run's logger, or a module logger when called outside a run."""
    try:
        return get_run_logger()
    except MissingContextError:
        return get_logger("dsops")


def retry_key() -> str | None:
    """A key that is the same for every attempt of the running task run (None outside)."""
    run_id = task_run.id
    return f"prefect/task-run/{run_id}" if run_id else None


def provenance() -> dict[str, Any]:
    """Where the current call runs in Prefect: flow run, task run, deployment, link."""
    values = {
        "orchestrator": "prefect",
        "flow_run_id": flow_run.id,
        "flow_run_name": flow_run.name,
        "flow_name": flow_run.flow_name,
        "task_run_id": task_run.id,
        "task_name": task_run.task_name,
        "deployment_id": deployment.id,
        "deployment_name": deployment.name,
        "run_url": _run_link(),
    }
    return {key: str(value) for key, value in values.items() if value}


def _run_link() -> str | None:
    # The UI route the engine itself logs ("View at …"); None without a configured UI.
    run_id = flow_run.id
    return url_for("flow-run", obj_id=run_id) if run_id else None
