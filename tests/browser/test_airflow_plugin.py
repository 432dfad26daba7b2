"""The web UI inside a real Airflow API server, through the ``airflow.plugins`` entry point.

A temporary AIRFLOW_HOME with the simple auth manager; the store comes from the
``dsops_default`` connection (set as an environment variable), while DSOPS_STORE points
elsewhere, so a page that shows the demo datasets proves the connection was used.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import free_port
from tests.browser.demo_store import Demo

pytest.importorskip("airflow")
expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.slow

PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw"}


@pytest.fixture(scope="module")
def airflow_url(tmp_path_factory: pytest.TempPathFactory, demo: Demo) -> Iterator[str]:
    home = tmp_path_factory.mktemp("airflow-home")
    (home / "dags").mkdir()
    (home / "passwords.json").write_text(json.dumps(PASSWORDS))
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": "dsops-test-secret",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW_CONN_DSOPS_DEFAULT": json.dumps({"conn_type": "dsops", "host": demo.store.url}),
        "DSOPS_STORE": str(home / "not-the-store"),
        "DSOPS_CACHE_DIR": str(home / "dsops-cache"),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run(
        [airflow, "db", "migrate"], env=env, check=True, timeout=600, capture_output=True
    )
    log = (home / "api-server.log").open("wb")
    proc = subprocess.Popen(
        [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "airflow api-server did not start:\n"
                    + (home / "api-server.log").read_text(errors="replace")[-4000:]
                )
            try:
                if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()


def token_for(url: str, user: str) -> str:
    response = httpx.post(
        f"{url}/auth/token", json={"username": user, "password": PASSWORDS[user]}, timeout=30
    )
    assert response.status_code in (200, 201), response.text
    access: str = response.json()["access_token"]
    return access


def test_plugin_is_registered_through_the_entry_point() -> None:
    names = {ep.name: ep.value for ep in entry_points(group="airflow.plugins")}
    assert names.get("dsops") == "airflow_provider.plugins.ui:DsopsUIPlugin"


@pytest.mark.parametrize(
    "path", ["/dsops/", "/dsops/api/datasets", "/dsops/docs", "/dsops/openapi.json",
             "/dsops/static/app.js"],
)  # fmt: skip
def test_mounted_app_refuses_anonymous_and_forged_tokens(airflow_url: str, path: str) -> None:
    anonymous = httpx.get(airflow_url + path, timeout=30)
    assert anonymous.status_code == 401
    forged = httpx.get(airflow_url + path, headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code in (401, 403)
    cookie = httpx.get(airflow_url + path, cookies={"_token": "not-a-jwt"}, timeout=30)
    assert cookie.status_code in (401, 403)


def test_airflow_user_reads_the_connection_store(airflow_url: str, demo: Demo) -> None:
    headers = {"Authorization": f"Bearer {token_for(airflow_url, 'viewer')}"}
    found = httpx.get(f"{airflow_url}/dsops/api/datasets", headers=headers, timeout=60).json()
    assert {f"{d['project']}/{d['name']}" for d in found} >= {"vision/cats", "nlp/en/corpus"}
    data = httpx.get(
        f"{airflow_url}/dsops/api/versions/{demo.ids['v2']}/file",
        params={"path": "labels.csv"},
        headers=headers,
        timeout=60,
    )
    assert data.content == demo.files["v2"]["labels.csv"]


def test_plugin_adds_the_app_and_a_datasets_nav_entry(airflow_url: str) -> None:
    headers = {"Authorization": f"Bearer {token_for(airflow_url, 'admin')}"}
    plugins = httpx.get(f"{airflow_url}/api/v2/plugins", headers=headers, timeout=60).json()
    ours = next(p for p in plugins["plugins"] if p["name"] == "dsops")
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/dsops"]
    view = ours["external_views"][0]
    assert (view["name"], view["href"], view["destination"]) == ("Datasets", "/dsops/", "nav")


def test_pages_through_airflow_with_the_login_cookie(
    browser: Any, airflow_url: str, demo: Demo, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.add_cookies([{"name": "_token", "value": token_for(airflow_url, "viewer"),
                          "url": airflow_url}])  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{airflow_url}/dsops/")
    page.wait_for_selector("section.project")
    page.click("a.strong:has-text('cats')")
    page.wait_for_url(f"{airflow_url}/dsops/datasets/vision/cats")
    page.click("svg.dag a.node[data-label='1.0.1']")
    page.wait_for_url(f"{airflow_url}/dsops/versions/{demo.ids['v2']}")
    page.click("dl.summary a.parent")
    page.wait_for_url(f"{airflow_url}/dsops/versions/{demo.ids['v1']}")
    page.wait_for_selector("#contents tbody tr td.path")
    page.screenshot(path=str(tmp_path / "in-airflow.png"), full_page=True)

    # Airflow's own UI lists "Datasets" in its navigation and shows the app inside.
    page.goto(f"{airflow_url}/plugin/dsops")
    frame = page.frame_locator("iframe")
    expect(frame.locator("section.project").first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("link", name="Datasets").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "airflow-nav.png"))
    context.close()
    assert errors == []
