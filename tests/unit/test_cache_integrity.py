"""The cache never serves bytes that changed after they were verified: edited objects,
edited or deleted view files and damaged cached manifests are detected and repaired."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dsops import Dataset, Store, layout
from dsops.errors import IntegrityError
from dsops.hashing import hash_bytes
from tests.helpers import write_tree

FILES = {"a.txt": "hello world", "d/b.bin": "0123456789" * 50, "e": ""}


@pytest.fixture
def version(store: Store, tmp_path: Path) -> Dataset:
    ds = Dataset.create(project="p", name="i", store=store)
    ds.add_files(write_tree(tmp_path / "src", FILES))
    ds.finalize()
    return ds


def _overwrite(path: Path, data: bytes, *, keep_mtime: bool = False) -> None:
    """Edit a read-only file in place, as a user would after ``chmod u+w``."""
    before = os.stat(path)
    os.chmod(path, before.st_mode | stat.S_IWUSR)
    with open(path, "r+b") as fh:
        fh.write(data)
    os.chmod(path, before.st_mode)
    if keep_mtime:  # defeats the cheap check: only a re-hash can tell
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _object(store: Store, content: str) -> Path:
    return store.cache.objects.path(hash_bytes(content.encode()))


def test_a_same_size_edit_of_a_cache_object_is_never_served(
    store: Store, version: Dataset, tmp_path: Path
) -> None:
    version.read_file("a.txt")  # admitted to the cache
    _overwrite(_object(store, FILES["a.txt"]), b"HELLO WORLD")
    again = Dataset.get(version.id, store=Store(store.url, cache_dir=store.cache.root))
    assert again.read_file("a.txt") == b"hello world"
    copy = Path(again.get_mutable_local_copy(tmp_path / "copy"))
    assert (copy / "a.txt").read_bytes() == b"hello world"
    view = Path(again.get_local_copy())
    assert (view / "a.txt").read_bytes() == b"hello world"


def test_an_edit_through_a_view_is_repaired_when_the_view_is_served_again(
    store: Store, version: Dataset, tmp_path: Path
) -> None:
    view = Path(version.get_local_copy())
    _overwrite(view / "d" / "b.bin", b"X" * 500)
    (view / "a.txt").unlink()
    again = Dataset.get(version.id, store=Store(store.url, cache_dir=store.cache.root))
    view2 = Path(again.get_local_copy())
    assert (view2 / "d" / "b.bin").read_bytes() == FILES["d/b.bin"].encode()
    assert (view2 / "a.txt").read_bytes() == b"hello world"
    assert again.read_file("d/b.bin") == FILES["d/b.bin"].encode()
    copy = Path(again.get_mutable_local_copy(tmp_path / "copy"))
    assert (copy / "d" / "b.bin").read_bytes() == FILES["d/b.bin"].encode()


def test_an_untouched_view_is_served_as_is(store: Store, version: Dataset) -> None:
    view = Path(version.get_local_copy())
    inode = os.stat(view / "a.txt").st_ino
    again = Dataset.get(version.id, store=Store(store.url, cache_dir=store.cache.root))
    assert Path(again.get_local_copy()) == view
    assert os.stat(view / "a.txt").st_ino == inode


def test_verify_deep_rehashes_the_cached_content_and_discards_what_is_wrong(
    store: Store, version: Dataset
) -> None:
    view = Path(version.get_local_copy())
    _overwrite(view / "a.txt", b"HELLO WORLD", keep_mtime=True)
    report = version.verify(deep=True)
    assert not report.ok
    assert report.cache_corrupted == ("a.txt",) and report.corrupted == ()
    assert not _object(store, FILES["a.txt"]).exists() and not view.exists()
    assert version.verify(deep=True).ok
    assert (Path(version.get_local_copy()) / "a.txt").read_bytes() == b"hello world"


def test_verify_without_deep_leaves_the_cache_alone(store: Store, version: Dataset) -> None:
    version.get_local_copy()
    assert version.verify().ok and version.verify().cache_corrupted == ()


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_a_damaged_cached_manifest_is_dropped_and_read_again(
    store: Store, version: Dataset, damage: str
) -> None:
    version.get_local_copy()
    cached = store.cache.manifests_dir / f"{version.id}.parquet"
    good = cached.read_bytes()
    cached.write_bytes(good[: len(good) // 2] if damage == "truncate" else b"\x00" * len(good))
    fresh = Store(store.url, cache_dir=store.cache.root)
    again = Dataset.get(version.id, store=fresh)
    assert sorted(again.list_files()) == sorted(FILES)
    assert cached.read_bytes() == good


def test_the_manifest_hash_hook_checks_every_load(store: Store, version: Dataset) -> None:
    good = store.backend.get(layout.manifest_key(version.id))
    expected = hash_bytes(good)
    fresh = Store(store.url, cache_dir=store.cache.root)
    assert fresh.manifests.table(version.id, expected_hash=expected).num_rows == len(FILES)
    with pytest.raises(IntegrityError, match="does not match the hash in its version record"):
        Store(store.url, cache_dir=store.cache.root).manifests.load(
            version.id, expected_hash="0" * 64
        )
    # A local copy that parses but is not the recorded file is replaced from the store.
    other = Dataset.create(project="p", name="other", store=store)
    other.finalize()
    cached = store.cache.manifests_dir / f"{version.id}.parquet"
    cached.write_bytes(store.backend.get(layout.manifest_key(other.id)))
    loader = Store(store.url, cache_dir=store.cache.root).manifests
    assert loader.table(version.id, expected_hash=expected).num_rows == len(FILES)
    assert cached.read_bytes() == good
