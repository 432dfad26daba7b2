"""Sealing a draft: the moment its set of parts becomes fixed, without a lock server.

Finalize first creates ``drafts/<id>/sealed.json`` (create-only), then *after* that
lists the parts and fixes the list create-only in ``drafts/<id>/sealed-parts.json``.
A change call (add / remove / sync) writes its part, then looks for the seal:

- No seal yet: every finalize seals after this look, so it lists the parts after the
  part was written; the part is in the version.
- Sealed: the call fixes the list itself if nobody has (its listing, made after it wrote
  its part, includes the part), or reads the list already fixed. The part is in the
  version exactly when it is in that list; otherwise the call deletes its part and
  fails with :class:`~dsops.errors.VersionImmutable`.

So an acknowledged change is always in the version, and a change that is not in the
version is always reported as failed.
"""

from __future__ import annotations

from dsops import layout
from dsops.catalog import now_iso
from dsops.drafts.parts import part_ids
from dsops.errors import ManifestError, ObjectExists, ObjectNotFound
from dsops.storage import ObjectStore, dump_json


def seal(store: ObjectStore, draft_id: str) -> None:
    """Mark the draft as being finalized (idempotent: an existing seal is kept)."""
    try:
        store.put_if_absent(layout.seal_key(draft_id), dump_json({"sealed_at": now_iso()}))
    except ObjectExists:
        pass


def is_sealed(store: ObjectStore, draft_id: str) -> bool:
    return store.exists(layout.seal_key(draft_id))


def _read_fixed(store: ObjectStore, key: str) -> list[str]:
    data = store.get_json(key)
    parts = data.get("parts") if isinstance(data, dict) else None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise ManifestError(
            f"{store.url}/{key} is not a list of part ids; the store was changed by "
            "something other than dsops. Restore it from a backup or delete the draft.",
            key=key,
        )
    return list(parts)


def fixed_parts(store: ObjectStore, draft_id: str) -> list[str]:
    """The part ids a sealed draft's version is made of, fixed by the first caller.

    Call only after :func:`seal` (or after seeing the seal): the listing made here is
    then complete for every change call that found the draft unsealed.
    """
    key = layout.sealed_parts_key(draft_id)
    try:
        return _read_fixed(store, key)
    except ObjectNotFound:
        pass
    ids = part_ids(store, draft_id)
    try:
        store.put_if_absent(key, dump_json({"parts": ids, "fixed_at": now_iso()}))
    except ObjectExists:
        return _read_fixed(store, key)
    return ids


__all__ = ["fixed_parts", "is_sealed", "seal"]
