"""The web UI under load, short form of ``bench/ui_load.py`` (the full run: 50 clients,
60 s, a 1,000,000-file version): no request may fail, and clients that hang up in the
middle of a zip leave no open file or thread behind."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from bench.ui_load import run


def test_concurrent_clients_get_no_errors_and_hung_up_zips_free_their_resources(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, clients=10, seconds=5.0, rows=20_000)
    summary = result.summary()
    print(f"\nUI load (short form): {summary}")
    assert result.errors == [], result.errors[:5]
    assert {"page", "search", "folder", "graph", "version", "zip"} <= set(result.latencies)
    assert result.disconnects == 10
    assert result.fds_after <= result.fds_before + 2, summary["open_files"]
    assert result.threads_after <= result.threads_before + 2, summary["threads"]
