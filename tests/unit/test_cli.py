"""The ``dsops`` command line, driven through click's CliRunner and the installed script."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import dsops
from dsops import Dataset, Store
from dsops.cli import TqdmProgress, cli
from tests.helpers import snapshot, write_tree

Run = Callable[..., Result]


def make_version(run: Run, src: Path, *extra: str, name: str = "toy") -> str:
    """create → add → finalize; returns the version id."""
    version_id = run("create", "--project", "demo", "--name", name, *extra).stdout.strip()
    run("add", version_id, str(src))
    run("finalize", version_id)
    return version_id


# --- the full workflow ------------------------------------------------------------------


def test_round_trip_create_add_finalize_child_sync_get_diff_lineage(
    run: Run, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "src", {"keep.txt": "k", "edit.txt": "old", "drop.txt": "d"})

    parent = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    assert len(parent) == 32
    added = run("add", parent, str(src)).stdout
    assert added.startswith("3 added (5 B), 0 modified (0 B), 0 removed (0 B), 0 unchanged")
    finalized = run("finalize", parent)
    assert finalized.stdout.strip() == f"{parent} demo/toy@1.0.0"
    assert "Finalized demo/toy@1.0.0: 3 files, 5 B" in finalized.stderr

    child = run("create", "--project", "demo", "--name", "toy", "--parent", "demo/toy@latest")
    child_id = child.stdout.strip()
    (src / "edit.txt").write_text("new!")
    (src / "add.txt").write_text("added")
    (src / "drop.txt").unlink()
    synced = run("sync", child_id, str(src)).stdout
    assert synced.startswith("1 added (5 B), 1 modified (4 B), 1 removed (1 B), 1 unchanged")
    assert run("finalize", child_id).stdout.strip() == f"{child_id} demo/toy@1.0.1"

    fetched = run("get", "demo/toy@latest").stdout.strip()
    assert snapshot(fetched) == {"keep.txt": b"k", "edit.txt": b"new!", "add.txt": b"added"}
    old = run("get", "demo/toy@1.0.0").stdout.strip()
    assert snapshot(old) == {"keep.txt": b"k", "edit.txt": b"old", "drop.txt": b"d"}

    lines = run("diff", "demo/toy@1.0.0", "demo/toy@1.0.1").stdout.splitlines()
    assert lines[0] == "demo/toy@1.0.0 → demo/toy@1.0.1"
    rows = [line.split() for line in lines[2:-1]]
    assert rows == [
        ["A", "add.txt", "5", "B"],
        ["D", "drop.txt", "1", "B"],
        ["M", "edit.txt", "3", "B", "→", "4", "B"],
    ]
    assert lines[-1] == "1 added (5 B), 1 modified (4 B), 1 removed (1 B)"

    tree = run("lineage", "demo/toy@latest").stdout.splitlines()
    assert tree == [
        f"demo/toy@1.0.1  {child_id[:12]}  3 files, 10 B",
        f"└── demo/toy@1.0.0  {parent[:12]}  3 files, 5 B",
    ]


def test_json_output_is_one_parseable_document_per_command(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "alpha", "b/c.bin": b"\x00\x01"})
    draft = json.loads(run("--json", "create", "--project", "demo", "--name", "toy").stdout)
    assert (draft["project"], draft["name"], draft["state"], draft["version"]) == (
        "demo",
        "toy",
        "draft",
        None,
    )
    version_id = draft["id"]

    summary = json.loads(run("--json", "add", version_id, str(src)).stdout)
    assert summary == {
        "version_id": version_id,
        "added": 2,
        "modified": 0,
        "removed": 0,
        "unchanged": 0,
        "added_bytes": 7,
        "modified_bytes": 0,
        "removed_bytes": 0,
        "uploaded_bytes": 7,
    }

    finalized = run("--json", "finalize", version_id, "--alias", "prod")
    record = json.loads(finalized.stdout)
    assert record["id"] == version_id and record["version"] == "1.0.0"
    assert (record["file_count"], record["total_size"]) == (2, 7)
    assert record["aliases"] == ["latest", "prod"]
    assert record["changes"]["added"] == 2
    assert "Finalized" in finalized.stderr  # human messages stay on stderr

    listed = json.loads(run("--json", "list").stdout)
    assert [(r["ref"], r["file_count"], r["total_size"]) for r in listed] == [
        ("demo/toy@1.0.0", 2, 7)
    ]

    files = json.loads(run("--json", "ls", "demo/toy@prod").stdout)
    assert [(f["path"], f["size"], f["origin_ref"]) for f in files] == [
        ("a.txt", 5, "demo/toy@1.0.0"),
        ("b/c.bin", 2, "demo/toy@1.0.0"),
    ]
    assert all(len(f["hash"]) == 64 for f in files)

    fetched = json.loads(run("--json", "get", "demo/toy@1.0.0").stdout)
    assert fetched["version_id"] == version_id and fetched["mutable"] is False
    assert snapshot(fetched["path"]) == {"a.txt": b"alpha", "b/c.bin": b"\x00\x01"}

    checked = json.loads(run("--json", "verify", version_id, "--deep").stdout)
    assert (checked["ok"], checked["files"], checked["missing"]) == (True, 2, [])

    graph = json.loads(run("--json", "lineage", version_id).stdout)
    assert graph["root"] == version_id and graph["edges"] == []

    moved = json.loads(run("--json", "alias", "demo/toy@1.0.0", "stable").stdout)
    assert moved == {
        "alias": "stable",
        "ref": "demo/toy@stable",
        "version_id": version_id,
        "version": "1.0.0",
        "previous": None,
    }


def test_global_options_work_before_or_after_the_command(run: Run, tmp_path: Path) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a": "1"}))
    before = json.loads(run("--json", "list").stdout)
    after = json.loads(run("list", "--json").stdout)
    assert before == after and len(after) == 1


def test_store_option_overrides_the_environment(run: Run, tmp_path: Path, store_dir: Path) -> None:
    other = tmp_path / "other-store"
    src = write_tree(tmp_path / "src", {"a": "1"})
    version_id = run("--store", str(other), "create", "--project", "p", "--name", "n").stdout
    run("add", version_id.strip(), str(src), "--store", str(other))
    run("finalize", version_id.strip(), "--store", f"file://{other}")
    assert run("list", "--store", str(other)).stdout.count("p/n@1.0.0") == 1
    assert run("list").stdout == ""  # the DSOPS_STORE store is untouched
    assert not (store_dir / "versions").exists()


# --- listing and inspection -----------------------------------------------------------


def test_list_shows_a_table_of_versions_with_parents_and_aliases(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "x" * 2048})
    first = make_version(run, src, "--tag", "raw")
    second = make_version(run, src, "--parent", first)
    run("alias", first, "prod")
    header, *rows = run("list").stdout.splitlines()
    assert header.split() == [
        "REF",
        "VERSION",
        "ID",
        "PARENTS",
        "FILES",
        "SIZE",
        "CREATED",
        "TAGS",
        "PUB",
        "ALIASES",
    ]
    cells = [row.split() for row in rows]
    assert cells[0][:3] == ["demo/toy@1.0.0", "1.0.0", first]
    assert cells[0][3:7] == ["-", "1", "2.0", "KiB"]
    assert cells[0][-1] == "prod"
    assert cells[1][:4] == ["demo/toy@1.0.1", "1.0.1", second, "demo/toy@1.0.0"]
    assert cells[1][-1] == "latest"
    tagged = run("list", "--tag", "raw").stdout.splitlines()
    assert len(tagged) == 2 and first in tagged[1]


def test_list_of_an_empty_store_prints_no_rows_and_says_so(run: Run) -> None:
    result = run("list")
    assert result.stdout == ""
    assert "No finalized versions" in result.stderr
    assert json.loads(run("--json", "list").stdout) == []


def test_ls_shows_size_hash_prefix_and_origin_version(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"img/a.jpg": "a" * 1536, "img/b.jpg": "b", "t.txt": ""})
    first = make_version(run, src)
    (src / "img" / "b.jpg").write_text("bb")
    child = run("create", "--project", "demo", "--name", "toy", "--parent", first).stdout.strip()
    run("sync", child, str(src))
    run("finalize", child)

    lines = run("ls", "demo/toy@latest").stdout.splitlines()
    assert lines[0].split() == ["PATH", "SIZE", "HASH", "ORIGIN"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert rows["img/a.jpg"][1:3] == ["1.5", "KiB"]
    assert rows["img/a.jpg"][-1] == "demo/toy@1.0.0"
    assert rows["img/b.jpg"][-1] == "demo/toy@1.0.1"
    assert len(rows["img/b.jpg"][3]) == 12
    assert lines[-1] == "3 files, 1.5 KiB"
    filtered = run("ls", "demo/toy@latest", "--pattern", "img/*").stdout.splitlines()
    assert [line.split()[0] for line in filtered[1:-1]] == ["img/a.jpg", "img/b.jpg"]


def test_ls_of_a_draft_shows_its_staged_files(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.txt": "aa"})
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    run("add", draft, str(src), "--dataset-path", "data")
    lines = run("ls", draft).stdout.splitlines()
    assert lines[1].split()[0] == "data/a.txt" and lines[1].endswith("(this draft)")


def test_remove_drops_matching_files_from_the_draft(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.tmp": "1", "b.tmp": "22", "keep.txt": "k"})
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    run("add", draft, str(src))
    removed = run("remove", draft, "*.tmp").stdout
    assert removed.startswith("0 added (0 B), 0 modified (0 B), 2 removed (3 B), 1 unchanged")
    run("finalize", draft)
    assert snapshot(run("get", draft).stdout.strip()) == {"keep.txt": b"k"}


def test_add_options_place_and_filter_files(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a.jpg": "a", "b.txt": "b", "sub/c.jpg": "c"})
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    run("add", draft, str(src), "--dataset-path", "imgs", "--wildcard", "*.jpg", "--non-recursive")
    run("finalize", draft)
    assert snapshot(run("get", draft).stdout.strip()) == {"imgs/a.jpg": b"a"}


def test_lineage_formats_draw_the_same_dag(run: Run, tmp_path: Path) -> None:
    cats = make_version(run, write_tree(tmp_path / "c", {"c": "cat"}), name="cats")
    dogs = make_version(run, write_tree(tmp_path / "d", {"d": "dog"}), name="dogs")
    both = make_version(run, write_tree(tmp_path / "p", {"p": "pet"}), "--parent", cats,
                        "--parent", dogs, name="pets")  # fmt: skip

    tree = run("lineage", both).stdout.splitlines()
    assert tree[0].startswith("demo/pets@1.0.0")
    assert tree[1].startswith("├── demo/cats@1.0.0")
    assert tree[2].startswith("└── demo/dogs@1.0.0")

    mermaid = run("lineage", both, "--format", "mermaid").stdout
    assert mermaid.startswith("flowchart TD\n")
    assert f"v{cats} --> v{both}" in mermaid and f"v{dogs} --> v{both}" in mermaid

    dot = run("lineage", both, "--format", "dot").stdout
    assert dot.startswith("digraph lineage {") and dot.rstrip().endswith("}")
    assert f'"{cats}" -> "{both}";' in dot

    graph = json.loads(run("lineage", both, "--format", "json").stdout)
    assert {(e["parent"], e["child"]) for e in graph["edges"]} == {(cats, both), (dogs, both)}
    assert [n["ref"] for n in graph["nodes"]][-1] == "demo/pets@1.0.0"


# --- get ----------------------------------------------------------------------------------


def test_get_returns_a_read_only_cached_view_by_default(run: Run, tmp_path: Path) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a.txt": "a", "b/c.txt": "c"}))
    path = Path(run("get", "demo/toy@latest", "--include", "b/*").stdout.strip())
    assert path.is_relative_to(tmp_path / "cache")
    assert snapshot(path) == {"b/c.txt": b"c"}
    assert not os.stat(path / "b" / "c.txt").st_mode & stat.S_IWUSR


def test_get_to_writes_a_mutable_copy(run: Run, tmp_path: Path) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a.txt": "a"}))
    target = tmp_path / "copy"
    printed = run("get", "demo/toy@1.0.0", "--to", str(target)).stdout.strip()
    assert printed == str(target)
    (target / "a.txt").write_text("changed")  # writable
    assert (target / "a.txt").read_text() == "changed"


def test_get_mutable_without_to_copies_into_a_folder_named_after_the_dataset(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a.txt": "a"}))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert run("get", "demo/toy@latest", "--mutable").stdout.strip() == str(work / "toy")
    assert snapshot(work / "toy") == {"a.txt": b"a"}


def test_get_to_a_non_empty_folder_fails_unless_overwrite(run: Run, tmp_path: Path) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a.txt": "a"}))
    target = write_tree(tmp_path / "busy", {"mine.txt": "precious"})
    result = run("get", "demo/toy@latest", "--to", str(target), code=1)
    assert result.stderr.startswith("Error: cannot fetch demo/toy@latest: ")
    assert "is not empty" in result.stderr and "--overwrite" in result.stderr
    assert snapshot(target) == {"mine.txt": b"precious"}
    run("get", "demo/toy@latest", "--to", str(target), "--overwrite")
    assert snapshot(target) == {"a.txt": b"a"}


def test_get_of_a_draft_copies_with_to_but_has_no_read_only_view(run: Run, tmp_path: Path) -> None:
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    run("add", draft, str(write_tree(tmp_path / "src", {"a.txt": "a"})))
    result = run("get", draft, code=1)
    assert "is a draft" in result.stderr and f"dsops finalize {draft}" in result.stderr
    run("get", draft, "--to", str(tmp_path / "copy"))
    assert snapshot(tmp_path / "copy") == {"a.txt": b"a"}


def test_overwrite_without_a_target_is_a_usage_error(run: Run) -> None:
    result = run("get", "demo/toy@latest", "--overwrite", code=2)
    assert "--overwrite applies to a mutable copy" in result.stderr


# --- finalize, alias, verify -----------------------------------------------------------


def test_close_is_finalize_and_finalizing_twice_returns_the_same_version(
    run: Run, tmp_path: Path
) -> None:
    draft = run("create", "--project", "demo", "--name", "toy", "--version", "2.0.0").stdout
    draft = draft.strip()
    run("add", draft, str(write_tree(tmp_path / "src", {"a": "1"})))
    assert run("close", draft, "--alias", "prod").stdout.strip() == f"{draft} demo/toy@2.0.0"
    assert run("finalize", draft).stdout.strip() == f"{draft} demo/toy@2.0.0"
    assert run("get", "demo/toy@prod").stdout == run("get", "demo/toy@2.0.0").stdout


def test_alias_creates_moves_and_reports_the_previous_target(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a": "1"})
    first = make_version(run, src)
    second = make_version(run, src, "--parent", first)
    created = run("alias", first, "prod").stdout.strip()
    assert created == "demo/toy@prod → demo/toy@1.0.0 (new alias)"
    assert run("alias", "demo/toy@1.0.1", "prod").stdout.strip() == (
        "demo/toy@prod → demo/toy@1.0.1 (was demo/toy@1.0.0)"
    )
    assert run("alias", second, "prod").stdout.strip().endswith("(unchanged)")
    assert Dataset.get("demo/toy@prod", store=Store()).id == second


def test_alias_with_an_invalid_name_fails(run: Run, tmp_path: Path) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a": "1"}))
    result = run("alias", "demo/toy@latest", "1.2.3", code=1)
    assert result.stderr.startswith("Error: cannot point 1.2.3 at demo/toy@latest: Invalid alias")


def test_verify_exits_1_and_names_files_whose_objects_are_missing(
    run: Run, tmp_path: Path, store_dir: Path
) -> None:
    version_id = make_version(run, write_tree(tmp_path / "src", {"a.txt": "a", "b.txt": "b"}))
    assert run("verify", version_id).stdout.strip() == "OK demo/toy@1.0.0: 2 files in 1 object"
    for pack in (store_dir / "packs").rglob("*"):
        if pack.is_file():
            pack.unlink()
    result = run("verify", version_id, code=1)
    assert result.stdout.splitlines() == ["missing    a.txt", "missing    b.txt"]
    assert "demo/toy@1.0.0 failed verification: 2 missing, 0 corrupted" in result.stderr
    report = json.loads(run("--json", "verify", version_id, code=1).stdout)
    assert report["ok"] is False and report["missing"] == ["a.txt", "b.txt"]


# --- errors and exit codes -----------------------------------------------------------


def test_unknown_ref_exits_1_with_one_line_naming_the_existing_versions(
    run: Run, tmp_path: Path
) -> None:
    make_version(run, write_tree(tmp_path / "src", {"a": "1"}))
    result = run("get", "demo/toy@9.9.9", code=1)
    assert result.stdout == ""
    assert result.stderr == (
        "Error: cannot fetch demo/toy@9.9.9: demo/toy@9.9.9 does not exist: versions are "
        "1.0.0; aliases are latest.\n"
    )


def test_unknown_dataset_and_malformed_ref_exit_1(run: Run) -> None:
    missing = run("ls", "demo/none@latest", code=1)
    assert "Dataset demo/none has no finalized version" in missing.stderr
    malformed = run("diff", "nope", "demo/none", code=1)
    assert "Cannot read 'nope' as a dataset reference" in malformed.stderr


def test_adding_to_a_finalized_version_exits_1_and_says_to_create_a_child(
    run: Run, tmp_path: Path
) -> None:
    src = write_tree(tmp_path / "src", {"a": "1"})
    version_id = make_version(run, src)
    result = run("add", version_id, str(src), code=1)
    assert result.stderr.startswith(f"Error: cannot add files to {version_id}: ")
    assert "is finalized and cannot change" in result.stderr
    assert f"dsops create --project demo --name toy --parent {version_id}" in result.stderr
    assert result.stderr.count("\n") == 1


def test_adding_a_missing_path_exits_1(run: Run, tmp_path: Path) -> None:
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    result = run("add", draft, str(tmp_path / "absent"), code=1)
    assert result.stderr.startswith(f"Error: cannot add files to {draft}: ")


def test_invalid_project_name_exits_1(run: Run) -> None:
    result = run("create", "--project", "bad@name", "--name", "toy", code=1)
    assert "Invalid project 'bad@name'" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--bogus"], "No such option '--bogus'"),
        (["create", "--name", "toy"], "Missing option '--project'"),
        (["add", "0" * 32], "Missing argument 'PATH...'"),
        (["lineage", "p/n", "--format", "png"], "'png' is not one of"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(run: Run, args: list[str], message: str) -> None:
    assert message in run(*args, code=2).stderr


def test_errors_show_a_traceback_only_with_debug(run: Run) -> None:
    plain = run("get", "demo/none@latest", code=1)
    assert "Traceback" not in plain.stderr
    debug = run("--debug", "get", "demo/none@latest", code=1)
    assert "Traceback (most recent call last)" in debug.stderr
    assert "DatasetNotFound" in debug.stderr
    assert debug.stderr.rstrip().splitlines()[-1].startswith("Error: cannot fetch")


# --- quiet, help, version, completion, ui ----------------------------------------------


def test_quiet_keeps_only_essential_results(run: Run, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "src", {"a": "1"})
    created = run("-q", "create", "--project", "demo", "--name", "toy")
    draft = created.stdout.strip()
    assert len(draft) == 32 and created.stderr == ""
    added = run("--quiet", "add", draft, str(src))
    assert (added.stdout, added.stderr) == ("", "")
    finalized = run("--quiet", "finalize", draft)
    assert finalized.stdout.strip() == f"{draft} demo/toy@1.0.0" and finalized.stderr == ""
    assert run("--quiet", "verify", draft).stdout == ""


def test_every_command_has_help_with_an_example(run: Run) -> None:
    commands = cli.list_commands(None)  # type: ignore[arg-type]
    assert set(commands) >= {
        "create",
        "add",
        "remove",
        "sync",
        "finalize",
        "get",
        "list",
        "ls",
        "diff",
        "lineage",
        "verify",
        "alias",
        "ui",
    }
    for name in [*commands, "close"]:
        text = run(name, "--help").stdout
        shown = "finalize" if name == "close" else name
        assert "Example:" in text and f"dsops {shown}" in text, name
        assert "--store URL" in text and "--json" in text
    assert "Example:" in run("-h").stdout


def test_docs_cli_md_documents_every_command_and_completion() -> None:
    text = (Path(__file__).parents[2] / "docs" / "CLI.md").read_text()
    for name in cli.list_commands(None):  # type: ignore[arg-type]
        assert f"### dsops {name}" in text, name
    assert "_DSOPS_COMPLETE=bash_source dsops" in text


def test_version_prints_the_package_version(run: Run) -> None:
    assert run("--version").stdout.strip() == f"dsops {dsops.__version__}"


def test_shell_completion_offers_refs_and_aliases(run: Run, tmp_path: Path) -> None:
    version_id = make_version(run, write_tree(tmp_path / "src", {"a": "1"}))
    run("alias", version_id, "prod")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [],
        prog_name="dsops",
        env={
            "_DSOPS_COMPLETE": "bash_complete",
            "COMP_WORDS": "dsops get demo/",
            "COMP_CWORD": "2",
        },
    )
    offered = [line.split(",", 1)[1] for line in result.stdout.splitlines()]
    assert offered == ["demo/toy@1.0.0", "demo/toy@latest", "demo/toy@prod"]


def test_ui_calls_dsops_ui_serve_with_the_store_and_options(
    run: Run, monkeypatch: pytest.MonkeyPatch, store_dir: Path
) -> None:
    calls: list[dict[str, Any]] = []
    fake = types.ModuleType("dsops.ui")
    fake.serve = lambda **kwargs: calls.append(kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dsops.ui", fake)
    run("ui", "--port", "9001", "--token", "s3cret")
    assert len(calls) == 1
    assert calls[0]["store"].url == str(store_dir)
    assert (calls[0]["host"], calls[0]["port"], calls[0]["token"]) == ("127.0.0.1", 9001, "s3cret")


def test_ui_without_a_serve_function_exits_1_with_a_clear_message(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dsops.ui", types.ModuleType("dsops.ui"))
    result = run("ui", code=1)
    assert result.stderr.startswith("Error: the web UI is not available in this installation yet")


# --- progress -------------------------------------------------------------------------


def test_no_progress_bars_when_stderr_is_not_a_terminal(run: Run, tmp_path: Path) -> None:
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    result = run("add", draft, str(write_tree(tmp_path / "src", {"a": "x" * 10_000})))
    assert result.stderr == ""


def test_progress_bars_on_a_terminal_show_bytes_and_throughput_but_not_with_json(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("dsops.cli.output._isatty", lambda _stream: True)
    src = write_tree(tmp_path / "src", {"a": "x" * 10_000, "b": "y" * 20_000})
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    shown = run("add", draft, str(src)).stderr
    assert "Hashing" in shown and "Uploading" in shown and "B/s" in shown
    assert "0.00/29.3k" in shown and "0/2 files" in shown
    other = run("create", "--project", "demo", "--name", "toy2").stdout.strip()
    assert run("--json", "add", other, str(src)).stderr == ""
    assert run("--quiet", "add", other, str(src)).stderr == ""


def test_tqdm_progress_is_fed_by_sdk_callbacks_and_closes_its_bar() -> None:
    out = io.StringIO()
    bars = TqdmProgress(out, mininterval=0)
    bars.begin("download", 3, 3 * 1024**2)
    for _ in range(3):
        bars.advance(1, 1024**2)
    bars.end()
    text = out.getvalue()
    assert "Downloading" in text and "3.00M/3.00M" in text and "3/3 files" in text
    bars.advance(1, 10)  # after end: ignored, no error
    bars.begin("hash", 0, 0)  # nothing to do: no bar
    assert out.getvalue() == text


# --- the installed script ------------------------------------------------------------


def _script(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "dsops"
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_installed_script_round_trip_and_exit_codes(tmp_path: Path, store_dir: Path) -> None:
    env = {**os.environ, "DSOPS_STORE": str(store_dir), "DSOPS_CACHE_DIR": str(tmp_path / "c")}
    src = write_tree(tmp_path / "src", {"x/y.txt": "why"})
    created = _script(["create", "--project", "demo", "--name", "cli"], env)
    assert created.returncode == 0, created.stderr
    draft = created.stdout.strip()
    assert _script(["add", draft, str(src)], env).returncode == 0
    finalized = _script(["--json", "close", draft], env)
    assert json.loads(finalized.stdout)["ref"] == "demo/cli@1.0.0"
    fetched = _script(["get", "demo/cli@latest"], env)
    assert snapshot(fetched.stdout.strip()) == {"x/y.txt": b"why"}
    missing = _script(["get", "demo/cli@7.0.0"], env)
    assert missing.returncode == 1 and missing.stderr.startswith("Error: cannot fetch")
    assert _script(["get", "--nope"], env).returncode == 2


def test_installed_script_emits_a_bash_completion_script(tmp_path: Path, store_dir: Path) -> None:
    result = _script([], {**os.environ, "_DSOPS_COMPLETE": "bash_source"})
    assert result.returncode == 0
    assert "_dsops_completion()" in result.stdout and "complete -o nosort" in result.stdout


def test_gc_dry_run_reports_and_gc_removes_finished_drafts(
    run: Run, tmp_path: Path, store_dir: Path
) -> None:
    version_id = make_version(run, write_tree(tmp_path / "src", {"a": "1"}))
    preview = json.loads(run("gc", "--json", "--dry-run").stdout)
    assert preview["finalized_drafts"] == [version_id] and preview["dry_run"] is True
    assert (store_dir / "drafts" / version_id).is_dir()
    assert "removed: 1 finalized draft" in run("gc").stdout
    assert not (store_dir / "drafts" / version_id).exists()
    assert run("verify", version_id).exit_code == 0
    assert "not an age" in run("gc", "--grace", "soon", code=2).stderr
