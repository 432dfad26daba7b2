"""The JSON API under the pages: ``/api/…``, read-only, described at ``/openapi.json``.

Route functions are plain ``def``: FastAPI runs them in its thread pool, which is what
store I/O and pyarrow work need. Errors are raised as dsops errors and turned into JSON
by the app's exception handlers (``{"detail": "…"}`` with 400/404/415/502 statuses).
"""

from __future__ import annotations

import posixpath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

import dsops
from dsops.catalog.state import check_metadata_name
from dsops.dataset import Dataset
from dsops.errors import (
    ConfigError,
    DatasetNotFound,
    MetadataNotFound,
    VersionDeleted,
    VersionNotFound,
)
from dsops.manifest import ManifestDiff
from dsops.paths import normalize_dataset_path
from dsops.ui import files, lineage, models, previews, summaries, zipstream
from dsops.ui import metadata as meta
from dsops.ui.context import UIContext
from dsops.ui.security import redact

router = APIRouter(prefix="/api")


class UnsupportedPreview(ConfigError):
    """The file cannot be previewed (HTTP 415)."""


_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": models.Error, "description": "No such version, dataset or file."},
    410: {"model": models.Gone, "description": "The version was deleted."},
}
MAX_LIMIT = 1000

VersionId = Annotated[str, "version id"]
FilePath = Annotated[str, Query(description="The file's path inside the version.")]


def _ctx(request: Request) -> UIContext:
    context: UIContext = request.app.state.dsops
    return context


# --- store and datasets ----------------------------------------------------------------


@router.get("/info", response_model=models.Info)
def info(request: Request) -> dict[str, str]:
    """The store being served (without credentials) and the dsops version."""
    return {"store": redact(_ctx(request).store.url), "dsops": dsops.__version__}


@router.get("/datasets", response_model=list[models.DatasetSummary])
def list_datasets(
    request: Request,
    q: Annotated[str, Query(description="Words in project/name or description.")] = "",
    tag: Annotated[str, Query(description="Only datasets with a version so tagged.")] = "",
) -> list[dict[str, Any]]:
    """Every dataset with its version count, latest version, size, aliases, tags."""
    return _ctx(request).datasets(q.strip(), tag.strip())


@router.get(
    "/datasets/{project:path}/{name}", response_model=models.DatasetDetail, responses=_ERRORS
)
def dataset_detail(request: Request, project: str, name: str) -> dict[str, Any]:
    """One dataset: its versions (oldest first), aliases, lineage graph and growth."""
    ctx = _ctx(request)
    versions = [v for v in ctx.versions() if v["project"] == project and v["name"] == name]
    if not versions:
        raise DatasetNotFound(
            f"No dataset {project}/{name} in this store.", project=project, name=name
        )
    graph = {v["id"]: list(v["parents"]) for v in versions}
    lineage.add_deleted_ancestors(ctx, graph, project, name)
    aliases = {a: v["id"] for v in versions for a in v["aliases"]}
    return {
        "project": project,
        "name": name,
        "aliases": dict(sorted(aliases.items())),
        "versions": versions,
        "graph": lineage.place(ctx, graph),
        "growth": summaries.growth(versions),
    }


@router.get("/resolve", response_model=models.VersionBrief, responses=_ERRORS)
def resolve(
    request: Request,
    ref: Annotated[str, Query(description="A version id or project/name@version|alias.")],
) -> dict[str, Any]:
    """The version a reference names."""
    ctx = _ctx(request)
    record = ctx.record(_resolve(ctx, ref))
    return {"id": record.id, "version": record.version, "ref": record.ref}


def _resolve(ctx: UIContext, ref: str) -> str:
    """The id ``ref`` names; a deleted version's raises :meth:`UIContext.gone` (410)."""
    try:
        return Dataset.get(ref, store=ctx.store).id
    except VersionDeleted as exc:
        raise ctx.gone(str(exc.context.get("version_id", ""))) from None


# --- one version -----------------------------------------------------------------------


@router.get("/versions/{version_id}", response_model=models.VersionDetail, responses=_ERRORS)
def version_detail(request: Request, version_id: VersionId) -> dict[str, Any]:
    """A version's summary: semver, parents, children, aliases, provenance, stats."""
    ctx = _ctx(request)
    record = ctx.record(version_id)
    row = ctx.listed_version(record.id)
    siblings = [
        v for v in ctx.versions() if (v["project"], v["name"]) == (record.project, record.name)
    ]
    parents = [lineage.brief(ctx, parent) for parent in record.parents]
    children = [
        {"id": v["id"], "version": v["version"], "ref": v["ref"]}
        for v in siblings
        if record.id in v["parents"]
    ]
    return {**row, "parent_refs": parents, "children": children}


@router.get("/versions/{version_id}/graph", response_model=models.Graph, responses=_ERRORS)
def version_graph(request: Request, version_id: VersionId) -> dict[str, Any]:
    """The version's lineage: every ancestor, across datasets, parents → children."""
    ctx = _ctx(request)
    graph = ctx.dataset(version_id).get_dependency_graph()
    return lineage.place(ctx, graph, current=version_id)


@router.get("/versions/{version_id}/stats", response_model=models.Stats, responses=_ERRORS)
def version_stats(request: Request, version_id: VersionId) -> dict[str, Any]:
    """Size and file count by file type."""
    ctx = _ctx(request)
    record = ctx.record(version_id)
    index = ctx.index(version_id)
    by_type = ctx.derive(("types", version_id), index.size_by_type)
    return {"file_count": record.file_count, "total_size": record.total_size, "by_type": by_type}


@router.get("/versions/{version_id}/files", response_model=models.FilesPage, responses=_ERRORS)
def version_files(
    request: Request,
    version_id: VersionId,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    q: Annotated[str, Query(description="Case-insensitive substring of the path.")] = "",
    folder: Annotated[str, Query(description="Only files under this folder.")] = "",
    sort: Literal["path", "size"] = "path",
    order: Literal["asc", "desc"] = "asc",
) -> dict[str, Any]:
    """One page of the version's files, filtered and sorted on the server."""
    ctx = _ctx(request)
    index = ctx.index(version_id)
    page = index.page(
        offset=offset,
        limit=limit,
        query=q,
        folder=normalize_dataset_path(folder),
        sort=sort,
        order=order,
    )
    rows = page.rows.select(["path", "size", "hash", "origin", "mtime", "link"]).to_pylist()
    refs = ctx.labels([r["origin"] for r in rows])
    for row in rows:
        row["origin_ref"] = refs.get(row["origin"])
        row["preview"] = previews.kind(row["path"])
    return {"total": page.total, "offset": offset, "limit": limit, "rows": rows}


def _row(ctx: UIContext, version_id: str, path: str) -> Any:
    row = ctx.index(version_id).row(path)
    if row.num_rows == 0:
        raise VersionNotFound(
            f"Version {version_id} has no file {path!r}.", version_id=version_id, path=path
        )
    return row


@router.get(
    "/versions/{version_id}/file",
    responses={
        **_ERRORS,
        200: {"content": {"application/octet-stream": {}}},
        206: {
            "description": "The byte range asked for.",
            "content": {"application/octet-stream": {}},
        },
        416: {"model": models.Error, "description": "The range starts past the end."},
    },
    response_class=Response,
)
def download_file(
    request: Request,
    version_id: VersionId,
    path: FilePath,
    range_: Annotated[
        str | None, Header(alias="range", description="One byte range: bytes=first-[last].")
    ] = None,
    if_range: Annotated[
        str | None, Header(description="Serve the range only if the ETag is still this.")
    ] = None,
) -> Response:
    """The bytes of one file, as an attachment; one byte range (``Range``) gives 206."""
    ctx = _ctx(request)
    row = _row(ctx, version_id, path)
    size = int(row.column("size")[0].as_py())
    etag = f'"{row.column("hash")[0].as_py()}"'
    headers = {**_attachment(posixpath.basename(path)), "accept-ranges": "bytes", "etag": etag}
    try:
        wanted = files.byte_range(range_ if if_range in (None, etag) else None, size)
    except files.RangeNotSatisfiable as exc:
        return JSONResponse(
            {"detail": f"Range not satisfiable: {exc}."},
            status_code=416,
            headers={"content-range": f"bytes */{size}"},
        )
    start, end = wanted or (0, size - 1)
    handle = ctx.dataset(version_id).open(path)  # fetched and verified before answering
    if wanted is not None:
        headers["content-range"] = f"bytes {start}-{end}/{size}"
    headers["content-length"] = str(end - start + 1)
    return StreamingResponse(
        files.iter_chunks(handle, start, end - start + 1),
        status_code=200 if wanted is None else 206,
        media_type="application/octet-stream",
        headers=headers,
    )


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f"attachment; filename*=utf-8''{quote(name)}"}


@router.get(
    "/versions/{version_id}/zip",
    responses={**_ERRORS, 200: {"content": {"application/zip": {}}}},
    response_class=StreamingResponse,
)
def download_zip(
    request: Request,
    version_id: VersionId,
    folder: Annotated[str, Query(description="Only this folder (default: everything).")] = "",
) -> StreamingResponse:
    """The whole version, or one folder of it, as a zip streamed while it is built."""
    ctx = _ctx(request)
    record = ctx.record(version_id)
    folder = normalize_dataset_path(folder)
    rows = ctx.index(version_id).folder(folder)
    if folder and rows.num_rows == 0:
        raise VersionNotFound(
            f"Version {version_id} has no folder {folder!r}.", version_id=version_id
        )
    parent = posixpath.dirname(folder)
    strip = f"{parent}/" if parent else ""
    label = f"{record.name}-{record.version}" + (f"-{folder.replace('/', '-')}" if folder else "")
    return StreamingResponse(
        zipstream.stream_zip(ctx.store, rows, strip=strip),
        media_type="application/zip",
        headers=_attachment(f"{label}.zip"),
    )


@router.get("/versions/{version_id}/diff", response_model=models.Diff, responses=_ERRORS)
def version_diff(
    request: Request,
    version_id: VersionId,
    against: Annotated[
        str, Query(description="Old side: a version id or reference (default: the parents).")
    ] = "",
    kind: Literal["added", "removed", "modified"] = "added",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> dict[str, Any]:
    """What changed from ``against`` (or the merged parents) to this version."""
    ctx = _ctx(request)
    dataset = ctx.dataset(version_id)
    if against.strip():
        other = ctx.dataset(_resolve(ctx, against.strip()))
        base_ids = [other.id]
        key = ("diff", version_id, other.id)
        result: ManifestDiff = ctx.derive(key, lambda: dataset.diff(other))
    else:
        base_ids = list(dataset.parents)
        gone = [p for p in base_ids if p in ctx.deleted_ids()]
        if gone:  # its manifest is not kept for this: gc removes it
            parent = ctx.gone(gone[0])
            raise VersionDeleted(
                f"Cannot compare {version_id} with its parents: {parent} Compare it with "
                "another version (against=).",
                **parent.context,
            )
        result = ctx.derive(("diff", version_id, None), dataset.changes)
    table = getattr(result, kind)
    page = table.slice(offset, limit)
    columns = ["path", "size", "origin"] + (["old_size"] if kind == "modified" else [])
    labels = ctx.labels(base_ids)
    return {
        "base": [{"id": i, "ref": labels.get(i)} for i in base_ids],
        "counts": result.counts(),
        "kind": kind,
        "total": table.num_rows,
        "offset": offset,
        "limit": limit,
        "rows": page.select(columns).to_pylist(),
    }


@router.get(
    "/versions/{version_id}/preview",
    response_model=models.Preview,
    responses={**_ERRORS, 415: {"model": models.Error}},
)
def preview(request: Request, version_id: VersionId, path: FilePath) -> dict[str, Any]:
    """The first rows of a CSV, TSV or Parquet file."""
    ctx = _ctx(request)
    row = _row(ctx, version_id, path)
    if previews.kind(path) != "table":
        raise UnsupportedPreview(f"No table preview for {path!r}: CSV, TSV or Parquet only.")
    digest = str(row.column("hash")[0].as_py())
    try:
        result: dict[str, Any] = ctx.derive(
            ("preview", digest, path), lambda: previews.table_preview(ctx.dataset(version_id), row)
        )
    except (OSError, ValueError) as exc:  # pyarrow's parse errors are ValueErrors
        raise UnsupportedPreview(f"Cannot read {path!r} as a table: {exc}") from exc
    return result


@router.get(
    "/versions/{version_id}/thumbnail",
    responses={**_ERRORS, 415: {"model": models.Error}, 200: {"content": {"image/png": {}}}},
    response_class=Response,
)
def thumbnail(request: Request, version_id: VersionId, path: FilePath) -> Response:
    """A PNG thumbnail (at most 256×256) of an image file."""
    ctx = _ctx(request)
    row = _row(ctx, version_id, path)
    if previews.kind(path) != "image":
        raise UnsupportedPreview(f"No thumbnail for {path!r}: not an image type.")
    digest = str(row.column("hash")[0].as_py())
    try:
        png: bytes = ctx.derive(
            ("thumb", digest), lambda: previews.thumbnail(ctx.dataset(version_id), row)
        )
    except (OSError, ValueError) as exc:  # Pillow: unreadable, truncated, too large
        raise UnsupportedPreview(f"Cannot read {path!r} as an image: {exc}") from exc
    return Response(png, media_type="image/png", headers={"cache-control": "max-age=86400"})


# --- metadata --------------------------------------------------------------------------

_METADATA_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    400: {"model": models.Error, "description": "Not a valid metadata name."},
    415: {"model": models.Error, "description": "The value is not what its kind says."},
}


def _entry(ctx: UIContext, version_id: str, name: str) -> tuple[Dataset, Any]:
    check_metadata_name(name)  # '/', '..', other characters: 400
    dataset = ctx.dataset(version_id)
    entries = dataset.metadata_entries()
    if name not in entries:
        raise MetadataNotFound(
            f"Version {version_id} has no metadata {name!r} "
            f"(it has: {', '.join(entries) or 'none'}).",
            name=name,
            version_id=version_id,
        )
    return dataset, entries[name]


@router.get(
    "/versions/{version_id}/metadata",
    response_model=list[models.MetadataItem],
    responses=_ERRORS,
)
def metadata_list(request: Request, version_id: VersionId) -> list[dict[str, Any]]:
    """The version's named metadata values: name, kind and stored size."""
    entries = _ctx(request).dataset(version_id).metadata_entries()
    return [meta.item(name, entry) for name, entry in entries.items()]


@router.get(
    "/versions/{version_id}/metadata/{name:path}/raw",
    responses={**_METADATA_ERRORS, 200: {"content": {"application/octet-stream": {}}}},
    response_class=Response,
)
def metadata_raw(request: Request, version_id: VersionId, name: str) -> Response:
    """The stored bytes of one value (Parquet, JSON or raw), as an attachment."""
    dataset, entry = _entry(_ctx(request), version_id, name)
    data = dataset.get_metadata_bytes(name)
    return Response(
        data,
        media_type=meta.MEDIA_TYPE.get(entry.kind, "application/octet-stream"),
        headers=_attachment(name + meta.FILE_SUFFIX.get(entry.kind, "")),
    )


@router.get(
    "/versions/{version_id}/metadata/{name:path}",
    response_model=models.MetadataView,
    responses=_METADATA_ERRORS,
)
def metadata_view(
    request: Request,
    version_id: VersionId,
    name: str,
    limit: Annotated[int, Query(ge=1, le=meta.MAX_ROWS, description="Table rows.")] = (
        meta.DEFAULT_ROWS
    ),
) -> dict[str, Any]:
    """One value for the page: a table's first ``limit`` rows and its row count, a
    JSON value, or (bytes) only its size and the download URL."""
    ctx = _ctx(request)
    dataset, entry = _entry(ctx, version_id, name)
    try:
        shown: dict[str, Any] = ctx.derive(
            ("metadata", entry.hash, entry.kind, limit),
            lambda: meta.view(entry, dataset.get_metadata_bytes(name), limit),
        )
    except meta.UnreadableMetadata as exc:
        raise UnsupportedPreview(f"Metadata {name!r} cannot be shown: {exc}.") from exc
    root = request.scope.get("root_path", "").rstrip("/")
    download = f"{root}/api/versions/{version_id}/metadata/{quote(name)}/raw"
    return {**meta.item(name, entry), "download": download, **shown}
