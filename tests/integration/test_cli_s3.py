"""The ``dsops`` command line against a real S3 server (SeaweedFS), configured the way a
user would: ``--store s3://…`` plus the standard AWS environment variables."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dsops.cli import cli
from tests.helpers import snapshot, write_tree
from tests.s3_server import S3Server

pytestmark = pytest.mark.s3


def _cli_on_s3(
    s3_server: S3Server, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run the CLI on ``store`` with the standard AWS environment; check the exit code."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    monkeypatch.setenv("DSOPS_CACHE_DIR", str(tmp_path / "cache"))
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, ["--store", store, *args], catch_exceptions=False)
        assert result.exit_code == code, result.stderr
        return result

    return run


def test_cli_round_trip_on_s3_with_aws_environment(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _cli_on_s3(s3_server, f"s3://{s3_bucket}/datasets", tmp_path, monkeypatch)

    src = write_tree(tmp_path / "src", {"a.txt": "alpha", "big.bin": b"\x07" * (6 << 20)})
    first = run("create", "--project", "s3", "--name", "cli").stdout.strip()
    assert run("--json", "add", first, str(src)).stdout.count('"added": 2') == 1
    assert run("finalize", first).stdout.strip() == f"{first} s3/cli@1.0.0"

    second = run("create", "--project", "s3", "--name", "cli", "--parent", first).stdout.strip()
    (src / "a.txt").write_text("changed")
    synced = json.loads(run("--json", "sync", second, str(src)).stdout)
    assert (synced["modified"], synced["uploaded_bytes"]) == (1, 7)  # big.bin not re-sent
    run("finalize", second, "--alias", "prod")

    fetched = run("get", "s3/cli@prod", "--to", str(tmp_path / "out")).stdout.strip()
    assert snapshot(fetched) == {"a.txt": b"changed", "big.bin": b"\x07" * (6 << 20)}
    changes = json.loads(run("--json", "diff", first, "s3/cli@prod").stdout)
    assert [r["path"] for r in changes["modified"]] == ["a.txt"]
    assert json.loads(run("--json", "verify", "s3/cli@prod", "--deep").stdout)["ok"] is True
    listed = json.loads(run("--json", "list").stdout)
    assert [r["ref"] for r in listed] == ["s3/cli@1.0.0", "s3/cli@1.0.1"]

    missing = run("get", "s3/cli@3.0.0", code=1)
    assert missing.stderr.startswith("Error: cannot fetch s3/cli@3.0.0: ")


def test_cli_delete_prune_rename_on_s3(
    s3_server: S3Server, s3_bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _cli_on_s3(s3_server, f"s3://{s3_bucket}/lifecycle", tmp_path, monkeypatch)

    ids: list[str] = []
    for i in range(5):
        parent = ["--parent", ids[-1]] if ids else []
        draft = run("create", "--project", "s3", "--name", "daily", *parent).stdout.strip()
        run("add", draft, str(write_tree(tmp_path / f"day{i}", {f"day{i}.txt": f"d{i}"})))
        run("finalize", draft)
        ids.append(draft)
    run("alias", ids[1], "prod")

    refused = run("delete", ids[0], code=1)
    assert refused.stderr.startswith("Error: cannot delete s3/daily@1.0.0: it is the parent")
    deleted = json.loads(run("--json", "delete", ids[2], "--force").stdout)
    assert [d["id"] for d in deleted] == [ids[2]]
    prune = ["prune", "--project", "s3", "--name", "daily", "--keep-last", "1"]
    plan = json.loads(run("--json", *prune, "--dry-run").stdout)
    assert [d["version"] for d in plan["deleted"]] == ["1.0.0", "1.0.3"]
    done = json.loads(run("--json", *prune).stdout)
    assert [d["id"] for d in done["deleted"]] == [ids[0], ids[3]]

    renamed = json.loads(run("--json", "rename", "s3/daily", "weekly").stdout)
    assert renamed["to"] == {"project": "s3", "name": "weekly"}
    listed = json.loads(run("--json", "list").stdout)
    assert [(r["ref"], r["id"]) for r in listed] == [
        ("s3/weekly@1.0.1", ids[1]),
        ("s3/weekly@1.0.4", ids[4]),
    ]
    fetched = run("get", "s3/weekly@latest", "--to", str(tmp_path / "out")).stdout.strip()
    assert snapshot(fetched) == {f"day{i}.txt": f"d{i}".encode() for i in range(5)}
    assert run("get", "s3/daily@prod", code=1).stderr.startswith(
        "Error: cannot fetch s3/daily@prod: Dataset s3/daily was renamed to s3/weekly"
    )
