"""Airflow tier: a private Airflow home for the session, and an isolated dsops store per test.

Airflow reads ``AIRFLOW_HOME`` once, when it is first imported, so this conftest sets
the environment at import time, before any test module imports ``airflow``. The
database is migrated once per session, and only for the tests that run DAGs (the
``airflow_home`` fixture); the operator unit tests need no database.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.s3_server import S3Server

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DAGS = REPO / "example_dags"

if "airflow" in sys.modules and not os.environ.get("DSOPS_TEST_AIRFLOW_HOME"):
    raise RuntimeError(
        "airflow was imported before tests/airflow/conftest.py could point AIRFLOW_HOME at a "
        "private folder: run the Airflow tier on its own (pytest tests/airflow)."
    )
if not os.environ.get("DSOPS_TEST_AIRFLOW_HOME"):
    _created = tempfile.mkdtemp(prefix="dsops-af-")
    atexit.register(shutil.rmtree, _created, ignore_errors=True)
_HOME = Path(os.environ.get("DSOPS_TEST_AIRFLOW_HOME") or _created)
os.environ.update(
    {
        "DSOPS_TEST_AIRFLOW_HOME": str(_HOME),
        "AIRFLOW_HOME": str(_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(EXAMPLE_DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
)
# The example DAGs import their shared helper module from the DAGs folder, as Airflow's
# dag processor allows; a test process must put the folder on sys.path itself.
if str(EXAMPLE_DAGS) not in sys.path:
    sys.path.append(str(EXAMPLE_DAGS))


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's Airflow home with a migrated SQLite database (about 10 s, once)."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _HOME


@pytest.fixture(autouse=True)
def dsops_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own default store and cache (what the hook falls back to)."""
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DSOPS_UI_URL", raising=False)
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_"):
            monkeypatch.delenv(name)
    return tmp_path / "store"


@dataclass
class FakeTI:
    """What operators use of the task instance: its ids and ``xcom_push``."""

    dag_id: str = "dag"
    run_id: str = "manual__2024-05-01T00:00:00+00:00"
    task_id: str = "task"
    map_index: int = -1
    try_number: int = 1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


@pytest.fixture
def context() -> dict[str, Any]:
    """A minimal task context: a fake TI, real outlet-event accessors, a logical date."""
    from datetime import datetime, timezone

    from airflow.sdk.execution_time.context import OutletEventAccessors

    return {
        "ti": FakeTI(),
        "outlet_events": OutletEventAccessors(),
        "logical_date": datetime(2024, 5, 1, tzinfo=timezone.utc),
    }


__all__ = ["EXAMPLE_DAGS", "FakeTI", "S3Server"]
