from __future__ import annotations

import pytest

from dsops.errors import ConfigError
from dsops.storage import LocalStore, open_store
from tests.store_conformance import StoreConformance


class TestLocalStore(StoreConformance):
    @pytest.fixture
    def store(self, tmp_path):  # type: ignore[no-untyped-def]
        return LocalStore(tmp_path / "store")


def test_file_url_and_plain_path_open_the_same_local_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = open_store(str(tmp_path))
    b = open_store(f"file://{tmp_path}")
    assert isinstance(a, LocalStore) and isinstance(b, LocalStore)
    assert a.root == b.root


def test_keys_that_climb_out_of_the_root_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path)
    for key in ("../x", "/etc/passwd", "a/../../b", "a//b", ""):
        with pytest.raises(ConfigError):
            store.put(key, b"x")


def test_unknown_scheme_names_the_supported_ones() -> None:
    with pytest.raises(ConfigError, match="s3://"):
        open_store("ftp://host/x")


def test_internal_temp_and_lock_files_are_never_listed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path)
    etag = store.put("a", b"1")
    store.put_if_match("a", b"2", etag)
    assert store.list_keys() == ["a"]
