"""Add external files to a draft: rows that name a source URL instead of stored bytes.

Each file's bytes are streamed once to hash them (BLAKE3) and stored nowhere; the part
records the URL, the source's validator, the size and the hash (docs/FORMAT.md
"External files").
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import blake3
import pyarrow as pa
import pyarrow.compute as pc

from dsops.catalog import DraftRecord
from dsops.drafts.changes import DraftContext, commit_part, current_view, ensure_open
from dsops.drafts.summary import ChangeSummary
from dsops.errors import FileChangedError, SourceNotFound
from dsops.manifest import PART_SCHEMA
from dsops.objects.links import LinkInfo, LinkReader
from dsops.paths import join, normalize_dataset_path, wildcard_match


def _hash(reader: LinkReader, info: LinkInfo) -> tuple[LinkInfo, str]:
    """Stream ``info.url`` once; its info as read and the BLAKE3 of its bytes."""
    got, chunks = reader.stream(info.url, expect=info.validator)
    if chunks is None:
        raise FileChangedError(
            f"External file {info.url} changed while it was being added (validator "
            f"{info.validator!r}, then {got.validator!r}): add it again.",
            url=info.url,
        )
    hasher, size = blake3.blake3(), 0
    for chunk in chunks:
        hasher.update(chunk)
        size += len(chunk)
    if got.size >= 0 and size != got.size:
        raise FileChangedError(
            f"External file {info.url} changed while it was being added ({got.size} bytes "
            f"announced, {size} read): add it again.",
            url=info.url,
        )
    return LinkInfo(got.url, size, got.validator, got.mtime_ns or info.mtime_ns), hasher.hexdigest()


def add_external_files(
    ctx: DraftContext,
    draft: DraftRecord,
    reader: LinkReader,
    source_url: str,
    dataset_path: str = "",
    wildcard: str | Sequence[str] | None = None,
    recursive: bool = True,
) -> ChangeSummary:
    """Add the files ``source_url`` names as external files under ``dataset_path``."""
    ensure_open(ctx, draft)
    folder = normalize_dataset_path(dataset_path)
    found = [(rel, info) for rel, info in reader.list(source_url, recursive)]
    found = [(rel, info) for rel, info in found if wildcard_match(rel, wildcard)]
    if not found:
        raise SourceNotFound(
            f"No file under {source_url} matches the wildcard {wildcard!r}: check it.",
            path=source_url,
        )
    with ThreadPoolExecutor(max_workers=ctx.pool_size()) as pool:
        hashed = list(pool.map(lambda item: _hash(reader, item[1]), found))
    paths = [join(folder, rel) for rel, _ in found]
    view, _ = current_view(ctx, draft)
    before = _current(view, paths)
    rows: list[tuple[str, LinkInfo, str]] = []
    added = modified = 0
    added_bytes = modified_bytes = 0
    for path, (info, digest) in zip(paths, hashed):
        old = before.get(path)
        if old == (digest, info.url, info.validator):
            continue
        rows.append((path, info, digest))
        if old is None:
            added, added_bytes = added + 1, added_bytes + info.size
        else:
            modified, modified_bytes = modified + 1, modified_bytes + info.size
    summary = ChangeSummary(
        added=added,
        modified=modified,
        unchanged=len(paths) - len(rows),
        added_bytes=added_bytes,
        modified_bytes=modified_bytes,
    )
    commit_part(ctx, draft, _link_rows(rows), summary, "add")
    return summary


def _current(view: pa.Table, paths: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    present = view.filter(pc.is_in(view.column("path"), value_set=pa.array(paths, pa.string())))
    return {
        path: (digest, link, validator)
        for path, digest, link, validator in zip(
            present.column("path").to_pylist(),
            present.column("hash").to_pylist(),
            present.column("link").to_pylist(),
            present.column("link_validator").to_pylist(),
        )
    }


def _link_rows(rows: Sequence[tuple[str, LinkInfo, str]]) -> pa.Table:
    n = len(rows)
    zeros = pa.array([0] * n, pa.int64())
    return pa.table(
        {
            "op": pa.array(["add"] * n, pa.string()),
            "path": [path for path, _, _ in rows],
            "size": pa.array([info.size for _, info, _ in rows], pa.int64()),
            "hash": [digest for _, _, digest in rows],
            "object": pa.array([""] * n, pa.string()),
            "offset": zeros,
            "length": zeros,
            "mtime": pa.array([info.mtime_ns for _, info, _ in rows], pa.int64()),
            "link": [info.url for _, info, _ in rows],
            "link_validator": [info.validator for _, info, _ in rows],
        },
        schema=PART_SCHEMA,
    )
