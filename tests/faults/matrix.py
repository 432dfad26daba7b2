"""The SIGKILL fault matrix: every verb that writes, killed at seeded points, then checked.

Run as ``python -m tests.faults.matrix VERB --trials N --seed S --workdir DIR [--s3 JSON]``;
prints one JSON line with the outcomes (``tests/faults/test_matrix.py`` runs every verb, on
the local store and, with fewer trials, on SeaweedFS).

For each verb a base store is built once; each trial copies it, runs the verb in a forked
child and kills that child with SIGKILL just before its k-th store write (k drawn with a
seeded generator from 1..W, W the writes an undisturbed run makes) — or, for a verb that
writes only to the local cache (``fetch``), after a seeded delay within an undisturbed
run's duration. Another child then checks the invariants, re-runs the verb, checks that
it completed and checks the invariants again:

- every listed version verifies deeply and its fetched files hash to its manifest; a
  version that existed before keeps exactly its files;
- nothing is half-visible: every label and alias resolves to a listed version or fails
  cleanly (``VersionNotFound`` and its kinds), never with a corrupt or unreadable
  record; a renamed dataset is listed under exactly one name, with all its versions;
- the local cache never serves a file that does not hash to its manifest entry.

The parent process only forks and waits (it never runs dsops code that starts threads),
so every child starts from the same single-threaded state.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WRITES = (
    "put",
    "put_if_absent",
    "put_if_match",
    "delete",
    "put_file",
    "put_file_if_absent",
    "refresh",
)
Context = dict[str, Any]


# --- the verbs --------------------------------------------------------------------------


# On an S3 server (``--s3 JSON``: endpoint, keys, bucket) each trial's store is the prefix
# named after its folder in one bucket, copied server-side; else a folder in it.
S3: dict[str, str] | None = None
LOCAL_ONLY = {"gc"}  # its setup ages files with utime, which S3 objects cannot be


def _store(root: Path) -> Any:
    from dsops import Store

    if S3 is not None:
        options = {k: v for k, v in S3.items() if k != "bucket"}
        return Store(f"s3://{S3['bucket']}/{root.name}", cache_dir=root / "cache", **options)
    return Store(str(root / "store"), cache_dir=root / "cache")


def _copy_store(base: Path, root: Path) -> None:
    """The trial's own copy of the base store (the local folder is copied with ``root``)."""
    if S3 is None:
        return
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=S3["endpoint_url"],
        aws_access_key_id=S3["access_key"],
        aws_secret_access_key=S3["secret_key"],
        region_name=S3.get("region", "us-east-1"),
    )
    bucket = S3["bucket"]
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{base.name}/"
    ):
        for item in page.get("Contents", []):
            key = f"{root.name}/{item['Key'][len(base.name) + 1 :]}"
            client.copy_object(
                Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": item["Key"]}
            )


def _tree(root: Path, count: int, seed: int, big: bool = False) -> Path:
    rng = random.Random(seed)
    for n in range(count):
        path = root / f"f{seed}-{n:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(0, 3000)))
    if big:
        (root / f"big{seed}.bin").write_bytes(rng.randbytes(4 * 1024 * 1024 + 17))
    return root


def _base(root: Path) -> Context:
    """team/daily: three chained versions (alias golden on the first), and team/junk."""
    from dsops import Dataset

    store = _store(root)
    src = root / "src"
    ids: list[str] = []
    for n in range(3):
        _tree(src / f"day{n}", 6, seed=n)
        ds = Dataset.create("team", "daily", parents=ids[-1:] or None, store=store)
        ds.add_files(src)
        ids.append(ds.finalize())
    Dataset.get(ids[0], store=store).set_alias("golden")
    junk = Dataset.create("team", "junk", store=store)
    junk.add_files(_tree(root / "junk", 5, seed=9, big=True))
    junk.finalize()
    return {"ids": ids, "junk": junk.id, "names": [["team", "daily"], ["team", "junk"]]}


def _with_draft(root: Path) -> Context:
    from dsops import Dataset

    ctx = _base(root)
    draft = Dataset.create("team", "daily", parents=[ctx["ids"][-1]], store=_store(root))
    draft.add_files(_tree(root / "first-part", 4, seed=20))
    ctx["draft"] = draft.id
    _tree(root / "more", 12, seed=21, big=True)
    sync = root / "sync"
    shutil.copytree(root / "src", sync)
    shutil.rmtree(sync / "day0")
    _tree(sync / "day9", 5, seed=22)
    return ctx


def _draft(root: Path, ctx: Context) -> Any:
    from dsops import Dataset

    return Dataset.get(ctx["draft"], store=_store(root))


def _version(root: Path, ctx: Context, n: int) -> Any:
    from dsops import Dataset

    return Dataset.get(ctx["ids"][n], store=_store(root))


def _files_of(ds: Any) -> dict[str, str]:
    table = ds.manifest()
    return dict(zip(table.column("path").to_pylist(), table.column("hash").to_pylist()))


def _hashes(folder: Path) -> dict[str, str]:
    from dsops.hashing import hash_file

    return {
        p.relative_to(folder).as_posix(): hash_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def run_add(root: Path, ctx: Context) -> None:
    _draft(root, ctx).add_files(root / "more", dataset_path="more")


def done_add(root: Path, ctx: Context) -> None:
    files = _draft(root, ctx).list_files("more/**")
    _expect(len(files) == 13, f"add: {len(files)} of 13 files in the draft")


def run_sync(root: Path, ctx: Context) -> None:
    _draft(root, ctx).sync_folder(root / "sync")


def done_sync(root: Path, ctx: Context) -> None:
    from dsops.hashing import hash_file

    want = {
        p.relative_to(root / "sync").as_posix(): hash_file(p)
        for p in (root / "sync").rglob("*")
        if p.is_file()
    }
    _expect(_files_of(_draft(root, ctx)) == want, "sync: draft differs from the folder")


def run_remove(root: Path, ctx: Context) -> None:
    _draft(root, ctx).remove_files("day1")


def done_remove(root: Path, ctx: Context) -> None:
    _expect(not _draft(root, ctx).list_files("day1/**"), "remove: day1 files remain")


def run_finalize(root: Path, ctx: Context) -> None:
    _draft(root, ctx).finalize(alias="prod")


def done_finalize(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    store = _store(root)
    for ref in ("team/daily@latest", "team/daily@prod", "team/daily@1.0.3"):
        _expect(Dataset.get(ref, store=store).id == ctx["draft"], f"finalize: {ref} is wrong")


def run_set_alias(root: Path, ctx: Context) -> None:
    _version(root, ctx, 2).set_alias("golden")


def done_set_alias(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    got = Dataset.get("team/daily@golden", store=_store(root)).id
    _expect(got == ctx["ids"][2], "set_alias: golden did not move")


def run_delete(root: Path, ctx: Context) -> None:
    from dsops import Dataset
    from dsops.errors import VersionDeleted

    try:
        Dataset.delete(ctx["ids"][1], force=True, store=_store(root))
    except VersionDeleted:
        pass  # a re-run after the delete completed: the outcome is the same


def done_delete(root: Path, ctx: Context) -> None:
    from dsops import Dataset
    from dsops.errors import VersionDeleted

    try:
        Dataset.get(ctx["ids"][1], store=_store(root))
    except VersionDeleted:
        return
    raise AssertionError("delete: the version still resolves")


def run_prune(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    Dataset.prune("team", "daily", keep_last=1, store=_store(root))


def done_prune(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    listed = [v["id"] for v in Dataset.list("team", "daily", store=_store(root))]
    _expect(listed == [ctx["ids"][0], ctx["ids"][2]], f"prune: left {listed}")


GC_GRACE = 24 * 3600


def setup_gc(root: Path) -> Context:
    """Garbage two days old (a deleted dataset, an abandoned draft), a draft in use."""
    from dsops import Dataset

    ctx = _with_draft(root)
    Dataset.delete(ctx["junk"], store=_store(root))
    abandoned = Dataset.create("team", "daily", store=_store(root))
    abandoned.add_files(_tree(root / "abandoned", 5, seed=30))
    old = time.time() - 2 * GC_GRACE
    for path in (root / "store").rglob("*"):
        os.utime(path, (old, old), follow_symlinks=False)
    _draft(root, ctx).add_files(_tree(root / "fresh", 3, seed=31), dataset_path="fresh")
    ctx["names"] = [["team", "daily"]]
    return ctx


def run_gc(root: Path, ctx: Context) -> None:
    from dsops.gc import collect_garbage

    collect_garbage(_store(root), grace_seconds=GC_GRACE)


def done_gc(root: Path, ctx: Context) -> None:
    from dsops.gc import collect_garbage

    again = collect_garbage(_store(root), grace_seconds=GC_GRACE, dry_run=True)
    _expect(not again.objects, f"gc: {len(again.objects)} objects left to collect")
    _expect(len(_draft(root, ctx).list_files()) > 0, "gc: the live draft lost its files")


def run_rename(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    Dataset.rename("team", "daily", "weekly", store=_store(root))


def done_rename(root: Path, ctx: Context) -> None:
    _renamed(root, ctx, "team/weekly")


def run_move(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    Dataset.move("team", "daily", "archive/old", store=_store(root))


def done_move(root: Path, ctx: Context) -> None:
    _renamed(root, ctx, "archive/old/daily")


def _renamed(root: Path, ctx: Context, new: str) -> None:
    from dsops import Dataset
    from dsops.errors import DatasetRenamed

    store = _store(root)
    for n, version_id in enumerate(ctx["ids"]):
        _expect(Dataset.get(f"{new}@1.0.{n}", store=store).id == version_id, f"{new}@1.0.{n}")
    _expect(Dataset.get(f"{new}@golden", store=store).id == ctx["ids"][0], f"{new}@golden")
    try:
        Dataset.get("team/daily@latest", store=store)
    except DatasetRenamed:
        return
    raise AssertionError("rename: the old name still resolves")


def run_set_metadata(root: Path, ctx: Context) -> None:
    import pandas as pd

    _version(root, ctx, 2).set_metadata(pd.DataFrame({"n": range(50)}), name="stats")


def done_set_metadata(root: Path, ctx: Context) -> None:
    got = _version(root, ctx, 2).get_metadata("stats")
    _expect(list(got["n"]) == list(range(50)), "set_metadata: wrong value")


def run_squash(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    Dataset.squash("flat", ctx["ids"], project="team", store=_store(root))


def done_squash(root: Path, ctx: Context) -> None:
    from dsops import Dataset

    flat = Dataset.get("team/flat@latest", store=_store(root))
    _expect(list(flat.record.squashed_from) == ctx["ids"], "squash: wrong squashed_from")
    _expect(_files_of(flat) == _files_of(_version(root, ctx, 2)), "squash: files differ")


def run_fetch(root: Path, ctx: Context) -> None:
    _version(root, ctx, 2).get_local_copy()


def done_fetch(root: Path, ctx: Context) -> None:
    ds = _version(root, ctx, 2)
    _expect(_hashes(Path(ds.get_local_copy())) == _files_of(ds), "fetch: view differs")


@dataclass(frozen=True)
class Verb:
    setup: Callable[[Path], Context]
    run: Callable[[Path, Context], None]
    done: Callable[[Path, Context], None]
    by_time: bool = False


VERBS = {
    "add": Verb(_with_draft, run_add, done_add),
    "sync": Verb(_with_draft, run_sync, done_sync),
    "remove": Verb(_with_draft, run_remove, done_remove),
    "finalize": Verb(_with_draft, run_finalize, done_finalize),
    "set_alias": Verb(_base, run_set_alias, done_set_alias),
    "delete": Verb(_base, run_delete, done_delete),
    "prune": Verb(_base, run_prune, done_prune),
    "gc": Verb(setup_gc, run_gc, done_gc),
    "rename": Verb(_base, run_rename, done_rename),
    "move": Verb(_base, run_move, done_move),
    "set_metadata": Verb(_base, run_set_metadata, done_set_metadata),
    "squash": Verb(_base, run_squash, done_squash),
    "fetch": Verb(_base, run_fetch, done_fetch, by_time=True),
}


# --- the invariants ---------------------------------------------------------------------


def snapshot_versions(root: Path) -> dict[str, dict[str, str]]:
    """Each listed version's path → hash (what must never change)."""
    from dsops import Dataset

    store = _store(root)
    return {
        v["id"]: _files_of(Dataset.get(v["id"], store=store)) for v in Dataset.list(store=store)
    }


def check_invariants(root: Path, ctx: Context, before: dict[str, dict[str, str]]) -> None:
    import warnings

    from dsops import Dataset
    from dsops.errors import VersionNotFound

    store = _store(root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a corrupt record skipped by a listing is a failure
        listed = Dataset.list(store=store)
    ids = {v["id"] for v in listed}
    scratch = root / "check"
    for n, row in enumerate(listed):
        ds = Dataset.get(row["id"], store=store)
        files = _files_of(ds)
        if row["id"] in before:
            _expect(files == before[row["id"]], f"{row['ref']}: its files changed")
        result = ds.verify(deep=True)
        _expect(bool(result), f"{row['ref']}: verify failed {result.to_dict()}")
        copy = Path(ds.get_mutable_local_copy(scratch / str(n)))
        _expect(_hashes(copy) == files, f"{row['ref']}: fetched files differ")
        _expect(_hashes(Path(ds.get_local_copy())) == files, f"{row['ref']}: view differs")
    shutil.rmtree(scratch, ignore_errors=True)
    datasets = {(v["project"], v["name"]) for v in listed}
    datasets |= {tuple(n) for n in ctx["names"]} | {("team", "flat")}
    datasets |= {(p, "daily") for p in ("team", "archive/old")} | {("team", "weekly")}
    for project, name in sorted(datasets):
        refs = [*store.catalog.labels(project, name), *store.catalog.aliases(project, name)]
        for label in refs:
            try:
                version_id = Dataset.get(f"{project}/{name}@{label}", store=store).id
            except VersionNotFound:
                continue  # clean: a deleted version, a cleared alias, an unfinished claim
            _expect(version_id in ids, f"{project}/{name}@{label} reaches unlisted {version_id}")
    daily = [(v["project"], v["name"]) for v in listed if v["id"] in ctx["ids"]]
    _expect(len(set(daily)) <= 1, f"the chain is listed under several names: {set(daily)}")


# --- running trials in forked children --------------------------------------------------


def _child(work: Callable[[], Any], report: Path) -> int:
    """Run ``work`` in a forked child; its JSON result or traceback lands in ``report``."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            result = work()
            report.write_text(json.dumps({"ok": True, "result": result}))
        except BaseException:  # noqa: BLE001 - the child reports anything, then exits
            report.write_text(json.dumps({"ok": False, "error": traceback.format_exc()}))
            code = 1
        sys.stdout.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


def _read(report: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(report.read_text())
        return data
    except (OSError, ValueError):
        return {"ok": False, "error": "no report (killed)"}


def _arm(store: Any, kill_at: int | None, counter: list[int]) -> None:
    """Count the backend's writes; SIGKILL this process just before write ``kill_at``."""
    backend = store.backend
    lock = threading.Lock()
    for method in WRITES:
        real = getattr(backend, method)

        def wrapped(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            with lock:
                counter[0] += 1
                if kill_at is not None and counter[0] >= kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return _real(*args, **kwargs)

        setattr(backend, method, wrapped)


def _faulty_run(verb: Verb, root: Path, ctx: Context, kill_at: int | None, delay: float | None):
    def work() -> dict[str, Any]:
        import dsops.store

        counter = [0]
        real_init = dsops.store.Store.__init__

        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            real_init(self, *args, **kwargs)
            _arm(self, kill_at, counter)

        dsops.store.Store.__init__ = init  # type: ignore[method-assign]
        if delay is not None:
            timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL))
            timer.daemon = True
            timer.start()
        started = time.monotonic()
        verb.run(root, ctx)
        return {"writes": counter[0], "seconds": time.monotonic() - started}

    return work


def trial(
    verb: Verb, base: Path, root: Path, ctx: Context, kill_at: int | None, delay: float | None
) -> dict[str, Any]:
    _copy(base, root)
    status = _child(_faulty_run(verb, root, ctx, kill_at, delay), root / "run.json")
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    run = _read(root / "run.json")
    if not killed and not run["ok"]:
        return {"outcome": "error", "detail": run.get("error", "")[-2000:]}
    before = json.loads((base / "before.json").read_text())

    def check() -> None:
        check_invariants(root, ctx, before)
        verb.run(root, ctx)  # re-running the interrupted verb completes it
        verb.done(root, ctx)
        check_invariants(root, ctx, {k: v for k, v in before.items() if k in before})

    _child(check, root / "check.json")
    checked = _read(root / "check.json")
    outcome = "killed" if killed else "completed"
    if not checked["ok"]:
        return {"outcome": "violated", "killed": killed, "detail": checked["error"][-3000:]}
    return {"outcome": outcome}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("verb", choices=sorted(VERBS))
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--s3", help="JSON: endpoint_url, access_key, secret_key, bucket")
    args = parser.parse_args(argv)
    verb = VERBS[args.verb]
    if args.s3:
        global S3
        S3 = json.loads(args.s3)
        if args.verb in LOCAL_ONLY:
            parser.error(f"{args.verb} runs on the local store only")
    work = args.workdir
    base = work / "base"
    base.mkdir(parents=True)

    def setup() -> Context:
        ctx = verb.setup(base)
        (base / "before.json").write_text(json.dumps(snapshot_versions(base)))
        return ctx

    _child(setup, work / "setup.json")
    made = _read(work / "setup.json")
    if not made["ok"]:
        print(json.dumps({"verb": args.verb, "error": made["error"]}))
        return 1
    ctx = made["result"]
    _child(_faulty_run(verb, _copy(base, work / "probe"), ctx, None, None), work / "probe.json")
    probe = _read(work / "probe.json")
    if not probe["ok"]:
        print(json.dumps({"verb": args.verb, "error": probe["error"]}))
        return 1
    writes, seconds = probe["result"]["writes"], probe["result"]["seconds"]
    if verb.by_time:  # a kill timer must land inside the run: time it again, keep the faster
        _child(_faulty_run(verb, _copy(base, work / "probe2"), ctx, None, None), work / "p2.json")
        again = _read(work / "p2.json")
        if again["ok"]:
            seconds = min(seconds, again["result"]["seconds"])
    rng = random.Random(f"{args.verb}-{args.seed}")
    outcomes: dict[str, int] = {}
    failures = []
    for n in range(args.trials):
        kill_at = None if verb.by_time else rng.randint(1, max(1, writes))
        delay = rng.uniform(0, 0.8 * seconds) if verb.by_time else None
        result = trial(verb, base, work / f"t{n}", ctx, kill_at, delay)
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
        if result["outcome"] in ("violated", "error"):
            failures.append({"trial": n, "kill_at": kill_at, "delay": delay, **result})
        shutil.rmtree(work / f"t{n}", ignore_errors=True)
    summary = {
        "verb": args.verb,
        "trials": args.trials,
        "writes": writes,
        "seconds": round(seconds, 3),
        "outcomes": outcomes,
        "failures": failures[:3],
    }
    print(json.dumps(summary))
    return 0 if not failures else 1


def _copy(base: Path, target: Path) -> Path:
    shutil.copytree(base, target, symlinks=True)
    if S3 is not None:  # in a child: the parent never opens a client before it forks
        _child(lambda: _copy_store(base, target), target / "copy.json")
    return target


if __name__ == "__main__":
    sys.exit(main())
