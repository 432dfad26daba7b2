"""Bad input is refused with one clear error, before it can destroy or corrupt data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import ConfigError, DsopsError, UnsafeTarget
from dsops.gc import collect_garbage
from tests.helpers import snapshot, write_tree


def _version(store: Store, tmp_path: Path) -> Dataset:
    ds = Dataset.create(project="demo", name="toy", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"a.txt": "A"}))
    ds.finalize()
    return ds


def _dsops(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="dsops")


def _one_line_error(result: Result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if result.exit_code == 2:  # a usage error: click adds the usage and a help hint
        lines = [line for line in lines if not line.startswith(("Usage: ", "Try '"))]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --- fetch targets that would destroy the store or the cache ---------------------------


@pytest.mark.parametrize("where", ["store", "cache", "parent", "inside-store", "inside-cache"])
def test_mutable_copy_refuses_a_target_that_is_contains_or_is_inside_store_or_cache(
    store: Store, tmp_path: Path, where: str
) -> None:
    ds = _version(store, tmp_path)
    before = sorted(store.backend.list_keys(""))
    target = {
        "store": tmp_path / "store",
        "cache": tmp_path / "cache",
        "parent": tmp_path,  # contains both
        "inside-store": tmp_path / "store" / "versions",
        "inside-cache": tmp_path / "cache" / "objects" / "new",
    }[where]
    with pytest.raises(UnsafeTarget, match="Choose a folder outside it"):
        ds.get_mutable_local_copy(target, overwrite=True)
    assert sorted(store.backend.list_keys("")) == before
    assert snapshot(Dataset.get(ds.id, store=store).get_local_copy()) == {"a.txt": b"A"}


def test_mutable_copy_refuses_a_symlink_to_the_store(store: Store, tmp_path: Path) -> None:
    ds = _version(store, tmp_path)
    link = tmp_path / "innocent"
    link.symlink_to(tmp_path / "store")
    with pytest.raises(UnsafeTarget, match="is the dsops store"):
        ds.get_mutable_local_copy(link, overwrite=True)
    with pytest.raises(UnsafeTarget, match="is inside the dsops store"):
        ds.get_mutable_local_copy(link / "versions" / ".." / "x", overwrite=True)
    assert store.backend.exists(f"versions/{ds.id}.json")


def test_mutable_copy_beside_the_store_still_works(store: Store, tmp_path: Path) -> None:
    ds = _version(store, tmp_path)
    assert snapshot(ds.get_mutable_local_copy(tmp_path / "store-copy")) == {"a.txt": b"A"}


def test_cli_get_to_the_store_with_overwrite_is_refused_and_keeps_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "store"
    monkeypatch.setenv("DSOPS_STORE", str(root))
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    ds = _version(Store(str(root), cache_dir=tmp_path / "cache"), tmp_path)
    result = _dsops("get", ds.id, "--to", str(root), "--overwrite")
    assert result.exit_code == 1
    _one_line_error(result, "is the dsops store", "Choose a folder outside it")
    assert (root / "versions" / f"{ds.id}.json").is_file()
    assert _dsops("get", ds.id, "--to", os.environ["DSOPS_CACHE_DIR"]).exit_code == 1
    assert (root / "dsops.json").is_file()


# --- gc grace periods --------------------------------------------------------------------


@pytest.mark.parametrize("grace", [-5 * 86400, -1e-9, float("nan"), float("-inf")])
def test_gc_refuses_a_negative_or_non_finite_grace(
    store: Store, tmp_path: Path, grace: float
) -> None:
    live = Dataset.create(project="p", name="live", store=store)
    live.add_files(write_tree(tmp_path / "b", {"b.txt": "B"}))
    with pytest.raises(ConfigError, match="must be a finite number of seconds"):
        collect_garbage(store, grace_seconds=grace)
    with pytest.raises(ValueError):
        collect_garbage(store, grace_seconds=grace, dry_run=True)
    assert store.backend.list_keys(f"drafts/{live.id}/")
    assert collect_garbage(store, grace_seconds=0, dry_run=True).dry_run  # 0 is allowed


@pytest.mark.parametrize("grace", ["-5d", "-1s", "nan", "inf"])
def test_cli_gc_refuses_a_negative_grace_without_deleting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grace: str
) -> None:
    root = tmp_path / "store"
    monkeypatch.setenv("DSOPS_STORE", str(root))
    store = Store(str(root), cache_dir=tmp_path / "cache")
    live = Dataset.create(project="p", name="live", store=store)
    live.add_files(write_tree(tmp_path / "b", {"b.txt": "B"}))
    result = _dsops("gc", "--grace", grace)
    assert result.exit_code == 2
    _one_line_error(result, repr(grace), "≥ 0")
    assert store.backend.list_keys(f"drafts/{live.id}/")


def test_errors_raised_for_bad_input_are_dsops_errors() -> None:
    assert issubclass(UnsafeTarget, DsopsError) and issubclass(UnsafeTarget, ValueError)
