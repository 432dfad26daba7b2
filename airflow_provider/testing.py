"""Run DAGs locally with ``dag.test()``, including Asset-triggered runs.

``dag.test()`` always creates a *manual* run, so the run has no
``triggering_asset_events`` and a DAG that reads the version id from the event would see
nothing. In a deployment the scheduler creates the run and attaches the Asset events
queued since the DAG's previous run (``DagRun.consumed_asset_events``).
:func:`consuming_asset_events` does that one step for ``dag.test()``: the run it creates
consumes the events of the DAG's schedule Assets that no earlier run of the DAG consumed.
:func:`dag_test` is ``dag.test()`` with that option, for local runs and tests only.

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


def dag_test(dag: Any, *, asset_events: list[dict[str, Any]] | None = None, **kwargs: Any) -> Any:
    """``dag.test(**kwargs)``, optionally as an Asset-triggered run; returns the DagRun.

    Args:
        dag: The DAG.
        asset_events: When given (a list), the run consumes the DAG's pending Asset events
            as an Asset-triggered run would, and the list receives them.
        **kwargs: For ``dag.test()`` (``logical_date``, ``run_conf``, …).
    """
    if asset_events is None:
        return dag.test(**kwargs)
    with consuming_asset_events() as consumed:
        run = dag.test(**kwargs)
    asset_events.extend(consumed)
    return run
