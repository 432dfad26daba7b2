"""``dsops get``: a version as a local folder (a cached read-only view, or a copy)."""

from __future__ import annotations

import os

import click

from dsops.cli.failures import fails_as
from dsops.cli.output import REF, Settings, global_options, pass_settings
from dsops.dataset import Dataset


@click.command()
@REF
@click.option(
    "--to",
    "target",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write a mutable copy into DIR (must be empty unless --overwrite).",
)
@click.option(
    "--include", "includes", multiple=True, metavar="GLOB", help="Only matching files (repeatable)."
)
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="GLOB",
    help="Leave out matching files (repeatable; wins over --include).",
)
@click.option("--mutable", is_flag=True, help="A writable copy (into ./NAME unless --to).")
@click.option("--overwrite", is_flag=True, help="Replace the contents of a non-empty --to DIR.")
@click.option(
    "--part",
    type=int,
    metavar="I",
    help="Only part I (0 … N-1) of the files, balanced by bytes (with --num-parts).",
)
@click.option(
    "--num-parts", type=int, metavar="N", help="Split the files into N parts (with --part)."
)
@global_options
@pass_settings
@fails_as("fetch {ref}")
def get(
    settings: Settings,
    ref: str,
    target: str | None,
    includes: tuple[str, ...],
    excludes: tuple[str, ...],
    mutable: bool,
    overwrite: bool,
    part: int | None,
    num_parts: int | None,
) -> None:
    """Fetch a version and print the local folder.

    By default the folder is a shared, read-only view in the cache (nothing is copied
    twice). --to DIR or --mutable writes a copy you may change.

    \b
    Example:
      dsops get vision/cats@prod --include 'train/*'
      dsops get vision/cats@prod --exclude '*.tmp' --exclude 'raw/*'
      dsops get vision/cats@1.0.2 --to ./cats --overwrite
      dsops get vision/cats@prod --part 2 --num-parts 8   # worker 2 of 8
    """
    if overwrite and not (target or mutable):
        raise click.UsageError("--overwrite applies to a mutable copy: add --to DIR.")
    ds = Dataset.get(ref, store=settings.store())
    include = list(includes) or None
    exclude = list(excludes) or None
    copy = bool(target or mutable)
    with settings.progress() as progress:
        if copy:
            path = ds.get_mutable_local_copy(
                target or os.path.join(os.getcwd(), ds.name),
                overwrite=overwrite,
                include=include,
                exclude=exclude,
                progress=progress,
                part=part,
                num_parts=num_parts,
            )
        else:
            path = ds.get_local_copy(
                include, exclude=exclude, progress=progress, part=part, num_parts=num_parts
            )
    document = {"path": path, "version_id": ds.id, "ref": ds.ref, "mutable": copy}
    selection = {"include": include, "exclude": exclude, "part": part, "num_parts": num_parts}
    settings.emit({**document, **selection}, path, essential=True)


COMMANDS = [get]
