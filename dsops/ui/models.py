"""The JSON API's response shapes; FastAPI turns them into the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Error(BaseModel):
    detail: str = Field(description="What went wrong, as a sentence.")


class Gone(Error):
    """A deleted version (HTTP 410): what it was and when it was deleted."""

    id: str = Field(description="The deleted version's id.")
    ref: str | None = Field(None, description="project/name@version it had.")
    deleted_at: str | None = Field(None, description="When it was deleted (ISO 8601).")


class VersionBrief(BaseModel):
    id: str = Field(description="Version id (32 hex characters).")
    version: str | None = Field(None, description="Semantic version, when known.")
    ref: str | None = Field(None, description="project/name@version, when known.")


class ParentBrief(VersionBrief):
    deleted: bool = Field(False, description="The parent was deleted (its tombstone stays).")
    deleted_at: str | None = Field(None, description="When it was deleted (ISO 8601).")


class Link(BaseModel):
    label: str
    url: str


class Provenance(BaseModel):
    source: Literal["airflow", "prefect"] | None = Field(
        None, description="The orchestrator that produced the version, when recorded."
    )
    summary: str = Field("", description="dag / task / run, or flow / task, in one line.")
    links: list[Link] = Field(default_factory=list, description="http(s) URLs recorded.")
    fields: dict[str, Any] = Field(default_factory=dict, description="Everything recorded.")


class VersionRow(BaseModel):
    """A version as ``Dataset.to_dict`` gives it (docs/SHAPES.md), plus ``produced_by``."""

    id: str
    project: str
    name: str
    version: str
    parents: list[str]
    description: str
    tags: list[str]
    created_at: str = Field(description="When the draft was created (ISO 8601).")
    finalized_at: str = Field(description="When the version was finalized (ISO 8601).")
    manifest: str = Field(description="Store key of the version's manifest.")
    manifest_hash: str
    hash_algo: str
    file_count: int
    total_size: int = Field(description="Total size of the version's files in bytes.")
    changes: dict[str, int] = Field(description="added/modified/removed counts and bytes.")
    provenance: dict[str, Any] = Field(description="What the version record keeps.")
    format: int
    ref: str
    state: Literal["final"]
    aliases: list[str] = Field(description="Aliases currently pointing at this version.")
    squashed_from: list[str] = Field(
        default_factory=list, description="Versions a squash merged into this one, in order."
    )
    published: bool = Field(False, description="Published: delete and prune refuse it.")
    published_at: str | None = Field(None, description="When it was published (ISO 8601).")
    metadata: list[str] = Field(default_factory=list, description="Names of its metadata.")
    produced_by: Provenance = Field(description="The provenance, read for the page.")


class DatasetSummary(BaseModel):
    project: str
    name: str
    version_count: int
    latest: VersionBrief
    size: int = Field(description="Size of the latest version in bytes.")
    file_count: int = Field(description="Files in the latest version.")
    aliases: dict[str, str] = Field(description="alias → version id.")
    tags: list[str] = Field(description="Tags of any version.")
    updated: str = Field(description="When the newest version was finalized (ISO 8601).")
    description: str


class GraphNode(BaseModel):
    id: str
    label: str
    ref: str | None
    dataset: str | None
    created: str | None
    parents: list[str]
    merge: bool = Field(description="True when the version has several parents.")
    external: bool = Field(description="Drawn only as a parent (another dataset, or cut).")
    deleted: bool = Field(False, description="A deleted version, kept for its children.")
    deleted_at: str | None = Field(None, description="When it was deleted (ISO 8601).")
    current: bool
    column: int
    row: int


class GraphEdge(BaseModel):
    source: str = Field(description="Parent version id.")
    target: str = Field(description="Child version id.")


class Graph(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    columns: int
    rows: int
    truncated: bool = Field(description="Only the most recent versions are drawn.")


class GrowthPoint(BaseModel):
    id: str
    version: str
    finalized: str
    file_count: int
    size: int


class DatasetDetail(BaseModel):
    project: str
    name: str
    aliases: dict[str, str]
    versions: list[VersionRow] = Field(description="Oldest first.")
    graph: Graph
    growth: list[GrowthPoint]


class VersionDetail(VersionRow):
    parent_refs: list[ParentBrief]
    children: list[VersionBrief] = Field(description="Versions of this dataset built on it.")


class FileRow(BaseModel):
    path: str
    size: int
    hash: str
    origin: str = Field(description="Id of the version that introduced this content here.")
    origin_ref: str | None = Field(description="project/name@version of ``origin``.")
    mtime: int = Field(description="Source modification time, ns since the epoch (0: unknown).")
    link: str = Field(
        "", description="An external file's source URL (its bytes stay there); '' if stored."
    )
    preview: Literal["table", "image"] | None


class FilesPage(BaseModel):
    total: int = Field(description="Rows matching the filters.")
    offset: int
    limit: int
    rows: list[FileRow]


class TypeStat(BaseModel):
    type: str = Field(description="Lower-case file extension, '(none)' or 'other'.")
    size: int
    files: int


class Stats(BaseModel):
    file_count: int
    total_size: int
    by_type: list[TypeStat]


class DiffRow(BaseModel):
    path: str
    size: int
    old_size: int | None = None
    origin: str


class Diff(BaseModel):
    base: list[VersionBrief] = Field(description="The old side: one version, or the parents.")
    counts: dict[str, int]
    kind: Literal["added", "removed", "modified"]
    total: int
    offset: int
    limit: int
    rows: list[DiffRow]


class Column(BaseModel):
    name: str
    type: str


class Preview(BaseModel):
    path: str
    columns: list[Column]
    rows: list[list[Any]]
    total_rows: int | None = Field(description="Rows in the file, when known.")
    total_columns: int


class Info(BaseModel):
    store: str = Field(description="The store URL (credentials removed).")
    dsops: str = Field(description="dsops version serving the app.")


class MetadataItem(BaseModel):
    name: str
    kind: Literal["parquet", "json", "bytes"] = Field(
        description="parquet: a DataFrame; json: a dict or list; bytes: anything else."
    )
    size: int = Field(description="Stored bytes.")
    set_at: str = Field(description="When it was set (ISO 8601).")


class MetadataView(MetadataItem):
    """One metadata value for the page: a table's first rows, a JSON value, or a link."""

    download: str = Field(description="URL of the stored bytes (an attachment).")
    columns: list[Column] | None = Field(None, description="parquet: the columns shown.")
    rows: list[list[Any]] | None = Field(None, description="parquet: the first rows.")
    total_rows: int | None = Field(None, description="parquet: rows in the table.")
    total_columns: int | None = Field(None, description="parquet: columns in the table.")
    value: Any = Field(None, description="json: the value (None when too large to show).")
    truncated: bool = Field(False, description="Not all of it is shown: download it.")
