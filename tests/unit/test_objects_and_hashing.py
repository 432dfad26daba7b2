"""Content hashing, the stat cache and content-addressed storage (packs, whole objects)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dsops import layout
from dsops.errors import FileChangedError
from dsops.hashing import StatCache, empty_digest, hash_bytes, hash_file
from dsops.hashing.batch import hash_files
from dsops.objects import (
    SMALL_FILE_LIMIT,
    ByteRange,
    PendingFile,
    coalesce,
    group_by_object,
    read_ranges,
    store_files,
)
from dsops.storage import LocalStore


def _stat_key(path: Path) -> tuple[int, int, int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


# --- hashing ------------------------------------------------------------------------------


def test_hash_file_agrees_with_hash_bytes_below_and_above_the_mmap_threshold(
    tmp_path: Path,
) -> None:
    for size in (0, 1, 9 * 1024 * 1024):
        path = tmp_path / f"f{size}"
        data = os.urandom(size)
        path.write_bytes(data)
        assert hash_file(path) == hash_bytes(data)
    assert empty_digest() == hash_bytes(b"") and len(empty_digest()) == 64


def test_hash_files_reads_only_what_the_stat_cache_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = []
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text(f"content {i}")
        paths.append(tmp_path / f"{i}.txt")
    cache = StatCache(tmp_path / "stat.sqlite")
    files = [(str(p), p.stat().st_size, _stat_key(p)) for p in paths]
    kept: dict[str, bytes] = {}
    first = hash_files(files, cache, algo="blake3", keep=kept, keep_budget=1 << 20)
    assert first == [hash_bytes(p.read_bytes()) for p in paths]
    assert kept == {str(p): p.read_bytes() for p in paths}  # read once, kept for packing

    import dsops.hashing as hashing

    def no_reads(*_: object) -> str:
        raise AssertionError("an unchanged file was hashed again")

    monkeypatch.setattr(hashing, "hash_bytes", no_reads)
    monkeypatch.setattr(hashing, "hash_file", no_reads)
    assert hash_files(files, cache, algo="blake3") == first
    cache.close()


# --- ranges -------------------------------------------------------------------------------


def test_ranges_are_grouped_by_object_and_neighbours_coalesced() -> None:
    rows = [("packs/p", 100, 10, "b"), ("packs/p", 0, 10, "a"), ("", 0, 0, "empty")]
    rows.append(("packs/p", 10_000_000, 5, "far"))
    grouped = group_by_object(rows)
    assert list(grouped) == ["packs/p"]
    groups = coalesce(grouped["packs/p"], gap=1024)
    assert [[r.tag for r in g] for g in groups] == [["a", "b"], ["far"]]
    big = [ByteRange(i * 10, 10, i) for i in range(100)]
    assert all(g[-1].end - g[0].offset <= 50 for g in coalesce(big, gap=0, limit=50))


def test_read_ranges_returns_each_ranges_bytes_from_one_request(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("packs/p", b"0123456789abcdef")
    group = [ByteRange(2, 3, "x"), ByteRange(10, 2, "y")]
    assert [(r.tag, bytes(b)) for r, b in read_ranges(store, "packs/p", group)] == [
        ("x", b"234"),
        ("y", b"ab"),
    ]


# --- storing content ----------------------------------------------------------------------


def _pending(path: Path, data: bytes) -> PendingFile:
    path.write_bytes(data)
    return PendingFile(str(path), hash_bytes(data), len(data))


def test_small_files_go_into_one_content_named_pack_and_large_ones_whole(
    tmp_path: Path,
) -> None:
    store = LocalStore(tmp_path / "store")
    small = [_pending(tmp_path / f"s{i}", f"small {i}".encode()) for i in range(3)]
    big = _pending(tmp_path / "big", os.urandom(SMALL_FILE_LIMIT + 1))
    result = store_files(store, [*small, big, small[0]], workers=2)
    packs = store.list_keys("packs/")
    assert len(packs) == 1 and packs[0] == layout.pack_key(hash_bytes(store.get(packs[0])))
    assert result.locations[big.hash].object == layout.object_key(big.hash)
    for item in small:
        loc = result.locations[item.hash]
        assert (
            store.get_range(loc.object, loc.offset, loc.offset + loc.length)
            == Path(item.source).read_bytes()
        )
    assert result.uploaded_bytes == sum(i.size for i in small) + big.size
    again = store_files(store, [*small, big], workers=2)  # same content: nothing new
    assert again.uploaded_bytes == 0 and store.list_keys("packs/") == packs


def test_reusing_stored_content_renews_it_for_the_gc_grace_period(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    big = _pending(tmp_path / "big", os.urandom(SMALL_FILE_LIMIT + 1))
    store_files(store, [big])
    key = layout.object_key(big.hash)
    os.utime(tmp_path / "store" / key, (1_000_000, 1_000_000))
    store_files(store, [big])  # reused, not uploaded
    assert store.head(key).modified > 1_000_000


def test_a_file_that_changed_after_hashing_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    item = _pending(tmp_path / "f", b"before")
    (tmp_path / "f").write_bytes(b"after!")
    with pytest.raises(FileChangedError, match="changed while it was being added"):
        store_files(store, [item])
    assert store.list_keys("packs/") == []
