"""The web UI's JSON API, route by route, on a real local store built through the SDK."""

from __future__ import annotations

import io
import os
import statistics
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from dsops import Dataset, Store
from dsops.errors import AccessDenied
from dsops.ui import create_app
from dsops.ui.security import redact
from dsops.ui.zipstream import stream_zip
from tests.browser.demo_store import AIRFLOW_URL, Demo, add_large_version, build
from tests.helpers import write_tree

LARGE_ROWS = 200_000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    built = build(tmp_path_factory.mktemp("ui"))
    built.ids["large"] = add_large_version(built, LARGE_ROWS)
    return built


@pytest.fixture(scope="module")
def client(demo: Demo) -> Iterator[TestClient]:
    with TestClient(create_app(demo.store)) as test_client:
        yield test_client


def ids(demo: Demo, *names: str) -> list[str]:
    return [demo.ids[n] for n in names]


# --- datasets ---------------------------------------------------------------------------


def test_datasets_list_counts_versions_latest_size_aliases_tags(
    client: TestClient, demo: Demo
) -> None:
    rows = {f"{r['project']}/{r['name']}": r for r in client.get("/api/datasets").json()}
    assert set(rows) == {"vision/cats", "nlp/en/corpus", "big/many"}
    cats = rows["vision/cats"]
    assert cats["version_count"] == 4
    assert cats["latest"] == {
        "id": demo.ids["v4"],
        "version": "1.0.3",
        "ref": "vision/cats@1.0.3",
    }
    assert cats["file_count"] == len(demo.files["v4"])
    assert cats["size"] == sum(len(b) for b in demo.files["v4"].values())
    assert cats["aliases"] == {"latest": demo.ids["v4"], "prod": demo.ids["v2"]}
    assert cats["tags"] == ["img"]
    assert rows["nlp/en/corpus"]["tags"] == ["text"]
    assert rows["big/many"]["file_count"] == LARGE_ROWS


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "corpus"}, ["nlp/en/corpus"]),
        ({"q": "CATS"}, ["vision/cats"]),
        ({"q": "pictures"}, ["vision/cats"]),  # the description
        ({"tag": "img"}, ["vision/cats"]),
        ({"tag": "text", "q": "nlp"}, ["nlp/en/corpus"]),
        ({"tag": "text", "q": "cats"}, []),
        ({"q": "no-such-thing"}, []),
    ],
)
def test_datasets_search_by_name_and_tag(
    client: TestClient, params: dict[str, str], expected: list[str]
) -> None:
    found = client.get("/api/datasets", params=params).json()
    assert [f"{r['project']}/{r['name']}" for r in found] == expected


def test_dataset_detail_has_versions_merge_graph_and_growth(client: TestClient, demo: Demo) -> None:
    v1, v2, v3, v4 = ids(demo, "v1", "v2", "v3", "v4")
    body = client.get("/api/datasets/vision/cats").json()
    assert [v["version"] for v in body["versions"]] == ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]
    assert body["versions"][1]["produced_by"]["source"] == "airflow"
    assert body["versions"][1]["changes"]["added"] == 1
    graph = body["graph"]
    edges = {(e["source"], e["target"]) for e in graph["edges"]}
    assert edges == {(v1, v2), (v1, v3), (v2, v4), (v3, v4)}
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert [nodes[v]["column"] for v in (v1, v2, v3, v4)] == [0, 1, 1, 2]
    assert nodes[v4]["merge"] and not nodes[v2]["merge"]
    assert nodes[v2]["row"] != nodes[v3]["row"]  # the branch is drawn beside, not on top
    assert [p["size"] for p in body["growth"]] == [
        sum(len(b) for b in demo.files[k].values()) for k in ("v1", "v2", "v3", "v4")
    ]


def test_nested_project_dataset_detail(client: TestClient, demo: Demo) -> None:
    body = client.get("/api/datasets/nlp/en/corpus").json()
    assert body["project"] == "nlp/en" and body["versions"][0]["id"] == demo.ids["corpus"]
    assert body["versions"][0]["produced_by"]["source"] == "prefect"
    assert body["versions"][0]["produced_by"]["summary"] == "ingest"


def test_unknown_dataset_is_404_json(client: TestClient) -> None:
    response = client.get("/api/datasets/vision/dogs")
    assert response.status_code == 404
    assert "vision/dogs" in response.json()["detail"]


# --- versions ---------------------------------------------------------------------------


def test_version_detail_parents_children_aliases_provenance(client: TestClient, demo: Demo) -> None:
    v1, v2, v4 = ids(demo, "v1", "v2", "v4")
    body = client.get(f"/api/versions/{v2}").json()
    assert body["ref"] == "vision/cats@1.0.1"
    assert body["parent_refs"] == [
        {
            "id": v1,
            "version": "1.0.0",
            "ref": "vision/cats@1.0.0",
            "deleted": False,
            "deleted_at": None,
        }
    ]
    assert [c["id"] for c in body["children"]] == [v4]
    assert body["aliases"] == ["prod"]
    assert body["produced_by"]["source"] == "airflow"
    assert body["produced_by"]["links"] == [{"label": "Airflow run", "url": AIRFLOW_URL}]
    assert body["produced_by"]["fields"]["dag_id"] == "build_cats"
    assert body["provenance"]["dag_id"] == "build_cats"  # the record's own, as in to_dict
    assert body["produced_by"]["summary"] == "build_cats / finalize / manual__1"
    assert body["file_count"] == len(demo.files["v2"])
    assert body["changes"]["modified"] == 1 and body["changes"]["removed"] == 1


def test_provenance_links_are_only_http(client: TestClient) -> None:
    from dsops.ui.summaries import provenance

    found = provenance({"url": "javascript:alert(1)", "prefect": {"url": "https://p/run"}})
    assert found["links"] == [{"label": "Prefect run", "url": "https://p/run"}]
    nested = provenance({"airflow": {"dag_id": "d", "run_id": "r"}})
    assert (nested["source"], nested["summary"], nested["links"]) == ("airflow", "d / r", [])
    assert provenance({})["source"] is None


BAD_IDS = ["nothex", "A" * 32, "0" * 32, "0" * 31, "..%2F..%2Fdsops.json", "%2e%2e"]
ROUTES = ["", "/graph", "/stats", "/files", "/zip", "/diff", "/file?path=a", "/preview?path=a"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize("route", ROUTES)
def test_bad_version_ids_are_404_json(client: TestClient, bad: str, route: str) -> None:
    response = client.get(f"/api/versions/{bad}{route}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


def test_draft_is_not_served(client: TestClient, demo: Demo) -> None:
    draft = Dataset.create("vision", "cats", store=demo.store)
    assert client.get(f"/api/versions/{draft.id}").status_code == 404


def test_version_graph_is_the_ancestry(client: TestClient, demo: Demo) -> None:
    v1, v2, v3, v4 = ids(demo, "v1", "v2", "v3", "v4")
    graph = client.get(f"/api/versions/{v2}/graph").json()
    assert {n["id"] for n in graph["nodes"]} == {v1, v2}
    assert [n["id"] for n in graph["nodes"] if n["current"]] == [v2]
    merged = client.get(f"/api/versions/{v4}/graph").json()
    assert {n["id"] for n in merged["nodes"]} == {v1, v2, v3, v4}


def test_stats_size_by_type(client: TestClient, demo: Demo) -> None:
    body = client.get(f"/api/versions/{demo.ids['v2']}/stats").json()
    by_type = {t["type"]: (t["size"], t["files"]) for t in body["by_type"]}
    pngs = [b for p, b in demo.files["v2"].items() if p.endswith(".png")]
    assert by_type["png"] == (sum(map(len, pngs)), len(pngs))
    assert by_type["csv"][1] == 1
    assert sum(f for _, f in by_type.values()) == body["file_count"]
    sizes = [t["size"] for t in body["by_type"]]
    assert sizes == sorted(sizes, reverse=True)


def test_resolve_reference(client: TestClient, demo: Demo) -> None:
    assert (
        client.get("/api/resolve", params={"ref": "vision/cats@prod"}).json()["id"]
        == (demo.ids["v2"])
    )
    assert client.get("/api/resolve", params={"ref": "vision/cats@9.9.9"}).status_code == 404
    assert client.get("/api/resolve", params={"ref": "not a ref"}).status_code == 400


# --- contents ---------------------------------------------------------------------------


def files_page(client: TestClient, version_id: str, **params: object) -> dict[str, object]:
    response = client.get(f"/api/versions/{version_id}/files", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def paths(body: dict[str, object]) -> list[str]:
    rows = body["rows"]
    assert isinstance(rows, list)
    return [r["path"] for r in rows]


def test_files_sorted_searched_and_filtered_with_origin(client: TestClient, demo: Demo) -> None:
    v1, v2 = ids(demo, "v1", "v2")
    expected = demo.files["v2"]
    body = files_page(client, v2)
    assert paths(body) == sorted(expected) and body["total"] == len(expected)
    by_size = paths(files_page(client, v2, sort="size", order="desc"))
    assert [len(expected[p]) for p in by_size] == sorted(map(len, expected.values()), reverse=True)
    assert paths(files_page(client, v2, q="PNG")) == sorted(p for p in expected if ".png" in p)
    assert paths(files_page(client, v2, folder="images/train")) == [
        "images/train/a.png",
        "images/train/b.png",
        "images/train/d.png",
    ]
    assert paths(files_page(client, v2, folder="images", q="val")) == ["images/val/c.png"]
    rows = {r["path"]: r for r in files_page(client, v2)["rows"]}  # type: ignore[union-attr]
    assert rows["images/train/d.png"]["origin"] == v2
    assert rows["images/train/d.png"]["origin_ref"] == "vision/cats@1.0.1"
    assert rows["images/train/a.png"]["origin_ref"] == "vision/cats@1.0.0"
    assert rows["images/train/a.png"]["origin"] == v1
    assert rows["labels.csv"]["preview"] == "table" and rows["notes/empty.txt"]["preview"] is None


def test_files_paging_windows(client: TestClient, demo: Demo) -> None:
    v2 = demo.ids["v2"]
    everything = sorted(demo.files["v2"])
    assert paths(files_page(client, v2, offset=2, limit=3)) == everything[2:5]
    assert paths(files_page(client, v2, offset=2, limit=3, order="desc")) == everything[::-1][2:5]
    assert paths(files_page(client, v2, offset=100)) == []
    assert client.get(f"/api/versions/{v2}/files", params={"limit": 0}).status_code == 422
    assert client.get(f"/api/versions/{v2}/files", params={"sort": "hash"}).status_code == 422
    escape = client.get(f"/api/versions/{v2}/files", params={"folder": "../x"})
    assert escape.status_code == 400


def test_large_manifest_pages_as_fast_as_a_small_one(client: TestClient, demo: Demo) -> None:
    large, small = demo.ids["large"], demo.ids["v2"]
    first = files_page(client, large, limit=1)  # loads the manifest once
    assert first["total"] == LARGE_ROWS
    last = files_page(client, large, offset=LARGE_ROWS - 2, limit=10)
    every = sorted(f"shard{i % 97:02d}/item{i:07d}.bin" for i in range(LARGE_ROWS))
    assert paths(last) == every[-2:]
    assert (
        paths(files_page(client, large, offset=1000, limit=3, order="desc"))
        == (every[::-1][1000:1003])
    )
    top = files_page(client, large, sort="size", order="desc", limit=5)
    assert top["total"] == LARGE_ROWS
    sizes = [r["size"] for r in top["rows"]]  # type: ignore[union-attr]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == max(
        len(b) for b in demo.files["v2"].values()
    )
    hit = files_page(client, large, q="item0123456")
    assert paths(hit) == ["shard72/item0123456.bin"]

    def timed(version_id: str, **params: object) -> float:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            files_page(client, version_id, **params)
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    cases: list[dict[str, object]] = [
        {"offset": 150_000},
        {"offset": 150_000, "order": "desc"},
        {"offset": 100_000, "sort": "size"},
        {"q": "shard05", "sort": "size", "order": "desc"},
    ]
    small_time = max(timed(small, **{**c, "offset": 0}) for c in cases)
    for case in cases:
        large_time = timed(large, **case)
        # Generous against a loaded 2-core CI machine; an O(rows) page would take far longer.
        assert large_time < max(0.1, 10 * small_time), (case, large_time, small_time)


# --- downloads --------------------------------------------------------------------------


def test_download_file_returns_exact_bytes_as_attachment(client: TestClient, demo: Demo) -> None:
    v2 = demo.ids["v2"]
    for path, content in demo.files["v2"].items():
        response = client.get(f"/api/versions/{v2}/file", params={"path": path})
        assert response.status_code == 200, path
        assert response.content == content
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-length"] == str(len(content))
        assert response.headers["accept-ranges"] == "bytes"


@pytest.mark.parametrize(
    ("header", "status", "part"),
    [
        ("bytes=2-4", 206, slice(2, 5)),
        ("bytes=3-", 206, slice(3, None)),
        ("bytes=-4", 206, slice(-4, None)),
        ("bytes=0-999999", 206, slice(0, None)),  # clipped to the file
        ("bytes=0-1,4-5", 200, slice(0, None)),  # several ranges: the whole file
        ("bytes=5-2", 200, slice(0, None)),  # malformed: ignored
        ("items=0-1", 200, slice(0, None)),
    ],
)
def test_download_serves_one_byte_range_through_the_sdk(
    client: TestClient, demo: Demo, header: str, status: int, part: slice
) -> None:
    content = demo.files["v2"]["labels.csv"]
    url = f"/api/versions/{demo.ids['v2']}/file"
    response = client.get(url, params={"path": "labels.csv"}, headers={"range": header})
    assert response.status_code == status
    assert response.content == content[part]
    assert response.headers["content-length"] == str(len(content[part]))
    if status == 206:
        first = part.start if part.start >= 0 else len(content) + part.start
        expected = f"bytes {first}-{first + len(content[part]) - 1}/{len(content)}"
        assert response.headers["content-range"] == expected


def test_download_range_past_the_end_is_416_and_a_stale_if_range_gets_everything(
    client: TestClient, demo: Demo
) -> None:
    content = demo.files["v2"]["labels.csv"]
    url = f"/api/versions/{demo.ids['v2']}/file"
    past = client.get(
        url, params={"path": "labels.csv"}, headers={"range": f"bytes={len(content)}-"}
    )
    assert past.status_code == 416
    assert past.headers["content-range"] == f"bytes */{len(content)}"
    assert "not satisfiable" in past.json()["detail"]
    etag = client.get(url, params={"path": "labels.csv"}).headers["etag"]
    fresh = {"range": "bytes=0-1", "if-range": etag}
    assert client.get(url, params={"path": "labels.csv"}, headers=fresh).status_code == 206
    stale = client.get(
        url, params={"path": "labels.csv"}, headers={"range": "bytes=0-1", "if-range": '"x"'}
    )
    assert (stale.status_code, stale.content) == (200, content)


@pytest.mark.parametrize(
    "path",
    [
        "notes/readme.txt",  # exists in the parent, removed in this version
        "extra/x.txt",  # exists in a sibling version
        "../store/dsops.json",
        "/etc/passwd",
        "images/../labels.csv",
        "./labels.csv",
        "images/train",  # a folder is not a file
        "images%2Ftrain%2Fa.png",
        "labels.csv\x00.png",
        "",
    ],
)
def test_download_cannot_leave_the_version(client: TestClient, demo: Demo, path: str) -> None:
    response = client.get(f"/api/versions/{demo.ids['v2']}/file", params={"path": path})
    assert response.status_code in (404, 422)
    assert "application/json" in response.headers["content-type"]


def test_encoded_slashes_in_query_name_the_same_file(client: TestClient, demo: Demo) -> None:
    response = client.get(f"/api/versions/{demo.ids['v2']}/file?path=images%2Ftrain%2Fa.png")
    assert response.content == demo.files["v2"]["images/train/a.png"]


@pytest.mark.parametrize(
    "url",
    [
        "/static/../app.py",
        "/static/%2e%2e%2fapp.py",
        "/static/..%2f..%2fpyproject.toml",
        "/static/index.html",  # the template is served as a page, not as a file
        "/api/versions/%2e%2e/%2e%2e/dsops.json",
    ],
)
def test_no_route_reads_files_by_request_path(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert b"import" not in response.content and b"[project]" not in response.content


def test_tampered_object_is_refused_not_served(tmp_path: Path) -> None:
    """A store object replaced by a symlink to a file outside the store fails its hash."""
    from dsops import Store

    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    big = os.urandom(300_000)  # large enough to be stored as a whole object
    ds = Dataset.create("p", "d", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"big.bin": big}))
    ds.finalize()
    objects = [p for p in (tmp_path / "store").rglob("*") if p.is_file() and p.stat().st_size > 1]
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"outside the store " * 20_000)
    for obj in objects:
        if obj.read_bytes().find(big[:1000]) >= 0:
            obj.unlink()
            obj.symlink_to(secret)
    with TestClient(create_app(store)) as local:
        response = local.get(f"/api/versions/{ds.id}/file", params={"path": "big.bin"})
    assert response.status_code == 502
    assert b"outside the store" not in response.content


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_zip_of_whole_version_and_of_a_folder(client: TestClient, demo: Demo) -> None:
    v2 = demo.ids["v2"]
    response = client.get(f"/api/versions/{v2}/zip")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert "cats-1.0.1.zip" in response.headers["content-disposition"]
    assert read_zip(response.content) == demo.files["v2"]
    folder = client.get(f"/api/versions/{v2}/zip", params={"folder": "images/train/"})
    expected = {p.removeprefix("images/"): b for p, b in demo.files["v2"].items() if "train/" in p}
    assert read_zip(folder.content) == expected
    assert client.get(f"/api/versions/{v2}/zip", params={"folder": "nope"}).status_code == 404
    assert client.get(f"/api/versions/{v2}/zip", params={"folder": "../.."}).status_code == 400


def test_zip_is_streamed_in_bounded_chunks(demo: Demo, tmp_path: Path) -> None:
    store = demo.store
    content = {f"d/f{i}.bin": os.urandom(700_000) for i in range(4)} | {"t.txt": "x" * 10}
    ds = Dataset.create("stream", "zip", store=store)
    ds.add_files(write_tree(tmp_path / "src", content))
    ds.finalize()
    chunks = list(stream_zip(store, ds.manifest()))
    assert len(chunks) > 4
    assert max(map(len, chunks)) <= 2 * 1024 * 1024
    expected = {k: v.encode() if isinstance(v, str) else v for k, v in content.items()}
    assert read_zip(b"".join(chunks)) == expected


# --- diff, previews ---------------------------------------------------------------------


def test_diff_against_parents_another_version_and_a_reference(
    client: TestClient, demo: Demo
) -> None:
    v1, v2, v3 = ids(demo, "v1", "v2", "v3")
    url = f"/api/versions/{v2}/diff"
    added = client.get(url).json()
    assert added["base"] == [{"id": v1, "version": None, "ref": "vision/cats@1.0.0"}]
    assert added["counts"]["added"] == 1 and added["counts"]["removed"] == 1
    assert [r["path"] for r in added["rows"]] == ["images/train/d.png"]
    modified = client.get(url, params={"kind": "modified"}).json()
    assert modified["rows"][0]["path"] == "labels.csv"
    assert modified["rows"][0]["old_size"] == len(demo.files["v1"]["labels.csv"])
    removed = client.get(url, params={"kind": "removed"}).json()
    assert [r["path"] for r in removed["rows"]] == ["notes/readme.txt"]
    sibling = client.get(url, params={"against": v3, "kind": "removed"}).json()
    assert sibling["base"][0]["id"] == v3
    assert {r["path"] for r in sibling["rows"]} == {"extra/x.txt", "notes/readme.txt"}
    by_ref = client.get(url, params={"against": "vision/cats@1.0.0"}).json()
    assert by_ref["counts"] == added["counts"]
    assert client.get(url, params={"against": "0" * 32}).status_code == 404
    assert client.get(url, params={"kind": "renamed"}).status_code == 422
    root = client.get(f"/api/versions/{v1}/diff").json()
    assert root["base"] == [] and root["counts"]["added"] == len(demo.files["v1"])


def test_preview_csv_and_parquet(client: TestClient, demo: Demo) -> None:
    v2 = demo.ids["v2"]
    csv = client.get(f"/api/versions/{v2}/preview", params={"path": "labels.csv"}).json()
    assert [c["name"] for c in csv["columns"]] == ["path", "label"]
    assert csv["rows"] == [["images/train/a.png", "cat"], ["images/train/b.png", "cat"]]
    table = client.get(f"/api/versions/{v2}/preview", params={"path": "table.parquet"}).json()
    assert table["total_rows"] == 50 and len(table["rows"]) == 20
    assert table["rows"][3] == [3, "cat3"]


def test_preview_refuses_other_types_with_415(client: TestClient, demo: Demo) -> None:
    v2 = demo.ids["v2"]
    response = client.get(f"/api/versions/{v2}/preview", params={"path": "images/val/c.png"})
    assert response.status_code == 415
    response = client.get(f"/api/versions/{v2}/thumbnail", params={"path": "labels.csv"})
    assert response.status_code == 415


def test_thumbnail_is_a_small_png(client: TestClient, demo: Demo) -> None:
    from PIL import Image

    response = client.get(
        f"/api/versions/{demo.ids['v2']}/thumbnail", params={"path": "images/train/d.png"}
    )
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as image:
        assert max(image.size) <= 256 and image.getpixel((5, 5))[:3] == (230, 200, 30)


def test_broken_image_and_csv_give_415_not_500(demo: Demo, tmp_path: Path) -> None:
    ds = Dataset.create("broken", "files", store=demo.store)
    ds.add_files(write_tree(tmp_path / "src", {"x.png": b"not a png", "y.parquet": b"nope"}))
    ds.finalize()
    with TestClient(create_app(demo.store)) as local:
        thumb = local.get(f"/api/versions/{ds.id}/thumbnail", params={"path": "x.png"})
        table = local.get(f"/api/versions/{ds.id}/preview", params={"path": "y.parquet"})
    assert thumb.status_code == 415 and "x.png" in thumb.json()["detail"]
    assert table.status_code == 415


# --- pages, docs, errors ----------------------------------------------------------------


def test_pages_are_one_shell_and_unknown_ones_404(client: TestClient, demo: Demo) -> None:
    pages = ["/", "/datasets/vision/cats", "/datasets/nlp/en/corpus", f"/versions/{demo.ids['v1']}"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert '<script src="/static/app.js"' in response.text
        assert "content-security-policy" in response.headers
    assert client.get("/versions/" + "0" * 32).status_code == 404
    assert client.get("/datasets/vision/dogs").status_code == 404
    for name in ("app.js", "app.css", "favicon.svg"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/nope.js").status_code == 404


def test_pages_use_the_mount_prefix(demo: Demo) -> None:
    with TestClient(create_app(demo.store), root_path="/dsops") as mounted:
        page = mounted.get("/dsops/")
    assert 'data-root="/dsops"' in page.text and 'src="/dsops/static/app.js"' in page.text


def test_openapi_documents_every_api_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    documented = set(spec["paths"])
    assert {
        "/api/info",
        "/api/datasets",
        "/api/datasets/{project}/{name}",
        "/api/resolve",
        "/api/versions/{version_id}",
        "/api/versions/{version_id}/graph",
        "/api/versions/{version_id}/stats",
        "/api/versions/{version_id}/files",
        "/api/versions/{version_id}/file",
        "/api/versions/{version_id}/zip",
        "/api/versions/{version_id}/diff",
        "/api/versions/{version_id}/preview",
        "/api/versions/{version_id}/thumbnail",
        "/api/versions/{version_id}/metadata",
        "/api/versions/{version_id}/metadata/{name}",
        "/api/versions/{version_id}/metadata/{name}/raw",
    } == {p for p in documented if p.startswith("/api")}
    for path, item in spec["paths"].items():
        assert item["get"]["description"] or item["get"]["summary"], path
    assert client.get("/docs").status_code == 404  # Swagger needs a CDN: not served


def test_store_failures_are_502_json_without_credentials(
    demo: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(demo.store.url, cache_dir=tmp_path / "cache")

    def refuse() -> set[str]:
        raise AccessDenied("Access denied to s3://AKIAEXAMPLE:s3cr3t@bucket/prefix.")

    monkeypatch.setattr(store.catalog, "deleted_ids", refuse)
    with TestClient(create_app(store)) as local:
        response = local.get("/api/datasets")
    assert response.status_code == 502
    assert "s3cr3t" not in response.text and "AKIAEXAMPLE" not in response.text


def test_redact_removes_url_credentials() -> None:
    assert (
        redact("s3://key:secret@bucket/x and https://u:p@h/")
        == "s3://***@bucket/x and https://***@h/"
    )
    assert redact("/plain/path") == "/plain/path"


def test_info_names_the_store(client: TestClient, demo: Demo) -> None:
    assert client.get("/api/info").json()["store"] == demo.store.url
