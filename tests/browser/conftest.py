"""Browser tests: the real server (uvicorn in a thread) and real headless Chromium.

Chromium is Debian's ``chromium`` package (CI installs it); Playwright drives it and
never downloads a browser of its own.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.demo_store import Demo, add_large_version, build

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LARGE_ROWS = 200_000


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "default-store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "default-cache"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """uvicorn serving an app on a free loopback port, in a daemon thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    built = build(tmp_path_factory.mktemp("browser-demo"))
    built.ids["large"] = add_large_version(built, LARGE_ROWS)
    return built


@pytest.fixture(scope="session")
def server(demo: Demo) -> Iterator[LiveServer]:
    from dsops.ui import create_app

    with LiveServer(create_app(demo.store)) as live:
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Script errors and console errors the page logged (a test may clear expected ones)."""
    return []


@pytest.fixture
def page(browser: Any, server: LiveServer, page_errors: list[str]) -> Iterator[Any]:
    """A fresh page that fails the test on any script error or request off the server."""
    context = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors = page_errors
    foreign: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on(
        "request",
        lambda req: None if req.url.startswith((server.url, "data:")) else foreign.append(req.url),
    )
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert errors == [], errors
    assert foreign == [], f"requests left the server (CDN?): {foreign}"
