"""External files (links): added in place, fetched through the cache, refused once changed.

Sources are real: ``file://`` folders, an ``http://`` server (stdlib ``http.server`` on
loopback, with ETag / Last-Modified and a request counter) and ``s3://`` on moto.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import (
    ConfigError,
    ExternalSourceChanged,
    IntegrityError,
    InvalidManifest,
    SourceNotFound,
)
from dsops.fs import DsopsFileSystem
from dsops.hashing import hash_bytes
from dsops.manifest import read_manifest, write_manifest
from tests.moto_s3 import KEYS, moto_server, new_bucket, raw_client

moto_endpoint = pytest.fixture(scope="module", name="moto_endpoint")(moto_server)


class Served:
    """What the test HTTP server serves: path → (bytes, etag or None), and its hits."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str | None]] = {}
        self.hits: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def gets(self) -> int:
        return sum(1 for method, _ in self.hits if method == "GET")


@pytest.fixture
def http_source() -> Iterator[tuple[str, Served]]:
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: bool) -> None:
            with served.lock:
                served.hits.append((self.command, self.path))
                found = served.files.get(self.path)
            if found is None:
                self.send_error(404)
                return
            data, etag = found
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            if etag is not None:
                self.send_header("ETag", etag)
            self.send_header("Last-Modified", "Wed, 01 May 2024 10:00:00 GMT")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(True)

        def do_HEAD(self) -> None:
            self._answer(False)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


FILES = {
    "a.txt": b"alpha\n",
    "sub/b.csv": b"x,y\n1,2\n",
    "sub/deep/c.bin": os.urandom(5 * 1024 * 1024 + 7),  # larger than the link read chunk
    "empty.txt": b"",
}


def _stored_content(store: Store) -> list[str]:
    root = Path(store.url)
    return [
        str(p.relative_to(root))
        for folder in ("packs", "objects")
        for p in (root / folder).rglob("*")
        if p.is_file()
    ]


def _fresh(store: Store, tmp_path: Path, name: str) -> Store:
    """The same store with a new, empty cache: the next fetch is cold."""
    return Store(store.url, cache_dir=tmp_path / name)


def _snapshot(folder: str | Path) -> dict[str, bytes]:
    root = Path(folder)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# --- adding -------------------------------------------------------------------------------


def test_a_prefix_is_added_in_place_and_fetched_byte_for_byte(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", FILES)
    ds = Dataset.create("demo", "ext", store=store)
    summary = ds.add_external_files(f"file://{src}", "raw")
    assert (summary.added, summary.uploaded_bytes) == (4, 0)
    assert summary.added_bytes == sum(len(v) for v in FILES.values())
    version_id = ds.finalize()
    assert _stored_content(store) == []  # no byte of the sources is in the store
    rows = {r["path"]: r for r in ds.manifest().to_pylist()}
    assert sorted(rows) == sorted(f"raw/{k}" for k in FILES)
    row = rows["raw/sub/b.csv"]
    assert row["link"] == f"file://{src}/sub/b.csv"
    assert row["object"] == "" and row["hash"] == hash_bytes(FILES["sub/b.csv"])
    st = os.stat(src / "sub/b.csv")
    assert row["link_validator"] == f"{st.st_mtime_ns}-{st.st_size}"

    cold = Dataset.get(version_id, store=_fresh(store, tmp_path, "c1"))
    expected = {f"raw/{k}": v for k, v in FILES.items()}
    assert _snapshot(cold.get_local_copy()) == expected
    copy = cold.get_mutable_local_copy(tmp_path / "copy")
    assert _snapshot(copy) == expected
    assert cold.read_file("raw/sub/deep/c.bin") == FILES["sub/deep/c.bin"]
    assert cold.verify() and cold.verify(deep=True)


def test_one_file_lands_at_its_basename_and_wildcards_filter(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", FILES)
    ds = Dataset.create("demo", "ext", store=store)
    assert ds.add_external_files(f"file://{src}/sub/b.csv", "one").added == 1
    assert ds.add_external_files(f"file://{src}", "csv", wildcard="*.csv").added == 1
    assert ds.add_external_files(f"file://{src}", "top", recursive=False).added == 2
    assert ds.list_files() == [
        "csv/sub/b.csv",
        "one/b.csv",
        "top/a.txt",
        "top/empty.txt",
    ]
    ds.finalize()
    assert ds.read_file("one/b.csv") == FILES["sub/b.csv"]


def test_http_source_second_fetch_downloads_nothing(
    store: Store, tmp_path: Path, http_source: tuple[str, Served]
) -> None:
    base, served = http_source
    data = os.urandom(300_000)
    served.files["/data/train.bin"] = (data, '"v1"')
    ds = Dataset.create("demo", "web", store=store)
    assert ds.add_external_files(f"{base}/data/train.bin", "web").added == 1
    assert served.gets() == 1  # streamed once to hash it
    [row] = ds.manifest().to_pylist()
    assert row["link_validator"] == 'etag:"v1"' and row["size"] == len(data)
    version_id = ds.finalize()

    warm_store = _fresh(store, tmp_path, "c1")
    first = Dataset.get(version_id, store=warm_store)
    assert (Path(first.get_local_copy()) / "web/train.bin").read_bytes() == data
    assert served.gets() == 2
    # The same cache, other ways in and another Store object: nothing is downloaded.
    again = Dataset.get(version_id, store=Store(store.url, cache_dir=tmp_path / "c1"))
    assert (Path(again.get_local_copy()) / "web/train.bin").read_bytes() == data
    assert (Path(again.get_mutable_local_copy(tmp_path / "m")) / "web/train.bin").read_bytes() == (
        data
    )
    assert again.read_file("web/train.bin") == data
    assert served.gets() == 2


def test_http_source_without_etag_is_validated_by_last_modified(
    store: Store, http_source: tuple[str, Served]
) -> None:
    base, served = http_source
    served.files["/x.txt"] = (b"hello", None)
    ds = Dataset.create("demo", "web", store=store)
    ds.add_external_files(f"{base}/x.txt")
    [row] = ds.manifest().to_pylist()
    assert row["link_validator"] == "modified:Wed, 01 May 2024 10:00:00 GMT"


# --- a changed source is refused ------------------------------------------------------------


def test_a_changed_file_source_is_refused_on_a_cold_fetch(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", FILES)
    ds = Dataset.create("demo", "ext", store=store)
    ds.add_external_files(f"file://{src}", "raw")
    version_id = ds.finalize()
    (src / "sub/b.csv").write_bytes(b"x,y\n9,9\n")  # same size, new mtime: new validator

    cold_store = _fresh(store, tmp_path, "c1")
    cold = Dataset.get(version_id, store=cold_store)
    url = f"file://{src}/sub/b.csv"
    with pytest.raises(ExternalSourceChanged) as caught:
        cold.get_local_copy()
    assert url in str(caught.value) and "raw/sub/b.csv" in str(caught.value)
    assert caught.value.context["url"] == url and caught.value.context["path"] == "raw/sub/b.csv"
    assert isinstance(caught.value, IntegrityError)
    assert not cold_store.cache.objects.has(hash_bytes(FILES["sub/b.csv"]), 8)
    assert not cold_store.cache.objects.has(hash_bytes(b"x,y\n9,9\n"), 8)
    with pytest.raises(ExternalSourceChanged):
        cold.get_mutable_local_copy(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
    with pytest.raises(ExternalSourceChanged):
        cold.read_file("raw/sub/b.csv")
    # The files whose sources did not change are still served.
    assert cold.read_file("raw/a.txt") == FILES["a.txt"]
    result = cold.verify()
    assert not result and result.corrupted == ("raw/sub/b.csv",)


def test_same_validator_different_bytes_is_refused(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"a.txt": b"alpha"})
    ds = Dataset.create("demo", "ext", store=store)
    ds.add_external_files(f"file://{src}/a.txt")
    version_id = ds.finalize()
    st = os.stat(src / "a.txt")
    (src / "a.txt").write_bytes(b"omega")  # same size, mtime put back: same validator
    os.utime(src / "a.txt", ns=(st.st_atime_ns, st.st_mtime_ns))

    cold = Dataset.get(version_id, store=_fresh(store, tmp_path, "c1"))
    assert cold.verify()  # a HEAD cannot tell; the bytes can
    assert cold.verify(deep=True).corrupted == ("a.txt",)
    with pytest.raises(ExternalSourceChanged, match="no longer hash"):
        cold.get_local_copy()


def test_http_changes_are_refused_both_ways(
    store: Store, tmp_path: Path, http_source: tuple[str, Served]
) -> None:
    base, served = http_source
    served.files["/a"] = (b"first", '"1"')
    served.files["/b"] = (b"other", '"2"')
    ds = Dataset.create("demo", "web", store=store)
    ds.add_external_files(f"{base}/a")
    ds.add_external_files(f"{base}/b")
    version_id = ds.finalize()
    served.files["/a"] = (b"first", '"1-new"')  # a new validator
    served.files["/b"] = (b"OTHER", '"2"')  # same validator, other bytes

    cold = Dataset.get(version_id, store=_fresh(store, tmp_path, "c1"))
    with pytest.raises(ExternalSourceChanged, match=f"{base}/a.*validator"):
        cold.read_file("a")
    with pytest.raises(ExternalSourceChanged, match=f"{base}/b.*no longer hash"):
        cold.read_file("b")


def test_a_warm_cache_keeps_serving_the_verified_bytes(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", {"a.txt": b"alpha"})
    ds = Dataset.create("demo", "ext", store=store)
    ds.add_external_files(f"file://{src}/a.txt")
    ds.finalize()
    assert ds.read_file("a.txt") == b"alpha"
    (src / "a.txt").unlink()
    assert ds.read_file("a.txt") == b"alpha"  # the cached bytes hash to the recorded hash
    assert ds.verify().missing == ("a.txt",)
    cold = Dataset.get(ds.id, store=_fresh(store, tmp_path, "c1"))
    with pytest.raises(ExternalSourceChanged, match="no longer there"):
        cold.read_file("a.txt")


# --- through the version's life -------------------------------------------------------------


def test_children_inherit_links_remove_them_and_see_changes(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", FILES)
    local = _tree(tmp_path / "local", {"stored.txt": b"stored"})
    parent = Dataset.create("demo", "ext", store=store)
    parent.add_files(local)
    parent.add_external_files(f"file://{src}", "raw")
    parent_id = parent.finalize()

    child = Dataset.create("demo", "ext", parents=[parent_id], store=store)
    assert child.remove_files("raw/a.txt").removed == 1
    (src / "sub/b.csv").write_bytes(b"x,y\n3,4\n5,6\n")
    again = child.add_external_files(f"file://{src}/sub", "raw/sub")
    assert (again.modified, again.unchanged, again.added) == (1, 1, 0)
    child.finalize()
    changes = child.changes()
    assert changes.removed_paths == ["raw/a.txt"] and changes.modified_paths == ["raw/sub/b.csv"]
    assert child.read_file("raw/sub/deep/c.bin") == FILES["sub/deep/c.bin"]  # inherited
    assert child.read_file("raw/sub/b.csv") == b"x,y\n3,4\n5,6\n"
    assert child.read_file("stored.txt") == b"stored"
    assert "raw/a.txt" in Dataset.get(parent_id, store=store).list_files()


def test_bad_urls_are_clear_errors_that_change_nothing(
    store: Store, tmp_path: Path, http_source: tuple[str, Served]
) -> None:
    base, _ = http_source
    ds = Dataset.create("demo", "ext", store=store)
    parts = Path(store.url) / "drafts" / ds.id / "parts"
    with pytest.raises(ConfigError, match="ftp://"):
        ds.add_external_files("ftp://host/file")
    with pytest.raises(ConfigError):
        ds.add_external_files("/a/plain/path")
    with pytest.raises(SourceNotFound, match="nothing"):
        ds.add_external_files(f"file://{tmp_path}/nothing")
    with pytest.raises(SourceNotFound, match="HTTP 404"):
        ds.add_external_files(f"{base}/missing.bin")
    src = _tree(tmp_path / "src", {"a.txt": b"a"})
    with pytest.raises(SourceNotFound, match="wildcard"):
        ds.add_external_files(f"file://{src}", wildcard="*.csv")
    assert not parts.exists() or not any(parts.iterdir())
    assert ds.list_files() == []


def test_s3_sources_reuse_the_store_credentials(moto_endpoint: str, tmp_path: Path) -> None:
    data_bucket, landing = new_bucket(moto_endpoint), new_bucket(moto_endpoint)
    client = raw_client(moto_endpoint)
    client.put_object(Bucket=landing, Key="day/a.txt", Body=b"one")  # type: ignore[attr-defined]
    client.put_object(Bucket=landing, Key="day/n/b.txt", Body=b"two")  # type: ignore[attr-defined]
    store = Store(
        f"s3://{data_bucket}/root",
        cache_dir=tmp_path / "cache",
        endpoint_url=moto_endpoint,
        **KEYS,
    )
    ds = Dataset.create("demo", "s3", store=store)
    assert ds.add_external_files(f"s3://{landing}/day/", "in").added == 2
    version_id = ds.finalize()
    [row, _] = ds.manifest().to_pylist()
    etag = client.head_object(Bucket=landing, Key="day/a.txt")["ETag"]  # type: ignore[attr-defined]
    assert row["link_validator"] == etag.strip('"')

    cold_store = Store(store.url, cache_dir=tmp_path / "c2", endpoint_url=moto_endpoint, **KEYS)
    cold = Dataset.get(version_id, store=cold_store)
    assert _snapshot(cold.get_local_copy()) == {"in/a.txt": b"one", "in/n/b.txt": b"two"}
    client.put_object(Bucket=landing, Key="day/a.txt", Body=b"uno")  # type: ignore[attr-defined]
    cold = Dataset.get(
        version_id,
        store=Store(store.url, cache_dir=tmp_path / "c3", endpoint_url=moto_endpoint, **KEYS),
    )
    with pytest.raises(ExternalSourceChanged, match=f"s3://{landing}/day/a.txt"):
        cold.get_local_copy()


# --- adapters -------------------------------------------------------------------------------


def test_the_fsspec_filesystem_reads_links_through_the_cache(store: Store, tmp_path: Path) -> None:
    src = _tree(tmp_path / "src", FILES)
    ds = Dataset.create("demo", "ext", store=store)
    ds.add_external_files(f"file://{src}", "raw")
    version_id = ds.finalize()
    fs = DsopsFileSystem(store=_fresh(store, tmp_path, "c1"))
    assert fs.info(f"{version_id}/raw/a.txt")["link"] == f"file://{src}/a.txt"
    with fs.open(f"{version_id}/raw/sub/deep/c.bin", "rb") as fh:
        fh.seek(10)
        assert fh.read(100) == FILES["sub/deep/c.bin"][10:110]
    assert fs.cat_file(f"{version_id}/raw/a.txt") == FILES["a.txt"]


def test_cli_add_link_and_ls_mark_external_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    src = _tree(tmp_path / "src", {"a.txt": b"a", "b.txt": b"b"})
    local = _tree(tmp_path / "local", {"c.txt": b"c"})
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.stdout

    version_id = run("create", "--project", "demo", "--name", "cli").strip()
    added = json.loads(
        run(
            "add",
            version_id,
            str(local),
            "--link",
            f"file://{src}/a.txt",
            "--link",
            f"file://{src}/b.txt",
            "--dataset-path",
            "d",
            "--json",
        )
    )
    assert added["added"] == 3 and added["uploaded_bytes"] == 1
    run("add", version_id, "--link", "ftp://x/y", code=1)
    run("finalize", version_id)
    files = {f["path"]: f["link"] for f in json.loads(run("ls", version_id, "--json"))}
    assert files == {
        "d/a.txt": f"file://{src}/a.txt",
        "d/b.txt": f"file://{src}/b.txt",
        "d/c.txt": "",
    }
    text = run("ls", version_id)
    assert "LINK" in text and f"file://{src}/a.txt" in text


def test_the_ui_lists_links_with_their_source(store: Store, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from dsops.ui.app import create_app

    src = _tree(tmp_path / "src", {"a.txt": b"a"})
    ds = Dataset.create("demo", "ext", store=store)
    ds.add_external_files(f"file://{src}/a.txt")
    version_id = ds.finalize()
    client = TestClient(create_app(store))
    rows = client.get(f"/api/versions/{version_id}/files").json()["rows"]
    assert [(r["path"], r["link"]) for r in rows] == [("a.txt", f"file://{src}/a.txt")]
    assert client.get(f"/api/versions/{version_id}/file", params={"path": "a.txt"}).content == b"a"
    (src / "a.txt").write_bytes(b"b")
    cold = TestClient(create_app(_fresh(store, tmp_path, "c1")))
    refused = cold.get(f"/api/versions/{version_id}/file", params={"path": "a.txt"})
    assert refused.status_code == 502 and f"file://{src}/a.txt" in refused.json()["detail"]


# --- the format -----------------------------------------------------------------------------


def _row(**overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "path": "a.txt",
        "size": 5,
        "hash": hash_bytes(b"alpha"),
        "object": "",
        "offset": 0,
        "length": 0,
        "origin": "0" * 32,
        "mtime": 0,
        "link": "https://example.com/a.txt",
        "link_validator": 'etag:"1"',
    }
    row.update(overrides)
    return row


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"object": f"objects/{hash_bytes(b'alpha')[:2]}/{hash_bytes(b'alpha')}"}, "external"),
        ({"link": "ftp://host/a.txt"}, "scheme"),
        ({"link": "https://"}, "scheme"),
        ({"link_validator": ""}, "validator"),
        ({"length": 5}, "byte range"),
        ({"hash": "x" * 64}, "64 lowercase hex"),
        ({"link": "", "object": "packs/" + "0" * 64, "length": 5}, "link validator"),
    ],
)
def test_link_rows_are_validated(overrides: dict[str, object], says: str) -> None:
    table = pa.Table.from_pylist([_row(**overrides)])
    with pytest.raises(InvalidManifest, match=says):
        write_manifest(table, {"id": "0" * 32})


def test_a_manifest_without_the_link_columns_still_reads() -> None:
    good = pa.Table.from_pylist(
        [_row(link="", link_validator="", object="packs/" + "0" * 64, length=5)]
    )
    old = good.drop_columns(["link", "link_validator"])
    sink = io.BytesIO()
    pq.write_table(old, sink)
    table, _ = read_manifest(sink.getvalue())
    assert table.column("link").to_pylist() == [""]
    assert table.column("link_validator").to_pylist() == [""]
    assert read_manifest(write_manifest(pa.Table.from_pylist([_row()]), {}))[0].num_rows == 1
