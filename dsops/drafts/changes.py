"""Draft operations: add files, remove files, sync a folder — each writes one part."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from dsops import layout
from dsops.catalog import Catalog, DraftRecord
from dsops.drafts.parts import part_ids, read_parts, write_new_part
from dsops.drafts.seal import fixed_parts, is_sealed
from dsops.drafts.shards import Shard
from dsops.drafts.sources import LocalFile, collect, walk
from dsops.drafts.summary import ChangeSummary
from dsops.errors import InvalidPath, SourceNotFound, VersionImmutable
from dsops.hashing import StatCache, default_workers
from dsops.manifest import (
    PART_SCHEMA,
    ManifestLoader,
    apply_parts,
    merge_parents,
    select,
    total_size,
)
from dsops.objects import Location, ingest_files
from dsops.paths import normalize_dataset_path
from dsops.progress import Callback
from dsops.storage import ObjectStore


@dataclass
class DraftContext:
    """What draft operations need, wired together by the SDK facade."""

    store: ObjectStore
    catalog: Catalog
    manifests: ManifestLoader
    statcache: StatCache
    workers: int = 0

    def pool_size(self) -> int:
        return self.workers or default_workers()


def base_view(ctx: DraftContext, draft: DraftRecord) -> pa.Table:
    """The merged view of the draft's parents (later parents win)."""
    return merge_parents([ctx.manifests.table(p) for p in draft.parents])


def current_view(
    ctx: DraftContext, draft: DraftRecord, shard: Shard | None = None
) -> tuple[pa.Table, list[str]]:
    """The draft's files as they stand now: parents plus every part so far.

    With ``shard``, the parts other shards of the same split wrote are not read: the
    view is then exact for that shard's paths only (all a sharded change call needs).
    """
    ids = part_ids(ctx.store, draft.id)
    if shard is not None:
        ids = [part_id for part_id in ids if not shard.disjoint_from(part_id)]
    parts = read_parts(ctx.store, draft.id, ids)
    view = apply_parts(base_view(ctx, draft), [t for _, t, _ in parts], draft.id)
    return view, [part_id for part_id, _, _ in parts]


def ensure_open(ctx: DraftContext, draft: DraftRecord) -> None:
    """Refuse to change a draft that is finalized or whose finalize has begun."""
    record = ctx.catalog.find_version(draft.id)
    if record is not None:
        raise VersionImmutable(
            f"Version {draft.id} ({record.ref}) is finalized and cannot change: create a "
            f"child version with parents=['{draft.id}'] and change that.",
            version_id=draft.id,
            project=record.project,
            name=record.name,
        )
    if is_sealed(ctx.store, draft.id):
        raise VersionImmutable(
            f"Draft {draft.id} ({draft.project}/{draft.name}) is being finalized and accepts "
            "no more changes: re-run finalize to complete it, then create a child version "
            f"with parents=['{draft.id}'] for further changes.",
            version_id=draft.id,
            project=draft.project,
            name=draft.name,
        )


def _locations(view: pa.Table, hashes: Sequence[str]) -> dict[str, Location]:
    """Where the view already stores any of ``hashes`` (vectorized: views may be huge)."""
    rows = view.filter(pc.is_in(view.column("hash"), value_set=pa.array(hashes, pa.string())))
    rows = rows.filter(pc.not_equal(rows.column("object"), ""))
    return {
        h: Location(o, off, n)
        for h, o, off, n in zip(
            rows.column("hash").to_pylist(),
            rows.column("object").to_pylist(),
            rows.column("offset").to_pylist(),
            rows.column("length").to_pylist(),
        )
    }


def _current_hashes(view: pa.Table, paths: Sequence[str]) -> list[str | None]:
    """The view's hash for each of ``paths`` (None where absent), via a vectorized join."""
    wanted = pa.array(paths, pa.string())
    present = view.filter(pc.is_in(view.column("path"), value_set=wanted))
    probe = pa.table({"path": wanted, "_i": pa.array(range(len(paths)), pa.int64())})
    joined = probe.join(
        present.select(["path", "hash"]), keys="path", join_type="left outer", use_threads=False
    )
    found: list[str | None] = [None] * len(paths)
    for i, digest in zip(joined.column("_i").to_pylist(), joined.column("hash").to_pylist()):
        found[i] = digest
    return found


def _part_rows(
    files: Sequence[LocalFile], hashes: Sequence[str], where: dict[str, Location]
) -> pa.Table:
    locs = [where.get(h, Location("", 0, 0)) for h in hashes]
    return pa.table(
        {
            "op": pa.array(["add"] * len(files), pa.string()),
            "path": [f.path for f in files],
            "size": pa.array([f.size for f in files], pa.int64()),
            "hash": list(hashes),
            "object": [loc.object for loc in locs],
            "offset": pa.array([loc.offset for loc in locs], pa.int64()),
            "length": pa.array([loc.length for loc in locs], pa.int64()),
            "mtime": pa.array([f.mtime_ns for f in files], pa.int64()),
            "link": pa.array([""] * len(files), pa.string()),
            "link_validator": pa.array([""] * len(files), pa.string()),
        },
        schema=PART_SCHEMA,
    )


def _remove_rows(removed: pa.Table) -> pa.Table:
    n = removed.num_rows
    zeros = pa.array([0] * n, pa.int64())
    return pa.table(
        {
            "op": pa.array(["remove"] * n, pa.string()),
            "path": removed.column("path"),
            "size": removed.column("size"),
            "hash": removed.column("hash"),
            "object": pa.array([""] * n, pa.string()),
            "offset": zeros,
            "length": zeros,
            "mtime": zeros,
            "link": pa.array([""] * n, pa.string()),
            "link_validator": pa.array([""] * n, pa.string()),
        },
        schema=PART_SCHEMA,
    )


class _KnownContent:
    """Which hashes ``view`` already stores, asked batch by batch during an ingest.

    A set of the view's hashes answers "not there" (nearly every answer) without
    touching the table; only hits are located with a vectorized filter.
    """

    _SET_LIMIT = 2_000_000

    def __init__(self, view: pa.Table) -> None:
        self.view = view
        stored = view.filter(pc.not_equal(view.column("object"), ""))
        self.hashes: set[str] | None = None
        if stored.num_rows <= self._SET_LIMIT:
            self.hashes = set(pc.unique(stored.column("hash")).to_pylist())

    def locate(self, digests: Sequence[str]) -> dict[str, Location]:
        if self.hashes is not None:
            digests = [d for d in digests if d in self.hashes]
            if not digests:
                return {}
        return _locations(self.view, digests)


def _stage(
    ctx: DraftContext,
    draft: DraftRecord,
    files: Sequence[LocalFile],
    view: pa.Table,
    progress: Callback | None,
) -> tuple[pa.Table, ChangeSummary]:
    """Hash ``files``, upload content the store lacks, and build the add rows.

    One pass in bounded memory (:func:`dsops.objects.ingest_files`): each file is read
    once, and only new content is appended to the pack being spooled.
    Returns the rows for files that are new or modified relative to ``view``.
    """
    current = _current_hashes(view, [f.path for f in files])
    known = _KnownContent(view)
    stored = ingest_files(
        ctx.store,
        [(f.source, f.size, f.stat_key) for f in files],
        ctx.statcache,
        algo=draft.hash_algo,
        skip=lambda i, digest: current[i] == digest,
        locate=known.locate,
        workers=ctx.pool_size(),
        progress=progress,
    )
    hashes = stored.hashes
    changed_idx = [i for i, f in enumerate(files) if current[i] != hashes[i]]
    changed = [files[i] for i in changed_idx]
    rows = _part_rows(changed, [hashes[i] for i in changed_idx], stored.locations)
    added = [files[i] for i in changed_idx if current[i] is None]
    modified = [files[i] for i in changed_idx if current[i] is not None]
    summary = ChangeSummary(
        added=len(added),
        modified=len(modified),
        unchanged=len(files) - len(changed),
        added_bytes=sum(f.size for f in added),
        modified_bytes=sum(f.size for f in modified),
        uploaded_bytes=stored.uploaded_bytes,
    )
    return rows, summary


def commit_part(
    ctx: DraftContext,
    draft: DraftRecord,
    table: pa.Table,
    summary: ChangeSummary,
    op: str,
    shard: Shard | None = None,
) -> None:
    if table.num_rows == 0:
        return
    metadata = {"op": op, "summary": summary.to_dict()}
    tag = shard.tag if shard is not None else ""
    part_id = write_new_part(ctx.store, draft.id, table, metadata, tag)
    # A finalize that raced this call must either include the part or see it reported.
    if not _landed(ctx, draft, part_id):
        ctx.store.delete(layout.part_key(draft.id, part_id))
        raise VersionImmutable(
            f"Draft {draft.id} ({draft.project}/{draft.name}) began finalizing before this "
            f"{op} was recorded, so the change is not in that version: make it in a child "
            f"version with parents=['{draft.id}'].",
            version_id=draft.id,
            project=draft.project,
            name=draft.name,
        )


def _landed(ctx: DraftContext, draft: DraftRecord, part_id: str) -> bool:
    """Whether ``part_id`` (already written) is, or will be, part of the version.

    The seal is looked at before the record: gc removes a seal only once the record
    exists, so "no seal, then no record" means every finalize is still to list parts.
    """
    sealed = is_sealed(ctx.store, draft.id)
    record = ctx.catalog.find_version(draft.id)
    if record is not None:
        parts = ctx.manifests.load(draft.id)[1].get("parts", [])
        return part_id in parts
    if not sealed:
        return True
    return part_id in fixed_parts(ctx.store, draft.id)


def add_files(
    ctx: DraftContext,
    draft: DraftRecord,
    sources: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    dataset_path: str = "",
    wildcard: str | Sequence[str] | None = None,
    recursive: bool = True,
    progress: Callback | None = None,
    *,
    follow_symlinks: bool = False,
    shard: Shard | None = None,
) -> ChangeSummary:
    ensure_open(ctx, draft)
    folder = normalize_dataset_path(dataset_path)
    files = collect(sources, folder, wildcard, recursive, follow_symlinks=follow_symlinks)
    if shard is not None:
        files = shard.select(files, lambda f: f.path)
    view, _ = current_view(ctx, draft, shard)
    rows, summary = _stage(ctx, draft, files, view, progress)
    commit_part(ctx, draft, rows, summary, "add", shard)
    return summary


def remove_files(
    ctx: DraftContext, draft: DraftRecord, patterns: str | Sequence[str]
) -> ChangeSummary:
    ensure_open(ctx, draft)
    view, _ = current_view(ctx, draft)
    listed = [patterns] if isinstance(patterns, str) else list(patterns)
    for pattern in listed:
        if pattern.startswith("/") or ".." in pattern.split("/"):
            raise InvalidPath(
                f"Pattern {pattern!r} is absolute or climbs with '..': patterns match paths "
                "inside the dataset.",
                path=pattern,
            )
    removed = select(view, listed)
    summary = ChangeSummary(
        removed=removed.num_rows,
        removed_bytes=total_size(removed),
        unchanged=view.num_rows - removed.num_rows,
    )
    commit_part(ctx, draft, _remove_rows(removed), summary, "remove")
    return summary


def sync_folder(
    ctx: DraftContext,
    draft: DraftRecord,
    folder: str | os.PathLike[str],
    dataset_path: str = "",
    progress: Callback | None = None,
    *,
    follow_symlinks: bool = False,
    shard: Shard | None = None,
) -> ChangeSummary:
    """Mirror ``folder`` into ``dataset_path``: add new, update modified, remove missing.

    With ``shard``, only the paths of that shard are added, updated or removed (both in
    the folder and in the draft), so the n shards of one folder together mirror it.
    """
    ensure_open(ctx, draft)
    prefix = normalize_dataset_path(dataset_path)
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise SourceNotFound(
            f"Cannot sync {root!r}: it is not a folder. Give the folder to mirror.", path=root
        )
    found = walk(os.path.abspath(root), prefix, follow_symlinks=follow_symlinks)
    files = sorted(found, key=lambda f: f.path)
    if shard is not None:
        files = shard.select(files, lambda f: f.path)
    view, _ = current_view(ctx, draft, shard)
    rows, summary = _stage(ctx, draft, files, view, progress)
    paths = view.column("path")
    under = (
        pc.or_(pc.equal(paths, prefix), pc.starts_with(paths, prefix + "/"))
        if prefix
        else pa.array([True] * view.num_rows, pa.bool_())
    )
    local = pa.array([f.path for f in files], pa.string())
    gone = view.filter(pc.and_(under, pc.invert(pc.is_in(paths, value_set=local))))
    if shard is not None:
        mine = [shard.contains(p) for p in gone.column("path").to_pylist()]
        gone = gone.filter(pa.array(mine, pa.bool_()))
    summary = ChangeSummary(
        **{**summary.to_dict(), "removed": gone.num_rows, "removed_bytes": total_size(gone)}
    )
    table = pa.concat_tables([rows, _remove_rows(gone)])
    commit_part(ctx, draft, table, summary, "sync", shard)
    return summary


def add_stored(ctx: DraftContext, draft: DraftRecord, rows: pa.Table) -> ChangeSummary:
    """Add manifest ``rows`` whose content is already in the store, as one part.

    Nothing is uploaded: the part names the existing packs and objects (a squash).
    Each is renewed first (``ObjectStore.renew``), as an add renews content it reuses,
    so gc's grace period covers it until the part naming it exists; a backend that
    cannot renew in place leaves it to finalize's check that all named content exists.
    """
    ensure_open(ctx, draft)
    ends: dict[str, int] = {}
    for obj, offset, length in zip(
        rows.column("object").to_pylist(),
        rows.column("offset").to_pylist(),
        rows.column("length").to_pylist(),
    ):
        if obj:
            ends[obj] = max(ends.get(obj, 0), offset + length)
    with ThreadPoolExecutor(max_workers=ctx.pool_size()) as pool:
        list(pool.map(ctx.store.renew, ends, ends.values()))
    n = rows.num_rows
    table = pa.table(
        {
            "op": pa.array(["add"] * n, pa.string()),
            **{c: rows.column(c) for c in PART_SCHEMA.names if c != "op"},
        },
        schema=PART_SCHEMA,
    )
    summary = ChangeSummary(added=n, added_bytes=total_size(rows))
    commit_part(ctx, draft, table, summary, "squash")
    return summary
