"""Wait for data: has a dataset got a finalized version newer than the one we know?

Sensors and event triggers poll this; it reads only the alias document and one version
record per call, so polling a large store stays cheap.
"""

from __future__ import annotations

from dsops.catalog import LATEST, DatasetRef, VersionRecord, is_version_id
from dsops.catalog import semver as _semver
from dsops.errors import InvalidReference, VersionNotFound
from dsops.store import Store


def newer_version(
    store: Store, dataset: str, newer_than: str | None = None
) -> VersionRecord | None:
    """The version ``dataset`` points at, if it is newer than ``newer_than``; else None.

    Args:
        store: The store to look in.
        dataset: ``project/name`` (meaning ``@latest``) or ``project/name@<alias>``.
        newer_than: A version id, a semantic version (``1.0.3``) or a reference, or None
            for "any finalized version".

    A version is newer when it is a different version with a higher semantic version
    (an alias moved back to an older version does not count).

    Example:
        >>> import tempfile
        >>> s = Store(tempfile.mkdtemp(), cache_dir=tempfile.mkdtemp())
        >>> newer_version(s, "demo/toy") is None
        True
    """
    ref = DatasetRef.parse(dataset if "@" in dataset else f"{dataset}@{LATEST}")
    if ref.version_id or ref.is_semver:
        raise InvalidReference(
            f"Cannot wait on {dataset!r}: name a dataset (project/name) or an alias "
            "(project/name@prod); a fixed version never changes.",
            ref=dataset,
        )
    try:
        current = store.catalog.version(store.catalog.resolve(ref))
    except VersionNotFound:
        return None
    if newer_than is None or not str(newer_than).strip():
        return current
    if current.id == newer_than:
        return None
    baseline = _baseline_semver(store, ref, str(newer_than).strip())
    if baseline is None:
        return current
    return current if _semver.parse(current.version) > _semver.parse(baseline) else None


def _baseline_semver(store: Store, ref: DatasetRef, newer_than: str) -> str | None:
    """The semantic version ``newer_than`` stands for (None: unknown to this store)."""
    if _semver.is_semver(newer_than):
        return newer_than
    text = (
        newer_than
        if "/" in newer_than or is_version_id(newer_than)
        else f"{ref.project}/{ref.name}@{newer_than}"
    )
    try:
        record = store.catalog.find_version(store.catalog.resolve(text))
    except VersionNotFound:
        return None
    return record.version if record is not None else None


__all__ = ["newer_version"]
