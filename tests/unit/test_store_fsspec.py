"""FsspecStore on fsspec's in-memory filesystem, plus URL and dependency handling."""

from __future__ import annotations

import importlib.util
import pickle
import uuid
from typing import Any

import pytest

from dsops.errors import ConfigError, MissingDependency, ObjectNotFound
from dsops.storage import open_store
from dsops.storage.fsspec_dialects import AzureDialect, Dialect, GcsDialect, modified
from dsops.storage.fsspec_store import FsspecStore
from tests.store_conformance import StoreConformance

_SINGLE_WRITER = "memory:// emulates conditional writes by check-then-write: one writer only"


def memory_store(**options: Any) -> FsspecStore:
    # MemoryFileSystem keeps one process-wide tree: every store gets its own root.
    return FsspecStore(f"memory://t-{uuid.uuid4().hex}", **options)


class TestFsspecStoreOnMemory(StoreConformance):
    @pytest.fixture
    def store(self) -> FsspecStore:
        return memory_store(single_writer=True)

    @pytest.mark.skip(reason=_SINGLE_WRITER)
    def test_concurrent_create_only_puts_have_exactly_one_winner(self) -> None: ...

    @pytest.mark.skip(reason=_SINGLE_WRITER)
    def test_concurrent_compare_and_swap_loses_no_update(self) -> None: ...


def test_without_atomic_conditional_writes_create_only_is_refused_not_raced() -> None:
    store = memory_store()
    etag = store.put("k", b"v")  # plain writes work
    with pytest.raises(ConfigError, match=r"no atomic create-only write.*single_writer=True"):
        store.put_if_absent("versions/v.json", b"{}")
    with pytest.raises(ConfigError, match="no atomic compare-and-swap"):
        store.put_if_match("k", b"w", etag)
    assert store.get("k") == b"v"


def test_directories_are_not_objects() -> None:
    store = memory_store()
    store.put("dir/file", b"x")
    with pytest.raises(ObjectNotFound):
        store.head("dir")
    assert store.list_keys("di") == ["dir/file"]


def test_stats_count_calls_and_bytes() -> None:
    store = memory_store()
    store.put("a", b"123")
    store.get("a")
    store.list_keys()
    stats = store.stats
    assert (stats["PUT"], stats["GET"], stats["LIST"]) == (1, 1, 1)
    assert (stats["bytes_sent"], stats["bytes_received"]) == (3, 3)


def test_cloud_urls_open_without_touching_the_network() -> None:
    pytest.importorskip("gcsfs", reason="the gcs extra is not installed")
    store = open_store("gs://bucket/some/prefix/")
    assert isinstance(store, FsspecStore)
    assert (store.protocol, store.root, store.url) == (
        "gcs",
        "bucket/some/prefix",
        "gs://bucket/some/prefix",
    )
    assert isinstance(store.dialect, GcsDialect)
    assert store._fs is None


def test_abfss_url_names_the_account_in_its_host() -> None:
    pytest.importorskip("adlfs", reason="the azure extra is not installed")
    store = FsspecStore("abfss://data@myaccount.dfs.core.windows.net/team/ds")
    assert store.root == "data/team/ds"
    assert store._options["account_name"] == "myaccount"
    assert isinstance(store.dialect, AzureDialect)


@pytest.mark.parametrize(("url", "extra"), [("gs://b", "gcs"), ("az://c", "azure")])
def test_missing_backend_package_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, url: str, extra: str
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in ("gcsfs", "adlfs") else real(name, *a),
    )
    with pytest.raises(MissingDependency, match=rf"pip install 'dsops\[{extra}\]'"):
        open_store(url)


@pytest.mark.parametrize("url", ["gs://", "gs://b/p?x=1", "az://c/../x"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        FsspecStore(url)


def test_etags_and_times_read_from_each_backends_info() -> None:
    info = {"size": 3, "generation": "17", "updated": "2026-01-02T03:04:05Z"}
    assert GcsDialect().etag(info) == "17"
    assert modified(info) == pytest.approx(1767323045.0)
    assert AzureDialect().etag({"etag": '"0x8DA"'}) == "0x8DA"
    assert Dialect().etag({"size": 3, "created": 12.5}) == "3-12.5"


def test_a_store_pickles_without_its_filesystem_and_reconnects() -> None:
    store = memory_store()
    store.put("k", b"v")
    copy = pickle.loads(pickle.dumps(store))
    assert copy._fs is None
    assert copy.get("k") == b"v"
