"""The web UI under bad input: corrupt records, bugs, tokens in URLs, ports, /docs."""

from __future__ import annotations

import logging
import os
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

    def broken(q: str = "", tag: str = "") -> list[dict[str, Any]]:
        raise RuntimeError("secret internals /home/user/.aws")

    app.state.dsops.datasets = broken
    response = TestClient(app, raise_server_exceptions=False).get("/api/datasets")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"detail": "Internal error (RuntimeError): see the server log."}


# --- ?token= logins and the access log ------------------------------------------------

TOKEN = "tok-s3cret"
HTML = {"accept": "text/html,application/xhtml+xml"}


def test_a_page_opened_with_token_sets_the_cookie_and_redirects_without_it(
    app_store: Store,
) -> None:
    client = TestClient(create_app(app_store, token=TOKEN), follow_redirects=False)
    login = client.get(f"/?q=cats&token={TOKEN}&tag=raw", headers=HTML)
    assert login.status_code == 303
    assert login.headers["location"] == "/?q=cats&tag=raw"
    assert login.headers["set-cookie"].startswith(f"dsops_ui_token={TOKEN}")
    assert TOKEN not in login.headers["location"]
    assert client.get("/?q=cats&tag=raw", headers=HTML).status_code == 200  # the cookie
    # A path that looks like another host stays on this site.
    fresh = TestClient(create_app(app_store, token=TOKEN), follow_redirects=False)
    odd = fresh.get(f"http://testserver//evil.example/x?token={TOKEN}", headers=HTML)
    assert odd.status_code == 303 and odd.headers["location"] == "/evil.example/x"
    # API clients get their answer directly (and a wrong token is still refused).
    api = TestClient(create_app(app_store, token=TOKEN), follow_redirects=False)
    assert api.get(f"/api/info?token={TOKEN}").status_code == 200
    wrong = TestClient(create_app(app_store, token=TOKEN), follow_redirects=False)
    assert wrong.get("/?token=wrong", headers=HTML).status_code == 401


def test_access_log_lines_hide_token_values() -> None:
    from dsops.ui.security import RedactTokens, redact_token

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/versions/x?token={TOKEN}&q=a", "1.1", 200), None,
    )  # fmt: skip
    assert RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /versions/x?token=***&q=a HTTP/1.1" 200'
    assert redact_token(f"/a?x=1&token={TOKEN}") == "/a?x=1&token=***"
    assert redact_token("/a?mytoken=keep") == "/a?mytoken=keep"


def test_served_ui_on_port_0_prints_the_real_port_and_logs_no_token(
    app_store: Store, tmp_path: Path
) -> None:
    import subprocess
    import sys
    import urllib.request

    code = (
        "from dsops.ui import serve; "
        f"serve(store={app_store.url!r}, host='127.0.0.1', port=0, token={TOKEN!r})"
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=out, env=env)
        try:
            url = _announced_url(proc, log)
            port = int(url.split(":")[2].split("/")[0])
            assert port != 0 and url == f"http://127.0.0.1:{port}/?token={TOKEN}"
            request = urllib.request.Request(url, headers=HTML)
            browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
            with browser.open(request, timeout=30) as response:  # follows the 303
                assert response.status == 200 and response.url == f"http://127.0.0.1:{port}/"
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    text = log.read_text()
    assert "GET /?token=*** HTTP/1.1" in text and "303" in text
    assert text.count(TOKEN) == 1  # only in the URL printed for the user to open


def _announced_url(proc: Any, log: Path) -> str:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        if "Application startup complete" in text:
            return text.split(" at ", 1)[1].split()[0]
        assert proc.poll() is None, text
        time.sleep(0.1)
    raise AssertionError(log.read_text())


# --- ports and /docs -------------------------------------------------------------------


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starting a server fails the test instead of blocking it."""
    import uvicorn

    def started(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(uvicorn, "run", started)
    monkeypatch.setattr(uvicorn.Server, "run", started)


@pytest.mark.parametrize("port", [99999, 65536, -1])
@pytest.mark.usefixtures("no_server")
def test_serve_refuses_a_port_out_of_range(app_store: Store, port: int) -> None:
    from dsops.errors import ConfigError
    from dsops.ui import serve

    with pytest.raises(ConfigError, match="use 1-65535"):
        serve(store=app_store, port=port)


@pytest.mark.usefixtures("no_server")
def test_cli_ui_refuses_a_port_out_of_range_in_one_line(app_store: Store) -> None:
    from click.testing import CliRunner

    from dsops.cli import cli

    result = CliRunner().invoke(
        cli, ["ui", "--store", app_store.url, "--port", "99999"], prog_name="dsops"
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: Invalid value for '--port': 99999 is not in the range 0<=x<=65535 "
        "(see `dsops ui --help`)."
    ]


def test_a_port_in_use_is_a_clear_error(app_store: Store) -> None:
    from dsops.errors import ConfigError
    from dsops.ui.server import listen

    taken = listen("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"Cannot listen on 127.0.0.1:{port}.*another --port"):
            listen("127.0.0.1", port)
    finally:
        taken.close()


def test_docs_pages_are_not_served_but_the_openapi_schema_is(app_store: Store) -> None:
    client = TestClient(create_app(app_store))
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "://" not in response.text and "cdn" not in response.text.lower()
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and "/api/datasets" in spec.json()["paths"]
