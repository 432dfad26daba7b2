from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsops import Store
from tests.moto_s3 import KEYS, moto_server, new_bucket


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh local store with its own cache."""
    return Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server for the module (files that need one define their own too)."""
    yield from moto_server()


@pytest.fixture(params=["local", "s3"])
def either_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """The same test on a local store and on S3 (moto)."""
    if request.param == "local":
        return Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    endpoint = request.getfixturevalue("moto_endpoint")
    return Store(
        f"s3://{new_bucket(endpoint)}/root",
        cache_dir=tmp_path / "cache",
        endpoint_url=endpoint,
        **KEYS,
    )


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


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store the CLI uses through DSOPS_STORE (the ``store`` fixture's), with a
    private cache."""
    root = tmp_path / "store"
    monkeypatch.setenv("DSOPS_STORE", str(root))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.fixture
def run(store_dir: Path) -> Callable[..., Result]:
    """Invoke the CLI (stdin from ``input=``); check the exit code (``code=``)."""
    from dsops.cli import cli

    runner = CliRunner()

    def invoke(*args: str, code: int = 0, input: str | None = None) -> Result:
        result = runner.invoke(
            cli, list(args), input=input, prog_name="dsops", catch_exceptions=False
        )
        assert result.exit_code == code, (
            f"dsops {' '.join(args)} exited {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    return invoke
