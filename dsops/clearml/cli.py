"""``dsops-clearml-data``: the ``clearml-data`` command line on dsops, with no server.

Commands and flags are ``clearml-data``'s; list flags take several values as there
(``--files a b c``, ``--parents ID1 ID2``). Stateful as the original: ``create``
remembers the dataset, so later commands need no ``--id`` (see
:mod:`dsops.clearml.state`). ``--storage`` / ``--output-uri`` choose the store (else the
session's, else ``DSOPS_STORE``). A failure prints one line ``Error: cannot …`` on stderr
and exits 1; a usage error exits 2. See ``docs/CLEARML.md``.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from dsops.clearml import state
from dsops.clearml.dataset import Dataset
from dsops.clearml.entries import FileEntry, LinkEntry
from dsops.cli.failures import OperationFailed
from dsops.errors import DsopsError

F = TypeVar("F", bound=Callable[..., Any])

# Flags that take several values (argparse's nargs='*' in clearml-data).
LIST_FLAGS = frozenset(
    {"--parents", "--tags", "--files", "--links", "--filter", "--ids", "--wildcard"}
)


def spread_list_flags(args: Sequence[str]) -> list[str]:
    """``--files a b --x`` → ``--files a --files b --x`` (click repeats a flag instead).

    Example:
        >>> spread_list_flags(["add", "--files", "a", "b", "--non-recursive"])
        ['add', '--files', 'a', '--files', 'b', '--non-recursive']
    """
    out: list[str] = []
    flag: str | None = None
    for arg in args:
        if arg.startswith("-"):
            name, eq, value = arg.partition("=")
            flag = name if name in LIST_FLAGS else None
            if flag is None:
                out.append(arg)
            elif eq:
                out += [name, value]
        elif flag is not None:
            out += [flag, arg]
        else:
            out.append(arg)
    return out


class ClearmlDataGroup(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_list_flags(args))


class Session:
    """The store and dataset a command works on: flags first, then the saved state."""

    def __init__(self, storage: str | None, dataset_id: str | None) -> None:
        saved = state.load()
        self.store = storage or saved.get("store") or None
        self.given_id = dataset_id
        self.saved_id: str | None = saved.get("id")

    @property
    def id(self) -> str:
        found = self.given_id or self.saved_id
        if not found:
            raise OperationFailed("Dataset ID not specified, add --id <dataset_id>.")
        return found

    def dataset(self, **filters: Any) -> Dataset:
        by_name = filters.get("dataset_project") or filters.get("dataset_name")
        if by_name and not self.given_id:
            return Dataset.get(store=self.store, **filters)
        return Dataset.get(dataset_id=self.id, store=self.store)

    def remember(self, dataset_id: str | None) -> None:
        state.save(dataset_id, self.store)

    def store_url(self) -> str | None:
        return self.store


def fails_as(action: str) -> Callable[[F], F]:
    """SDK and local file errors → ``Error: cannot <action>: <why>``, exit 1."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except DsopsError as exc:
                raise OperationFailed(f"cannot {action}: {exc}", exc) from exc
            except OSError as exc:
                raise OperationFailed(f"cannot {action}: {exc}", exc) from exc

        return wrapper  # type: ignore[return-value]

    return decorate


def _storage(func: F) -> F:
    storage = click.option(
        "--storage",
        "--output-uri",
        "storage",
        default=None,
        help="Store URL (s3://, gs://, azure://, az://, a path); default: the session's, "
        "else DSOPS_STORE.",
    )
    return storage(func)  # type: ignore[no-any-return]


def _id(func: F) -> F:
    option = click.option(
        "--id", "dataset_id", default=None, help="Dataset id (default: the session's dataset)."
    )
    return option(func)  # type: ignore[no-any-return]


def _verbose(func: F) -> F:
    return click.option("--verbose", is_flag=True, help="Verbose reporting.")(func)  # type: ignore[no-any-return]


def _ignored_numbers(*names: str) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        for name in names:
            func = click.option(name, type=int, default=None, hidden=True)(func)  # type: ignore[assignment]
        return func

    return decorate


@click.group(cls=ClearmlDataGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """clearml-data - Dataset Management & Versioning CLI, on dsops (no server)."""


@cli.command()
@click.option("--name", required=True, help="Dataset name.")
@click.option("--project", default=None, help="Dataset project (default: the first parent's).")
@click.option("--version", default=None, help="Semantic version (default: next patch).")
@click.option("--parents", multiple=True, help="Parent dataset ids, merged in order.")
@click.option("--tags", multiple=True, help="Dataset tags.")
@_storage
@fails_as("create the dataset")
def create(
    name: str,
    project: str | None,
    version: str | None,
    parents: tuple[str, ...],
    tags: tuple[str, ...],
    storage: str | None,
) -> None:
    """Create a new dataset."""
    session = Session(storage, None)
    ds = _create(session, name, project, version, parents, tags)
    click.echo(f"New dataset created id={ds.id}")


def _create(
    session: Session,
    name: str,
    project: str | None,
    version: str | None,
    parents: Sequence[str],
    tags: Sequence[str],
) -> Dataset:
    ds = Dataset.create(
        dataset_name=name,
        dataset_project=project,
        dataset_tags=list(tags),
        parent_datasets=list(parents),
        dataset_version=version,
        store=session.store,
    )
    session.remember(ds.id)  # the store as given (an azure:// host names the account)
    return ds


@cli.command()
@_id
@click.option("--dataset-folder", default=None, help="Dataset folder to add the files to.")
@click.option("--files", multiple=True, help="Files / folders / globs to add.")
@click.option("--wildcard", multiple=True, help="Only files whose name matches.")
@click.option("--links", multiple=True, help="External file URLs to add (kept at source).")
@click.option("--non-recursive", is_flag=True, help="Do not scan folders recursively.")
@_verbose
@_storage
@_ignored_numbers("--max-workers")
@fails_as("add files")
def add(
    dataset_id: str | None,
    dataset_folder: str | None,
    files: tuple[str, ...],
    wildcard: tuple[str, ...],
    links: tuple[str, ...],
    non_recursive: bool,
    verbose: bool,
    storage: str | None,
    max_workers: int | None,
) -> None:
    """Add files (or external links) to the dataset."""
    if not files and not links:
        raise click.UsageError("Give --files and/or --links.")
    ds = Session(storage, dataset_id).dataset()
    count = 0
    for path in files:
        count += ds.add_files(
            path,
            wildcard=list(wildcard) or None,
            dataset_path=dataset_folder,
            recursive=not non_recursive,
        )
    if links:
        count += ds.add_external_files(
            list(links),
            wildcard=list(wildcard) or None,
            dataset_path=dataset_folder,
            recursive=not non_recursive,
        )
    click.echo(f"{count} file{'s' if count != 1 else ''} added")


@cli.command()
@_id
@click.option("--files", multiple=True, required=True, help="Dataset paths / wildcards.")
@click.option("--non-recursive", is_flag=True, help="Only files directly in a folder.")
@_verbose
@_storage
@fails_as("remove files")
def remove(
    dataset_id: str | None,
    files: tuple[str, ...],
    non_recursive: bool,
    verbose: bool,
    storage: str | None,
) -> None:
    """Remove files from the dataset (paths in the dataset, not local paths)."""
    ds = Session(storage, dataset_id).dataset()
    count = sum(ds.remove_files(f, recursive=not non_recursive) for f in files)
    click.echo(f"{count} files removed")


@cli.command()
@_id
@_verbose
@_storage
@_ignored_numbers("--chunk-size", "--max-workers")
@fails_as("upload")
def upload(
    dataset_id: str | None,
    verbose: bool,
    storage: str | None,
    chunk_size: int | None,
    max_workers: int | None,
) -> None:
    """Nothing to do: dsops stores content as it is added (checks the dataset exists)."""
    session = Session(storage, dataset_id)
    session.dataset().upload(output_url=storage)
    click.echo("Dataset upload completed")


@cli.command()
@_id
@click.option("--disable-upload", is_flag=True, help="Accepted (nothing is ever pending).")
@_verbose
@_storage
@_ignored_numbers("--chunk-size", "--max-workers")
@fails_as("close the dataset")
def close(
    dataset_id: str | None,
    disable_upload: bool,
    verbose: bool,
    storage: str | None,
    chunk_size: int | None,
    max_workers: int | None,
) -> None:
    """Finalize and close the dataset."""
    session = Session(storage, dataset_id)
    _close(session, session.dataset())


def _close(session: Session, ds: Dataset) -> None:
    ds.finalize()
    click.echo(f"Dataset closed and finalized: id={ds.id} version={ds.version}")
    session.remember(None)


@cli.command()
@_id
@click.option("--dataset-folder", default=None, help="Dataset folder to sync into.")
@click.option("--folder", required=True, help="Local folder to mirror.")
@click.option("--parents", multiple=True, help="[New dataset] parent ids.")
@click.option("--project", default=None, help="[New dataset] project.")
@click.option("--name", default=None, help="[New dataset] name.")
@click.option("--version", default=None, help="[New dataset] semantic version.")
@click.option("--tags", multiple=True, help="[New dataset] tags.")
@click.option("--skip-close", is_flag=True, help="Do not close the dataset after syncing.")
@_verbose
@_storage
@_ignored_numbers("--chunk-size", "--max-workers")
@fails_as("sync the folder")
def sync(
    dataset_id: str | None,
    dataset_folder: str | None,
    folder: str,
    parents: tuple[str, ...],
    project: str | None,
    name: str | None,
    version: str | None,
    tags: tuple[str, ...],
    skip_close: bool,
    verbose: bool,
    storage: str | None,
    chunk_size: int | None,
    max_workers: int | None,
) -> None:
    """Mirror a local folder into the dataset (a new one with --project/--name or
    --parents), then close it unless --skip-close."""
    session = Session(storage, dataset_id)
    created = bool(parents or (project and name))
    if created:
        if not name:
            raise click.UsageError("A new dataset (--parents) needs --name.")
        ds = _create(session, name, project, version, parents, tags)
        click.echo(f"New dataset created id={ds.id}")
    else:
        ds = session.dataset()
    removed, added, modified = ds.sync_folder(folder, dataset_path=dataset_folder)
    click.echo(f"Sync completed: {removed} files removed, {added} added, {modified} modified")
    if skip_close:
        return
    if created and not (removed or added or modified) and len(parents) <= 1:
        click.echo("Zero modifications on local copy, no new version created.")
        session.remember(None)
        return
    _close(session, ds)


@cli.command(name="list")
@_id
@click.option("--project", default=None, help="Dataset project (instead of --id).")
@click.option("--name", default=None, help="Dataset name (instead of --id).")
@click.option("--version", default=None, help="Dataset version (with --project/--name).")
@click.option("--filter", "filters", multiple=True, help="Folders / wildcards to list.")
@click.option("--modified", is_flag=True, help="Only files this version introduced.")
@_storage
@fails_as("list the dataset")
def list_(
    dataset_id: str | None,
    project: str | None,
    name: str | None,
    version: str | None,
    filters: tuple[str, ...],
    modified: bool,
    storage: str | None,
) -> None:
    """List a dataset's files."""
    ds = Session(storage, dataset_id).dataset(
        dataset_project=project, dataset_name=name, dataset_version=version
    )
    entries: dict[str, FileEntry | LinkEntry] = {**ds.file_entries_dict, **ds.link_entries_dict}
    row = "{:64} | {:>10} | {:64}"
    click.echo(row.format("file name", "size", "hash"))
    click.echo("-" * len(row.format("", "", "")))
    count = total = 0
    for mask in filters or (None,):
        for path in ds.list_files(dataset_path=mask, dataset_id=ds.id if modified else None):
            entry = entries[path]
            click.echo(row.format(path, f"{entry.size:,}", entry.hash))
            count, total = count + 1, total + entry.size
    click.echo(f"Total {count} files, {total} bytes")


@cli.command(name="set-description")
@_id
@click.option("--description", required=True, help="The new description.")
@_storage
@fails_as("set the description")
def set_description(dataset_id: str | None, description: str, storage: str | None) -> None:
    """Set a dataset's description."""
    Session(storage, dataset_id).dataset().set_description(description)
    click.echo("Dataset description updated")


@cli.command()
@_id
@click.option("--project", default=None, help="Dataset project (instead of --id).")
@click.option("--name", default=None, help="Dataset name (instead of --id).")
@click.option("--version", default=None, help="Dataset version (with --project/--name).")
@click.option("--force", is_flag=True, help="Also when other versions depend on it.")
@click.option("--entire-dataset", is_flag=True, help="Every version of --project/--name.")
@_storage
@fails_as("delete")
def delete(
    dataset_id: str | None,
    project: str | None,
    name: str | None,
    version: str | None,
    force: bool,
    entire_dataset: bool,
    storage: str | None,
) -> None:
    """Delete a dataset version (or with --entire-dataset every version)."""
    session = Session(storage, dataset_id)
    by_name = bool(project or name) and not dataset_id
    target = None if by_name else session.id
    Dataset.delete(
        dataset_id=target,
        dataset_project=project,
        dataset_name=name,
        dataset_version=version,
        force=force,
        entire_dataset=entire_dataset,
        store=session.store,
    )
    click.echo(f"Dataset {target or f'{project}/{name}'} deleted")
    if target is None or target == session.saved_id:
        session.remember(None)


@cli.command()
@click.option("--new-name", required=True, help="The new dataset name.")
@click.option("--project", required=True, help="The dataset's project.")
@click.option("--name", required=True, help="The dataset's name.")
@_storage
@fails_as("rename the dataset")
def rename(new_name: str, project: str, name: str, storage: str | None) -> None:
    """Rename a dataset (every version)."""
    Dataset.rename(new_name, dataset_project=project, dataset_name=name, store=storage)
    click.echo(f"Dataset {project}/{name} renamed to {project}/{new_name}")


@cli.command()
@click.option("--new-project", required=True, help="The project to move to.")
@click.option("--project", required=True, help="The dataset's project.")
@click.option("--name", required=True, help="The dataset's name.")
@_storage
@fails_as("move the dataset")
def move(new_project: str, project: str, name: str, storage: str | None) -> None:
    """Move a dataset (every version) to another project."""
    Dataset.move_to_project(new_project, dataset_project=project, dataset_name=name,
                            store=storage)  # fmt: skip
    click.echo(f"Dataset {project}/{name} moved to {new_project}/{name}")


@cli.command()
@click.option("--ids", multiple=True, help="Dataset ids.")
@click.option("--project", default=None, help="Project (and its sub-projects).")
@click.option("--name", default=None, help="Part of the name (case-insensitive).")
@click.option("--tags", multiple=True, help="Tags every match has.")
@click.option("--not-only-completed", is_flag=True, help="Also unfinished datasets.")
@click.option("--non-recursive-project-search", is_flag=True, help="Not sub-projects.")
@_storage
@fails_as("search")
def search(
    ids: tuple[str, ...],
    project: str | None,
    name: str | None,
    tags: tuple[str, ...],
    not_only_completed: bool,
    non_recursive_project_search: bool,
    storage: str | None,
) -> None:
    """Search datasets (oldest first)."""
    rows = Dataset.list_datasets(
        dataset_project=project,
        partial_name=name,
        tags=list(tags) or None,
        ids=list(ids) or None,
        only_completed=not not_only_completed,
        recursive_project_search=not non_recursive_project_search,
        store=Session(storage, None).store,
    )
    row = "{:24} | {:32} | {:8} | {:19} | {:32}"
    click.echo(row.format("project", "name", "version", "created", "id"))
    click.echo("-" * len(row.format("", "", "", "", "")))
    for d in rows:
        created = d["created"].strftime("%Y-%m-%d %H:%M:%S")
        click.echo(row.format(d["project"], d["name"], d["version"] or "draft", created, d["id"]))


@cli.command()
@click.option("--source", required=True, help="Baseline dataset id.")
@click.option("--target", required=True, help="Dataset id compared against the baseline.")
@_verbose
@_storage
@fails_as("compare")
def compare(source: str, target: str, verbose: bool, storage: str | None) -> None:
    """Compare two datasets (target vs source)."""
    ds = Dataset.get(dataset_id=target, store=Session(storage, None).store)
    removed = ds.list_removed_files(dataset_id=source)
    modified = ds.list_modified_files(dataset_id=source)
    added = ds.list_added_files(dataset_id=source)
    if verbose:
        for title, paths in (("Removed", removed), ("Modified", modified), ("Added", added)):
            click.echo(f"{title} files:")
            for path in paths:
                click.echo(path)
            click.echo("")
    click.echo(
        f"Comparison summary: {len(removed)} files removed, {len(modified)} files modified, "
        f"{len(added)} files added"
    )


@cli.command()
@click.option("--name", required=True, help="Name of the squashed dataset.")
@click.option("--ids", multiple=True, required=True, help="Dataset ids to squash, in order.")
@_verbose
@_storage
@fails_as("squash")
def squash(name: str, ids: tuple[str, ...], verbose: bool, storage: str | None) -> None:
    """Squash several datasets into one new version (no bytes copied)."""
    ds = Dataset.squash(name, dataset_ids=list(ids), store=Session(storage, None).store)
    click.echo(f"Squashing completed, new dataset created id={ds.id}")


@cli.command()
@_id
@click.option("--folder", default=None, help="A local copy to verify (default: the cached one).")
@click.option("--filesize", is_flag=True, help="Compare sizes only, skip hashes.")
@_verbose
@_storage
@fails_as("verify")
def verify(
    dataset_id: str | None, folder: str | None, filesize: bool, verbose: bool, storage: str | None
) -> None:
    """Verify a dataset's content (exit 1 when errors are found)."""
    ds = Session(storage, dataset_id).dataset()
    errors = ds.verify_dataset_hash(local_copy_path=folder, skip_hash=filesize)
    if verbose:
        for path in errors:
            click.echo(path)
    if errors:
        raise OperationFailed(f"Dataset verification completed, {len(errors)} errors found!")
    click.echo("Dataset verification completed successfully, no errors found.")


@cli.command()
@_id
@click.option("--copy", default=None, help="Make a writable copy in this folder.")
@click.option("--link", default=None, help="Symlink this path to the read-only cached copy.")
@click.option("--part", type=int, default=None, help="Fetch only this part (0-based).")
@click.option("--num-parts", type=int, default=None, help="Split the files into N parts.")
@click.option("--overwrite", is_flag=True, help="Replace the target folder / link.")
@_verbose
@_storage
@_ignored_numbers("--max-workers")
@fails_as("get a local copy")
def get(
    dataset_id: str | None,
    copy: str | None,
    link: str | None,
    part: int | None,
    num_parts: int | None,
    overwrite: bool,
    verbose: bool,
    storage: str | None,
    max_workers: int | None,
) -> None:
    """Get a local copy (default: the read-only cached folder)."""
    ds = Session(storage, dataset_id).dataset()
    if copy:
        folder = ds.get_mutable_local_copy(copy, overwrite=overwrite, part=part,
                                           num_parts=num_parts)  # fmt: skip
    else:
        folder = ds.get_local_copy(part=part, num_parts=num_parts)
        if link:
            _link(Path(link), folder, overwrite)
            folder = link
    click.echo(f"Dataset local copy available: {folder}")


def _link(path: Path, target: str, overwrite: bool) -> None:
    if path.is_symlink() or path.is_file():
        if not overwrite:
            raise OperationFailed(f"cannot link {path}: it exists; use --overwrite.")
        path.unlink()
    elif path.exists():
        if any(path.iterdir()) and not overwrite:
            raise OperationFailed(f"cannot link {path}: the folder is not empty; use --overwrite.")
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path, target_is_directory=True)


@cli.command()
@_id
@_storage
@fails_as("publish")
def publish(dataset_id: str | None, storage: str | None) -> None:
    """Publish a finalized dataset (delete then refuses it without --force)."""
    ds = Session(storage, dataset_id).dataset()
    ds.publish()
    click.echo(f"Dataset {ds.id} published")


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``dsops-clearml-data``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="dsops-clearml-data")
