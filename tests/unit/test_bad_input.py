"""Bad input is refused with one clear error, before it can destroy or corrupt data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import ConfigError, CorruptRecord, DsopsError, DsopsWarning, UnsafeTarget
from dsops.gc import collect_garbage
from tests.helpers import snapshot, write_tree


def _version(store: Store, tmp_path: Path) -> Dataset:
    ds = Dataset.create(project="demo", name="toy", store=store)
    ds.add_files(write_tree(tmp_path / "src", {"a.txt": "A"}))
    ds.finalize()
    return ds


@pytest.fixture
def cli_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The ``store`` fixture, as the CLI's DSOPS_STORE and DSOPS_CACHE_DIR."""
    monkeypatch.setenv("DSOPS_STORE", store.url)
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(store.cache.root))
    return store


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
    cli_store: Store, tmp_path: Path
) -> None:
    root = Path(cli_store.url)
    ds = _version(cli_store, tmp_path)
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
    cli_store: Store, tmp_path: Path, grace: str
) -> None:
    store = cli_store
    live = Dataset.create(project="p", name="live", store=store)
    live.add_files(write_tree(tmp_path / "b", {"b.txt": "B"}))
    result = _dsops("gc", "--grace", grace)
    assert result.exit_code == 2
    _one_line_error(result, repr(grace), "≥ 0")
    assert store.backend.list_keys(f"drafts/{live.id}/")


def test_errors_raised_for_bad_input_are_dsops_errors() -> None:
    assert issubclass(UnsafeTarget, DsopsError) and issubclass(UnsafeTarget, ValueError)


# --- corrupt records -----------------------------------------------------------------


def _two_versions(store: Store, tmp_path: Path) -> tuple[Dataset, Dataset]:
    good = _version(store, tmp_path)
    bad = Dataset.create(project="demo", name="other", store=store)
    bad.add_files(write_tree(tmp_path / "src2", {"b.txt": "B"}))
    bad.finalize()
    return good, bad


CORRUPTIONS = {
    "not-json": b"{not json",
    "not-utf8": b"\xff\xfe\x00garbage",
    "not-an-object": b"[1, 2]",
    "wrong-type": None,  # file_count as a string
    "wrong-id": None,
}


def _corrupt(store: Store, version_id: str, how: str) -> None:
    path = Path(store.url) / "versions" / f"{version_id}.json"
    body = CORRUPTIONS[how]
    if body is None:
        data = json.loads(path.read_bytes())
        if how == "wrong-type":
            data["file_count"] = "many"
        else:
            data["id"] = "f" * 32
        body = json.dumps(data).encode()
    path.chmod(0o644)
    path.write_bytes(body)


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_a_corrupt_version_record_is_a_clear_error_naming_the_key(
    store: Store, tmp_path: Path, how: str
) -> None:
    good, bad = _two_versions(store, tmp_path)
    _corrupt(store, bad.id, how)
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    with pytest.raises(CorruptRecord, match=f"versions/{bad.id}.json") as caught:
        Dataset.get(bad.id, store=fresh)
    assert caught.value.key == f"versions/{bad.id}.json"
    assert "restore it from a backup" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert Dataset.get(good.id, store=fresh).list_files() == ["a.txt"]


@pytest.mark.parametrize("how", ["not-json", "wrong-type"])
def test_list_skips_a_corrupt_record_with_a_warning(store: Store, tmp_path: Path, how: str) -> None:
    good, bad = _two_versions(store, tmp_path)
    _corrupt(store, bad.id, how)
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    with pytest.warns(DsopsWarning, match=f"versions/{bad.id}.json"):
        rows = Dataset.list(store=fresh)
    assert [r["id"] for r in rows] == [good.id]
    seen: list[CorruptRecord] = []
    assert len(Dataset.list("demo", "other", store=fresh, on_corrupt=seen.append)) == 0
    assert [e.key for e in seen] == [f"versions/{bad.id}.json"]


def test_list_skips_a_corrupt_alias(store: Store, tmp_path: Path) -> None:
    good = _version(store, tmp_path)
    (Path(store.url) / "refs" / "demo" / "toy" / "latest").write_bytes(b'{"version_id": 7}')
    fresh = Store(store.url, cache_dir=tmp_path / "fresh")
    seen: list[CorruptRecord] = []
    rows = Dataset.list(store=fresh, on_corrupt=seen.append)
    assert [(r["id"], r["aliases"]) for r in rows] == [(good.id, [])]
    assert [e.key for e in seen] == ["refs/demo/toy/latest"]
    with pytest.raises(CorruptRecord, match="refs/demo/toy/latest"):
        Dataset.get("demo/toy@latest", store=fresh)


def test_cli_list_shows_the_good_versions_and_warns_about_the_corrupt_one(
    cli_store: Store, tmp_path: Path
) -> None:
    good, bad = _two_versions(cli_store, tmp_path)
    _corrupt(cli_store, bad.id, "not-json")
    result = _dsops("list")
    assert result.exit_code == 0, result.output
    assert good.id in result.stdout and bad.id not in result.stdout
    assert f"Warning: skipped a corrupt record: Version record versions/{bad.id}.json" in (
        result.stderr
    )
    listed = _dsops("--json", "list")
    assert [r["id"] for r in json.loads(listed.stdout)] == [good.id]
    shown = _dsops("ls", bad.id)
    assert shown.exit_code == 1
    _one_line_error(shown, f"versions/{bad.id}.json", "restore it from a backup")
