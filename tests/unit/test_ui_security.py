"""Who may use the web UI: tokens, Host checks, what ``serve`` binds and announces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from dsops import Store
from dsops.ui import create_app, serve
from dsops.ui.security import COOKIE
from dsops.ui.server import LOOPBACK_HOSTS, is_loopback

TOKEN = "s3cret-token"
GUARDED = ["/", "/api/datasets", "/api/info", "/openapi.json", "/static/app.js",
           "/versions/" + "0" * 32, "/api/versions/" + "0" * 32 + "/zip"]  # fmt: skip


@pytest.fixture
def app_store(tmp_path: Path) -> Store:
    return Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize("url", GUARDED)
def test_every_route_needs_the_token(app_store: Store, url: str) -> None:
    client = TestClient(create_app(app_store, token=TOKEN))
    response = client.get(url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Not authenticated" in response.json()["detail"]
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(url, params={"token": TOKEN + "x"}).status_code == 401


def test_bearer_header_is_accepted(app_store: Store) -> None:
    client = TestClient(create_app(app_store, token=TOKEN))
    response = client.get("/api/datasets", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200 and response.json() == []
    assert "set-cookie" not in response.headers


def test_query_token_sets_a_cookie_that_then_suffices(app_store: Store) -> None:
    client = TestClient(create_app(app_store, token=TOKEN))
    first = client.get("/api/info", params={"token": TOKEN})
    assert first.status_code == 200
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={TOKEN}")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # The client kept the cookie: later requests need no token.
    assert client.get("/api/datasets").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_without_token_the_app_is_open(app_store: Store) -> None:
    assert TestClient(create_app(app_store)).get("/api/datasets").status_code == 200


def test_loopback_only_hosts_refuse_rebound_names(app_store: Store) -> None:
    client = TestClient(create_app(app_store, allowed_hosts=LOOPBACK_HOSTS))
    assert client.get("/api/datasets", headers={"host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/api/datasets", headers={"host": "localhost"}).status_code == 200
    assert client.get("/api/datasets", headers={"host": "[::1]:8765"}).status_code == 200
    refused = client.get("/api/datasets", headers={"host": "evil.example:8765"})
    assert refused.status_code == 400 and "Host" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True),
     ("[::1]", True), ("0.0.0.0", False), ("192.0.2.1", False), ("::", False),
     ("example.com", False)],
)  # fmt: skip
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


class FakeSocket:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)

    def getsockname(self) -> tuple[str, int]:
        return self.address

    def close(self) -> None:
        pass


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What serve() hands uvicorn; nothing listens (the socket is a stand-in)."""
    import uvicorn

    from dsops.ui import server

    seen: dict[str, Any] = {}

    def fake_run(self: uvicorn.Server, sockets: list[Any] | None = None) -> None:
        config = self.config
        seen["app"], seen["sockets"] = config.app, sockets
        seen["kwargs"] = {
            "host": config.host,
            "port": config.port,
            "log_level": config.log_level,
            "server_header": config.server_header,
        }

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setattr(server, "listen", FakeSocket)
    return seen


def test_serve_on_another_address_generates_and_announces_a_token(
    app_store: Store, captured: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(store=app_store, host="0.0.0.0", port=9999)
    assert captured["kwargs"]["host"] == "0.0.0.0" and captured["kwargs"]["port"] == 9999
    err = capsys.readouterr().err
    token = err.split("generated access token ")[1].split()[0]
    assert len(token) >= 24 and f"?token={token}" in err
    client = TestClient(captured["app"])
    assert client.get("/api/datasets").status_code == 401
    assert client.get("/api/datasets", headers={"Authorization": f"Bearer {token}"}).is_success


def test_serve_with_a_given_token_uses_it(
    app_store: Store, captured: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(store=app_store, host="0.0.0.0", port=9999, token=TOKEN)
    assert "generated" not in capsys.readouterr().err
    client = TestClient(captured["app"])
    assert client.get("/api/info", params={"token": TOKEN}).status_code == 200


def test_serve_on_loopback_needs_no_token_but_checks_host(
    app_store: Store, captured: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    serve(store=str(app_store.url))
    assert captured["kwargs"]["host"] == "127.0.0.1" and captured["kwargs"]["port"] == 8765
    assert "http://127.0.0.1:8765/" in capsys.readouterr().err
    client = TestClient(captured["app"])
    assert client.get("/api/datasets", headers={"host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/api/datasets", headers={"host": "attacker.example"}).status_code == 400


def test_assets_ship_in_the_package_and_load_nothing_from_elsewhere() -> None:
    import re
    from importlib import resources

    from dsops.ui.app import STATIC

    folder = resources.files("dsops.ui").joinpath("static")
    for name in [*STATIC, "index.html"]:
        text = folder.joinpath(name).read_text("utf-8")
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text))
        assert urls <= {"http://www.w3.org/2000/svg"}, (name, urls)
    assert ".innerHTML" not in folder.joinpath("app.js").read_text("utf-8")


def test_dsops_ui_command_serves_through_serve(
    app_store: Store, captured: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = pytest.importorskip("dsops.cli")
    from click.testing import CliRunner

    monkeypatch.delenv("DSOPS_UI_TOKEN", raising=False)
    result = CliRunner().invoke(
        cli.cli, ["ui", "--store", app_store.url, "--host", "0.0.0.0", "--port", "9000"]
    )
    assert result.exit_code == 0, result.output
    assert "generated access token" in result.output
    assert captured["kwargs"] == {
        "host": "0.0.0.0", "port": 9000, "log_level": "info", "server_header": False
    }  # fmt: skip
    assert TestClient(captured["app"]).get("/api/datasets").status_code == 401
