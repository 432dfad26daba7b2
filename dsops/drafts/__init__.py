"""Drafts: staged changes (one part per call) and finalize, the commit protocol."""

from __future__ import annotations

from dsops.drafts.changes import (
    DraftContext,
    add_files,
    add_stored,
    base_view,
    current_view,
    ensure_open,
    remove_files,
    sync_folder,
)
from dsops.drafts.external import add_external_files
from dsops.drafts.finalize import finalize
from dsops.drafts.shards import Shard, ShardArg
from dsops.drafts.summary import ChangeSummary

__all__ = [
    "ChangeSummary",
    "DraftContext",
    "Shard",
    "ShardArg",
    "add_external_files",
    "add_files",
    "add_stored",
    "base_view",
    "current_view",
    "ensure_open",
    "finalize",
    "remove_files",
    "sync_folder",
]
