"""A full disk (docs/RELIABILITY.md, "Full disk"): ingest and fetch onto an 8 MiB tmpfs.

Each test mounts its own size-limited tmpfs (root only; skipped with a message
elsewhere), fills it, runs a verb, and checks: a :class:`DiskFull` naming the folder and
the bytes needed, no temporary file left, every previously cached object and view still
verifying, the store intact, and the same call succeeding once space is freed.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import DiskFull, DsopsError, DsopsWarning
from dsops.hashing import hash_file
from tests.helpers import snapshot, write_tree

MiB = 1024 * 1024
DISK = 8 * MiB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs mounted for this test only (unmounted in teardown)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("the full-disk tests mount a tmpfs: run them as root on Linux")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK // MiB}m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): needs CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        if os.path.ismount(mount):
            subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Write a filler file so that about ``leave`` bytes stay free on ``disk``."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def payload(root: Path, seed: int, small: int, large: int = 0) -> dict[str, bytes]:
    """``small`` files of 64 KiB (packed) and ``large`` files of 4.5 MiB (whole objects)."""
    rng = random.Random(seed)
    files = {f"s/{seed}-{i:03d}.bin": rng.randbytes(64 * 1024) for i in range(small)}
    files |= {f"l/{seed}-{i}.bin": rng.randbytes(4 * MiB + MiB // 2) for i in range(large)}
    write_tree(root, files)
    return files


def version(store: Store, src: Path, name: str) -> Dataset:
    ds = Dataset.create("disk", name, store=store)
    ds.add_files(src)
    ds.finalize()
    return ds


def leftovers(*roots: Path) -> list[str]:
    """Temporary files and folders dsops writes before renaming into place."""
    found = []
    for root in roots:
        for dirpath, dirs, files in os.walk(root):
            for name in dirs + files:
                if name in (".dsops-tmp", ".dsops-locks"):
                    continue  # the local store's folders for them, not temporary files
                if name.startswith((".tmp-", ".evict-")) or ".dsops-" in name:
                    found.append(os.path.join(dirpath, name))
            if os.path.basename(dirpath) in ("tmp", ".dsops-tmp") and files:
                found += [os.path.join(dirpath, f) for f in files]
    return found


def assert_cache_verifies(cache: Path) -> int:
    """Every cached object hashes to its name, every view file to its object; a count."""
    count = 0
    objects = cache / "objects"
    for dirpath, _, files in os.walk(objects):
        for name in files:
            assert hash_file(Path(dirpath) / name) == name, f"damaged cache object {name}"
            count += 1
    return count


def test_fetch_onto_a_full_cache_disk_fails_cleanly_keeps_the_cache_and_then_succeeds(
    tmp_path: Path, small_disk: Path
) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=small_disk / "cache")
    payload(tmp_path / "a", 1, 8)
    first = version(store, tmp_path / "a", "first")
    before = first.get_local_copy()
    cached = assert_cache_verifies(small_disk / "cache")
    assert cached >= 8
    files = payload(tmp_path / "b", 2, 40)  # 2.5 MiB of new content
    second = version(store, tmp_path / "b", "second")
    filler = fill(small_disk, MiB)

    with pytest.raises(DiskFull) as caught:
        second.get_local_copy()
    err = caught.value
    assert isinstance(err, DsopsError) and isinstance(err, OSError)
    assert err.folder == str(small_disk / "cache")
    assert err.disk == str(small_disk)
    assert err.needed >= 40 * 64 * 1024 > err.free
    assert str(small_disk / "cache") in str(err) and "needed at least 2.5 MiB" in str(err)
    assert leftovers(small_disk) == []
    assert assert_cache_verifies(small_disk / "cache") >= cached  # only whole objects
    assert sorted(os.listdir(small_disk / "cache" / "views")) == [first.id]
    assert snapshot(before) == snapshot(tmp_path / "a")
    assert first.get_local_copy() == before

    filler.unlink()
    view = second.get_local_copy()
    assert snapshot(view) == files
    assert second.verify(deep=True)
    assert assert_cache_verifies(small_disk / "cache") == cached + 40


def test_mutable_copy_onto_a_full_disk_keeps_the_old_copy_and_leaves_no_partial_one(
    tmp_path: Path, small_disk: Path
) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    old = payload(tmp_path / "a", 3, 4)
    first = version(store, tmp_path / "a", "first")
    target = small_disk / "work"
    first.get_mutable_local_copy(target)
    new = payload(tmp_path / "b", 4, 48)  # 3 MiB
    second = version(store, tmp_path / "b", "second")
    filler = fill(small_disk, MiB)

    with pytest.raises(DiskFull) as caught:
        second.get_mutable_local_copy(target, overwrite=True)
    assert caught.value.folder == str(small_disk)
    assert caught.value.needed == 48 * 64 * 1024
    assert "a copy of 48 files (3.0 MiB)" in str(caught.value)
    assert leftovers(small_disk, tmp_path / "cache") == []
    assert snapshot(target) == old  # the previous copy is untouched
    assert assert_cache_verifies(tmp_path / "cache") == 52

    filler.unlink()
    second.get_mutable_local_copy(target, overwrite=True)
    assert snapshot(target) == new


def test_ingest_onto_a_full_store_disk_fails_cleanly_keeps_the_store_and_then_succeeds(
    tmp_path: Path, small_disk: Path
) -> None:
    store = Store(str(small_disk / "store"), cache_dir=tmp_path / "cache")
    old = payload(tmp_path / "a", 5, 4)
    first = version(store, tmp_path / "a", "first")
    new = payload(tmp_path / "b", 6, 16, large=1)  # 1 MiB packed + 4.5 MiB whole
    draft = Dataset.create("disk", "second", parents=[first.id], store=store)
    filler = fill(small_disk, 3 * MiB)

    with pytest.raises(DiskFull) as caught:
        draft.add_files(tmp_path / "b")
    err = caught.value
    assert err.folder == str(small_disk / "store")
    assert err.needed >= MiB  # at least the pack or the large object being written
    assert "the store" in str(err) and str(small_disk) in str(err)
    assert leftovers(small_disk) == []
    assert draft.list_files() == sorted(old)  # nothing of the failed add is visible
    assert snapshot(first.get_mutable_local_copy(tmp_path / "check")) == old
    assert first.verify(deep=True)

    filler.unlink()
    draft.add_files(tmp_path / "b")
    draft.finalize()
    assert snapshot(draft.get_mutable_local_copy(tmp_path / "out")) == old | new
    assert draft.verify(deep=True)


def test_url_source_download_onto_a_full_scratch_disk_fails_cleanly(
    tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    store = Store(str(tmp_path / "store"), cache_dir=tmp_path / "cache")
    files = payload(tmp_path / "landing", 7, 48)  # 3 MiB
    draft = Dataset.create("disk", "landing", store=store)
    filler = fill(small_disk, MiB)

    with pytest.raises(DiskFull) as caught:
        draft.add_files(f"file://{tmp_path / 'landing'}")
    assert caught.value.folder.startswith(str(small_disk))
    assert caught.value.needed == 48 * 64 * 1024
    assert "downloaded source files (3.0 MiB)" in str(caught.value)
    assert sorted(os.listdir(small_disk)) == ["filler"]  # the scratch folder is gone
    assert draft.list_files() == []

    filler.unlink()
    draft.add_files(f"file://{tmp_path / 'landing'}")
    assert draft.list_files() == sorted(files)


def test_ingest_with_a_full_cache_disk_warns_that_the_stat_cache_is_skipped(
    tmp_path: Path, small_disk: Path
) -> None:
    store = Store(str(tmp_path / "store"), cache_dir=small_disk / "cache")
    files = payload(tmp_path / "a", 8, 200, large=0)  # many small files: stat rows
    fill(small_disk, 0)
    draft = Dataset.create("disk", "statcache", store=store)
    with pytest.warns(DsopsWarning, match="stat cache .* cannot be written"):
        draft.add_files(tmp_path / "a")
    assert draft.list_files() == sorted(files)


def test_cli_on_a_full_disk_exits_1_with_one_line(
    tmp_path: Path, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSOPS_STORE", str(small_disk / "store"))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    payload(tmp_path / "a", 9, 48)
    runner = CliRunner()
    made = runner.invoke(cli, ["create", "--project", "disk", "--name", "cli"])
    assert made.exit_code == 0, made.output
    fill(small_disk, MiB)
    result = runner.invoke(cli, ["add", made.stdout.strip(), str(tmp_path / "a")])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: cannot add files")
    assert "no space is left" in lines[0] and str(small_disk) in lines[0]
    assert "Traceback" not in result.output


def test_a_quota_error_is_disk_full_too_and_pickles_with_its_figures(tmp_path: Path) -> None:
    import errno
    import pickle

    from dsops.disk import space_for

    with pytest.raises(DiskFull) as caught, space_for(tmp_path, 3 * MiB, "a test file"):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")
    err = caught.value
    assert err.errno == errno.EDQUOT and err.needed == 3 * MiB
    assert "the disk quota is exceeded" in str(err) and "needed at least 3.0 MiB" in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is DiskFull and str(copy) == str(err) and copy.folder == str(tmp_path)
    from dsops.ui.app import status_of

    assert status_of(err) == 507  # the UI: Insufficient Storage, not a 500


def test_a_short_write_on_a_nearly_full_disk_writes_the_rest_or_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dsops import disk

    real = os.write
    calls: list[int] = []

    def short(fd: int, data: bytes | memoryview) -> int:  # the kernel may stop short
        calls.append(len(data))
        return real(fd, bytes(data[: max(1, len(data) // 2)]))

    monkeypatch.setattr(disk.os, "write", short)
    fd = os.open(tmp_path / "f", os.O_WRONLY | os.O_CREAT)
    try:
        disk.write_all(fd, b"x" * 1000)
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == b"x" * 1000 and len(calls) > 5
