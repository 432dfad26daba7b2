"""Commands that read versions: list, ls, diff, lineage, verify."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from dsops.cli.failures import OperationFailed, fails_as
from dsops.cli.output import (
    REF,
    RefNames,
    Settings,
    complete_ref,
    global_options,
    local_time,
    pass_settings,
    table,
)
from dsops.dataset import Dataset
from dsops.errors import DsopsError
from dsops.render import Lineage, human_size, plural, printable

_LIST_FILTERS = [
    click.option("--project", help="Only this project."),
    click.option("--name", help="Only datasets with this name."),
    click.option("--partial-name", metavar="TEXT", help="Only names containing TEXT (any case)."),
    click.option("--tag", "tags", multiple=True, help="Only versions with this tag (repeatable)."),
    click.option("--id", "ids", multiple=True, metavar="ID", help="Only these ids (repeatable)."),
    click.option("--only-published", is_flag=True, help="Only published versions."),
]


def _list_filters(func: Any) -> Any:
    for option in reversed(_LIST_FILTERS):
        func = option(func)
    return func


@click.command(name="list")
@_list_filters
@global_options
@pass_settings
@fails_as("list versions")
def list_versions(
    settings: Settings,
    project: str | None,
    name: str | None,
    partial_name: str | None,
    tags: tuple[str, ...],
    ids: tuple[str, ...],
    only_published: bool,
) -> None:
    """List finalized versions, oldest first (also available as `dsops search`).

    \b
    Example:
      dsops list --project vision --tag raw
      dsops search --partial-name cat --only-published
    """
    store = settings.store()
    rows = Dataset.list(
        project,
        name,
        list(tags) or None,
        ids=list(ids) or None,
        partial_name=partial_name,
        only_published=only_published,
        store=store,
        on_corrupt=_skipped,
    )
    names = RefNames(store, {r["id"]: r["ref"] for r in rows})
    cells = [
        [
            r["ref"],
            r["version"],
            r["id"],
            ", ".join(names(p) for p in r["parents"]) or "-",
            str(r["file_count"]),
            human_size(r["total_size"]),
            local_time(r["created_at"]),
            ", ".join(r["tags"]) or "-",
            "yes" if r.get("published") else "-",
            ", ".join(r["aliases"]) or "-",
        ]
        for r in rows
    ]
    headers = ["REF", "VERSION", "ID", "PARENTS", "FILES", "SIZE", "CREATED", "TAGS", "PUB"]
    headers.append("ALIASES")
    settings.emit(rows, table(headers, cells, right=(4, 5)) if rows else None, essential=True)
    if not rows and not settings.json:
        settings.note(f"No finalized versions match in store {store.url}.")


search = click.Command(
    "search",
    callback=list_versions.callback,
    params=list_versions.params,
    help="Search finalized versions: the same filters and output as `dsops list`.\n\n"
    "\b\nExample:\n  dsops search --partial-name cat --tag clean --only-published",
    short_help="Search versions (as list).",
)


def _skipped(error: DsopsError) -> None:
    """A listing went on without a corrupt record: say so on stderr, even with -q."""
    click.echo(f"Warning: skipped a corrupt record: {printable(str(error))}", err=True)


@click.command()
@REF
@click.option(
    "--pattern", "patterns", multiple=True, metavar="GLOB", help="Only matching files (repeatable)."
)
@global_options
@pass_settings
@fails_as("list the files of {ref}")
def ls(settings: Settings, ref: str, patterns: tuple[str, ...]) -> None:
    """List a version's files with size, hash and origin.

    ORIGIN is the version that introduced the file's current content.

    \b
    Example:
      dsops ls vision/cats@latest --pattern 'train/*.jpg'
    """
    store = settings.store()
    ds = Dataset.get(ref, store=store)
    frame = ds.files(list(patterns) or None)
    paths = [str(p) for p in frame["path"].tolist()]
    sizes = [int(s) for s in frame["size"].tolist()]
    hashes = [str(h) for h in frame["hash"].tolist()]
    origins = [str(o) for o in frame["origin"].tolist()]
    mtimes = [int(m) for m in frame["mtime"].tolist()]
    links = [str(u) for u in frame["link"].tolist()]
    names = RefNames(store, {ds.id: ds.ref if ds.is_final else "(this draft)"})
    files: list[dict[str, Any]] = [
        {
            "path": p,
            "size": s,
            "hash": h,
            "origin": o,
            "origin_ref": names(o),
            "mtime": m,
            "link": u,
        }
        for p, s, h, o, m, u in zip(paths, sizes, hashes, origins, mtimes, links)
    ]
    cells = [[f["path"], human_size(f["size"]), f["hash"][:12], f["origin_ref"]] for f in files]
    headers = ["PATH", "SIZE", "HASH", "ORIGIN"]
    if any(links):  # external files: their source URL; stored files show "-"
        headers.append("LINK")
        for row, url in zip(cells, links):
            row.append(url or "-")
    text = table(headers, cells, right=(1,))
    total = f"{plural(len(files), 'file')}, {human_size(sum(sizes))}"
    settings.emit(files, f"{text}\n{total}", essential=True)


def _rows(table_: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    data = table_.select(list(columns)).to_pydict()
    return [dict(zip(columns, values)) for values in zip(*(data[c] for c in columns))]


@click.command()
@click.argument("ref_a", metavar="REF_A", shell_complete=complete_ref)
@click.argument("ref_b", metavar="REF_B", shell_complete=complete_ref)
@global_options
@pass_settings
@fails_as("diff {ref_a} and {ref_b}")
def diff(settings: Settings, ref_a: str, ref_b: str) -> None:
    """Show what changes from REF_A (old) to REF_B (new).

    Lines start with A (added), M (modified) or D (deleted); totals follow.

    \b
    Example:
      dsops diff vision/cats@1.0.0 vision/cats@latest
    """
    store = settings.store()
    old = Dataset.get(ref_a, store=store)
    new = Dataset.get(ref_b, store=store)
    changes = new.diff(old)
    added = _rows(changes.added, ["path", "size", "hash"])
    modified = _rows(changes.modified, ["path", "size", "old_size", "hash"])
    removed = _rows(changes.removed, ["path", "size", "hash"])
    totals = changes.counts()
    document = {
        "from": {"id": old.id, "ref": old.ref},
        "to": {"id": new.id, "ref": new.ref},
        "added": added,
        "modified": modified,
        "removed": removed,
        "totals": totals,
    }
    lines = [(r["path"], "A", human_size(r["size"])) for r in added]
    lines += [
        (r["path"], "M", f"{human_size(r['old_size'])} → {human_size(r['size'])}") for r in modified
    ]
    lines += [(r["path"], "D", human_size(r["size"])) for r in removed]
    body = table(["", "PATH", "SIZE"], [[k, p, s] for p, k, s in sorted(lines)], right=(2,))
    summary = (
        f"{totals['added']} added ({human_size(totals['added_bytes'])}), "
        f"{totals['modified']} modified ({human_size(totals['modified_bytes'])}), "
        f"{totals['removed']} removed ({human_size(totals['removed_bytes'])})"
    )
    header = printable(f"{old.ref} → {new.ref}")
    text = f"{header}\n{body}\n{summary}" if lines else f"{header}\n{summary}"
    settings.emit(document, text, essential=True)


@click.command()
@REF
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "mermaid", "dot", "json"]),
    default="text",
    show_default=True,
    help="text: a tree; mermaid / dot: a graph to render; json: nodes and edges.",
)
@global_options
@pass_settings
@fails_as("show the lineage of {ref}")
def lineage(settings: Settings, ref: str, output_format: str) -> None:
    """Show a version's ancestry (every version it derives from).

    \b
    Example:
      dsops lineage vision/cats@latest
      dsops lineage vision/cats@latest --format dot | dot -Tsvg > lineage.svg
    """
    graph = Lineage.of(Dataset.get(ref, store=settings.store()))
    if settings.json or output_format == "json":
        click.echo(json.dumps(graph.to_dict(), indent=2))
        return
    renderers = {"text": graph.to_text, "mermaid": graph.to_mermaid, "dot": graph.to_dot}
    settings.emit(None, renderers[output_format](), essential=True)


@click.command()
@REF
@click.option("--deep", is_flag=True, help="Also download and re-hash every file's content.")
@click.option(
    "--folder",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Also compare local folder DIR with the version: missing, extra, different files.",
)
@click.option("--filesize", is_flag=True, help="With --folder: compare sizes only (no re-hashing).")
@global_options
@pass_settings
@fails_as("verify {ref}")
def verify(settings: Settings, ref: str, deep: bool, folder: str | None, filesize: bool) -> None:
    """Check that a version's stored objects are intact (and a local folder matches it).

    Exits 1, listing the damaged files, if any object is missing (or, with --deep,
    does not match its hash), or if --folder DIR differs from the version.

    \b
    Example:
      dsops verify vision/cats@prod --deep
      dsops verify vision/cats@prod --folder ./cats --filesize
    """
    if filesize and folder is None:
        raise click.UsageError("--filesize applies to a folder comparison: add --folder DIR.")
    ds = Dataset.get(ref, store=settings.store())
    result = ds.verify(folder=folder, filesize_only=filesize, deep=deep)
    local = [f"not in folder  {printable(p)}" for p in result["folder_missing"]]
    local += [f"extra in folder  {printable(p)}" for p in result["folder_extra"]]
    local += [f"differs in folder  {printable(p)}" for p in result["folder_different"]]
    problems = [f"missing    {printable(p)}" for p in result["missing"]]
    problems += [f"corrupted  {printable(p)}" for p in result["corrupted"]]
    problems += [
        f"cache      {printable(p)} (local copy damaged; discarded)"
        for p in result["cache_corrupted"]
    ]
    checked = (
        f"{plural(result['files'], 'file')} in {plural(result['objects'], 'object')}"
        f"{' (content re-hashed)' if deep else ''}"
    )
    # A plain dict: json.dumps(indent=…) writes a falsy dict subclass as {}.
    document = dict(result)
    if folder is not None:
        checked += f"; folder {printable(folder)} {'matches' if not local else 'differs'}"
    report = [*problems, *local]
    settings.emit(document, "\n".join(report) if report else f"OK {ds.ref}: {checked}")
    if local and not problems:
        raise OperationFailed(
            f"{printable(folder or '')} differs from {ds.ref}: "
            f"{len(result['folder_missing'])} missing, {len(result['folder_extra'])} extra, "
            f"{len(result['folder_different'])} different. Fetch it again with "
            "`dsops get REF --to DIR --overwrite`, or make a new version from it."
        )
    if not result["ok"] and not result["missing"] and not result["corrupted"]:
        raise OperationFailed(
            f"{ds.ref}: the store is intact, but {len(result['cache_corrupted'])} file(s) "
            "in the local cache held wrong bytes (edited through a view?). They were "
            "discarded and will be fetched again on next use; run verify again to confirm."
        )
    if not result["ok"]:
        raise OperationFailed(
            f"{ds.ref} failed verification: {len(result['missing'])} missing, "
            f"{len(result['corrupted'])} corrupted of {checked}. Its stored objects were "
            "lost or damaged: restore the store from a backup, or add the files again in "
            "a new version."
        )


COMMANDS = [list_versions, search, ls, diff, lineage, verify]
