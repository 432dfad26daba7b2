"""``ds.verify(folder=…)``: a local folder compared with a version."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import ConfigError, SourceNotFound
from tests.helpers import write_tree

FILES = {"a.txt": "alpha", "sub/b.txt": "bravo", "sub/deep/c.bin": b"\x00" * 1000, "e": ""}


@pytest.fixture
def version(store: Store, tmp_path: Path) -> tuple[Dataset, Path]:
    """A version of FILES and a mutable copy of it to damage."""
    write_tree(tmp_path / "src", FILES)
    ds = Dataset.create("demo", "check", store=store)
    ds.add_files(tmp_path / "src")
    ds.finalize()
    copy = Path(ds.get_mutable_local_copy(tmp_path / "copy"))
    return ds, copy


def test_an_exact_copy_and_the_cached_view_verify(version: tuple[Dataset, Path]) -> None:
    ds, copy = version
    for folder in (copy, Path(ds.get_local_copy())):
        result = ds.verify(folder=folder)
        assert result and result.ok
        assert (result.folder_missing, result.folder_extra, result.folder_different) == (
            (),
            (),
            (),
        )
        assert result.folder == str(folder) and result.missing == ()


def test_each_kind_of_difference_is_reported(version: tuple[Dataset, Path]) -> None:
    ds, copy = version
    (copy / "a.txt").unlink()
    (copy / "new.txt").write_text("new")
    (copy / "sub" / "b.txt").write_text("BRAVO")  # same size, other bytes
    (copy / "sub" / "deep" / "c.bin").write_bytes(b"\x00" * 999)  # other size
    result = ds.verify(folder=copy)
    assert not result
    assert result.folder_missing == ("a.txt",)
    assert result.folder_extra == ("new.txt",)
    assert result.folder_different == ("sub/b.txt", "sub/deep/c.bin")
    assert result.missing == () and result.corrupted == ()  # the store is fine
    sizes_only = ds.verify(folder=copy, filesize_only=True)
    assert sizes_only.folder_different == ("sub/deep/c.bin",)
    assert sizes_only.filesize_only and not sizes_only
    assert result.to_dict()["folder_different"] == ["sub/b.txt", "sub/deep/c.bin"]


def test_an_edit_after_a_verify_is_found_despite_the_stat_cache(
    version: tuple[Dataset, Path],
) -> None:
    ds, copy = version
    assert ds.verify(folder=copy)  # the copy's hashes are now in the stat cache
    st = (copy / "a.txt").stat()
    (copy / "a.txt").write_text("ALPHA")  # same size, a new mtime
    os.utime(copy / "a.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert ds.verify(folder=copy).folder_different == ("a.txt",)


def test_a_folder_where_a_file_should_be_and_an_empty_file_missing(
    version: tuple[Dataset, Path],
) -> None:
    ds, copy = version
    (copy / "e").unlink()
    (copy / "e").mkdir()
    (copy / "e" / "inner").write_text("x")
    result = ds.verify(folder=copy)
    assert result.folder_missing == ("e",)
    assert result.folder_extra == ("e/inner",)


def test_symlinks_inside_are_followed_and_outside_are_not(
    version: tuple[Dataset, Path], tmp_path: Path
) -> None:
    ds, copy = version
    outside = tmp_path / "outside"
    write_tree(outside, {"a.txt": "alpha", "b.txt": "bravo"})
    (copy / "a.txt").unlink()
    (copy / "a.txt").symlink_to(outside / "a.txt")  # same bytes, but outside: not read
    (copy / "sub" / "b.txt").unlink()
    (copy / "sub" / "b.txt").symlink_to(copy / "e")  # inside: followed (empty ≠ bravo)
    (copy / "link-out").symlink_to(outside, target_is_directory=True)
    (copy / "loop").symlink_to(copy, target_is_directory=True)
    (copy / "dangling").symlink_to(tmp_path / "nothing")
    result = ds.verify(folder=copy)
    assert result.folder_different == ("a.txt", "sub/b.txt")
    assert result.folder_extra == ("dangling", "link-out", "loop")
    assert result.folder_missing == ()


def test_a_name_that_is_not_utf8_is_reported_not_a_crash(
    version: tuple[Dataset, Path],
) -> None:
    ds, copy = version
    bad = os.path.join(os.fsencode(copy), b"bad\xff.txt")
    with open(bad, "wb") as fh:
        fh.write(b"x")
    result = ds.verify(folder=copy)
    assert result.folder_extra == ("bad\\xff.txt",)
    json.dumps(result.to_dict())  # JSON-ready


def test_bad_folder_arguments(version: tuple[Dataset, Path], tmp_path: Path) -> None:
    ds, _ = version
    with pytest.raises(SourceNotFound, match="not a folder"):
        ds.verify(folder=tmp_path / "nope")
    with pytest.raises(ConfigError, match="deep=True"):
        ds.verify(True)  # type: ignore[arg-type]


def test_cli_verify_folder(
    version: tuple[Dataset, Path], cli_runner: CliRunner, tmp_path: Path, store: Store
) -> None:
    ds, copy = version
    base = ["--store", str(tmp_path / "store"), "verify", ds.id, "--folder", str(copy)]
    ok = cli_runner.invoke(cli, base)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("OK demo/check@1.0.0") and "matches" in ok.stdout
    (copy / "sub" / "b.txt").write_text("BRAVO")
    (copy / "x").write_text("x")
    bad = cli_runner.invoke(cli, [*base, "--json"])
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    assert doc["ok"] is False and doc["folder_different"] == ["sub/b.txt"]
    assert doc["folder_extra"] == ["x"] and doc["folder_missing"] == []
    assert len(bad.stderr.strip().splitlines()) == 1 and "differs" in bad.stderr
    sizes = cli_runner.invoke(cli, [*base, "--filesize", "--json"])
    assert sizes.exit_code == 1  # the extra file still differs
    assert json.loads(sizes.stdout)["folder_different"] == []
    text = cli_runner.invoke(cli, base)
    assert "differs in folder  sub/b.txt" in text.stdout
    usage = cli_runner.invoke(cli, ["verify", ds.id, "--filesize"])
    assert usage.exit_code == 2
