"""The lifecycle in real headless Chromium: a deleted parent in the lineage, the
published badge, metadata as a table and as JSON, stored HTML shown as text only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveServer
from tests.browser.lifecycle_store import HOSTILE, HOSTILE_TAG, Life, build_lifecycle

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Life:
    return build_lifecycle(tmp_path_factory.mktemp("life-browser"))


@pytest.fixture(scope="module")
def server(life: Life) -> Iterator[LiveServer]:
    """This module's pages are served from the lifecycle store (the ``page`` fixture
    checks that no request leaves this server)."""
    from dsops.ui import create_app

    with LiveServer(create_app(life.store)) as live:
        yield live


def shot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def test_lineage_draws_the_deleted_parent_and_its_page_says_it_was_deleted(
    page: Any, server: LiveServer, life: Life, page_errors: list[str], tmp_path: Path
) -> None:
    page.goto(f"{server.url}/datasets/life/daily")
    page.wait_for_selector("svg.dag a.node")
    expect(page.locator("svg.dag a.node")).to_have_count(3)
    expect(page.locator("svg.dag path.edge")).to_have_count(2)
    gone = page.locator("svg.dag a.node.deleted")
    expect(gone).to_have_count(1)
    assert gone.get_attribute("data-id") == life.ids["v2"]
    assert gone.get_attribute("data-label") == "1.0.1"
    assert gone.locator("text.semver").inner_html() == "1.0.1"
    assert gone.locator("text.gone").text_content().startswith("deleted 20")
    assert "deleted" in gone.locator("title").text_content()
    # The published badge in the versions list: on 1.0.0 only.
    published = page.locator("#versions tbody tr", has=page.locator(".chip.published"))
    expect(published).to_have_count(1)
    assert "1.0.0" in published.inner_text()
    shot(page, tmp_path, "dataset-with-deleted")

    gone.click()
    page.wait_for_url(f"{server.url}/versions/{life.ids['v2']}")
    notice = page.locator("#deleted-notice")
    expect(notice).to_contain_text("was deleted")
    expect(page.locator("h1")).to_contain_text("life/daily@1.0.1")
    expect(page.locator("h1 .chip.deleted")).to_have_count(1)
    shot(page, tmp_path, "deleted-version")
    # The page and its API call answer 410 Gone, which Chromium logs as console errors.
    page_errors[:] = [e for e in page_errors if "410" not in e]


def test_version_page_shows_metadata_and_stored_html_only_as_text(
    page: Any, server: LiveServer, life: Life, tmp_path: Path
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{server.url}/versions/{life.ids['v3']}")
    page.wait_for_selector("#metadata-table tbody tr")

    description = page.locator("dl.summary dt:has-text('Description') + dd")
    assert description.text_content() == HOSTILE
    assert page.locator("main img").count() == 0  # the description made no element
    tags = page.locator("dl.summary dt:has-text('Tags') + dd .chip.tag").all_text_contents()
    assert tags == ["daily", HOSTILE_TAG]
    assert page.locator("main b").count() == 0
    parent = page.locator("a.parent.deleted")
    assert "life/daily@1.0.1 (deleted)" in parent.inner_text()
    expect(page.locator("svg.dag a.node.deleted")).to_have_count(1)
    expect(page.locator("h1 .chip.published")).to_have_count(0)

    # The DataFrame: its first 50 rows of 60, cells as text (a <script> cell included).
    table = page.locator("#metadata-table")
    assert table.locator("thead th").all_text_contents() == ["split", "count", "score", "note"]
    expect(table.locator("tbody tr")).to_have_count(50)
    assert table.locator("tbody tr").first.locator("td").all_text_contents() == [
        "s0",
        "0",
        "",
        "<script>alert(2)</script>",
    ]
    expect(page.locator("#metadata-value h3")).to_contain_text("50 of 60 rows")
    assert page.locator("#metadata-list tbody tr").count() == 3
    shot(page, tmp_path, "metadata-table")

    # JSON, pretty-printed as text.
    page.click("#metadata-list tr[data-name=labels] button:has-text('show')")
    pre = page.locator("#metadata-json")
    expect(pre).to_contain_text('"html": "<script>alert(3)</script>"')
    assert '\n  "classes": [\n    "cat",' in pre.text_content()
    assert page.locator("main script").count() == 0

    # Bytes are only offered as a download, with the stored bytes.
    with page.expect_download() as download:
        page.click("#metadata-list tr[data-name=blob] a:has-text('download')")
    saved = tmp_path / "blob"
    download.value.save_as(saved)
    assert saved.read_bytes() == stored_metadata(life, "blob")

    # The external file: marked as a link, its source URL as plain text.
    page.fill("#file-search", "remote")
    expect(page.locator("#contents tbody tr")).to_have_count(1)
    cell = page.locator("#contents tbody tr td.path")
    expect(cell.locator(".badge.link")).to_have_text("link")
    assert cell.locator(".source").text_content() == life.link
    assert cell.locator(f"a[href='{life.link}']").count() == 0
    shot(page, tmp_path, "version-lifecycle")
    assert dialogs == []


def stored_metadata(life: Life, name: str) -> bytes:
    from dsops import Dataset

    return Dataset.get(life.ids["v3"], store=life.store).get_metadata_bytes(name)
