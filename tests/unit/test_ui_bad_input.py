"""The web UI under bad input: corrupt records, bugs, tokens in URLs, ports, /docs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from dsops import Dataset, Store
from dsops.ui import create_app
from tests.helpers import write_tree


@pytest.fixture
def app_store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")


def _version(store: Store, tmp_path: Path, name: str) -> Dataset:
    ds = Dataset.create(project="demo", name=name, store=store)
    ds.add_files(write_tree(tmp_path / name, {f"{name}.txt": name}))
    ds.finalize()
    return ds


def test_one_corrupt_record_is_skipped_in_listings_and_a_json_error_when_asked_for(
    app_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = _version(app_store, tmp_path, "good")
    bad = _version(app_store, tmp_path, "bad")
    record = Path(app_store.url) / "versions" / f"{bad.id}.json"
    record.chmod(0o644)
    record.write_text('{"id": "truncated')
    client = TestClient(create_app(Store(app_store.url, cache_dir=tmp_path / "fresh")))
    with caplog.at_level(logging.WARNING, logger="dsops.ui.context"):
        listed = client.get("/api/datasets")
    assert listed.status_code == 200
    assert [d["name"] for d in listed.json()] == ["good"]
    assert f"versions/{bad.id}.json" in caplog.text
    assert client.get("/").status_code == 200
    assert client.get(f"/api/versions/{good.id}").status_code == 200
    detail = client.get(f"/api/versions/{bad.id}")
    assert detail.status_code == 502
    assert f"versions/{bad.id}.json" in detail.json()["detail"]
    assert "Traceback" not in detail.text


def test_an_unexpected_error_answers_json_without_a_traceback(app_store: Store) -> None:
    app = create_app(app_store)

    def broken() -> list[dict[str, Any]]:
        raise RuntimeError("secret internals /home/user/.aws")

    app.state.dsops.versions = broken
    response = TestClient(app, raise_server_exceptions=False).get("/api/datasets")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "Internal error (RuntimeError): see the server log."}
