"""Commands that make a version: create, add, remove, sync, finalize (close)."""

from __future__ import annotations

import click

from dsops.cli.failures import fails_as
from dsops.cli.output import (
    F,
    Settings,
    complete_ref,
    describe_changes,
    global_options,
    pass_settings,
)
from dsops.dataset import Dataset
from dsops.drafts import ChangeSummary
from dsops.objects.links import link_scheme
from dsops.render import human_size, plural, printable


def _VERSION_OPTIONS(command: F) -> F:
    """``--version``, ``--tag`` and ``--description``: what a new version is labelled."""
    command = click.option("--description", default="", help="Free text.")(command)
    command = click.option("--tag", "tags", multiple=True, help="Label for search (repeatable).")(
        command
    )
    return click.option(
        "--version", "version", metavar="X.Y.Z", help="Semantic version to finalize as."
    )(command)


@click.command()
@click.option("--project", required=True, help="Project, optionally nested (vision/cats).")
@click.option("--name", required=True, help="Dataset name.")
@click.option(
    "--parent",
    "parents",
    multiple=True,
    metavar="REF",
    help="Version to inherit from (repeatable); 'latest' means this dataset's latest.",
)
@_VERSION_OPTIONS
@global_options
@pass_settings
@fails_as("create a draft of {project}/{name}")
def create(
    settings: Settings,
    project: str,
    name: str,
    parents: tuple[str, ...],
    version: str | None,
    tags: tuple[str, ...],
    description: str,
) -> None:
    """Start a draft version and print its id.

    \b
    Example:
      dsops create --project vision --name cats --parent vision/cats@latest --tag raw
    """
    ds = Dataset.create(
        project,
        name,
        parents=list(parents) or None,
        store=settings.store(),
        description=description,
        tags=list(tags),
        version=version,
    )
    settings.emit(ds.to_dict(), ds.id, essential=True)


_FOLLOW_SYMLINKS = click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Also follow symbolic links that point outside the source folder (by default "
    "they are refused; links that stay inside are always followed).",
)
_SHARD = click.option(
    "--shard",
    metavar="I/N",
    default=None,
    help="Only shard I of N (0 <= I < N) of the sources, split by path hash: N runs with "
    "I = 0 … N-1 into one draft take every file exactly once (docs/SCALING.md).",
)


@click.command()
@click.argument("version_id", metavar="ID")
@click.argument("paths", metavar="[PATH...]", nargs=-1, type=click.Path())
@click.option("--dataset-path", default="", metavar="DIR", help="Folder inside the dataset.")
@click.option(
    "--wildcard",
    "wildcards",
    multiple=True,
    metavar="GLOB",
    help="Only files matching (repeatable).",
)
@click.option("--non-recursive", is_flag=True, help="Do not descend into sub-folders.")
@click.option(
    "--link",
    "links",
    multiple=True,
    metavar="URL",
    help="Add the file or prefix at URL as external files that stay where they are "
    "(s3://, gs://, az://, http(s)://, file://; repeatable).",
)
@_FOLLOW_SYMLINKS
@_SHARD
@global_options
@pass_settings
@fails_as("add files to {version_id}")
def add(
    settings: Settings,
    version_id: str,
    paths: tuple[str, ...],
    dataset_path: str,
    wildcards: tuple[str, ...],
    non_recursive: bool,
    links: tuple[str, ...],
    follow_symlinks: bool,
    shard: str | None,
) -> None:
    """Add files or folders to a draft, or external files with --link URL.

    \b
    Example:
      dsops add "$ID" ./images ./labels.csv --dataset-path train --wildcard '*.jpg'
      dsops add "$ID" --link s3://landing/2024-05-01/ --dataset-path raw
      dsops add "$ID" /data/landing --shard 3/8      # one of 8 workers
    """
    if not paths and not links:
        raise click.UsageError("Missing argument 'PATH...' (or --link URL): nothing to add.")
    for url in links:
        link_scheme(url)  # a URL of another scheme is refused before anything is added
    ds = Dataset.get(version_id, store=settings.store())
    wildcard = list(wildcards) or None
    summary = ChangeSummary()
    if paths:
        with settings.progress() as progress:
            summary = ds.add_files(
                list(paths),
                dataset_path,
                wildcard=wildcard,
                recursive=not non_recursive,
                progress=progress,
                follow_symlinks=follow_symlinks,
                shard=shard,
            )
    for url in links:
        summary += ds.add_external_files(
            url, dataset_path, wildcard=wildcard, recursive=not non_recursive
        )
    settings.emit({"version_id": ds.id, **summary.to_dict()}, describe_changes(summary))


@click.command()
@click.argument("version_id", metavar="ID")
@click.argument("patterns", metavar="PATTERN...", nargs=-1, required=True)
@global_options
@pass_settings
@fails_as("remove files from {version_id}")
def remove(settings: Settings, version_id: str, patterns: tuple[str, ...]) -> None:
    """Remove files matching glob patterns from a draft.

    A folder name removes everything below it.

    \b
    Example:
      dsops remove "$ID" 'train/*.tmp' old_labels
    """
    ds = Dataset.get(version_id, store=settings.store())
    summary = ds.remove_files(list(patterns))
    settings.emit({"version_id": ds.id, **summary.to_dict()}, describe_changes(summary))


@click.command()
@click.argument("version_id", metavar="ID")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--dataset-path", default="", metavar="DIR", help="Folder inside the dataset.")
@_FOLLOW_SYMLINKS
@_SHARD
@global_options
@pass_settings
@fails_as("sync {folder} into {version_id}")
def sync(
    settings: Settings,
    version_id: str,
    folder: str,
    dataset_path: str,
    follow_symlinks: bool,
    shard: str | None,
) -> None:
    """Mirror a local folder into a draft.

    New files are added, changed ones updated, files missing from FOLDER removed.

    \b
    Example:
      dsops sync "$ID" ./data/cats --dataset-path images
    """
    ds = Dataset.get(version_id, store=settings.store())
    with settings.progress() as progress:
        summary = ds.sync_folder(
            folder, dataset_path, progress=progress, follow_symlinks=follow_symlinks, shard=shard
        )
    settings.emit({"version_id": ds.id, **summary.to_dict()}, describe_changes(summary))


@click.command()
@click.argument("version_id", metavar="ID")
@click.option("--alias", metavar="NAME", help="Also point this alias (e.g. prod) at it.")
@global_options
@pass_settings
@fails_as("finalize {version_id}")
def finalize(settings: Settings, version_id: str, alias: str | None) -> None:
    """Commit a draft; print its id and reference.

    Also available as `dsops close`. Finalizing again returns the same version.

    \b
    Example:
      dsops finalize "$ID" --alias prod
    """
    ds = Dataset.get(version_id, store=settings.store())
    ds.finalize(alias=alias)
    record = ds.to_dict()
    settings.emit(record, f"{ds.id} {printable(ds.ref)}", essential=True)
    changes = ChangeSummary.from_dict(record.get("changes", {}))
    settings.note(
        f"Finalized {printable(ds.ref)}: {plural(record['file_count'], 'file')}, "
        f"{human_size(record['total_size'])}; {changes.added} added, {changes.modified} "
        f"modified, {changes.removed} removed; aliases: {', '.join(record['aliases']) or '-'}"
    )


@click.command()
@click.option("--project", required=True, help="Project of the new version.")
@click.option("--name", required=True, help="Dataset name of the new version.")
@click.argument("refs", metavar="REF...", nargs=-1, required=True, shell_complete=complete_ref)
@click.option("--alias", metavar="NAME", help="Also point this alias (e.g. prod) at it.")
@_VERSION_OPTIONS
@global_options
@pass_settings
@fails_as("squash into {project}/{name}")
def squash(
    settings: Settings,
    project: str,
    name: str,
    refs: tuple[str, ...],
    version: str | None,
    alias: str | None,
    tags: tuple[str, ...],
    description: str,
) -> None:
    """Merge versions into one new version with no parents; print its id and reference.

    Later REFs win on paths several hold. The new version names the content already
    stored: nothing is uploaded or copied. Its record lists the versions in
    squashed_from.

    \b
    Example:
      dsops squash --project vision --name cats-flat vision/cats@1.0.0 vision/cats@1.0.7
    """
    ds = Dataset.squash(
        name,
        list(refs),
        project,
        store=settings.store(),
        description=description,
        tags=list(tags),
        version=version,
        alias=alias,
    )
    record = ds.to_dict()
    settings.emit(record, f"{ds.id} {printable(ds.ref)}", essential=True)
    settings.note(
        f"Squashed {plural(len(refs), 'version')} into {printable(ds.ref)}: "
        f"{plural(record['file_count'], 'file')}, {human_size(record['total_size'])}, "
        "no content copied"
    )


COMMANDS = [create, add, remove, sync, finalize, squash]
