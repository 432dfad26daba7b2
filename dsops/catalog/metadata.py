"""Named metadata of a version or draft: values stored by content, named in its state.

A pandas DataFrame is stored as Parquet and read back as a DataFrame; a dict or list as
JSON (read back equal); bytes, or the contents of a file path, as they are.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from dsops import layout
from dsops.catalog.records import now_iso
from dsops.catalog.state import (
    MetadataEntry,
    VersionState,
    check_metadata_name,
    read_state,
    update_state,
)
from dsops.errors import ConfigError, IntegrityError, MetadataNotFound, ObjectExists
from dsops.hashing import hash_bytes
from dsops.storage import ObjectStore


def encode(value: Any) -> tuple[bytes, str]:
    """The bytes to store for ``value`` and their kind (``parquet``, ``json``, ``bytes``)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), "bytes"
    if isinstance(value, (dict, list)):
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"Metadata is not JSON-serializable ({exc}): use plain dicts, lists, "
                "strings, numbers, booleans and None, or pass bytes.",
            ) from exc
        return text.encode(), "json"
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        if not path.is_file():
            raise ConfigError(
                f"Metadata {str(value)[:80]!r} is not a file: pass a file path, bytes, a "
                "dict or list (JSON), or a pandas DataFrame.",
            )
        return path.read_bytes(), "bytes"
    if type(value).__name__ == "DataFrame" and hasattr(value, "to_parquet"):
        sink = io.BytesIO()
        value.to_parquet(sink, compression="zstd")
        return sink.getvalue(), "parquet"
    raise ConfigError(
        f"Metadata of type {type(value).__name__} cannot be stored: pass a pandas "
        "DataFrame, a dict or list (JSON), bytes, or a file path.",
    )


def decode(data: bytes, kind: str) -> Any:
    if kind == "json":
        return json.loads(data)
    if kind == "parquet":
        import pandas as pd

        return pd.read_parquet(io.BytesIO(data))
    return data


def set_metadata(store: ObjectStore, version_id: str, name: str, value: Any) -> MetadataEntry:
    """Store ``value``'s bytes by content, then name them in the state document."""
    check_metadata_name(name)
    data, kind = encode(value)
    digest = hash_bytes(data)
    key = layout.object_key(digest)
    try:
        store.put_if_absent(key, data)
    except ObjectExists:
        store.refresh(key, data)  # reused: renewed so gc's grace period covers the gap
    entry = MetadataEntry(object=key, hash=digest, size=len(data), kind=kind, set_at=now_iso())

    def change(state: VersionState) -> VersionState:
        return replace(state, metadata={**state.metadata, name: entry})

    update_state(store, version_id, change)
    return entry


def get_metadata(store: ObjectStore, version_id: str, name: str) -> Any:
    """The value stored as ``name``, checked against its hash."""
    entry, data = read_metadata(store, version_id, name)
    return decode(data, entry.kind)


def read_metadata(store: ObjectStore, version_id: str, name: str) -> tuple[MetadataEntry, bytes]:
    """The entry of ``name`` and its stored bytes (Parquet, JSON or raw), hash-checked."""
    check_metadata_name(name)
    state = read_state(store, version_id)
    entry = state.metadata.get(name)
    if entry is None:
        known = ", ".join(sorted(state.metadata)) or "none"
        raise MetadataNotFound(
            f"Version {version_id} has no metadata {name!r} (it has: {known}).",
            name=name,
            version_id=version_id,
        )
    data = store.get(entry.object)
    if hash_bytes(data) != entry.hash:
        raise IntegrityError(
            f"Metadata {name!r} of {version_id} ({store.url}/{entry.object}) does not match "
            "its recorded hash: the stored object is corrupted; set it again.",
            key=entry.object,
        )
    return entry, data


def remove_metadata(store: ObjectStore, version_id: str, name: str) -> bool:
    """Forget ``name`` (its bytes go when gc finds them unreferenced)."""
    check_metadata_name(name)
    removed = False

    def change(state: VersionState) -> VersionState:
        nonlocal removed
        removed = name in state.metadata
        return replace(state, metadata={k: v for k, v in state.metadata.items() if k != name})

    update_state(store, version_id, change)
    return removed
