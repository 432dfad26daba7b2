"""The dsops:// fsspec filesystem on the local store and on moto: listing from the
manifest, pinned versions, ranged and verified reads, refused writes, clear errors."""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from dsops import Dataset, Store
from dsops.catalog import parse_version_url, version_url
from dsops.errors import (
    ConfigError,
    IntegrityError,
    InvalidReference,
    NotFinalized,
    PathNotFound,
    ReadOnlyFileSystem,
    VersionNotFound,
)
from dsops.fs import DsopsFileSystem
from tests.helpers import write_tree
from tests.moto_s3 import KEYS, moto_server, new_bucket

moto_endpoint = pytest.fixture(scope="module", name="moto_endpoint")(moto_server)

CSV = "a,b\n1,x\n2,y\n"


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


TABLE = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
FILES: dict[str, bytes | str] = {
    "data.csv": CSV,
    "t.parquet": _parquet(TABLE),
    "tables/part-0.parquet": _parquet(TABLE.slice(0, 2)),
    "tables/part-1.parquet": _parquet(TABLE.slice(2)),
    "img/a.png": b"A" * 100,
    "img/sub/b.png": b"B" * 200,
    "notes/a@2x.txt": "at",
}


def _version(store: Store, root: Path, files: dict[str, bytes | str], alias: str = "prod") -> str:
    ds = Dataset.create("vision/cats", "train", parents="latest", store=store)
    ds.sync_folder(write_tree(root, files))
    return ds.finalize(alias=alias)


@pytest.fixture
def v1(store: Store, tmp_path: Path) -> str:
    return _version(store, tmp_path / "v1", FILES)


def _fs(store: Store, **kwargs: Any) -> DsopsFileSystem:
    return DsopsFileSystem(store=store, **kwargs)


def _options(store: Store) -> dict[str, Any]:
    return {"store": store.url, "cache_dir": str(store.cache.root), **store.options}


# --- URLs -------------------------------------------------------------------------------


def test_urls_name_nested_projects_refs_and_ids_and_at_ends_the_dataset_part() -> None:
    ref, path = parse_version_url("dsops://vision/cats/train@prod/notes/a@2x.txt")
    assert (ref.project, ref.name, ref.label, path) == (
        "vision/cats",
        "train",
        "prod",
        "notes/a@2x.txt",
    )
    ref, path = parse_version_url("dsops://" + "ab" * 16 + "/x/y.csv")
    assert (ref.version_id, path) == ("ab" * 16, "x/y.csv")
    assert parse_version_url("p/n@1.2.0")[0].label == "1.2.0"
    assert version_url("p/n@latest", "a.csv") == "dsops://p/n@latest/a.csv"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("dsops://vision/cats/train/data.csv", "write dsops://<project>/<name>@<ref>/<path>"),
        ("dsops://p/n@/x", "or dsops://<version id>/<path>"),
        ("dsops://n@latest/x", "use a version id (32 hex characters) or project/name@version"),
        ("dsops://p/n@bad ref/x", "Invalid alias 'bad ref'"),
    ],
)
def test_bad_urls_say_which_form_to_write(store: Store, v1: str, url: str, says: str) -> None:
    with pytest.raises(InvalidReference) as err:
        _fs(store).open(url)
    assert says in str(err.value)
    assert isinstance(err.value, ValueError)


def test_unknown_version_and_draft_are_clear_errors(store: Store, v1: str) -> None:
    fs = _fs(store)
    with pytest.raises(VersionNotFound, match=r"9\.9\.9"):
        fs.cat("vision/cats/train@9.9.9/data.csv")
    assert not fs.exists("vision/cats/train@9.9.9/data.csv")
    draft = Dataset.create("vision/cats", "train", store=store)
    with pytest.raises(NotFinalized, match="finalize it first"):
        fs.ls(f"{draft.id}/")


# --- listing from the manifest ----------------------------------------------------------


def test_ls_info_find_glob_answer_from_the_manifest_without_reading_objects(
    store: Store, v1: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = _fs(store)
    root = "vision/cats/train@prod"
    fs.resolve(root)  # the manifest is loaded here; from now on no object may be read

    def refuse(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("an object was read to answer a listing")

    for name in ("get_range", "get_with_etag", "get_file"):
        monkeypatch.setattr(store.backend, name, refuse)
    assert fs.ls(f"dsops://{root}/img", detail=False) == [f"{root}/img/a.png", f"{root}/img/sub"]
    info = fs.info(f"{root}/img/a.png")
    assert (info["type"], info["size"], info["version_id"]) == ("file", 100, v1)
    assert fs.info(f"{root}/img/sub")["type"] == "directory"
    assert fs.isdir(f"{root}/img") and not fs.isdir(f"{root}/img/a.png")
    assert fs.isfile(f"{root}/data.csv") and fs.exists(f"{root}/notes")
    assert not fs.exists(f"{root}/nope.csv")
    assert fs.find(f"{root}/img") == [f"{root}/img/a.png", f"{root}/img/sub/b.png"]
    assert fs.find(f"{root}/img", maxdepth=1) == [f"{root}/img/a.png"]
    assert fs.find(f"{root}/img", withdirs=True) == [
        f"{root}/img", f"{root}/img/a.png", f"{root}/img/sub", f"{root}/img/sub/b.png"
    ]  # fmt: skip
    assert fs.glob(f"dsops://{root}/**/*.png") == [f"{root}/img/a.png", f"{root}/img/sub/b.png"]
    assert fs.glob(f"{root}/tables/*.parquet") == [
        f"{root}/tables/part-0.parquet", f"{root}/tables/part-1.parquet"
    ]  # fmt: skip
    assert fs.glob(f"{root}/*/") == [f"{root}/img", f"{root}/notes", f"{root}/tables"]
    assert fs.du(f"{root}/img") == 300


def test_a_rooted_filesystem_takes_relative_paths(store: Store, v1: str) -> None:
    fs = _fs(store, version="vision/cats/train@prod")
    assert fs.version_id == v1
    assert fs.ls("", detail=False) == ["data.csv", "img", "notes", "t.parquet", "tables"]
    assert fs.glob("**/b.png") == ["img/sub/b.png"]
    assert fs.cat("/img/a.png") == b"A" * 100
    assert _fs(store, version=f"dsops://{v1}/").ls("img", detail=False) == ["img/a.png", "img/sub"]


def test_missing_paths_raise_file_not_found(store: Store, v1: str) -> None:
    fs = _fs(store, version=v1)
    for call in (fs.info, fs.ls, fs.open, fs.cat_file):
        with pytest.raises(FileNotFoundError) as err:
            call("img/nope.png")
        assert isinstance(err.value, PathNotFound) and "fs.ls" in str(err.value)
    with pytest.raises(PathNotFound, match="is a folder"):
        fs.open("img")
    assert fs.find("nope") == [] and fs.glob("nope/*") == []


# --- reading --------------------------------------------------------------------------


def test_pandas_reads_csv_and_parquet_from_dsops_urls(store: Store, v1: str) -> None:
    options = _options(store)
    frame = pd.read_csv("dsops://vision/cats/train@prod/data.csv", storage_options=options)
    assert frame.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    parquet = pd.read_parquet(f"dsops://{v1}/t.parquet", storage_options=options, columns=["a"])
    assert parquet["a"].tolist() == [1, 2, 3]
    with fsspec.open("dsops://vision/cats/train@1.0.0/data.csv", "rt", **options) as fh:
        assert fh.read() == CSV


def test_pyarrow_reads_a_relative_path_and_a_dataset_through_the_filesystem(
    store: Store, v1: str
) -> None:
    fs = _fs(store, version="vision/cats/train@prod")
    assert pq.read_table("t.parquet", filesystem=fs, columns=["b"]).column("b").to_pylist() == [
        "x", "y", "z"
    ]  # fmt: skip
    dataset = pads.dataset("tables", filesystem=fs, format="parquet")
    assert sorted(dataset.to_table().column("a").to_pylist()) == [1, 2, 3]


def test_duckdb_queries_csv_and_parquet_through_register_filesystem(store: Store, v1: str) -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.register_filesystem(_fs(store))
    total = con.execute(f"SELECT sum(a) FROM read_parquet('dsops://{v1}/tables/*.parquet')")
    assert total.fetchall() == [(6,)]
    rows = con.execute(
        "SELECT b FROM read_csv('dsops://vision/cats/train@prod/data.csv') ORDER BY a"
    )
    assert rows.fetchall() == [("x",), ("y",)]


def test_open_is_seekable_and_cat_file_takes_ranges(store: Store, v1: str) -> None:
    fs = _fs(store, version=v1)
    with fs.open("data.csv") as fh:
        assert fh.seekable() and fh.size == len(CSV)
        fh.seek(4)
        assert fh.read(3) == b"1,x"
        fh.seek(-4, os.SEEK_END)
        assert fh.read() == b"2,y\n"
    assert fs.cat_file("data.csv", 2, 6) == CSV.encode()[2:6]
    assert fs.cat_file("data.csv", -4) == b"2,y\n"
    assert fs.cat_file("data.csv", 0, -1) == CSV.encode()[:-1]
    assert fs.cat_file("data.csv", 100) == b""


def test_cat_ranges_reads_neighbours_in_one_pack_with_one_request(
    store: Store, v1: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs = _fs(store, version=v1)
    calls: list[tuple[str, int, int]] = []
    original = store.backend.get_range

    def counting(key: str, start: int, end: int) -> bytes:
        calls.append((key, start, end))
        return original(key, start, end)

    monkeypatch.setattr(store.backend, "get_range", counting)
    got = fs.cat_ranges(["img/a.png", "img/sub/b.png", "nope"], [10, 0, 0], [20, 50, 1])
    assert got[:2] == [b"A" * 10, b"B" * 50]
    assert isinstance(got[2], FileNotFoundError)
    assert len(calls) == 1 and calls[0][0].startswith("packs/")
    assert calls[0][2] - calls[0][1] < 1024  # only the asked bytes and the gap between


def test_a_whole_file_read_is_verified_and_admitted_to_the_cache(store: Store, v1: str) -> None:
    fs = _fs(store, version=v1)
    digest = fs.info("img/a.png")["blake3"]
    assert not store.cache.objects.has(digest, 100)
    assert fs.cat_file("img/a.png") == b"A" * 100
    assert store.cache.objects.has(digest, 100)
    many = fs.cat(["img/a.png", "img/sub/b.png"])
    assert many == {"img/a.png": b"A" * 100, "img/sub/b.png": b"B" * 200}


def _damage_pack_of(store: Store, fs: DsopsFileSystem, path: str) -> None:
    row = fs._row(path)[1]
    pack = Path(store.url) / row.object
    os.chmod(pack, 0o644)
    data = bytearray(pack.read_bytes())
    data[row.offset + 5] ^= 0xFF
    pack.write_bytes(bytes(data))


def test_damaged_bytes_fail_a_whole_read_and_a_read_to_the_end(store: Store, v1: str) -> None:
    fs = _fs(store, version=v1)
    _damage_pack_of(store, fs, "img/sub/b.png")
    with pytest.raises(IntegrityError):
        fs.cat_file("img/sub/b.png")
    assert len(fs.cat_file("img/sub/b.png", 0, 10)) == 10  # a part is not verifiable alone
    with fs.open("img/sub/b.png", block_size=16) as fh:
        fh.read(50)
        with pytest.raises(IntegrityError, match="read to its end"):
            fh.read()


def test_an_alias_moving_mid_read_never_mixes_versions(
    store: Store, v1: str, tmp_path: Path
) -> None:
    fs = _fs(store)
    url = "dsops://vision/cats/train@prod"
    with fs.open(f"{url}/img/sub/b.png", block_size=16) as fh:
        first = fh.read(10)
        changed = {**FILES, "img/sub/b.png": b"C" * 200, "img/a.png": b"D" * 100}
        v2 = _version(store, tmp_path / "v2", changed)
        assert Dataset.get("vision/cats/train@prod", store=store).id == v2
        rest = fh.read()
    assert first + rest == b"B" * 200
    assert fs.cat(f"{url}/img/a.png") == b"A" * 100 and fs.version_id == v1
    copy = pickle.loads(pickle.dumps(fs))  # a worker process reads the same version
    assert copy.cat(f"{url}/img/a.png") == b"A" * 100 and copy.version_id == v1
    assert _fs(store).cat(f"{url}/img/a.png") == b"D" * 100  # a new filesystem resolves again
    assert fs.cat("vision/cats/train@latest/img/a.png") == b"D" * 100
    assert (fs.resolve(url), fs.resolve("vision/cats/train@latest")) == (v1, v2)
    with pytest.raises(ConfigError, match=r"fs\.resolve"):
        _ = fs.version_id  # two versions read: which one is ambiguous


def test_writes_are_refused_with_a_permission_error(store: Store, v1: str, tmp_path: Path) -> None:
    fs = _fs(store, version=v1)
    (tmp_path / "local.txt").write_text("x")
    attempts = [
        lambda: fs.open("data.csv", "wb"),
        lambda: fs.open("new.txt", "w"),
        lambda: fs.pipe("new.txt", b"x"),
        lambda: fs.rm("data.csv"),
        lambda: fs.mkdir("folder"),
        lambda: fs.makedirs("a/b", exist_ok=True),
        lambda: fs.touch("data.csv"),
        lambda: fs.put(str(tmp_path / "local.txt"), "local.txt"),
        lambda: fs.mv("data.csv", "moved.csv"),
        lambda: fs.copy("data.csv", "copy.csv"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionError) as err:
            attempt()
        assert isinstance(err.value, ReadOnlyFileSystem) and "immutable" in str(err.value)
    assert fs.cat("data.csv") == CSV.encode()


def test_fsspec_finds_the_filesystem_by_its_protocol(store: Store, v1: str) -> None:
    assert fsspec.get_filesystem_class("dsops") is DsopsFileSystem
    fs, path = fsspec.core.url_to_fs("dsops://vision/cats/train@prod/data.csv", **_options(store))
    assert isinstance(fs, DsopsFileSystem) and path == "vision/cats/train@prod/data.csv"
    assert fs.cat(path) == CSV.encode() and fs.version_id == v1


# --- moto ---------------------------------------------------------------------------------


@pytest.fixture
def s3_store(moto_endpoint: str, tmp_path: Path) -> Iterator[Store]:
    url = f"s3://{new_bucket(moto_endpoint)}/data"
    yield Store(url, cache_dir=tmp_path / "s3-cache", endpoint_url=moto_endpoint, **KEYS)


def test_on_s3_pandas_reads_through_dsops_urls_and_a_column_reads_part_of_the_file(
    s3_store: Store, tmp_path: Path
) -> None:
    wide = pa.table({f"c{i}": pa.array(range(i, i + 200_000), pa.int64()) for i in range(8)})
    sink = io.BytesIO()
    pq.write_table(wide, sink, compression="none", use_dictionary=False)
    size = len(sink.getvalue())
    ds = Dataset.create("s3", "wide", store=s3_store)
    ds.add_files(write_tree(tmp_path / "wide", {"w.parquet": sink.getvalue(), "a.csv": CSV}))
    version = ds.finalize()
    options = _options(s3_store)
    assert pd.read_csv("dsops://s3/wide@latest/a.csv", storage_options=options)["a"].tolist() == [
        1,
        2,
    ]
    fs = DsopsFileSystem(version=version, store=s3_store)
    s3_store.backend.reset_stats()  # type: ignore[attr-defined]
    column = pq.read_table("w.parquet", filesystem=fs, columns=["c3"])
    assert column.column("c3").to_pylist()[:2] == [3, 4]
    received = s3_store.backend.stats["bytes_received"]  # type: ignore[attr-defined]
    assert received < 0.35 * size, (received, size)
    assert not fs.exists("nope.csv")
    with pytest.raises(ReadOnlyFileSystem):
        fs.pipe_file("w.parquet", b"")
