"""The web UI in real headless Chromium against the real server."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LARGE_ROWS, LiveServer
from tests.browser.demo_store import AIRFLOW_URL, Demo

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.slow


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def rows(page: Any, selector: str) -> list[str]:
    texts: list[str] = page.locator(selector).all_inner_texts()
    return texts


def test_datasets_page_lists_projects_and_searches(
    page: Any, server: LiveServer, tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    page.wait_for_selector("text=corpus")
    headings = rows(page, "section.project h2")
    assert [h.split("·")[0].strip() for h in headings] == [
        "project big",
        "project nlp/en",
        "project vision",
    ]
    cats = page.locator("tr", has=page.locator("a", has_text="cats"))
    assert "1.0.3" in cats.inner_text() and "prod" in cats.inner_text()
    shot(page, tmp_path, "datasets")
    page.fill("input[name=q]", "corpus")
    expect(page.locator("section.project")).to_have_count(1)
    assert "corpus" in page.locator("#datasets").inner_text()
    assert "q=corpus" in page.url  # the search is linkable
    page.fill("input[name=q]", "")
    expect(page.locator("section.project")).to_have_count(3)
    page.click("button.chip.tag:has-text('img')")
    expect(page.locator("section.project")).to_have_count(1)
    assert "cats" in page.locator("#datasets").inner_text()


def test_click_dataset_then_version_then_parent_in_the_dag(
    page: Any, server: LiveServer, demo: Demo, tmp_path: Path
) -> None:
    page.goto(server.url + "/")
    page.click("a.strong:has-text('cats')")
    page.wait_for_url(f"{server.url}/datasets/vision/cats")
    page.wait_for_selector("svg.dag a.node")
    assert page.locator("svg.dag a.node").count() == 4
    assert page.locator("svg.dag path.edge").count() == 4
    merge = page.locator("svg.dag a.node.merge")
    assert merge.count() == 1 and merge.get_attribute("data-id") == demo.ids["v4"]
    assert page.locator("#versions tbody tr").count() == 4
    assert page.locator(f"a.prov[href='{AIRFLOW_URL}']").count() == 1
    assert page.locator("svg.chart.line").count() == 2
    shot(page, tmp_path, "dataset")

    page.click("svg.dag a.node[data-label='1.0.3']")
    page.wait_for_url(f"{server.url}/versions/{demo.ids['v4']}")
    page.wait_for_selector("svg.dag a.node.current")
    assert page.locator("h1").inner_text() == "vision/cats@1.0.3"
    shot(page, tmp_path, "version-merge")

    page.click("svg.dag a.node[data-label='1.0.1']")
    page.wait_for_url(f"{server.url}/versions/{demo.ids['v2']}")
    page.wait_for_selector("svg.dag a.node.current[data-label='1.0.1']")
    summary = page.locator("dl.summary").inner_text()
    assert "vision/cats@1.0.0" in summary and "prod" in summary and "airflow" in summary
    page.wait_for_selector("#stats svg.chart")
    assert "png" in page.locator("#stats").inner_text()
    shot(page, tmp_path, "version")


def test_contents_search_sort_folders_and_previews(
    page: Any, server: LiveServer, demo: Demo, tmp_path: Path
) -> None:
    page.goto(f"{server.url}/versions/{demo.ids['v2']}")
    page.wait_for_selector("#contents tbody tr td.path")
    assert page.locator("#contents tbody tr").count() == len(demo.files["v2"])
    page.fill("#file-search", "png")
    expect(page.locator("#contents tbody tr")).to_have_count(4)
    assert "q=png" in page.url
    page.fill("#file-search", "")
    expect(page.locator("#contents tbody tr")).to_have_count(7)
    page.click("button.sort[data-sort=size]")
    page.wait_for_selector("button.sort[data-sort=size]:has-text('▼')")
    first = page.locator("#contents tbody tr").first.inner_text()
    assert "table.parquet" in first
    page.click("#contents a.dir:has-text('train')")
    page.wait_for_selector("#zip-folder")
    assert page.locator("#contents tbody tr").count() == 3
    page.click("#contents tr:has-text('d.png') button")
    thumb = page.locator("img.thumb")
    expect(thumb).to_be_visible()
    expect(thumb).to_have_js_property("naturalWidth", 256)
    shot(page, tmp_path, "thumbnail")
    page.click(".folder a:has-text('root')")
    expect(page.locator("#contents tbody tr")).to_have_count(7)
    page.click("#contents tr:has-text('labels.csv') button")
    page.wait_for_selector("#preview table.preview")
    assert rows(page, "#preview table.preview tbody tr") == [
        "images/train/a.png\tcat",
        "images/train/b.png\tcat",
    ]
    shot(page, tmp_path, "preview")


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_download_version_and_folder_zip_and_one_file(
    page: Any, server: LiveServer, demo: Demo, tmp_path: Path
) -> None:
    page.goto(f"{server.url}/versions/{demo.ids['v2']}")
    page.wait_for_selector("#contents tbody tr td.path")
    with page.expect_download() as info:
        page.click("#zip-all")
    saved = tmp_path / "all.zip"
    info.value.save_as(saved)
    assert info.value.suggested_filename == "cats-1.0.1.zip"
    assert read_zip(saved) == demo.files["v2"]

    page.click("#contents a.dir:has-text('images') >> nth=0")
    page.wait_for_selector("#zip-folder")
    with page.expect_download() as info:
        page.click("#zip-folder")
    info.value.save_as(tmp_path / "folder.zip")
    expected = {p: b for p, b in demo.files["v2"].items() if p.startswith("images/")}
    assert read_zip(tmp_path / "folder.zip") == expected

    with page.expect_download() as info:
        page.click("#contents a.file:has-text('d.png')")
    info.value.save_as(tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes() == demo.files["v2"]["images/train/d.png"]


def test_diff_against_parents_and_another_version(
    page: Any, server: LiveServer, demo: Demo, tmp_path: Path
) -> None:
    page.goto(f"{server.url}/versions/{demo.ids['v2']}")
    page.wait_for_selector("#diff-rows")
    assert rows(page, "#diff-rows tbody td.path") == ["images/train/d.png"]
    page.click("button.tab[data-kind=modified]")
    page.wait_for_selector("button.tab.active[data-kind=modified]")
    assert rows(page, "#diff-rows tbody td.path") == ["labels.csv"]
    page.wait_for_selector(f"#diff-against option[value='{demo.ids['v3']}']", state="attached")
    page.select_option("#diff-against", demo.ids["v3"])
    page.wait_for_selector(f"#diff a[href$='{demo.ids['v3']}']")
    page.click("button.tab[data-kind=removed]")
    page.wait_for_selector("button.tab.active[data-kind=removed]")
    assert sorted(rows(page, "#diff-rows tbody td.path")) == ["extra/x.txt", "notes/readme.txt"]
    shot(page, tmp_path, "diff")


def test_large_version_pages_and_searches(
    page: Any, server: LiveServer, demo: Demo, tmp_path: Path
) -> None:
    page.goto(f"{server.url}/versions/{demo.ids['large']}")
    page.wait_for_selector("#page-info")
    assert page.inner_text("#page-info") == f"1–100 of {LARGE_ROWS:,}"
    page.click("button:has-text('Next ›')")
    page.wait_for_selector(f"#page-info:has-text('101–200 of {LARGE_ROWS:,}')")
    page.fill("#file-search", "item0123456")
    page.wait_for_selector("#page-info:has-text('1–1 of 1')")
    assert rows(page, "#contents tbody td.path") == ["shard72/item0123456.bin"]
    shot(page, tmp_path, "large")


def test_jump_box_and_unknown_version(
    page: Any, server: LiveServer, demo: Demo, page_errors: list[str]
) -> None:
    page.goto(server.url + "/")
    page.fill("#jump input", "vision/cats@prod")
    page.press("#jump input", "Enter")
    page.wait_for_url(f"{server.url}/versions/{demo.ids['v2']}")
    page.goto(f"{server.url}/versions/{'0' * 32}")
    page.wait_for_selector(".error")
    assert "No finalized version" in page.inner_text(".error")
    assert page_errors and all("404" in e for e in page_errors)  # the page and the API call
    page_errors.clear()


def test_token_server_accepts_the_printed_url_then_the_cookie(
    browser: Any, demo: Demo, tmp_path: Path
) -> None:
    from dsops.ui import create_app

    with LiveServer(create_app(demo.store, token="tok-123")) as live:
        context = browser.new_context()
        page = context.new_page()
        refused = page.goto(live.url + "/")
        assert refused is not None and refused.status == 401
        page.goto(live.url + "/?token=tok-123")
        page.wait_for_selector("section.project")
        page.click("a.strong:has-text('cats')")  # later pages and API calls use the cookie
        page.wait_for_selector("svg.dag a.node")
        shot(page, tmp_path, "token")
        context.close()
