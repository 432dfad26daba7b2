"""One set of assertions every ObjectStore backend must pass.

A backend's test module subclasses :class:`StoreConformance` and provides a ``store``
fixture returning a fresh, empty store (fsspec ``tests/abstract`` / zarr ``StoreTests``).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from dsops.errors import ObjectExists, ObjectNotFound, PreconditionFailed
from dsops.storage import ObjectStore


class StoreConformance:
    """Subclass and define a ``store`` fixture."""

    def test_put_then_get_returns_the_same_bytes(self, store: ObjectStore) -> None:
        etag = store.put("a/b/c.bin", b"hello")
        data, read_etag = store.get_with_etag("a/b/c.bin")
        assert data == b"hello"
        assert read_etag == etag
        assert store.head("a/b/c.bin").size == 5

    def test_put_overwrites_and_changes_the_etag(self, store: ObjectStore) -> None:
        first = store.put("k", b"one")
        second = store.put("k", b"two")
        assert store.get("k") == b"two"
        assert first != second

    def test_empty_object_round_trips(self, store: ObjectStore) -> None:
        store.put("empty", b"")
        assert store.get("empty") == b""
        assert store.head("empty").size == 0

    def test_missing_key_raises_not_found_everywhere(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFound):
            store.get("nope/x")
        with pytest.raises(ObjectNotFound):
            store.head("nope/x")
        with pytest.raises(ObjectNotFound):
            store.get_range("nope/x", 0, 1)
        with pytest.raises(FileNotFoundError):
            store.get("nope/x")
        assert store.exists("nope/x") is False

    def test_ranged_reads_at_the_edges(self, store: ObjectStore) -> None:
        payload = bytes(range(256)) * 4
        store.put("r", payload)
        assert store.get_range("r", 0, 1) == payload[:1]
        assert store.get_range("r", 0, len(payload)) == payload
        assert store.get_range("r", 1000, 1024) == payload[1000:]
        assert store.get_range("r", 1023, 1024) == payload[-1:]
        assert store.get_range("r", 1000, 5000) == payload[1000:]
        assert store.get_range("r", 17, 300) == payload[17:300]

    def test_create_only_put_refuses_an_existing_key(self, store: ObjectStore) -> None:
        store.put_if_absent("once", b"first")
        with pytest.raises(ObjectExists):
            store.put_if_absent("once", b"second")
        with pytest.raises(PreconditionFailed):
            store.put_if_absent("once", b"third")
        assert store.get("once") == b"first"

    def test_concurrent_create_only_puts_have_exactly_one_winner(self, store: ObjectStore) -> None:
        barrier = threading.Barrier(8)

        def attempt(i: int) -> bool:
            barrier.wait()
            try:
                store.put_if_absent("race/key", f"writer-{i}".encode())
            except ObjectExists:
                return False
            return True

        with ThreadPoolExecutor(8) as pool:
            wins = list(pool.map(attempt, range(8)))
        assert sum(wins) == 1
        winner = wins.index(True)
        assert store.get("race/key") == f"writer-{winner}".encode()

    def test_compare_and_swap_rejects_a_stale_etag(self, store: ObjectStore) -> None:
        etag = store.put("cas", b"v1")
        new_etag = store.put_if_match("cas", b"v2", etag)
        with pytest.raises(PreconditionFailed):
            store.put_if_match("cas", b"v3", etag)
        assert store.get("cas") == b"v2"
        assert store.put_if_match("cas", b"v4", new_etag)
        assert store.get("cas") == b"v4"

    def test_compare_and_swap_on_a_missing_key_fails(self, store: ObjectStore) -> None:
        with pytest.raises((ObjectNotFound, PreconditionFailed)):
            store.put_if_match("absent-cas", b"x", "some-etag")

    def test_concurrent_compare_and_swap_loses_no_update(self, store: ObjectStore) -> None:
        store.put("counter", b"0")
        workers, increments = 4, 10

        def bump(_: int) -> int:
            retries = 0
            for _ in range(increments):
                while True:
                    data, etag = store.get_with_etag("counter")
                    try:
                        store.put_if_match("counter", str(int(data) + 1).encode(), etag)
                        break
                    except PreconditionFailed:
                        retries += 1
            return retries

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(bump, range(workers)))
        assert int(store.get("counter")) == workers * increments

    def test_listing_many_keys_by_prefix(self, store: ObjectStore) -> None:
        keys = [f"many/{i // 100:02d}/item-{i:04d}" for i in range(1200)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda k: store.put(k, k.encode()), keys))
        store.put("manyother/x", b"x")
        listed = store.list_keys("many/")
        assert listed == sorted(keys)
        assert store.list_keys("many/03/") == sorted(k for k in keys if k.startswith("many/03/"))
        assert store.list_keys("many/03/item-031") == [f"many/03/item-031{i}" for i in range(10)]
        assert "manyother/x" in store.list_keys("many")
        sizes = {info.key: info.size for info in store.list("many/00/")}
        assert sizes["many/00/item-0000"] == len(b"many/00/item-0000")

    def test_list_of_missing_prefix_is_empty(self, store: ObjectStore) -> None:
        assert store.list_keys("does-not-exist/") == []

    def test_refresh_renews_the_modified_time_and_keeps_the_bytes(
        self, store: ObjectStore, tmp_path
    ) -> None:  # type: ignore[no-untyped-def]
        store.put("objects/ab/abc", b"content")
        src = tmp_path / "abc"
        src.write_bytes(b"content")
        before = store.head("objects/ab/abc").modified
        time.sleep(1.1)  # S3 reports LastModified in whole seconds
        store.refresh("objects/ab/abc", src)
        store.refresh("objects/ab/abc", b"content")
        assert store.head("objects/ab/abc").modified > before or before == 0.0
        assert store.get("objects/ab/abc") == b"content"

    def test_delete_removes_and_tolerates_missing(self, store: ObjectStore) -> None:
        store.put("d/x", b"1")
        store.delete("d/x")
        assert store.exists("d/x") is False
        store.delete("d/x")
        assert store.list_keys("d/") == []

    def test_file_transfer_helpers(self, store: ObjectStore, tmp_path) -> None:  # type: ignore[no-untyped-def]
        src = tmp_path / "src.bin"
        src.write_bytes(b"z" * 100_000)
        store.put_file("files/one", src)
        dst = tmp_path / "dst.bin"
        store.get_file("files/one", dst)
        assert dst.read_bytes() == src.read_bytes()
        assert store.put_file_if_absent("files/two", src) is True
        assert store.put_file_if_absent("files/two", src) is False
