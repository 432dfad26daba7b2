"""Finalize: the commit protocol that makes a draft an immutable, visible version.

1. Claim the semantic version label create-only under ``names/`` (bump on conflict; a
   claim this draft already made is reused).
2. Seal the draft, then fix its list of parts (``dsops.drafts.seal``): from here on a
   racing add is either in the version or reported as failed.
3. Merge the parents' manifests with those parts (vectorized); check that the content
   the new rows name is in the store.
4. Write the manifest create-only (immutable, invisible until step 5; one left by an
   interrupted attempt is adopted, never rewritten).
5. Create ``versions/<id>.json`` create-only, carrying the manifest's hash: the single
   write that makes the version visible.
6. Move ``latest`` forward by compare-and-swap; then the requested alias, if any.
7. Refresh the dataset's listing index (a cache: a crash before it leaves the index
   stale, which the next listing sees and repairs).

A crash between steps leaves only unreferenced objects (or a claimed label with no
version); re-running finalize completes the same version with the same id.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dsops import layout
from dsops.catalog import DraftRecord, VersionRecord, now_iso
from dsops.catalog.listing import refresh as refresh_index
from dsops.drafts.changes import DraftContext, base_view
from dsops.drafts.parts import read_parts
from dsops.drafts.seal import fixed_parts, seal
from dsops.errors import IntegrityError, ObjectExists
from dsops.hashing import hash_bytes
from dsops.manifest import (
    FORMAT_METADATA_VERSION,
    apply_parts,
    diff,
    read_manifest,
    total_size,
    write_manifest,
)
from dsops.storage import ObjectStore, dump_json


def finalize(
    ctx: DraftContext,
    draft: DraftRecord,
    provenance: dict[str, Any] | None = None,
    alias: str | None = None,
) -> VersionRecord:
    """Commit ``draft``; idempotent (a finalized draft returns its existing record)."""
    existing = ctx.catalog.find_version(draft.id)
    if existing is None:
        existing = _commit(ctx, draft, provenance or {})
    ctx.catalog.set_alias(existing, "latest", only_if_newer=True)
    if alias:
        ctx.catalog.set_alias(existing, alias)
    refresh_index(ctx.catalog, existing.project, existing.name, [existing.id])
    return existing


def _commit(ctx: DraftContext, draft: DraftRecord, provenance: dict[str, Any]) -> VersionRecord:
    # The label first: an explicit version that is taken fails before the draft is sealed.
    draft = ctx.catalog.located_draft(draft)
    label = ctx.catalog.claim_label(draft)
    if ctx.catalog.rename_marker(draft.project, draft.name, fresh=True) is not None:
        # Renamed while we claimed: the label belongs under the new name.
        ctx.catalog.release_label(draft.project, draft.name, label, draft.id)
        draft = ctx.catalog.located_draft(draft)
        label = ctx.catalog.claim_label(draft)
    seal(ctx.store, draft.id)
    part_list = fixed_parts(ctx.store, draft.id)
    parts = read_parts(ctx.store, draft.id, part_list)
    base = base_view(ctx, draft)
    tables = [table for _, table, _ in parts]
    final = apply_parts(base, tables, draft.id)
    # Only paths the parts touch can differ: diff those rows, not two full manifests.
    touched = pc.unique(pa.chunked_array([t.column("path") for t in tables], pa.string()))
    changes = diff(
        base.filter(pc.is_in(base.column("path"), value_set=touched)),
        final.filter(pc.is_in(final.column("path"), value_set=touched)),
    ).counts()
    del base, tables
    changes["stored_bytes"] = sum(
        int(meta.get("summary", {}).get("uploaded_bytes", 0)) for _, _, meta in parts
    )
    check_content_present(ctx.store, final, draft.id)
    record = VersionRecord(
        id=draft.id,
        project=draft.project,
        name=draft.name,
        version=label,
        parents=draft.parents,
        description=draft.description,
        tags=draft.tags,
        created_at=draft.created_at,
        finalized_at=now_iso(),
        manifest=layout.manifest_key(draft.id),
        hash_algo=draft.hash_algo,
        file_count=final.num_rows,
        total_size=total_size(final),
        changes=changes,
        provenance=provenance,
        format=layout.FORMAT_VERSION,
        squashed_from=draft.squashed_from,
    )
    record = _write_manifest(ctx, record, final, part_list)
    try:
        ctx.store.put_if_absent(layout.version_key(draft.id), dump_json(record.to_dict()))
    except ObjectExists:
        # A concurrent finalize of the same draft won; adopt its record, free our label.
        winner = ctx.catalog.version(draft.id)
        if winner.version != label:
            ctx.catalog.release_label(draft.project, draft.name, label, draft.id)
        return winner
    ctx.catalog.remember(record)
    return record


def _write_manifest(
    ctx: DraftContext, record: VersionRecord, final: pa.Table, part_list: list[str]
) -> VersionRecord:
    """Write the manifest create-only; return ``record`` with the manifest's hash.

    A manifest already there was written by an interrupted or concurrent finalize of
    this draft from the same fixed parts and label: it is adopted as it is (a committed
    manifest is never rewritten), and so is the lineage metadata it carries.
    """
    metadata = {
        **record.to_dict(),
        "parts": part_list,
        "manifest_format": FORMAT_METADATA_VERSION,
    }
    metadata.pop("manifest_hash")
    data = write_manifest(final, metadata)
    try:
        ctx.store.put_if_absent(record.manifest, data)
    except ObjectExists:
        data = ctx.store.get(record.manifest)
        _, existing = read_manifest(data, what=f"manifest of {record.id}")
        if existing.get("parts") != part_list or existing.get("version") != record.version:
            raise IntegrityError(
                f"{ctx.store.url}/{record.manifest} exists but was not written from this "
                f"draft's sealed parts and label {record.version}: the store was changed "
                "by something other than dsops. Inspect it before finalizing again.",
                key=record.manifest,
            ) from None
        record = VersionRecord.from_dict(existing)
    return replace(record, manifest_hash=hash_bytes(data))


def check_content_present(store: ObjectStore, final: pa.Table, version_id: str) -> None:
    """Every pack and object the version's new rows name exists in the store.

    Content reused from the store (not uploaded by this draft) could have been removed
    by a gc that ran before the part naming it was written; committing then would make
    a version that cannot be read. Checked once per key (a handful of packs, the large
    files), just before the commit point.
    """
    new = final.filter(pc.equal(final.column("origin"), version_id))
    keys = [str(k) for k in pc.unique(new.column("object")).to_pylist() if k]
    with ThreadPoolExecutor(max_workers=8) as pool:
        missing = [k for k, there in zip(keys, pool.map(store.exists, keys)) if not there]
    if missing:
        raise IntegrityError(
            f"{len(missing)} stored object(s) this version needs are missing from "
            f"{store.url} (e.g. {missing[0]}), probably removed by a gc that raced the "
            "add: add the affected files again, then finalize.",
            missing=missing[:20],
        )
