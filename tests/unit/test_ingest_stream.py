"""One-pass ingest in bounded memory (dsops/objects/ingest.py, dsops/objects/packer.py)."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

import dsops.objects.ingest as ingest_mod
from dsops import Dataset, Store, layout
from dsops.errors import FileChangedError
from dsops.hashing import StatCache, hash_bytes, hash_stream
from dsops.objects import Location, PackWriter, ingest_files
from dsops.storage import LocalStore


def _files(root: Path, blobs: dict[str, bytes]) -> list[tuple[str, int, tuple[int, int, int, int]]]:
    out = []
    for name, data in blobs.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        st = path.stat()
        out.append((str(path), st.st_size, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
    return out


def _ingest(store: LocalStore, files: list, cache: StatCache, **kw: object):  # type: ignore[no-untyped-def]
    return ingest_files(
        store,
        files,
        cache,
        algo="blake3",
        skip=kw.get("skip", lambda i, d: False),  # type: ignore[arg-type]
        locate=kw.get("locate", lambda ds: {}),  # type: ignore[arg-type]
        workers=2,
    )


def test_streamed_hash_equals_the_one_shot_hash_across_block_boundaries(tmp_path: Path) -> None:
    block = 4096
    for size in (0, 1, block - 1, block, block + 1, 2 * block, 3 * block + 17):
        data = os.urandom(size)
        path = tmp_path / f"f{size}"
        path.write_bytes(data)
        assert hash_stream(path, block_size=block) == (hash_bytes(data), size)


def test_each_small_file_is_read_once_and_packed_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "store")
    blobs = {f"d/{i:03d}": os.urandom(1000 + i) for i in range(300)}
    blobs["dup"] = blobs["d/007"]  # same content twice in one call: stored once
    files = _files(tmp_path / "src", blobs)
    reads: list[str] = []
    real = ingest_mod._read_small
    monkeypatch.setattr(
        ingest_mod, "_read_small", lambda s, n, e: (reads.append(s), real(s, n, e))[1]
    )
    result = _ingest(store, files, StatCache(tmp_path / "stat.sqlite"))
    assert sorted(reads) == sorted(f[0] for f in files)  # one read per file
    packs = store.list_keys("packs/")
    assert len(packs) == 1 and packs[0] == layout.pack_key(hash_bytes(store.get(packs[0])))
    assert result.uploaded_bytes == sum(len(b) for n, b in blobs.items() if n != "dup")
    for (source, _, _), digest in zip(files, result.hashes):
        loc = result.locations[digest]
        assert store.get_range(loc.object, loc.offset, loc.offset + loc.length) == (
            Path(source).read_bytes()
        )
    assert os.listdir(tmp_path / "store" / ".dsops-tmp") == []  # the spool was adopted
    # A retried call writes the same pack (same bytes, same key) and uploads nothing.
    again = _ingest(store, files, StatCache(tmp_path / "other.sqlite"))
    assert again.uploaded_bytes == 0 and store.list_keys("packs/") == packs


def test_known_or_skipped_content_is_neither_packed_nor_read_when_the_stat_cache_knows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "store")
    blobs = {"a": b"alpha", "b": b"bravo", "c": b"charlie"}
    files = _files(tmp_path / "src", blobs)
    cache = StatCache(tmp_path / "stat.sqlite")
    elsewhere = Location("packs/" + "0" * 64, 10, 5)
    first = _ingest(
        store,
        files,
        cache,
        skip=lambda i, d: i == 0,
        locate=lambda ds: {d: elsewhere for d in ds if d == hash_bytes(b"bravo")},
    )
    assert first.uploaded_bytes == len(b"charlie")
    assert first.locations[hash_bytes(b"bravo")] == elsewhere
    reads: list[str] = []
    real = ingest_mod._read_small
    monkeypatch.setattr(
        ingest_mod, "_read_small", lambda s, n, e: (reads.append(s), real(s, n, e))[1]
    )
    second = _ingest(store, files, cache, skip=lambda i, d: True)
    assert reads == [] and second.hashes == first.hashes


def test_a_file_whose_bytes_no_longer_match_the_stat_cache_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    files = _files(tmp_path / "src", {"f": b"before"})
    cache = StatCache(tmp_path / "stat.sqlite")
    cache.store([(files[0][2], hash_bytes(b"other!"))], "blake3")  # stale entry
    with pytest.raises(FileChangedError, match="changed while it was being added"):
        _ingest(store, files, cache)
    assert store.list_keys("packs/") == []
    assert os.listdir(tmp_path / "store" / ".dsops-tmp") == []


def test_packs_are_cut_at_the_target_size_and_every_range_reads_back(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    blobs = [os.urandom(700) for _ in range(10)]
    with PackWriter(store, target_size=2000) as packer:
        for data in blobs:
            packer.add(hash_bytes(data), data)
    result = packer.result
    assert len(store.list_keys("packs/")) == 5 and result.objects_written == 5
    for data in blobs:
        loc = result.locations[hash_bytes(data)]
        assert store.get_range(loc.object, loc.offset, loc.offset + loc.length) == data


def test_ingest_memory_stays_bounded_whatever_the_dataset_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_mod, "_BATCH_BYTES", 256 * 1024)
    store = LocalStore(tmp_path / "store")
    files = _files(tmp_path / "src", {f"f{i:04d}": os.urandom(64 * 1024) for i in range(256)})
    tracemalloc.start()
    try:
        result = _ingest(store, files, StatCache(tmp_path / "stat.sqlite"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.uploaded_bytes == 16 * 1024 * 1024
    assert peak < 6 * 1024 * 1024  # a window of batches, not the 16 MiB of the dataset


def test_a_large_file_is_stored_whole_and_a_child_fetch_equals_the_source(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    src = tmp_path / "src"
    src.mkdir()
    big = os.urandom(9 * 1024 * 1024 + 3)
    (src / "big.bin").write_bytes(big)
    (src / "small.txt").write_bytes(b"small")
    (src / "empty").write_bytes(b"")
    ds = Dataset.create(project="p", name="stream", store=store)
    ds.add_files(src)
    ds.finalize()
    assert store.backend.list_keys("objects/") == [layout.object_key(hash_bytes(big))]
    child = Dataset.create(project="p", name="stream", parents=[ds.id], store=store)
    (src / "copy.bin").write_bytes(big)  # known by the parent: not uploaded again
    summary = child.add_files(src)
    child.finalize()
    assert summary.uploaded_bytes == 0
    out = Path(child.get_mutable_local_copy(tmp_path / "out"))
    assert (out / "copy.bin").read_bytes() == big and (out / "empty").read_bytes() == b""
