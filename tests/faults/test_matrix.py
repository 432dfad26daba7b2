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
from typing import Any

import pytest

from tests.faults.matrix import LOCAL_ONLY, VERBS

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 30
TRIALS_S3 = 4


def _run_matrix(verb: str, trials: int, workdir: Path, *extra: str) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.faults.matrix",
            verb,
            "--trials",
            str(trials),
            "--seed",
            "7",
            "--workdir",
            str(workdir),
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-3000:]
    summary = json.loads(lines[-1])
    where = "SeaweedFS" if extra else "local store"
    print(
        f"\nfault matrix {verb} ({where}): {summary['trials']} trials over "
        f"{summary['writes']} writes: {summary['outcomes']}"
    )
    assert "error" not in summary, summary["error"]
    assert summary["failures"] == [], json.dumps(summary["failures"], indent=1)
    assert proc.returncode == 0
    assert sum(summary["outcomes"].values()) == trials
    # the kills really happened (a verb that ends before its kill point counts as completed)
    assert summary["outcomes"].get("killed", 0) >= trials // 2


@pytest.mark.skipif(sys.platform == "win32", reason="the matrix forks")
@pytest.mark.parametrize("verb", sorted(VERBS))
def test_a_verb_killed_anywhere_leaves_the_invariants_and_completes_on_rerun(
    verb: str, tmp_path: Path
) -> None:
    _run_matrix(verb, TRIALS, tmp_path / "work")


@pytest.mark.skipif(sys.platform == "win32", reason="the matrix forks")
@pytest.mark.parametrize("verb", sorted(set(VERBS) - LOCAL_ONLY))
def test_on_seaweedfs_a_verb_killed_anywhere_leaves_the_invariants(
    verb: str, tmp_path: Path, s3_server: Any
) -> None:
    """The same matrix against a real S3 server (its conditional writes, its listings),
    with fewer trials: each costs seconds of requests."""
    target = {**s3_server.options, "bucket": s3_server.new_bucket()}
    _run_matrix(verb, TRIALS_S3, tmp_path / "work", "--s3", json.dumps(target))
