"""The Prefect tier: real flow runs against one temporary Prefect server per session.

``prefect_test_harness`` starts a Prefect API server in a subprocess (tens of seconds),
so it is started once. Events reach the server's database through its event persister;
its flush interval is shortened so that tests can read events back within a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

_SERVER_ENV = {
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL": "0.3",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
}


@pytest.fixture(scope="session", autouse=True)
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect server (SQLite) for every test of this folder."""
    from prefect.testing.utilities import prefect_test_harness

    with pytest.MonkeyPatch.context() as patch:
        for name, value in _SERVER_ENV.items():
            patch.setenv(name, value)
        # Results Prefect persists (e.g. for .map) go to a temporary folder, not ~/.prefect.
        patch.setenv("PREFECT_LOCAL_STORAGE_PATH", str(tmp_path_factory.mktemp("results")))
        with prefect_test_harness(server_startup_timeout=120):
            yield


@pytest.fixture(autouse=True)
def dsops_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default store and cache in this test's folder; no UI unless a test sets one."""
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DSOPS_UI_URL", raising=False)
    return tmp_path / "store"
