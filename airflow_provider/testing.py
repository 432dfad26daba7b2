"""Run DAGs locally with ``dag.test()``: a workaround, and Asset-triggered runs.

:func:`dag_test` is ``dag.test()`` with two additions, for local runs and tests only:

1. **Workaround** (seen with Airflow 3.2.2): ``dag.test()`` builds an in-process
   Execution API per task and drops the object right after building its HTTP client;
   once it is collected, the API app's lifespan ends and the task's first request fails
   with ``'State' object has no attribute 'svcs_registry'`` (so every task fails).
   Keeping those objects alive for the duration of the run avoids it.
2. **Asset-triggered runs**: ``dag.test()`` always creates a *manual* run, so the run
   has no ``triggering_asset_events`` and a DAG that reads the version id from the
   event would see nothing. In a deployment the scheduler creates the run and attaches
   the Asset events queued since the DAG's previous run (``DagRun.consumed_asset_events``).
   :func:`consuming_asset_events` does that one step for ``dag.test()``: the run it
   creates consumes the events of the DAG's schedule Assets that no earlier run of the
   DAG consumed.

Example (after an upstream DAG finalized a version in the same Airflow database)::

    consumed = []
    run = dag_test(training_dag, asset_events=consumed)
    print(consumed[0]["extra"]["version_id"])

A scheduler needs none of this.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock


def _unconsumed_events(dag_id: str, session: Any) -> list[Any]:
    from airflow.models.asset import AssetEvent, DagScheduleAssetReference
    from airflow.models.dagrun import DagRun
    from sqlalchemy import func, select

    last = session.scalar(
        select(func.max(AssetEvent.id))
        .select_from(DagRun)
        .join(DagRun.consumed_asset_events)
        .where(DagRun.dag_id == dag_id)
    )
    scheduled = select(DagScheduleAssetReference.asset_id).where(
        DagScheduleAssetReference.dag_id == dag_id
    )
    return list(
        session.scalars(
            select(AssetEvent)
            .where(AssetEvent.asset_id.in_(scheduled), AssetEvent.id > (last or 0))
            .order_by(AssetEvent.timestamp.asc(), AssetEvent.id.asc())
        )
    )


@contextmanager
def consuming_asset_events() -> Iterator[list[dict[str, Any]]]:
    """Within this block, runs made by ``dag.test()`` consume their pending Asset events.

    Yields a list that receives ``{"asset": uri, "extra": {...}}`` for each consumed event.
    """
    import airflow.models.dagrun as dagrun_module

    original = dagrun_module.get_or_create_dagrun
    consumed: list[dict[str, Any]] = []

    def create_run(*, dag: Any, session: Any, **kwargs: Any) -> Any:
        run = original(dag=dag, session=session, **kwargs)
        events = _unconsumed_events(dag.dag_id, session)
        run.consumed_asset_events.extend(events)
        session.commit()
        consumed.extend({"asset": e.uri, "extra": dict(e.extra or {})} for e in events)
        return run

    with mock.patch.object(dagrun_module, "get_or_create_dagrun", create_run):
        yield consumed


@contextmanager
def keeping_in_process_api_alive() -> Iterator[None]:
    """Keep ``dag.test()``'s in-process Execution API objects alive (see the module doc)."""
    import airflow.sdk.execution_time.supervisor as supervisor

    original = supervisor.in_process_api_server
    alive: list[Any] = []

    def in_process_api_server() -> Any:
        api = original()
        alive.append(api)
        return api

    with mock.patch.object(supervisor, "in_process_api_server", in_process_api_server):
        yield


def dag_test(dag: Any, *, asset_events: list[dict[str, Any]] | None = None, **kwargs: Any) -> Any:
    """``dag.test(**kwargs)`` with the workaround; returns the DagRun.

    Args:
        dag: The DAG.
        asset_events: When given (a list), the run consumes the DAG's pending Asset events
            as an Asset-triggered run would, and the list receives them.
        **kwargs: For ``dag.test()`` (``logical_date``, ``run_conf``, …).
    """
    with keeping_in_process_api_alive():
        if asset_events is None:
            return dag.test(**kwargs)
        with consuming_asset_events() as consumed:
            run = dag.test(**kwargs)
        asset_events.extend(consumed)
        return run
