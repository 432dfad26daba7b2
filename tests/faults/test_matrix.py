"""The SIGKILL fault matrix (tests/faults/matrix.py): every writing verb, 30 seeded kills each.

Each verb runs in one worker process that forks a child per trial; the outcomes are
printed (run with ``-s`` to see them) and any violated invariant fails the test with the
trial's kill point and traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults.matrix import VERBS

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 30


@pytest.mark.skipif(sys.platform == "win32", reason="the matrix forks")
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_a_verb_killed_anywhere_leaves_the_invariants_and_completes_on_rerun(
    verb: str, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.faults.matrix",
            verb,
            "--trials",
            str(TRIALS),
            "--seed",
            "7",
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    summary = json.loads(lines[-1])
    print(
        f"\nfault matrix {verb}: {summary['trials']} trials over {summary['writes']} writes:"
        f" {summary['outcomes']}"
    )
    assert "error" not in summary, summary["error"]
    assert summary["failures"] == [], json.dumps(summary["failures"], indent=1)
    assert proc.returncode == 0
    assert sum(summary["outcomes"].values()) == TRIALS
    # the kills really happened (a verb that ends before its kill point counts as completed)
    assert summary["outcomes"].get("killed", 0) >= TRIALS // 2
