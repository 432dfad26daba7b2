"""Every command, given bad input, fails in one line: a non-zero exit, one line on stderr
that names the problem, no traceback (without ``--debug``), and the store unchanged.

The cases run in real processes (``python -m dsops``), as a user's shell would, against a
store holding one finalized version, an alias and an open draft.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from dsops import Dataset, Store
from dsops.cli.group import COMMANDS
from tests.helpers import write_tree

MISSING = "0123456789abcdef0123456789abcdef"

# (command words, a fragment the one line must contain); {v} is the finalized version id,
# {d} the open draft's id, {src} a folder of files, {tmp} a scratch folder.
CASES: list[tuple[list[str], str]] = [
    (["create", "--project", "p", "--name", "bad@name"], "name"),
    (["create", "--project", "p", "--name", "v", "--parent", "p/nope@latest"], "nope"),
    (["create", "--project", "p", "--name", "v", "--version", "1.x"], "1.x"),
    (["add", MISSING, "{src}"], MISSING),
    (["add", "{v}", "{src}"], "finalized"),
    (["add", "{d}", "{tmp}/no-such-folder"], "no-such-folder"),
    (["remove", "{v}", "*.txt"], "finalized"),
    (["sync", "{d}", "{tmp}/no-such-folder"], "no-such-folder"),
    (["finalize", MISSING], MISSING),
    (["squash", "--project", "p", "--name", "flat", MISSING], MISSING),
    (["get", "p/v@nope"], "nope"),
    (["get", "{v}", "--part", "3", "--num-parts", "2"], "part"),
    (["get", "{v}", "--to", "{tmp}/store"], "store"),
    (["list", "--store", "ftp://example.com/x"], "ftp"),
    (["ls", MISSING], MISSING),
    (["diff", "{v}", MISSING], MISSING),
    (["lineage", "p/v@9.9.9"], "9.9.9"),
    (["verify", MISSING], MISSING),
    (["verify", "{v}", "--folder", "{tmp}/no-such-folder"], "no-such-folder"),
    (["delete", "--yes", MISSING], MISSING),
    (["delete", "--yes", "{v}"], "alias"),
    (["prune", "--project", "p", "--name", "v", "--yes"], "keep"),
    (["prune", "--project", "p", "--name", "v", "--keep-within", "soon", "--yes"], "soon"),
    (["publish", "{d}"], "final"),
    (["rename", "p/v", "v"], "already"),
    (["rename", "p/nope", "other"], "nope"),
    (["move", "p/v", "../x"], "../x"),
    (["describe", MISSING, "--description", "x"], MISSING),
    (["describe", "{v}", "--add-tag", ""], "tag"),
    (["metadata", "set", "{v}", "../x", "--json-value", "{{}}"], "../x"),
    (["metadata", "set", "{v}", "stats", "--json-value", "{{not json"], "JSON"),
    (["metadata", "get", "{v}", "nope"], "nope"),
    (["metadata", "rm", "{v}", "nope"], "nope"),
    (["alias", "{v}", "1.0.0"], "alias"),
    (["alias", MISSING, "prod"], MISSING),
    (["gc", "--grace", "-1d"], "grace"),
    (["get"], "missing argument"),
    (["nosuch"], "no such command"),
    (["ui", "--port", "99999"], "99999"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("one-line")
    store = Store(str(root / "store"), cache_dir=root / "cache")
    src = write_tree(root / "src", {"a.txt": "a", "b/c.txt": "c"})
    ds = Dataset.create("p", "v", store=store)
    ds.add_files(src)
    ds.finalize(alias="prod")
    draft = Dataset.create("p", "v", parents=[ds.id], store=store)
    return {"v": ds.id, "d": draft.id, "src": str(src), "tmp": str(root), "store": store.url}


def _store_bytes(url: str) -> dict[str, bytes]:
    store = Store(url)
    return {key: store.backend.get(key) for key in store.backend.list_keys("")}


def test_every_command_has_a_bad_input_case() -> None:
    covered = {words[0] for words, _ in CASES}
    assert covered >= {name for name, _, _ in COMMANDS if name != "search"}


@pytest.mark.parametrize(("words", "fragment"), CASES, ids=[" ".join(w[:3]) for w, _ in CASES])
def test_bad_input_is_one_line_non_zero_and_changes_nothing(
    world: dict[str, str], words: list[str], fragment: str
) -> None:
    args = [w.format(**world) for w in words]
    before = _store_bytes(world["store"])
    env = {
        **os.environ,
        "DSOPS_STORE": world["store"],
        "DSOPS_CACHE_DIR": f"{world['tmp']}/cli-cache",
        "COLUMNS": "200",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dsops", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        cwd=world["tmp"],
    )
    shown = f"dsops {' '.join(args)} → {proc.returncode}\nstderr: {proc.stderr}"
    assert proc.returncode != 0, shown
    assert "Traceback" not in proc.stderr, shown
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert fragment.format(**world).lower() in lines[0].lower(), shown
    assert _store_bytes(world["store"]) == before, f"{shown}\nthe store changed"
