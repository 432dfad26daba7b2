"""A team cache (docs/RELIABILITY.md, "Shared team cache"): one DSOPS_CACHE_DIR, two users.

The module's fixture (root only; skipped with a message elsewhere) creates a group and
two users in it, each with a personal primary group, and removes them afterwards. The
cache root is set up as documented — ``chgrp team DIR && chmod 2775 DIR`` — and dsops
runs as each user through ``tests/shared_cache_worker.py`` (user A with umask 022, user B
with umask 077, so the modes cannot come from a kind umask).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dsops import Dataset, Store
from dsops.cache.sharing import Sharing
from dsops.hashing import hash_file
from tests.helpers import random_tree

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Team:
    group: str
    gid: int
    a: str
    b: str
    base: Path  # a folder both users can reach (pytest's tmp_path is root-only)

    def run(self, user: str, umask: str, *args: str | Path) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "tests.shared_cache_worker", user, umask, *map(str, args)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        assert done.returncode == 0, f"{user} {args}: {done.stderr}"
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    def start(self, user: str, umask: str, *args: str | Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.shared_cache_worker", user, umask, *map(str, args)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("the shared-cache tests create two Unix users: run them as root on Linux")
    if not (shutil.which("useradd") and shutil.which("groupadd")):
        pytest.skip("the shared-cache tests need useradd and groupadd")
    tag = uuid.uuid4().hex[:6]
    group, a, b = f"dsteam{tag}", f"dsa{tag}", f"dsb{tag}"
    made: list[tuple[str, str]] = []
    base = Path(tempfile.mkdtemp(prefix="dsops-team-"))
    try:
        _sh("groupadd", group)
        made.append(("groupdel", group))
        for user in (a, b):
            _sh("useradd", "--no-create-home", "--user-group", "--groups", group,
                "--shell", "/usr/sbin/nologin", user)  # fmt: skip
            made.insert(0, ("userdel", user))
            made.append(("groupdel", user))  # the personal group, if userdel left it
        os.chmod(base, 0o755)
        yield Team(group, grp.getgrnam(group).gr_gid, a, b, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for command, name in made:
            subprocess.run([command, name], capture_output=True, check=False)


@pytest.fixture
def setup(team: Team) -> Iterator[tuple[Path, Path, dict[str, bytes], str]]:
    """A store (made by root, readable by all) with one version; an empty team cache."""
    case = team.base / uuid.uuid4().hex[:8]
    case.mkdir()
    os.chmod(case, 0o755)
    files = random_tree(case / "src", 60, seed=3, max_size=40_000)
    store_dir, cache = case / "store", case / "cache"
    ds = Dataset.create("team", "shared", store=Store(str(store_dir), cache_dir=case / "rc"))
    ds.add_files(case / "src")
    ds.finalize()
    _sh("chmod", "-R", "a+rX", str(store_dir))
    cache.mkdir()
    os.chown(cache, 0, team.gid)
    os.chmod(cache, 0o2775)  # the documented setup: chgrp team DIR && chmod 2775 DIR
    for user in (team.a, team.b):
        work = case / user
        work.mkdir()
        shutil.chown(work, user, team.group)
    try:
        yield store_dir, cache, files, ds.id
    finally:
        shutil.rmtree(case, ignore_errors=True)


def modes(cache: Path) -> tuple[list[str], list[str]]:
    """Folders not ``2775``-like or not of the team's group; objects not ``0444``."""
    gid = cache.stat().st_gid
    bad_dirs, bad_objects = [], []
    for dirpath, _, files in os.walk(cache):
        st = os.stat(dirpath)
        if st.st_gid != gid or st.st_mode & 0o2070 != 0o2070:
            bad_dirs.append(f"{dirpath} {oct(st.st_mode)} gid={st.st_gid}")
        for name in files:
            fst = os.lstat(os.path.join(dirpath, name))
            if fst.st_gid != gid:
                bad_objects.append(f"{dirpath}/{name} gid={fst.st_gid}")
            if "/objects/" in dirpath + "/" and stat.S_IMODE(fst.st_mode) != 0o444:
                bad_objects.append(f"{dirpath}/{name} {oct(fst.st_mode)}")
            if name.endswith(".lock") and fst.st_mode & 0o060 != 0o060:
                bad_objects.append(f"{dirpath}/{name} {oct(fst.st_mode)}")
    return bad_dirs, bad_objects


def test_two_users_fetch_one_version_and_everything_follows_the_team_group(
    team: Team, setup: tuple[Path, Path, dict[str, bytes], str]
) -> None:
    store, cache, files, version = setup
    first = team.run(team.b, "077", "view", store, cache, version)
    second = team.run(team.a, "022", "view", store, cache, version)
    assert first["path"] == second["path"]  # one view, built once, used by both
    assert first["digest"] == second["digest"]
    copies = [
        team.run(user, mask, "copy", store, cache, version, store.parent / user / "copy")
        for user, mask in ((team.a, "022"), (team.b, "077"))
    ]
    assert copies[0]["digest"] == copies[1]["digest"] == first["digest"]
    assert modes(cache) == ([], [])
    owners = {os.stat(p).st_uid for p in (cache / "objects").rglob("*") if p.is_file()}
    assert owners == {pwd.getpwnam(team.b).pw_uid}  # A reused B's objects, fetched nothing
    manifests = list((cache / "manifests").iterdir())
    assert manifests and all(stat.S_IMODE(m.stat().st_mode) == 0o444 for m in manifests)
    view = Path(first["path"])
    assert sorted(str(p.relative_to(view)) for p in view.rglob("*") if p.is_file()) == sorted(files)


def test_neither_user_can_change_the_others_view_and_an_owners_edit_is_repaired(
    team: Team, setup: tuple[Path, Path, dict[str, bytes], str]
) -> None:
    store, cache, files, version = setup
    view = Path(team.run(team.a, "022", "view", store, cache, version)["path"])
    target = next(p for p in sorted(view.rglob("*")) if p.is_file() and p.stat().st_size)
    refused = team.run(team.b, "077", "tamper", target)
    assert refused == {"write": "EACCES", "chmod": "EPERM", "truncate": "EACCES"}
    # The objects' owner can still chmod u+w and edit (hard links share the inode):
    # the other user's next fetch sees the stamp change, re-hashes and rebuilds.
    team.run(team.a, "022", "edit", target)
    again = team.run(team.b, "077", "view", store, cache, version)
    rel = str(target.relative_to(view))
    assert Path(again["path"], rel).read_bytes() == files[rel]
    for obj in (cache / "objects").rglob("*"):
        if obj.is_file():
            assert hash_file(obj) == obj.name


def test_eviction_by_one_user_skips_the_view_the_other_holds_then_frees_it(
    team: Team, setup: tuple[Path, Path, dict[str, bytes], str]
) -> None:
    store, cache, _, version = setup
    src2 = store.parent / "src2"
    random_tree(src2, 30, seed=4, max_size=40_000)
    other = Dataset.create("team", "other", store=Store(str(store), cache_dir=store.parent / "rc"))
    other.add_files(src2)
    other.finalize()
    _sh("chmod", "-R", "a+rX", str(store))
    holder = team.start(team.a, "022", "view", store, cache, version, "hold")
    try:
        assert holder.stdout is not None and holder.stdin is not None
        held = json.loads(holder.stdout.readline())
        team.run(team.b, "077", "view", store, cache, other.id)
        evicted = team.run(team.b, "077", "evict", store, cache, 0)
        assert evicted["removed_views"] == 1  # B's own view; A's is held
        assert sorted(os.listdir(cache / "views")) == [version]
        holder.stdin.write("\n")
        holder.stdin.flush()
        out, err = holder.communicate(timeout=60)
        assert holder.returncode == 0, err
        assert json.loads(out)["still"] == held["digest"]  # A read it whole throughout
    finally:
        if holder.poll() is None:
            holder.kill()
    evicted = team.run(team.b, "077", "evict", store, cache, 0)
    assert evicted["removed_views"] == 1 and evicted["size_after"] == 0
    assert [p for p in (cache / "objects").rglob("*") if p.is_file()] == []


def test_eviction_skips_a_view_with_private_modes_instead_of_failing_half_way(
    team: Team, setup: tuple[Path, Path, dict[str, bytes], str]
) -> None:
    store, cache, files, version = setup
    view = Path(team.run(team.a, "022", "view", store, cache, version)["path"])
    private = view / "d3"  # as a member whose dsops predates team caches leaves it
    os.chmod(private, 0o755)
    evicted = team.run(team.b, "077", "evict", store, cache, 0)
    assert evicted["removed_views"] == 0 and evicted["skipped"] == 1
    assert sorted(str(p.relative_to(view)) for p in view.rglob("*") if p.is_file()) == sorted(files)


def test_both_users_add_through_one_group_writable_stat_cache(
    team: Team, setup: tuple[Path, Path, dict[str, bytes], str]
) -> None:
    store, cache, _, _ = setup
    for user, mask in ((team.a, "022"), (team.b, "077")):
        mine = store.parent / user
        random_tree(mine / "src", 20, seed=len(user), max_size=2000)
        _sh("chown", "-R", f"{user}:{team.group}", str(mine))
        done = team.run(user, mask, "add", mine / "store", cache, mine / "src")
        assert done["added"] == 20
        again = team.run(user, mask, "add", mine / "store", cache, mine / "src")
        assert again["added"] == 20
    for name in ("statcache.sqlite", "statcache.sqlite-wal", "statcache.sqlite-shm"):
        path = cache / name
        if path.exists():
            st = path.stat()
            assert st.st_gid == team.gid and st.st_mode & 0o060 == 0o060, (name, oct(st.st_mode))


@pytest.mark.parametrize(
    ("root_mode", "umask", "dir_mode", "lock_mode"),
    [(0o2775, 0o077, 0o2775, 0o664), (0o755, 0o027, 0o750, 0o640)],
    ids=["team-root-ignores-the-umask", "private-root-follows-the-umask"],
)
def test_cache_folders_and_lock_files_get_the_modes_of_the_root_kind(
    tmp_path: Path, root_mode: int, umask: int, dir_mode: int, lock_mode: int
) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    os.chmod(root, root_mode)
    old = os.umask(umask)
    try:
        Sharing.of(root).mkdirs(root / "a" / "b")
        os.close(Sharing.of(root).open_lock(root / "a" / "x.lock"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((root / "a" / "b").stat().st_mode) == dir_mode
    assert stat.S_IMODE((root / "a" / "x.lock").stat().st_mode) == lock_mode
