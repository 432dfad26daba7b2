"""ClearML's dataset lookups (``Dataset.get``, ``list_datasets``) over dsops listings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsops.catalog import semver
from dsops.dataset import Dataset as Native
from dsops.errors import ConfigError, NoMatchingDataset, VersionDeleted, VersionNotFound
from dsops.store import Store


def normalize_version(version: str | None) -> str | None:
    """ClearML accepts ``"1"`` and ``"1.0"``; dsops labels are ``MAJOR.MINOR.PATCH``.

    Example:
        >>> normalize_version("1.0"), normalize_version("2"), normalize_version(None)
        ('1.0.0', '2.0.0', None)
    """
    if version is None:
        return None
    text = str(version).strip()
    parts = text.split(".")
    if 1 <= len(parts) < 3 and all(p.isdigit() for p in parts):
        text = ".".join([*parts, *["0"] * (3 - len(parts))])
    semver.parse(text)
    return text


def _in_project(project: str, wanted: str | None, recursive: bool) -> bool:
    if wanted is None:
        return True
    wanted = wanted.strip("/")
    return project == wanted or (recursive and project.startswith(wanted + "/"))


def matching(
    store: Store,
    project: str | None,
    name: str | None,
    tags: Sequence[str] | None,
    version: str | None,
    *,
    only_completed: bool,
    only_published: bool = False,
    partial_name: str | None = None,
    ids: Sequence[str] | None = None,
    recursive: bool = False,
) -> list[dict[str, Any]]:
    """Versions (and, unless ``only_completed`` / ``only_published``, drafts) as dicts,
    oldest first, that match every filter given."""
    wanted_tags = set(tags or ())
    rows = [
        row
        for row in Native.list(
            tags=list(wanted_tags) or None,
            ids=ids,
            partial_name=partial_name,
            only_published=only_published,
            store=store,
        )
        if _in_project(row["project"], project, recursive)
        and (name is None or row["name"] == name)
        and (version is None or row["version"] == version)
    ]
    if not (only_completed or only_published):
        part = (partial_name or "").lower()
        for draft in Native.list_drafts(store=store):
            if (
                _in_project(draft["project"], project, recursive)
                and (name is None or draft["name"] == name)
                and (version is None or draft.get("version") == version)
                and (not wanted_tags or wanted_tags.issubset(_draft_tags(store, draft)))
                and part in draft["name"].lower()
                and (ids is None or draft["id"] in ids)
            ):
                as_row = {**draft, "requested_version": draft.get("version")}
                rows.append({**as_row, "version": None, "state": "draft"})
    return sorted(rows, key=lambda r: (r["created_at"], r["id"]))


def _draft_tags(store: Store, draft: dict[str, Any]) -> list[str]:
    """A draft's current tags (its state's when set: ``ds.tags = …`` on a draft)."""
    return Native.open_id(str(draft["id"]), store).tags


def newest(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[-1] if rows else None


def _describe(
    project: str | None, name: str | None, tags: Sequence[str] | None, version: str | None
) -> str:
    parts = [
        f"project {project!r}" if project else "",
        f"name {name!r}" if name else "",
        f"tags {list(tags)}" if tags else "",
        f"version {version}" if version else "",
    ]
    return ", ".join(p for p in parts if p) or "any dataset"


def find(
    store: Store,
    dataset_id: str | None,
    project: str | None,
    name: str | None,
    tags: Sequence[str] | None,
    version: str | None,
    *,
    only_completed: bool,
    only_published: bool,
    required: bool,
) -> Native | None:
    """The newest version or draft matching; None (unless ``required``) when none does."""
    if dataset_id:
        try:
            found = Native.open_id(dataset_id, store)
        except VersionDeleted:
            raise
        except VersionNotFound as exc:
            raise NoMatchingDataset(
                f"No dataset with id {dataset_id} in store {store.url}.",
                dataset_id=dataset_id,
            ) from exc
        if (only_completed or only_published) and not found.is_final:
            raise NoMatchingDataset(
                f"Dataset {dataset_id} is not finalized (only_completed=True).",
                dataset_id=dataset_id,
            )
        if only_published and not found.is_published:
            raise NoMatchingDataset(
                f"Dataset {dataset_id} is not published (only_published=True).",
                dataset_id=dataset_id,
            )
        return found
    if not (project or name or tags or version):
        raise ConfigError(
            "Dataset.get needs dataset_id=, or at least one of dataset_project=, "
            "dataset_name=, dataset_tags=, dataset_version=."
        )
    row = newest(
        matching(
            store,
            project,
            name,
            tags,
            version,
            only_completed=only_completed,
            only_published=only_published,
        )
    )
    if row is None:
        if not required:
            return None
        state = " finalized" if only_completed else ""
        state = " published" if only_published else state
        raise NoMatchingDataset(
            f"No{state} dataset matches {_describe(project, name, tags, version)} in store "
            f"{store.url}: check the names, or pass auto_create=True.",
            project=project,
            name=name,
        )
    return Native.open_id(str(row["id"]), store)
