"""moto's S3 over real HTTP on loopback, shared by the unit tests of the S3 backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
from moto.server import ThreadedMotoServer

# Keyword arguments for S3Store / open_store; moto accepts any keys unless auth is on.
KEYS = {"access_key": "testing", "secret_key": "testing", "region": "us-east-1"}


def moto_server() -> Iterator[str]:
    """Run a threaded moto server; yield its endpoint URL. Wrap it with pytest.fixture."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def raw_client(endpoint: str) -> object:
    """A plain boto3 client on the moto server, for setup and inspection."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["access_key"],
        aws_secret_access_key=KEYS["secret_key"],
        region_name=KEYS["region"],
    )


def new_bucket(endpoint: str) -> str:
    """Create a uniquely named bucket and return its name."""
    name = f"t-{uuid.uuid4().hex[:12]}"
    raw_client(endpoint).create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name
