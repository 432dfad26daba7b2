"""Admission of fetched bytes: unnamed files (O_TMPFILE) or named temporaries, same result."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import dsops.cache.objects as cache_objects
from dsops import Dataset, Store
from dsops.errors import IntegrityError
from dsops.hashing import hash_file
from tests.helpers import random_tree, snapshot


@pytest.mark.parametrize("unnamed", [True, False])
def test_a_cold_fetch_admits_read_only_stamped_objects_that_equal_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unnamed: bool
) -> None:
    monkeypatch.setattr(cache_objects, "_TMPFILE", unnamed and cache_objects._TMPFILE)
    files = random_tree(tmp_path / "src", 120, seed=4, max_size=50_000)
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "wcache")
    ds = Dataset.create(project="p", name="adm", store=store)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    reader = Store(store.url, cache_dir=tmp_path / "cache")
    got = Dataset.get(ds.id, store=reader)
    assert snapshot(got.get_local_copy()) == files
    objects = [p for p in (tmp_path / "cache" / "objects").rglob("*") if p.is_file()]
    assert len(objects) == len({hash_file(tmp_path / "src" / n) for n in files if files[n]})
    for obj in objects:
        st = obj.stat()
        assert hash_file(obj) == obj.name and not st.st_mode & stat.S_IWUSR
        assert cache_objects.is_stamped(st, obj.name, st.st_size)
    assert os.listdir(tmp_path / "cache" / "tmp") == []  # nothing named was left behind
    # Editing a mutable copy never reaches the cache.
    copy = Path(got.get_mutable_local_copy(tmp_path / "copy"))
    first = sorted(n for n in files if files[n])[0]
    (copy / first).write_bytes(b"edited")
    assert snapshot(got.get_local_copy()) == files


def test_corrupted_pack_bytes_are_refused_and_not_admitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    random_tree(tmp_path / "src", 20, seed=5)
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "wcache")
    ds = Dataset.create(project="p", name="bad", store=store)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    (pack,) = (tmp_path / "store" / "packs").iterdir()
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    reader = Store(store.url, cache_dir=tmp_path / "cache")
    with pytest.raises(IntegrityError):
        Dataset.get(ds.id, store=reader).get_local_copy()
    admitted = [p for p in (tmp_path / "cache" / "objects").rglob("*") if p.is_file()]
    assert all(hash_file(p) == p.name for p in admitted)
    assert len(admitted) < 20
