"""The lifecycle verbs of the ``dsops`` command line: delete, prune, publish, rename,
move, describe, metadata, search — through click's CliRunner and a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from click.testing import Result

from dsops import Dataset, Store
from tests.helpers import snapshot, write_tree

Run = Callable[..., Result]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin (and stdout, stderr) look like a terminal: destructive verbs ask first."""
    monkeypatch.setattr("dsops.cli.output._isatty", lambda _stream: True)


def chain(run: Run, tmp_path: Path, count: int, name: str = "toy") -> list[str]:
    """``count`` versions of demo/<name>, each the parent of the next; their ids."""
    ids: list[str] = []
    for i in range(count):
        parent = ["--parent", ids[-1]] if ids else []
        draft = run("create", "--project", "demo", "--name", name, *parent).stdout.strip()
        src = write_tree(tmp_path / f"src-{name}-{i}", {f"f{i}.txt": f"v{i}"})
        run("add", draft, str(src))
        run("finalize", draft)
        ids.append(draft)
    return ids


def refs(run: Run) -> list[str]:
    return [r["ref"] for r in json.loads(run("--json", "list").stdout)]


def one_error_line(result: Result, start: str) -> None:
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), result.stderr


# --- delete ------------------------------------------------------------------------------


def test_delete_removes_versions_and_the_child_still_reads_back(
    run: Run, tmp_path: Path, store: Store
) -> None:
    first, second, third = chain(run, tmp_path, 3)
    deleted = json.loads(run("--json", "delete", "demo/toy@1.0.1", "--force").stdout)
    assert [d["id"] for d in deleted] == [second]
    assert refs(run) == ["demo/toy@1.0.0", "demo/toy@1.0.2"]
    fetched = run("get", "demo/toy@1.0.2").stdout.strip()
    assert snapshot(fetched) == {"f0.txt": b"v0", "f1.txt": b"v1", "f2.txt": b"v2"}
    # Several refs at once, children first, so no --force is needed for the parent.
    text = run("delete", third, first).stdout
    assert text.strip() == "Deleted demo/toy@1.0.2, demo/toy@1.0.0"
    assert refs(run) == []
    missing = run("get", "demo/toy@1.0.1", code=1)
    one_error_line(missing, "Error: cannot fetch demo/toy@1.0.1:")


def test_delete_refusals_are_one_line_exit_1_and_change_nothing(run: Run, tmp_path: Path) -> None:
    first, second = chain(run, tmp_path, 2)
    run("publish", second)
    before = refs(run)
    parent = run("delete", first, code=1)
    one_error_line(
        parent, "Error: cannot delete demo/toy@1.0.0: it is the parent of demo/toy@1.0.1"
    )
    published = run("delete", second, code=1)
    one_error_line(published, "Error: cannot delete demo/toy@1.0.1: it is published")
    # The first REF would be deletable alone; the refusal of the second comes first.
    both = run("delete", second, first, code=1)
    assert "it is published" in both.stderr
    missing = run("delete", first, "demo/toy@9.9.9", code=1)
    one_error_line(missing, "Error: cannot delete: demo/toy@9.9.9 does not exist")
    run("alias", first, "prod")
    aliased = run("delete", first, second, "--force", "--yes")
    assert "demo/toy@1.0.0" in aliased.stdout
    assert before == ["demo/toy@1.0.0", "demo/toy@1.0.1"] and refs(run) == []


def test_delete_usage_errors_exit_2(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 1)
    assert "at least one REF" in run("delete", code=2).stderr
    no_force = run("delete", "--project", "demo", "--name", "toy", "--entire-dataset", code=2)
    assert "add --force" in no_force.stderr
    assert "no REF" in run("delete", "demo/toy@1.0.0", "--entire-dataset", code=2).stderr
    assert refs(run) == ["demo/toy@1.0.0"]


def test_delete_entire_dataset(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 3)
    chain(run, tmp_path, 1, name="other")
    run("publish", "demo/toy@1.0.0")
    args = ["--project", "demo", "--name", "toy", "--entire-dataset", "--force"]
    gone = json.loads(run("--json", "delete", *args).stdout)
    assert sorted(g["version"] for g in gone) == ["1.0.0", "1.0.1", "1.0.2"]
    assert refs(run) == ["demo/other@1.0.0"]
    assert "no live version" in run("delete", *args, code=1).stderr


# --- confirmation --------------------------------------------------------------------------


def test_on_a_terminal_delete_shows_what_and_asks(run: Run, tmp_path: Path, terminal: None) -> None:
    (version_id,) = chain(run, tmp_path, 1)
    declined = run("delete", "demo/toy@1.0.0", input="n\n", code=1)
    assert f"demo/toy@1.0.0  {version_id}" in declined.stderr
    assert "Delete 1 version? [y/N]" in declined.stderr
    assert declined.stderr.strip().endswith("Error: cancelled: nothing was changed.")
    assert refs(run) == ["demo/toy@1.0.0"]
    accepted = run("--json", "delete", "demo/toy@1.0.0", input="y\n")
    assert [d["id"] for d in json.loads(accepted.stdout)] == [version_id]  # prompt: stderr
    assert refs(run) == []


def test_yes_skips_the_question_on_a_terminal(run: Run, tmp_path: Path, terminal: None) -> None:
    chain(run, tmp_path, 2)
    result = run("delete", "demo/toy@1.0.1", "-y")
    assert "[y/N]" not in result.stderr and refs(run) == ["demo/toy@1.0.0"]
    renamed = run("rename", "demo/toy", "cats", "--yes")
    assert "[y/N]" not in renamed.stderr and refs(run) == ["demo/cats@1.0.0"]


def test_off_a_terminal_nothing_is_asked(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 2)
    result = run("delete", "demo/toy@1.0.1")  # CliRunner's stdin is not a terminal
    assert "[y/N]" not in result.stderr and refs(run) == ["demo/toy@1.0.0"]


def test_rename_move_and_prune_ask_on_a_terminal(run: Run, tmp_path: Path, terminal: None) -> None:
    chain(run, tmp_path, 3)
    rename = run("rename", "demo/toy", "cats", input="n\n", code=1)
    assert "Rename dataset demo/toy to demo/cats (3 versions" in rename.stderr
    move = run("move", "demo/toy", "archive", input="n\n", code=1)
    assert "Rename dataset demo/toy to archive/toy" in move.stderr
    prune = run(
        "prune", "--project", "demo", "--name", "toy", "--keep-last", "1", input="n\n", code=1
    )
    assert "demo/toy@1.0.0" in prune.stderr and "demo/toy@1.0.1" in prune.stderr
    assert "Prune 2 versions of demo/toy? [y/N]" in prune.stderr
    assert refs(run) == ["demo/toy@1.0.0", "demo/toy@1.0.1", "demo/toy@1.0.2"]
    # A dry run never asks.
    dry = run("prune", "--project", "demo", "--name", "toy", "--keep-last", "1", "--dry-run")
    assert "[y/N]" not in dry.stderr


# --- prune ---------------------------------------------------------------------------------


def test_prune_keeps_the_newest_aliases_and_published(run: Run, tmp_path: Path) -> None:
    ids = chain(run, tmp_path, 6)
    run("alias", ids[1], "prod")
    run("publish", ids[2])
    base = ["prune", "--project", "demo", "--name", "toy", "--keep-last", "2"]
    dry = json.loads(run("--json", *base, "--dry-run").stdout)
    assert dry["dry_run"] is True
    assert [d["version"] for d in dry["deleted"]] == ["1.0.0", "1.0.3"]
    assert len(refs(run)) == 6
    assert run(*base, "--dry-run").stdout.strip() == "Would delete demo/toy@1.0.0, demo/toy@1.0.3"
    done = json.loads(run("--json", *base).stdout)
    assert (done["dry_run"], [d["id"] for d in done["deleted"]]) == (False, [ids[0], ids[3]])
    assert refs(run) == ["demo/toy@1.0.1", "demo/toy@1.0.2", "demo/toy@1.0.4", "demo/toy@1.0.5"]
    # Without the alias rule the aliased one goes too; the published one never does.
    without = run(*base, "--no-keep-aliases").stdout.strip()
    assert without == "Deleted demo/toy@1.0.1"
    assert run(*base, "--keep-within", "30d").stdout.strip() == "Deleted nothing"
    fetched = run("get", "demo/toy@latest").stdout.strip()
    assert len(snapshot(fetched)) == 6


def test_prune_refusals_are_one_line_and_change_nothing(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 2)
    neither = run("prune", "--project", "demo", "--name", "toy", code=1)
    one_error_line(neither, "Error: cannot prune demo/toy: prune needs keep_last= and/or")
    bad_age = run("prune", "--project", "demo", "--name", "toy", "--keep-within", "soon", code=1)
    one_error_line(bad_age, "Error: cannot prune demo/toy:")
    missing = run("prune", "--project", "demo", "--name", "nope", "--keep-last", "1", code=1)
    one_error_line(missing, "Error: cannot prune demo/nope: Dataset demo/nope does not exist")
    assert run("prune", "--project", "demo", "--name", "toy", "--keep-last", "-1", code=2)
    assert refs(run) == ["demo/toy@1.0.0", "demo/toy@1.0.1"]


# --- publish, rename, move -----------------------------------------------------------------


def test_publish_marks_the_version_and_list_shows_it(run: Run, tmp_path: Path) -> None:
    first, _ = chain(run, tmp_path, 2)
    record = json.loads(run("--json", "publish", "demo/toy@1.0.0").stdout)
    assert (record["id"], record["published"]) == (first, True)
    again = json.loads(run("--json", "publish", first).stdout)
    assert again["published_at"] == record["published_at"]  # the first time is kept
    header, *rows = run("list").stdout.splitlines()
    assert header.split()[7:] == ["TAGS", "PUB", "ALIASES"]
    assert rows[0].split()[-2] == "yes" and rows[1].split()[-2] == "-"
    published = json.loads(run("--json", "search", "--only-published").stdout)
    assert [r["id"] for r in published] == [first]
    draft = run("create", "--project", "demo", "--name", "toy").stdout.strip()
    assert "cannot publish" in run("publish", draft, code=1).stderr


def test_rename_and_move_keep_ids_and_retire_the_old_name(run: Run, tmp_path: Path) -> None:
    first, second = chain(run, tmp_path, 2)
    run("alias", first, "prod")
    result = json.loads(run("--json", "rename", "demo/toy", "cats").stdout)
    assert result["from"] == {"project": "demo", "name": "toy"}
    assert result["to"] == {"project": "demo", "name": "cats"}
    assert result["aliases"] == ["latest", "prod"]
    assert json.loads(run("--json", "list").stdout)[0]["ref"] == "demo/cats@1.0.0"
    old = run("get", "demo/toy@prod", code=1)
    one_error_line(
        old, "Error: cannot fetch demo/toy@prod: Dataset demo/toy was renamed to demo/cats"
    )
    assert run("move", "demo/cats", "archive/vision").stdout.strip() == (
        "demo/cats → archive/vision/cats"
    )
    listed = json.loads(run("--json", "list").stdout)
    assert [(r["ref"], r["id"]) for r in listed] == [
        ("archive/vision/cats@1.0.0", first),
        ("archive/vision/cats@1.0.1", second),
    ]
    assert "prod" in listed[0]["aliases"]


def test_rename_refusals_are_one_line_and_change_nothing(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 1)
    chain(run, tmp_path, 1, name="dogs")
    onto = run("rename", "demo/toy", "dogs", code=1)
    one_error_line(onto, "Error: cannot rename demo/toy:")
    assert "dogs" in onto.stderr
    missing = run("move", "demo/nope", "elsewhere", code=1)
    one_error_line(missing, "Error: cannot move demo/nope:")
    assert "names a version" in run("rename", "demo/toy@1.0.0", "x", code=2).stderr
    assert "Cannot read" in run("rename", "toy", "x", code=2).stderr
    assert sorted(refs(run)) == ["demo/dogs@1.0.0", "demo/toy@1.0.0"]


# --- describe and metadata -----------------------------------------------------------------


def test_describe_shows_and_changes_description_and_tags(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 1)
    shown = run("describe", "demo/toy@1.0.0").stdout.splitlines()
    assert shown == [
        "demo/toy@1.0.0",
        "description: -",
        "tags: -",
        "published: no",
        "metadata: -",
    ]
    changed = run(
        "--json",
        "describe",
        "demo/toy@1.0.0",
        "--description",
        "cleaned",
        "--add-tag",
        "a",
        "--add-tag",
        "b",
    )
    document = json.loads(changed.stdout)
    assert set(document) == {
        "id",
        "ref",
        "description",
        "tags",
        "published",
        "published_at",
        "metadata",
    }
    assert (document["description"], document["tags"]) == ("cleaned", ["a", "b"])
    after = run("describe", "demo/toy@1.0.0", "--remove-tag", "a").stdout
    assert "description: cleaned\ntags: b\n" in after
    assert json.loads(run("--json", "list", "--tag", "b").stdout)[0]["tags"] == ["b"]
    bad = run("describe", "demo/toy@1.0.0", "--add-tag", "x/y", "--description", "no", code=1)
    one_error_line(bad, "Error: cannot describe demo/toy@1.0.0: Invalid tag 'x/y'")
    assert "description: cleaned\ntags: b\n" in run("describe", "demo/toy@1.0.0").stdout


def test_metadata_json_table_and_bytes_round_trip(run: Run, tmp_path: Path) -> None:
    chain(run, tmp_path, 1)
    ref = "demo/toy@1.0.0"
    run("metadata", "set", ref, "stats", "--json-value", '{"mean": 0.5, "n": [1, 2]}')
    assert json.loads(run("metadata", "get", ref, "stats").stdout) == {"mean": 0.5, "n": [1, 2]}
    got = json.loads(run("--json", "metadata", "get", ref, "stats").stdout)
    assert got == {"name": "stats", "kind": "json", "value": {"mean": 0.5, "n": [1, 2]}}

    table_file = tmp_path / "t.parquet"
    pd.DataFrame({"label": ["cat", "dog"], "count": [3, 4]}).to_parquet(table_file)
    set_doc = json.loads(
        run("--json", "metadata", "set", ref, "counts", "--parquet", str(table_file)).stdout
    )
    assert set_doc["kind"] == "parquet"
    lines = run("metadata", "get", ref, "counts").stdout.splitlines()
    assert [line.split() for line in lines] == [["label", "count"], ["cat", "3"], ["dog", "4"]]
    rows = json.loads(run("--json", "metadata", "get", ref, "counts").stdout)["value"]
    assert rows == [{"label": "cat", "count": 3}, {"label": "dog", "count": 4}]
    out = tmp_path / "back.parquet"
    run("metadata", "get", ref, "counts", "-o", str(out))
    assert pd.read_parquet(out).to_dict("list") == {"label": ["cat", "dog"], "count": [3, 4]}

    blob = tmp_path / "report.bin"
    blob.write_bytes(b"\x00\x01binary\xff")
    run("metadata", "set", ref, "report", str(blob))
    piped = run("metadata", "get", ref, "report")  # stdout is not a terminal: raw bytes
    assert piped.stdout_bytes == b"\x00\x01binary\xff"
    target = tmp_path / "report.out"
    run("metadata", "get", ref, "report", "-o", str(target))
    assert target.read_bytes() == b"\x00\x01binary\xff"
    assert run("metadata", "ls", ref).stdout.split() == ["counts", "report", "stats"]
    assert json.loads(run("--json", "metadata", "ls", ref).stdout) == ["counts", "report", "stats"]
    assert "metadata: counts, report, stats" in run("describe", ref).stdout
    run("metadata", "rm", ref, "report")
    assert json.loads(run("--json", "list").stdout)[0]["metadata"] == ["counts", "stats"]


def test_bytes_metadata_is_not_printed_on_a_terminal(
    run: Run, tmp_path: Path, terminal: None
) -> None:
    chain(run, tmp_path, 1)
    blob = write_tree(tmp_path / "m", {"b": b"\x1b[31mred"}) / "b"
    run("metadata", "set", "demo/toy@1.0.0", "raw", str(blob))
    refused = run("metadata", "get", "demo/toy@1.0.0", "raw", code=1)
    one_error_line(refused, "Error: cannot print metadata raw on a terminal")
    assert "\x1b" not in refused.stdout


def test_metadata_refusals_are_one_line_and_change_nothing(
    run: Run, tmp_path: Path, store: Store
) -> None:
    chain(run, tmp_path, 1)
    ref = "demo/toy@1.0.0"
    for bad in ("a/b", "..", "x..y"):
        result = run("metadata", "set", ref, bad, "--json-value", "[1]", code=1)
        one_error_line(result, f"Error: cannot set metadata {bad} of {ref}: Invalid metadata name")
    missing = run("metadata", "get", ref, "nope", code=1)
    one_error_line(missing, f"Error: cannot get metadata nope of {ref}:")
    assert "no metadata 'nope'" in missing.stderr
    assert "exactly one value" in run("metadata", "set", ref, "x", code=2).stderr
    assert "not valid JSON" in run("metadata", "set", ref, "x", "--json-value", "{", code=2).stderr
    assert (
        "object or a list" in run("metadata", "set", ref, "x", "--json-value", "3", code=2).stderr
    )
    assert "no such metadata" in run("metadata", "rm", ref, "nope", code=1).stderr
    assert Dataset.get(ref, store=store).list_metadata() == []


# --- search --------------------------------------------------------------------------------


def test_search_and_list_share_the_filters(run: Run, tmp_path: Path) -> None:
    cats = chain(run, tmp_path, 2, name="cats")
    (dogs,) = chain(run, tmp_path, 1, name="hotdogs")
    run("describe", cats[1], "--add-tag", "clean")
    assert [
        r["id"] for r in json.loads(run("--json", "search", "--partial-name", "DOG").stdout)
    ] == [dogs]
    tagged = json.loads(run("--json", "search", "--tag", "clean").stdout)
    assert [r["id"] for r in tagged] == [cats[1]]
    by_id = json.loads(run("--json", "list", "--id", cats[0], "--id", dogs).stdout)
    assert [r["id"] for r in by_id] == [cats[0], dogs]
    assert run("search", "--name", "cats").stdout == run("list", "--name", "cats").stdout
    assert "Example:" in run("search", "--help").stdout


# --- a real process ----------------------------------------------------------------------


def _dsops(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dsops.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_subprocess_exit_codes_of_the_lifecycle_verbs(tmp_path: Path, store_dir: Path) -> None:
    env = {**os.environ, "DSOPS_STORE": str(store_dir), "DSOPS_CACHE_DIR": str(tmp_path / "c")}
    store = Store(str(store_dir), cache_dir=str(tmp_path / "c"))
    first = Dataset.create("demo", "toy", store=store).finalize()
    Dataset.create("demo", "toy", parents=[first], store=store).finalize()
    refused = _dsops(["delete", first], env)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "is the parent of" in refused.stderr
    neither = _dsops(["prune", "--project", "demo", "--name", "toy"], env)
    assert neither.returncode == 1 and neither.stderr.startswith("Error: cannot prune")
    assert _dsops(["delete", "--entire-dataset"], env).returncode == 2
    pruned = _dsops(
        ["--json", "prune", "--project", "demo", "--name", "toy", "--keep-last", "1"], env
    )
    assert pruned.returncode == 0, pruned.stderr  # stdin is not a terminal: no question
    assert [d["id"] for d in json.loads(pruned.stdout)["deleted"]] == [first]
    assert [r["version"] for r in Dataset.list(store=store)] == ["1.0.1"]
