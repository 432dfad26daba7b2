"""The web UI over the dataset lifecycle: deleted versions (410, lineage), published,
description and tags, metadata routes, external links; stored strings stay data."""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from dsops import Dataset, Store
from dsops.ui import context as ui_context
from dsops.ui import create_app
from tests.browser.lifecycle_store import (
    BLOB,
    HOSTILE,
    HOSTILE_TAG,
    LABELS,
    TABLE_ROWS,
    Life,
    build_lifecycle,
)


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Life:
    return build_lifecycle(tmp_path_factory.mktemp("life"))


@pytest.fixture(scope="module")
def client(life: Life) -> Iterator[TestClient]:
    with TestClient(create_app(life.store)) as test_client:
        yield test_client


# --- deleted versions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [
        "",
        "/graph",
        "/stats",
        "/files",
        "/file?path=c.txt",
        "/zip",
        "/diff",
        "/preview?path=data/b.csv",
        "/metadata",
        "/metadata/stats",
        "/metadata/stats/raw",
    ],
)
def test_every_route_of_a_deleted_version_is_410_naming_it(
    client: TestClient, life: Life, route: str
) -> None:
    v2 = life.ids["v2"]
    response = client.get(f"/api/versions/{v2}{route}")
    assert response.status_code == 410
    body = response.json()
    assert body["id"] == v2 and body["ref"] == "life/daily@1.0.1"
    assert body["deleted_at"] and body["deleted_at"] in body["detail"]
    assert v2 in body["detail"] and "was deleted" in body["detail"]


def test_a_deleted_version_page_is_410_and_an_unknown_id_stays_404(
    client: TestClient, life: Life
) -> None:
    page = client.get(f"/versions/{life.ids['v2']}")
    assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
    unknown = "f" * 32
    assert client.get(f"/versions/{unknown}").status_code == 404
    missing = client.get(f"/api/versions/{unknown}")
    assert missing.status_code == 404 and "deleted" not in missing.json()["detail"]
    assert client.get(f"/api/versions/{unknown}/zip").status_code == 404


def test_a_reference_to_a_deleted_label_is_410(client: TestClient, life: Life) -> None:
    response = client.get("/api/resolve", params={"ref": "life/daily@1.0.1"})
    assert response.status_code == 410
    assert response.json()["id"] == life.ids["v2"]


def test_the_child_of_a_deleted_parent_shows_its_lineage_through_it(
    client: TestClient, life: Life
) -> None:
    v1, v2, v3 = life.ids["v1"], life.ids["v2"], life.ids["v3"]
    graph = client.get(f"/api/versions/{v3}/graph").json()
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert set(nodes) == {v1, v2, v3}
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {(v1, v2), (v2, v3)}
    gone = nodes[v2]
    assert gone["deleted"] and gone["deleted_at"] and gone["label"] == "1.0.1"
    assert gone["ref"] == "life/daily@1.0.1" and not gone["external"]
    assert not nodes[v1]["deleted"] and nodes[v3]["current"]
    assert [n["column"] for n in (nodes[v1], gone, nodes[v3])] == [0, 1, 2]

    detail = client.get(f"/api/versions/{v3}").json()
    [parent] = detail["parent_refs"]
    assert parent["id"] == v2 and parent["deleted"] and parent["ref"] == "life/daily@1.0.1"
    files = client.get(f"/api/versions/{v3}/files").json()["rows"]
    inherited = next(r for r in files if r["path"] == "c.txt")
    assert inherited["origin"] == v2 and inherited["origin_ref"] == "life/daily@1.0.1"
    download = client.get(f"/api/versions/{v3}/file", params={"path": "c.txt"})
    assert download.status_code == 200 and download.content == b"two"


def test_the_dataset_graph_draws_the_deleted_version_between_live_ones(
    client: TestClient, life: Life
) -> None:
    v1, v2, v3 = life.ids["v1"], life.ids["v2"], life.ids["v3"]
    body = client.get("/api/datasets/life/daily").json()
    assert [v["id"] for v in body["versions"]] == [v1, v3]  # listings skip it
    nodes = {n["id"]: n for n in body["graph"]["nodes"]}
    assert nodes[v2]["deleted"] and not nodes[v2]["external"] and nodes[v2]["label"] == "1.0.1"
    edges = {(e["source"], e["target"]) for e in body["graph"]["edges"]}
    assert edges == {(v1, v2), (v2, v3)}


def test_a_version_deleted_by_another_process_is_410_once_the_listing_is_reread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(str(tmp_path / "s"), cache_dir=tmp_path / "c")
    first = Dataset.create("p", "d", store=store)
    first.finalize()
    second = Dataset.create("p", "d", parents=[first.id], store=store)
    second.finalize()
    client = TestClient(create_app(store))
    assert client.get(f"/api/versions/{first.id}/files").status_code == 200  # all cached
    other = Store(str(tmp_path / "s"), cache_dir=tmp_path / "c2")
    Dataset.delete(first.id, force=True, store=other)
    monkeypatch.setattr(ui_context, "LIST_TTL_SECONDS", 0.0)
    assert client.get(f"/api/versions/{first.id}/files").status_code == 410
    assert client.get(f"/api/versions/{first.id}").status_code == 410
    nodes = client.get(f"/api/versions/{second.id}/graph").json()["nodes"]
    assert [n["deleted"] for n in nodes if n["id"] == first.id] == [True]


def test_catalog_deletion_returns_the_tombstone_record_and_time(life: Life) -> None:
    found = life.store.catalog.deletion(life.ids["v2"])
    assert found is not None
    assert found.record.ref == "life/daily@1.0.1" and found.deleted_at and found.forced
    assert life.store.catalog.deletion(life.ids["v3"]) is None


# --- published, description, tags -----------------------------------------------------


def test_published_and_current_description_and_tags_are_in_the_version_json(
    client: TestClient, life: Life
) -> None:
    v1 = client.get(f"/api/versions/{life.ids['v1']}").json()
    assert v1["published"] is True and v1["published_at"]
    v3 = client.get(f"/api/versions/{life.ids['v3']}").json()
    assert v3["published"] is False and v3["published_at"] is None
    assert v3["description"] == HOSTILE  # returned as data, exactly as stored
    assert v3["tags"] == ["daily", HOSTILE_TAG]
    assert v3["metadata"] == ["blob", "labels", "stats"]
    rows = {v["id"]: v for v in client.get("/api/datasets/life/daily").json()["versions"]}
    assert rows[life.ids["v1"]]["published"] and not rows[life.ids["v3"]]["published"]
    assert rows[life.ids["v3"]]["description"] == HOSTILE


def test_a_description_set_after_start_shows_once_the_listing_is_reread(
    client: TestClient, life: Life, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui_context, "LIST_TTL_SECONDS", 0.0)
    Dataset.get(life.ids["v1"], store=life.store).set_description("day one, revised")
    assert client.get(f"/api/versions/{life.ids['v1']}").json()["description"] == (
        "day one, revised"
    )


# --- metadata ------------------------------------------------------------------------


def test_metadata_list_names_kinds_and_sizes(client: TestClient, life: Life) -> None:
    listed = client.get(f"/api/versions/{life.ids['v3']}/metadata").json()
    assert [(m["name"], m["kind"]) for m in listed] == [
        ("blob", "bytes"),
        ("labels", "json"),
        ("stats", "parquet"),
    ]
    assert listed[0]["size"] == len(BLOB) and all(m["set_at"] for m in listed)
    assert client.get(f"/api/versions/{life.ids['v1']}/metadata").json() == []


def test_a_dataframe_is_a_table_of_its_first_rows_with_the_row_count(
    client: TestClient, life: Life
) -> None:
    v3 = life.ids["v3"]
    body = client.get(f"/api/versions/{v3}/metadata/stats", params={"limit": 5}).json()
    assert [c["name"] for c in body["columns"]] == ["split", "count", "score", "note"]
    assert body["total_rows"] == TABLE_ROWS and len(body["rows"]) == 5 and body["truncated"]
    assert body["rows"][0] == ["s0", 0, None, "<script>alert(2)</script>"]  # data, not markup
    assert body["rows"][1][:3] == ["s1", 1, 0.5]
    assert body["download"] == f"/api/versions/{v3}/metadata/stats/raw"
    whole = client.get(f"/api/versions/{v3}/metadata/stats", params={"limit": 1000}).json()
    assert len(whole["rows"]) == TABLE_ROWS and not whole["truncated"]
    assert client.get(f"/api/versions/{v3}/metadata/stats", params={"limit": 0}).status_code == 422


def test_json_metadata_is_its_value_and_bytes_offer_a_download(
    client: TestClient, life: Life
) -> None:
    v3 = life.ids["v3"]
    labels = client.get(f"/api/versions/{v3}/metadata/labels").json()
    assert labels["kind"] == "json" and labels["value"] == LABELS and not labels["truncated"]
    blob = client.get(f"/api/versions/{v3}/metadata/blob").json()
    assert blob["kind"] == "bytes" and blob["size"] == len(BLOB) and blob["value"] is None
    assert blob["download"] == f"/api/versions/{v3}/metadata/blob/raw"


@pytest.mark.parametrize(
    ("name", "media_type", "filename"),
    [
        ("blob", "application/octet-stream", "blob"),
        ("labels", "application/json", "labels.json"),
        ("stats", "application/octet-stream", "stats.parquet"),
    ],
)
def test_raw_metadata_is_an_attachment_with_a_safe_type(
    client: TestClient, life: Life, name: str, media_type: str, filename: str
) -> None:
    response = client.get(f"/api/versions/{life.ids['v3']}/metadata/{name}/raw")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.headers["content-disposition"] == f"attachment; filename*=utf-8''{filename}"
    assert response.headers["x-content-type-options"] == "nosniff"
    expected = Dataset.get(life.ids["v3"], store=life.store).get_metadata_bytes(name)
    assert response.content == expected
    if name == "blob":
        assert response.content == BLOB
    if name == "stats":
        assert pq.read_table(io.BytesIO(response.content)).num_rows == TABLE_ROWS


def test_unknown_metadata_is_404_naming_what_exists(client: TestClient, life: Life) -> None:
    for route in ("", "/raw"):
        response = client.get(f"/api/versions/{life.ids['v3']}/metadata/nope{route}")
        assert response.status_code == 404
        assert response.json()["detail"].endswith(
            "no metadata 'nope' (it has: blob, labels, stats)."
        )


@pytest.mark.parametrize("name", ["a..b", "%2E%2E", "a%2Fb", "..%2Fstats", "bad%20name", "-x"])
@pytest.mark.parametrize("route", ["", "/raw"])
def test_invalid_metadata_names_are_400(
    client: TestClient, life: Life, name: str, route: str
) -> None:
    response = client.get(f"/api/versions/{life.ids['v3']}/metadata/{name}{route}")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid metadata name")


# --- external files -------------------------------------------------------------------


def test_an_external_file_is_listed_with_its_source_url(client: TestClient, life: Life) -> None:
    rows = client.get(f"/api/versions/{life.ids['v3']}/files").json()["rows"]
    links = {r["path"]: r["link"] for r in rows}
    assert links["ext/remote.txt"] == life.link and links["d.txt"] == ""
    fetched = client.get(f"/api/versions/{life.ids['v3']}/file", params={"path": "ext/remote.txt"})
    assert fetched.content == b"kept at its source"


def test_a_diff_against_a_deleted_parent_is_410_and_another_version_still_compares(
    client: TestClient, life: Life
) -> None:
    v1, v2, v3 = life.ids["v1"], life.ids["v2"], life.ids["v3"]
    refused = client.get(f"/api/versions/{v3}/diff")
    assert refused.status_code == 410
    body = refused.json()
    assert body["id"] == v2 and body["detail"].startswith(f"Cannot compare {v3} with its parents")
    compared = client.get(f"/api/versions/{v3}/diff", params={"against": v1}).json()
    assert [(b["id"], b["ref"]) for b in compared["base"]] == [(v1, "life/daily@1.0.0")]
    assert compared["counts"]["added"] == 3  # c.txt (from the deleted 1.0.1), d.txt, the link


def test_stored_strings_reach_the_browser_only_as_json_data(client: TestClient, life: Life) -> None:
    page = client.get(f"/versions/{life.ids['v3']}")
    assert page.status_code == 200
    assert "onerror" not in page.text and "alert" not in page.text  # the shell holds no data
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for route in ("", "/metadata/labels", "/metadata/stats"):
        response = client.get(f"/api/versions/{life.ids['v3']}{route}")
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_pruned_chain_is_drawn_whole_and_a_deleted_parent_elsewhere_is_a_boundary(
    tmp_path: Path,
) -> None:
    store = Store(str(tmp_path / "s"), cache_dir=tmp_path / "c")
    chain: list[str] = []
    for _ in range(5):
        step = Dataset.create("p", "daily", parents=chain[-1:], store=store)
        chain.append(step.finalize())
    source = Dataset.create("other", "src", store=store)
    source.finalize()
    derived = Dataset.create("p", "derived", parents=[source.id], store=store)
    derived.finalize()
    Dataset.prune(project="p", name="daily", keep_last=1, store=store)
    Dataset.delete(source.id, force=True, store=store)
    client = TestClient(create_app(store))

    graph = client.get("/api/datasets/p/daily").json()["graph"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert set(nodes) == set(chain)
    assert [nodes[i]["deleted"] for i in chain] == [True, True, True, True, False]
    assert [nodes[i]["label"] for i in chain] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.4"]
    assert [nodes[i]["column"] for i in chain] == [0, 1, 2, 3, 4]
    assert {(e["source"], e["target"]) for e in graph["edges"]} == set(pairwise(chain))

    other = client.get("/api/datasets/p/derived").json()["graph"]
    boundary = next(n for n in other["nodes"] if n["id"] == source.id)
    assert boundary["external"] and boundary["deleted"] and boundary["ref"] == "other/src@1.0.0"


def test_a_diff_against_a_deleted_version_is_410_naming_it(client: TestClient, life: Life) -> None:
    response = client.get(
        f"/api/versions/{life.ids['v3']}/diff", params={"against": "life/daily@1.0.1"}
    )
    assert response.status_code == 410
    assert response.json()["id"] == life.ids["v2"] and response.json()["deleted_at"]
