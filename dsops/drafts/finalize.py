"""Finalize: the commit protocol that makes a draft an immutable, visible version.

1. Merge the parents' manifests with every draft part (vectorized).
2. Claim the semantic version label create-only under ``names/`` (bump on conflict; a
   claim this draft already made is reused).
3. Write the manifest (immutable content, invisible until step 4).
4. Create ``versions/<id>.json`` create-only: the single write that makes it visible.
5. Move ``latest`` forward by compare-and-swap; then the requested alias, if any.

A crash between steps leaves only unreferenced objects (or a claimed label with no
version); re-running finalize completes the same version with the same id.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dsops import layout
from dsops.catalog import DraftRecord, VersionRecord, now_iso
from dsops.drafts.changes import DraftContext, base_view
from dsops.drafts.parts import read_parts
from dsops.errors import ObjectExists
from dsops.manifest import FORMAT_METADATA_VERSION, apply_parts, diff, total_size, write_manifest
from dsops.storage import dump_json


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
    return existing


def _commit(ctx: DraftContext, draft: DraftRecord, provenance: dict[str, Any]) -> VersionRecord:
    base = base_view(ctx, draft)
    parts = read_parts(ctx.store, draft.id)
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
    label = ctx.catalog.claim_label(draft)
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
    )
    metadata = {
        **record.to_dict(),
        "parts": [part_id for part_id, _, _ in parts],
        "manifest_format": FORMAT_METADATA_VERSION,
    }
    ctx.store.put(record.manifest, write_manifest(final, metadata))
    try:
        ctx.store.put_if_absent(layout.version_key(draft.id), dump_json(record.to_dict()))
    except ObjectExists:
        # A concurrent finalize of the same draft won; adopt its record, free our label.
        winner = ctx.catalog.version(draft.id)
        if winner.version != label:
            ctx.catalog.release_label(draft.project, draft.name, label, draft.id)
        return winner
    return record
