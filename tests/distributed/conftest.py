"""Distributed tier: Airflow 3 on CeleryExecutor, for real, one cluster per session.

See ``cluster.py``: PostgreSQL, Redis, SeaweedFS, the scheduler, the DAG processor, the
API server and two Celery workers, each a process of its own. The tier is skipped (and
fails under CI) only when the machine cannot run the Debian services.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.distributed.cluster import CeleryCluster
from tests.distributed.cluster import celery_cluster as start_cluster
from tests.distributed.services import Unavailable
from tests.s3_server import S3Server, _in_ci


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"distributed tier unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"distributed tier (Airflow on Celery) unavailable: {reason}")


@pytest.fixture(scope="session")
def celery_cluster(
    s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryCluster]:
    """Airflow on Celery with two workers (``w1``, ``w2``, concurrency 2 each)."""
    try:
        with start_cluster(s3_server, tmp_path_factory.mktemp("celery")) as cluster:
            yield cluster
    except Unavailable as exc:  # raised before the cluster is up: nothing to clean
        _unavailable(str(exc))
