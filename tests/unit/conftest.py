from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dsops import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh local store with its own cache."""
    return Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing a test does may touch the user's real store or cache.
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "default-store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "default-cache"))


@pytest.fixture
def cli_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CliRunner whose commands use the store ``tmp_path/store`` and a private cache."""
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "clicache"))
    return CliRunner()
