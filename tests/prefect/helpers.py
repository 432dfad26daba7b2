"""Reading back what flow runs left on the Prefect server: events and artifacts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], timeout: float = 15.0) -> T:
    """Poll ``probe`` until it returns something truthy (the server persists asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result or time.monotonic() > deadline:
            assert result, f"nothing after {timeout:.0f}s"
            return result
        time.sleep(0.2)


def read_events(name: str, resource_id: str, expected: int = 1, settle: float = 0.0) -> list[Any]:
    """Events called ``name`` about ``resource_id``, read back from the Prefect server."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter

    def probe() -> list[Any] | None:
        with get_client(sync_client=True) as client:
            page = client.read_events(
                filter=EventFilter(
                    event=EventNameFilter(name=[name]),
                    resource=EventResourceFilter(id=[resource_id]),
                ),
                limit=50,
            )
        return page.events if len(page.events) >= expected else None

    events = eventually(probe)
    if settle:
        time.sleep(settle)  # give duplicates, if any, the time to arrive too
        events = probe() or events
    return sorted(events, key=lambda e: e.occurred)


def read_artifacts(flow_run_id: Any) -> dict[str, list[Any]]:
    """Artifacts a flow run created, by key, oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    by_key: dict[str, list[Any]] = {}
    for artifact in sorted(artifacts, key=lambda a: a.created):
        by_key.setdefault(artifact.key or "", []).append(artifact)
    return by_key
