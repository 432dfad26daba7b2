"""One dsops process of the shared-team-cache test, run as another Unix user.

Run as root: ``python -m tests.shared_cache_worker USER UMASK ACTION ARGS…``. It imports
everything it needs first (the interpreter lives under ``/root``, which other users may
not read), then drops to ``USER`` for good — uid, primary group and supplementary groups,
as ``setpriv --reuid --regid --init-groups`` would — sets the umask, runs ACTION and
prints one JSON line. Every file access after the drop is checked by the kernel as
that user.

Actions (``STORE`` is a store folder, ``CACHE`` the shared ``DSOPS_CACHE_DIR``):

- ``view STORE CACHE VERSION [hold]``: ``get_local_copy``; with ``hold``, keep the
  process (and its shared lock on the view) alive until a line arrives on stdin.
- ``copy STORE CACHE VERSION TARGET``: ``get_mutable_local_copy``.
- ``add STORE CACHE SRC``: create, add (warnings are errors: the stat cache must be
  writable), finalize; prints the version id.
- ``evict STORE CACHE LIMIT``: ``LocalCache.evict(LIMIT)``.
- ``tamper PATH``: try to write, chmod and truncate one file; report each refusal.
- ``edit PATH``: as the object's owner: ``chmod u+w`` and change one byte in place.
"""

from __future__ import annotations

import concurrent.futures  # noqa: F401  (imported before the drop, see above)
import dataclasses
import errno
import grp  # noqa: F401
import hashlib
import json
import os
import pwd
import sqlite3  # noqa: F401
import sys
import tempfile  # noqa: F401
import uuid  # noqa: F401
import warnings

import pyarrow.compute
import pyarrow.parquet  # noqa: F401

import dsops.cache.audit
import dsops.manifest  # noqa: F401
from dsops import Dataset, Store
from dsops.errors import DsopsWarning


def drop_to(user: str, umask: int) -> None:
    entry = pwd.getpwnam(user)
    os.setgroups(os.getgrouplist(user, entry.pw_gid))
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    os.umask(umask)
    os.environ["HOME"] = "/nonexistent"


def digest_tree(root: str) -> str:
    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            with open(path, "rb") as fh:
                h.update(os.path.relpath(path, root).encode() + b"\0" + fh.read())
    return h.hexdigest()


def attempt(action: str, call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))
    return f"{action} succeeded"


def main(argv: list[str]) -> dict[str, object]:
    user, umask, action, *args = argv
    drop_to(user, int(umask, 8))
    if action == "tamper":
        (path,) = args
        return {
            "write": attempt("write", lambda: open(path, "r+b").close()),
            "chmod": attempt("chmod", lambda: os.chmod(path, 0o644)),
            "truncate": attempt("truncate", lambda: os.truncate(path, 0)),
        }
    if action == "edit":
        (path,) = args
        os.chmod(path, 0o644)
        with open(path, "r+b") as fh:
            first = fh.read(1)
            fh.seek(0)
            fh.write(bytes([first[0] ^ 0xFF]))
        os.chmod(path, 0o444)
        return {"edited": path}
    store = Store(args[0], cache_dir=args[1])
    if action == "view":
        path = Dataset.get(args[2], store=store).get_local_copy()
        out = {"path": path, "digest": digest_tree(path)}
        if args[3:] == ["hold"]:
            print(json.dumps(out), flush=True)
            sys.stdin.readline()
            out["still"] = digest_tree(path)
        return out
    if action == "copy":
        path = Dataset.get(args[2], store=store).get_mutable_local_copy(args[3])
        return {"path": path, "digest": digest_tree(path)}
    if action == "add":
        warnings.simplefilter("error", DsopsWarning)
        ds = Dataset.create("team", user, store=store)
        summary = ds.add_files(args[2])
        ds.finalize()
        return {"id": ds.id, "added": summary.added}
    if action == "evict":
        return dataclasses.asdict(store.cache.evict(int(args[2])))
    raise SystemExit(f"unknown action {action}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])), flush=True)
