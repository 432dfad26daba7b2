"""``dsops-clearml-data``: clearml-data's commands and flags, stateful, on dsops."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsops.clearml import Dataset
from dsops.clearml.cli import cli, spread_list_flags

ROOT = Path(__file__).resolve().parents[2]
Run = Callable[..., Result]


@pytest.fixture
def state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "clearml-data.json"
    monkeypatch.setenv("DSOPS_CLEARML_STATE", str(path))
    monkeypatch.setenv("DSOPS_STORE", str(tmp_path / "store"))
    return path


@pytest.fixture
def run(state_file: Path) -> Run:
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, list(args), prog_name="dsops-clearml-data")
        assert result.exit_code == code, (
            f"{args} exited {result.exit_code}, expected {code}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
        )
        return result

    return invoke


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data_samples"
    for rel, text in {"a.csv": "1,2", "img/b.jpg": "bb", "img/c.jpg": "ccc"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _id(result: Result | str) -> str:
    return _id_text(result if isinstance(result, str) else result.stdout)


def test_list_flags_take_several_values() -> None:
    assert spread_list_flags(["create", "--parents", "a", "b", "--name", "n"]) == [
        "create", "--parents", "a", "--parents", "b", "--name", "n",
    ]  # fmt: skip
    assert spread_list_flags(["add", "--files=x", "y"]) == ["add", "--files", "x", "--files", "y"]
    assert spread_list_flags(["create", "--tags", "--name", "n"]) == ["create", "--name", "n"]


def test_create_add_close_is_stateful(run: Run, data: Path, state_file: Path) -> None:
    ds_id = _id(run("create", "--project", "datasets", "--name", "hello", "--tags", "a", "b"))
    assert json.loads(state_file.read_text())["id"] == ds_id
    assert "3 files added" in run("add", "--files", str(data)).stdout
    assert "Dataset upload completed" in run("upload").stdout
    closed = run("close").stdout
    assert "closed and finalized" in closed and "version=1.0.0" in closed
    assert json.loads(state_file.read_text())["id"] is None
    ds = Dataset.get(dataset_id=ds_id)
    assert ds.is_final() and ds.tags == ["a", "b"]
    assert ds.list_files() == ["a.csv", "img/b.jpg", "img/c.jpg"]
    failed = run("add", "--files", str(data), code=1)
    assert failed.stderr.strip() == "Error: Dataset ID not specified, add --id <dataset_id>."


def test_add_with_folder_wildcard_non_recursive_and_links(run: Run, data: Path) -> None:
    run("create", "--project", "p", "--name", "n")
    out = run("add", "--files", str(data), "--wildcard", "*.jpg", "--dataset-folder", "x").stdout
    assert "2 files added" in out
    run("add", "--files", str(data), "--non-recursive", "--dataset-folder", "top")
    run("add", "--links", f"file://{data / 'img'}", "--dataset-folder", "ext")
    listing = run("list").stdout
    for path in ("x/img/b.jpg", "x/img/c.jpg", "top/a.csv", "ext/b.jpg", "ext/c.jpg"):
        assert path in listing
    assert "top/img" not in listing
    assert "Total 5 files, 13 bytes" in listing
    removed = run("remove", "--files", "x/*.jpg", "ext/b.jpg").stdout
    assert "3 files removed" in removed
    assert "Total 2 files" in run("list").stdout
    assert run("add", code=2).exit_code == 2  # neither --files nor --links


def test_sync_creates_closes_and_reports(run: Run, data: Path) -> None:
    out = run("sync", "--project", "p", "--name", "s", "--folder", str(data)).stdout
    first = _id(out)
    assert "Sync completed: 0 files removed, 3 added, 0 modified" in out
    assert "closed and finalized" in out
    (data / "a.csv").write_text("changed")
    (data / "img" / "b.jpg").unlink()
    out = run("sync", "--parents", first, "--project", "p", "--name", "s", "--version", "2.0",
              "--folder", str(data)).stdout  # fmt: skip
    second = _id(out)
    assert "1 files removed, 0 added, 1 modified" in out and "version=2.0.0" in out
    compare = run("compare", "--source", first, "--target", second, "--verbose").stdout
    assert compare.strip().endswith(
        "Comparison summary: 1 files removed, 1 files modified, 0 files added"
    )
    assert "img/b.jpg" in compare
    same = run("sync", "--parents", second, "--project", "p", "--name", "s", "--folder",
               str(data)).stdout  # fmt: skip
    assert "Zero modifications" in same
    skip = run("sync", "--parents", second, "--name", "s", "--folder", str(data),
               "--skip-close").stdout  # fmt: skip
    assert "closed" not in skip and not Dataset.get(dataset_id=_id(skip)).is_final()
    assert "Dataset closed" in run("close").stdout


def test_list_modified_filter_and_by_project_name(run: Run, data: Path) -> None:
    first = _id(run("sync", "--project", "p", "--name", "n", "--folder", str(data)))
    (data / "new.txt").write_text("n")
    run("sync", "--parents", first, "--project", "p", "--name", "n", "--folder", str(data))
    modified = run("list", "--project", "p", "--name", "n", "--modified").stdout
    assert "new.txt" in modified and "a.csv" not in modified
    filtered = run("list", "--id", first, "--filter", "img/*.jpg").stdout
    assert "img/b.jpg" in filtered and "a.csv" not in filtered
    assert "Total 2 files, 5 bytes" in filtered
    old = run("list", "--project", "p", "--name", "n", "--version", "1.0.0").stdout
    assert "new.txt" not in old


def test_get_copy_link_parts_overwrite(run: Run, data: Path, tmp_path: Path) -> None:
    ds_id = _id(run("sync", "--project", "p", "--name", "n", "--folder", str(data)))
    cached = run("get", "--id", ds_id).stdout.split("available: ")[1].strip()
    assert Path(cached, "img", "c.jpg").read_text() == "ccc"
    copy = tmp_path / "copy"
    run("get", "--id", ds_id, "--copy", str(copy))
    assert (copy / "a.csv").read_text() == "1,2"
    assert "not empty" in run("get", "--id", ds_id, "--copy", str(copy), code=1).stderr
    run("get", "--id", ds_id, "--copy", str(copy), "--overwrite", "--part", "0", "--num-parts",
        "2")  # fmt: skip
    part = sorted(p.name for p in copy.rglob("*") if p.is_file())
    assert part and len(part) < 3
    link = tmp_path / "link"
    run("get", "--id", ds_id, "--link", str(link))
    assert link.is_symlink() and (link / "img" / "b.jpg").read_text() == "bb"
    assert "--overwrite" in run("get", "--id", ds_id, "--link", str(link), code=1).stderr
    run("get", "--id", ds_id, "--link", str(link), "--overwrite")


def test_verify_exits_one_on_errors(run: Run, data: Path, tmp_path: Path) -> None:
    ds_id = _id(run("sync", "--project", "p", "--name", "n", "--folder", str(data)))
    assert "no errors found" in run("verify", "--id", ds_id).stdout
    assert "no errors found" in run("verify", "--id", ds_id, "--folder", str(data)).stdout
    (data / "a.csv").write_text("3,4")  # same size
    assert "no errors" in run("verify", "--id", ds_id, "--folder", str(data), "--filesize").stdout
    bad = run("verify", "--id", ds_id, "--folder", str(data), "--verbose", code=1)
    assert "a.csv" in bad.stdout and "1 errors found" in bad.stderr


def test_describe_publish_delete_rename_move_search_squash(run: Run, data: Path) -> None:
    one = _id(run("sync", "--project", "p", "--name", "n", "--folder", str(data), "--tags", "t"))
    run("set-description", "--id", one, "--description", "first cut")
    assert Dataset.get(dataset_id=one).description == "first cut"
    (data / "x.txt").write_text("x")
    two = _id(run("sync", "--parents", one, "--name", "n", "--folder", str(data)))
    search = run("search", "--project", "p").stdout
    assert one in search and two in search and "1.0.1" in search
    assert two not in run("search", "--tags", "t").stdout
    squashed = _id(run("squash", "--name", "flat", "--ids", one, two))
    assert Dataset.get(dataset_id=squashed).list_files() == Dataset.get(dataset_id=two).list_files()
    run("publish", "--id", two)
    assert "published" in run("delete", "--id", two, code=1).stderr
    run("delete", "--id", two, "--force")
    run("rename", "--project", "p", "--name", "n", "--new-name", "m")
    run("move", "--project", "p", "--name", "m", "--new-project", "q/r")
    assert Dataset.get(dataset_project="q/r", dataset_name="m").id == one
    assert "2 versions" not in run("delete", "--project", "p", "--name", "flat").stdout
    run("delete", "--project", "q/r", "--name", "m", "--entire-dataset", "--force")
    assert Dataset.list_datasets() == []
    assert run("get", "--id", "0" * 32, code=1).stderr.startswith("Error: cannot get a local")


def test_storage_and_output_uri_choose_the_store(run: Run, data: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    ds_id = _id(run("create", "--project", "p", "--name", "n", "--output-uri", str(elsewhere)))
    run("add", "--files", str(data))  # the session remembers the store
    run("close")
    assert (elsewhere / "versions" / f"{ds_id}.json").exists()
    run("get", "--id", ds_id)  # the session keeps its store after close
    run("get", "--id", ds_id, "--storage", str(elsewhere))
    assert "No dataset with id" in run("get", "--id", ds_id, "--storage", str(tmp_path / "x"),
                                       code=1).stderr  # fmt: skip
    other = tmp_path / "other"
    run("create", "--project", "p", "--name", "n2", "--storage", str(elsewhere))
    assert "output_uri" in run("upload", "--storage", str(other), code=1).stderr


def test_cli_walkthrough_in_a_real_process(tmp_path: Path, data: Path) -> None:
    """ClearML's CLI walk-through: create, add, close; a child that removes a file;
    list, compare, get; through ``python -m dsops.clearml`` in subprocesses."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DSOPS_STORE": str(tmp_path / "store"),
        "DSOPS_CACHE_DIR": str(tmp_path / "cache"),
        "DSOPS_CLEARML_STATE": str(tmp_path / "state.json"),
    }

    def sh(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dsops.clearml", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = _id_text(sh("create", "--project", "dataset_examples", "--name", "initial_version"))
    sh("add", "--files", str(data))
    sh("close")
    second = _id_text(
        sh(
            "create",
            "--project",
            "dataset_examples",
            "--name",
            "initial_version",
            "--parents",
            first,
        )
    )
    assert "1 files removed" in sh("remove", "--files", "img/b.jpg")
    sh("close")
    assert "Total 2 files" in sh("list", "--id", second)
    summary = sh("compare", "--source", first, "--target", second)
    assert "Comparison summary: 1 files removed, 0 files modified, 0 files added" in summary
    folder = sh("get", "--id", second).split("available: ")[1].strip()
    assert sorted(p.name for p in Path(folder).rglob("*") if p.is_file()) == ["a.csv", "c.jpg"]


def _id_text(text: str) -> str:
    match = re.search(r"id=([0-9a-f]{32})", text)
    assert match, text
    return match.group(1)


def test_docs_clearml_md_covers_every_command_and_call() -> None:
    text = (ROOT / "docs" / "CLEARML.md").read_text()
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert f"| `{name}` |" in text, name
    public = [n for n in vars(Dataset) if not n.startswith("_") and n != "native"]
    for name in public:
        assert f"{name}" in text, name
    assert "DSOPS_CLEARML_STATE" in text and "clearml-data.json" in text


def test_console_script_and_help(run: Run) -> None:
    import importlib

    found = re.search(r'^dsops-clearml-data = "([\w.]+):(\w+)"$',
                      (ROOT / "pyproject.toml").read_text(), re.M)  # fmt: skip
    assert found, "pyproject.toml has no dsops-clearml-data script"
    module, attr = found.groups()
    assert getattr(importlib.import_module(module), attr) is not None
    help_text = run("--help").stdout
    for name in ("create", "add", "sync", "compare", "squash", "verify", "get", "publish"):
        assert name in help_text
    assert run("frobnicate", code=2).exit_code == 2


def test_clearml_names_with_spaces_on_the_command_line(run: Run, data: Path) -> None:
    out = run("sync", "--project", "dataset_examples/MNIST", "--name", "MNIST Training Dataset",
              "--folder", str(data)).stdout  # fmt: skip
    ds_id = _id(out)
    listed = run("search", "--project", "dataset_examples").stdout
    assert "MNIST Training Dataset" in listed and ds_id in listed
    shown = run("list", "--project", "dataset_examples/MNIST", "--name", "MNIST Training Dataset")
    assert "Total 3 files" in shown.stdout
    bad = run("create", "--project", "a/../b", "--name", "n", code=1)
    assert bad.stderr.startswith("Error: cannot create the dataset: Invalid project")
