"""Bad input is refused with one clear error, before it can destroy or corrupt data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsops import Dataset, Store
from dsops.cli import cli
from dsops.errors import (
    ConfigError,
    CorruptRecord,
    DsopsError,
    DsopsWarning,
    InvalidPath,
    UnsafeSymlink,
    UnsafeTarget,
)
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


# --- source file names and symbolic links --------------------------------------------


def _draft_and_badly_named_source(
    store: Store, tmp_path: Path, name: bytes
) -> tuple[Dataset, Path]:
    src = write_tree(tmp_path / "src", {"good.txt": "g"})
    (src / os.fsdecode(name)).write_bytes(b"x")
    return Dataset.create(project="demo", name="toy", store=store), src


def test_a_source_file_name_that_is_not_utf8_is_a_clear_error_naming_it(
    store: Store, tmp_path: Path
) -> None:
    ds, src = _draft_and_badly_named_source(store, tmp_path, b"bad\xff.txt")
    for call in (lambda: ds.add_files(src), lambda: ds.sync_folder(src)):
        with pytest.raises(InvalidPath, match=r"bad\\xff\.txt.*not valid UTF-8.*Rename it"):
            call()
    assert ds.list_files() == []


def test_cli_add_of_a_non_utf8_name_is_one_line_with_the_bytes_escaped(
    cli_store: Store, tmp_path: Path
) -> None:
    draft, src = _draft_and_badly_named_source(cli_store, tmp_path, b"caf\xe9.txt")
    result = _dsops("add", draft.id, str(src))
    assert result.exit_code == 1
    _one_line_error(result, "caf\\xe9.txt", "Rename it")


def _linked_tree(tmp_path: Path) -> tuple[Path, Path]:
    """src/ with a file and a folder link inside it, and outside/ that src/ does not hold."""
    src = write_tree(tmp_path / "src", {"a.txt": "A", "sub/b.txt": "B"})
    outside = write_tree(tmp_path / "outside", {"secret.txt": "S", "dir/c.txt": "C"})
    (src / "a-link.txt").symlink_to(src / "a.txt")
    (src / "sub-link").symlink_to(src / "sub", target_is_directory=True)
    (src / "dangling").symlink_to(tmp_path / "nowhere")
    return src, outside


def test_symlinks_inside_the_source_are_followed_the_same_by_walk_and_glob(
    store: Store, tmp_path: Path
) -> None:
    src, _ = _linked_tree(tmp_path)
    walked = Dataset.create(project="demo", name="walk", store=store)
    walked.add_files(src)
    globbed = Dataset.create(project="demo", name="glob", store=store)
    globbed.add_files(str(src / "*"))
    synced = Dataset.create(project="demo", name="sync", store=store)
    synced.sync_folder(src)
    expected = ["a-link.txt", "a.txt", "sub-link/b.txt", "sub/b.txt"]
    assert walked.list_files() == globbed.list_files() == synced.list_files() == expected
    assert walked.read_file("a-link.txt") == b"A"  # the content, not the link


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_symlinks_leaving_the_source_are_refused_unless_follow_symlinks(
    store: Store, tmp_path: Path, kind: str
) -> None:
    src, outside = _linked_tree(tmp_path)
    link = src / ("escape.txt" if kind == "file" else "escape")
    link.symlink_to(outside / ("secret.txt" if kind == "file" else "dir"))
    ds = Dataset.create(project="demo", name="toy", store=store)
    for call in (
        lambda **kw: ds.add_files(src, **kw),
        lambda **kw: ds.add_files(str(src / "*"), **kw),
        lambda **kw: ds.add_files(str(src / "**" / "*.txt"), **kw),
        lambda **kw: ds.sync_folder(src, **kw),
    ):
        with pytest.raises(UnsafeSymlink, match=r"escape.*points outside the source folder"):
            call()
        assert ds.list_files() == []
    ds.add_files(src, follow_symlinks=True)
    followed = "escape.txt" if kind == "file" else "escape/c.txt"
    assert followed in ds.list_files()
    assert ds.read_file(followed) == (b"S" if kind == "file" else b"C")


def test_a_folder_symlink_loop_is_refused(store: Store, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"sub/a.txt": "A"})
    (src / "sub" / "up").symlink_to(src, target_is_directory=True)
    ds = Dataset.create(project="demo", name="toy", store=store)
    with pytest.raises(UnsafeSymlink, match="loops back"):
        ds.add_files(src, follow_symlinks=True)


def test_cli_follow_symlinks_flag_on_add_and_sync(cli_store: Store, tmp_path: Path) -> None:
    src, outside = _linked_tree(tmp_path)
    (src / "escape.txt").symlink_to(outside / "secret.txt")
    draft = Dataset.create(project="demo", name="toy", store=cli_store)
    refused = _dsops("add", draft.id, str(src))
    assert refused.exit_code == 1
    _one_line_error(refused, "escape.txt", "--follow-symlinks")
    assert _dsops("sync", draft.id, str(src)).exit_code == 1
    assert _dsops("add", draft.id, str(src), "--follow-symlinks").exit_code == 0
    assert _dsops("sync", draft.id, str(src), "--follow-symlinks").exit_code == 0
    assert "escape.txt" in Dataset.get(draft.id, store=cli_store).list_files()


# --- control characters in human-readable output ----------------------------------------

EVIL = "red\x1b[31m\nforged line\u202e.txt"


def test_cli_escapes_control_characters_in_file_names_but_json_stays_exact(
    cli_store: Store, tmp_path: Path
) -> None:
    old = _version(cli_store, tmp_path)
    child = Dataset.create(project="demo", name="toy", parents=old.id, store=cli_store)
    child.add_files(write_tree(tmp_path / "evil", {EVIL: "x"}))
    child.finalize()
    escaped = "red\\x1b[31m\\nforged line\\u202e.txt"
    for args in (("ls", child.id), ("diff", old.id, child.id)):
        shown = _dsops(*args)
        assert shown.exit_code == 0, shown.output
        assert "\x1b" not in shown.stdout and "\u202e" not in shown.stdout
        assert escaped in shown.stdout
        assert not any(line.startswith("forged line") for line in shown.stdout.splitlines())
    listed = json.loads(_dsops("--json", "ls", child.id).stdout)
    assert EVIL in [f["path"] for f in listed]
    added = json.loads(_dsops("--json", "diff", old.id, child.id).stdout)["added"]
    assert [r["path"] for r in added] == [EVIL]


def test_cli_error_naming_a_file_with_a_newline_stays_one_line(
    cli_store: Store, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "A"})
    outside = write_tree(tmp_path / "outside", {"s.txt": "S"})
    (src / "x\n\x1b[2Jy").symlink_to(outside / "s.txt")
    draft = Dataset.create(project="demo", name="toy", store=cli_store)
    result = _dsops("add", draft.id, str(src))
    assert "\x1b" not in result.stderr
    _one_line_error(result, "x\\n\\x1b[2Jy", "points outside the source folder")


def test_gc_names_a_corrupt_claim_instead_of_a_traceback(store: Store, tmp_path: Path) -> None:
    ds = _version(store, tmp_path)
    # A claim no live record explains (gc must read it to decide; a live record's own
    # claim it leaves alone unread).
    claim = Path(store.url) / "names" / "demo" / "toy" / "9.9.9"
    claim.write_text('{"claimed_at": "2026-01-01"}')
    with pytest.raises(CorruptRecord, match=r"names/demo/toy/9\.9\.9.*restore it from a backup"):
        collect_garbage(store, dry_run=True)
    assert store.backend.exists(f"versions/{ds.id}.json")
