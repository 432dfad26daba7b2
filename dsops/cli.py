"""The ``dsops`` command line: parse arguments, call the SDK, format the result.

Every command is a thin adapter over :class:`dsops.Dataset`; anything a command needs
that the SDK lacks belongs in the SDK. Results go to stdout (one JSON document with
``--json``), notes and progress bars to stderr. Exit codes: 0 success, 1 the operation
failed, 2 a usage error.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any, TypeVar

import click
from click.shell_completion import CompletionItem
from tqdm import tqdm

from dsops import __version__
from dsops.catalog import check_alias
from dsops.dataset import Dataset
from dsops.drafts import ChangeSummary
from dsops.errors import DsopsError, NotFinalized, VersionImmutable, VersionNotFound
from dsops.progress import Callback
from dsops.render import Lineage, human_size, plural, printable, short_id
from dsops.store import Store

F = TypeVar("F", bound=Callable[..., Any])

# The SDK's messages name the Python API; these add the matching command line.
_CLI_HINTS: dict[type[DsopsError], str] = {
    VersionImmutable: "From the shell: dsops create --project {project} --name {name} "
    "--parent {version_id}",
    NotFinalized: "From the shell: dsops finalize {version_id} (or copy a draft with "
    "dsops get {version_id} --to DIR).",
}


# --- settings shared by every command --------------------------------------------------


class Settings:
    """Global options; they may be given before or after the command name."""

    def __init__(self) -> None:
        self.store_url: str | None = None
        self.json = False
        self.quiet = False
        self.debug = False
        self._store: Store | None = None

    def store(self) -> Store:
        """The store, opened on first use (``--store``, else ``DSOPS_STORE``, else local)."""
        if self._store is None:
            self._store = Store(self.store_url)
        return self._store

    def show_progress(self) -> bool:
        return not (self.json or self.quiet) and _isatty(sys.stderr)

    @contextmanager
    def progress(self) -> Iterator[Callback | None]:
        """Progress bars on stderr when it is a terminal; none with --json or --quiet."""
        if not self.show_progress():
            yield None
            return
        bars = TqdmProgress(sys.stderr)
        try:
            yield bars
        finally:
            bars.end()

    def emit(self, document: Any, text: str | None, *, essential: bool = False) -> None:
        """Print the result: ``document`` as JSON, else ``text`` (``--quiet`` keeps only
        essential results such as ids and paths)."""
        if self.json:
            click.echo(json.dumps(document, indent=2, default=str))
        elif text is not None and (essential or not self.quiet):
            click.echo(text)

    def note(self, text: str) -> None:
        """A message for people, on stderr."""
        if not self.quiet:
            click.echo(text, err=True)


def _isatty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


pass_settings = click.make_pass_decorator(Settings, ensure=True)


def _setter(attribute: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        # Unset options must not undo a value given on the other side of the command.
        if value not in (None, False):
            setattr(ctx.ensure_object(Settings), attribute, value)

    return callback


# (declarations, Settings attribute, extra click arguments, help)
_GLOBAL_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any], str]] = [
    (
        ("--store",),
        "store_url",
        {"metavar": "URL"},
        "Store root: a path, file://, s3://bucket/prefix, gs://, az://. "
        "Default: $DSOPS_STORE, else the embedded local store.",
    ),
    (
        ("--json",),
        "json",
        {"is_flag": True},
        "Print one JSON document on stdout; messages go to stderr.",
    ),
    (
        ("--quiet", "-q"),
        "quiet",
        {"is_flag": True},
        "Print only essential results (ids, paths, listings); no progress bars.",
    ),
    (("--debug",), "debug", {"is_flag": True}, "Show the full traceback when a command fails."),
]


def global_options(func: F) -> F:
    """``--store``, ``--json``, ``--quiet``, ``--debug`` on the group and every command."""
    for declarations, attribute, extra, help_text in reversed(_GLOBAL_OPTIONS):
        option = click.option(
            *declarations,
            expose_value=False,
            callback=_setter(attribute),
            help=help_text,
            **extra,
        )
        func = option(func)
    return func


# --- errors ------------------------------------------------------------------------------


class OperationFailed(click.ClickException):
    """The operation failed (exit 1): one line on stderr, the traceback with --debug."""

    exit_code = 1

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause
        # Read now: click shows the error after the command's context is gone.
        ctx = click.get_current_context(silent=True)
        settings = ctx.find_object(Settings) if ctx else None
        self.debug = bool(settings and settings.debug)

    def show(self, file: IO[Any] | None = None) -> None:
        if self.debug and self.cause is not None:
            click.echo("".join(traceback.format_exception(self.cause)).rstrip(), err=True)
        # One line, whatever file names the message quotes (newlines, escapes).
        click.echo(f"Error: {printable(self.format_message())}", file=file, err=file is None)


def _explain(exc: DsopsError) -> str:
    """The SDK's message, plus the command line to run when it names a Python call."""
    for kind, hint in _CLI_HINTS.items():
        if isinstance(exc, kind):
            try:
                return f"{exc} {hint.format(**exc.context)}"
            except KeyError:
                break
    return str(exc)


def fails_as(action: str) -> Callable[[F], F]:
    """Turn SDK and local file errors into ``Error: cannot <action>: <why and what to do>``.

    ``action`` may name the command's arguments, e.g. ``"add files to {version_id}"``.
    """

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except DsopsError as exc:
                what = action.format(**kwargs)
                raise OperationFailed(f"cannot {what}: {_explain(exc)}", exc) from exc
            except OSError as exc:  # local files: permission denied, disk full, …
                what = action.format(**kwargs)
                raise OperationFailed(f"cannot {what}: {exc}", exc) from exc

        return wrapper  # type: ignore[return-value]

    return decorate


# --- progress bars -----------------------------------------------------------------------

_PHASES = {
    "hash": "Hashing",
    "upload": "Uploading",
    "download": "Downloading",
    "materialize": "Writing files",
}


class TqdmProgress(Callback):
    """One tqdm bar per phase (bytes, throughput, ETA, files); safe from worker threads."""

    def __init__(self, file: IO[str], *, mininterval: float = 0.1) -> None:
        self._file = file
        self._mininterval = mininterval
        self._lock = threading.Lock()
        self._bar: tqdm[Any] | None = None
        self._files = 0
        self._total_files = 0

    def begin(self, phase: str, total_files: int, total_bytes: int) -> None:
        with self._lock:
            self._close()
            if total_files == 0:
                return
            self._files, self._total_files = 0, total_files
            self._bar = tqdm(
                total=total_bytes,
                desc=_PHASES.get(phase, phase.capitalize()),
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=self._file,
                dynamic_ncols=True,
                leave=False,
                postfix=f"0/{total_files} files",
                mininterval=self._mininterval,
            )

    def advance(self, files: int, nbytes: int) -> None:
        with self._lock:
            if self._bar is None:
                return
            self._files += files
            self._bar.set_postfix_str(f"{self._files}/{self._total_files} files", refresh=False)
            self._bar.update(nbytes)

    def end(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


# --- formatting ----------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell; ``right`` lists right-aligned columns.

    Cells are shown with control characters escaped (:func:`printable`): a file name
    cannot recolour the terminal or forge a line.
    """
    rows = [[printable(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def local_time(iso: str) -> str:
    """An ISO timestamp (UTC) as local ``YYYY-MM-DD HH:MM``."""
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def describe_changes(summary: ChangeSummary) -> str:
    return (
        f"{summary.added} added ({human_size(summary.added_bytes)}), "
        f"{summary.modified} modified ({human_size(summary.modified_bytes)}), "
        f"{summary.removed} removed ({human_size(summary.removed_bytes)}), "
        f"{summary.unchanged} unchanged; {human_size(summary.uploaded_bytes)} uploaded"
    )


class RefNames:
    """Version id → readable ref (``project/name@1.0.0``), looked up once per id."""

    def __init__(self, store: Store, known: dict[str, str] | None = None) -> None:
        self._store = store
        self._names = dict(known or {})

    def __call__(self, version_id: str) -> str:
        if version_id not in self._names:
            try:
                found = Dataset.get(version_id, store=self._store)
                self._names[version_id] = found.ref if found.is_final else "(draft)"
            except VersionNotFound:
                self._names[version_id] = f"{short_id(version_id)} (missing)"
        return self._names[version_id]


def complete_ref(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of REF: every version's ref and every alias."""
    settings = ctx.find_object(Settings) or Settings()
    try:
        rows = Dataset.list(store=settings.store(), on_corrupt=lambda _error: None)
    except (DsopsError, OSError):
        return []
    refs = {r["ref"] for r in rows}
    refs |= {f"{r['project']}/{r['name']}@{a}" for r in rows for a in r["aliases"]}
    return [CompletionItem(ref) for ref in sorted(refs) if ref.startswith(incomplete)]


REF = click.argument("ref", metavar="REF", shell_complete=complete_ref)


# --- the command group ---------------------------------------------------------------


class DsopsGroup(click.Group):
    """Commands listed in the order they are defined; ``close`` is ``finalize``."""

    aliases = {"close": "finalize"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))


@click.group(
    cls=DsopsGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="dsops", message="%(prog)s %(version)s")
@global_options
def cli() -> None:
    """Dataset versioning for ML pipelines.

    A REF is a version id, or project/name@1.2.0, project/name@latest,
    project/name@<alias>.

    \b
    Example:
      ID=$(dsops create --project vision --name cats --parent vision/cats@latest)
      dsops sync "$ID" ./data/cats
      dsops finalize "$ID" --alias prod
      dsops get vision/cats@prod

    Shell completion: eval "$(_DSOPS_COMPLETE=bash_source dsops)".
    """


@cli.command()
@click.option("--project", required=True, help="Project, optionally nested (vision/cats).")
@click.option("--name", required=True, help="Dataset name.")
@click.option(
    "--parent",
    "parents",
    multiple=True,
    metavar="REF",
    help="Version to inherit from (repeatable); 'latest' means this dataset's latest.",
)
@click.option("--version", "version", metavar="X.Y.Z", help="Semantic version to finalize as.")
@click.option("--tag", "tags", multiple=True, help="Label for search (repeatable).")
@click.option("--description", default="", help="Free text.")
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


@cli.command()
@click.argument("version_id", metavar="ID")
@click.argument("paths", metavar="PATH...", nargs=-1, required=True, type=click.Path())
@click.option("--dataset-path", default="", metavar="DIR", help="Folder inside the dataset.")
@click.option(
    "--wildcard",
    "wildcards",
    multiple=True,
    metavar="GLOB",
    help="Only files matching (repeatable).",
)
@click.option("--non-recursive", is_flag=True, help="Do not descend into sub-folders.")
@_FOLLOW_SYMLINKS
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
    follow_symlinks: bool,
) -> None:
    """Add files or folders to a draft.

    \b
    Example:
      dsops add "$ID" ./images ./labels.csv --dataset-path train --wildcard '*.jpg'
    """
    ds = Dataset.get(version_id, store=settings.store())
    with settings.progress() as progress:
        summary = ds.add_files(
            list(paths),
            dataset_path,
            wildcard=list(wildcards) or None,
            recursive=not non_recursive,
            progress=progress,
            follow_symlinks=follow_symlinks,
        )
    settings.emit({"version_id": ds.id, **summary.to_dict()}, describe_changes(summary))


@cli.command()
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


@cli.command()
@click.argument("version_id", metavar="ID")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--dataset-path", default="", metavar="DIR", help="Folder inside the dataset.")
@_FOLLOW_SYMLINKS
@global_options
@pass_settings
@fails_as("sync {folder} into {version_id}")
def sync(
    settings: Settings, version_id: str, folder: str, dataset_path: str, follow_symlinks: bool
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
            folder, dataset_path, progress=progress, follow_symlinks=follow_symlinks
        )
    settings.emit({"version_id": ds.id, **summary.to_dict()}, describe_changes(summary))


@cli.command()
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


@cli.command()
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
@click.option("--mutable", is_flag=True, help="A writable copy (into ./NAME unless --to).")
@click.option("--overwrite", is_flag=True, help="Replace the contents of a non-empty --to DIR.")
@global_options
@pass_settings
@fails_as("fetch {ref}")
def get(
    settings: Settings,
    ref: str,
    target: str | None,
    includes: tuple[str, ...],
    mutable: bool,
    overwrite: bool,
) -> None:
    """Fetch a version and print the local folder.

    By default the folder is a shared, read-only view in the cache (nothing is copied
    twice). --to DIR or --mutable writes a copy you may change.

    \b
    Example:
      dsops get vision/cats@prod --include 'train/*'
      dsops get vision/cats@1.0.2 --to ./cats --overwrite
    """
    if overwrite and not (target or mutable):
        raise click.UsageError("--overwrite applies to a mutable copy: add --to DIR.")
    ds = Dataset.get(ref, store=settings.store())
    include = list(includes) or None
    copy = bool(target or mutable)
    with settings.progress() as progress:
        if copy:
            path = ds.get_mutable_local_copy(
                target or os.path.join(os.getcwd(), ds.name),
                overwrite=overwrite,
                include=include,
                progress=progress,
            )
        else:
            path = ds.get_local_copy(include, progress=progress)
    document = {"path": path, "version_id": ds.id, "ref": ds.ref, "mutable": copy}
    settings.emit({**document, "include": include}, path, essential=True)


@cli.command(name="list")
@click.option("--project", help="Only this project.")
@click.option("--name", help="Only datasets with this name.")
@click.option("--tag", "tags", multiple=True, help="Only versions with this tag (repeatable).")
@global_options
@pass_settings
@fails_as("list versions")
def list_versions(
    settings: Settings, project: str | None, name: str | None, tags: tuple[str, ...]
) -> None:
    """List finalized versions, oldest first.

    \b
    Example:
      dsops list --project vision --tag raw
    """
    store = settings.store()
    rows = Dataset.list(project, name, list(tags) or None, store=store, on_corrupt=_skipped)
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
            ", ".join(r["aliases"]) or "-",
        ]
        for r in rows
    ]
    headers = ["REF", "VERSION", "ID", "PARENTS", "FILES", "SIZE", "CREATED", "ALIASES"]
    settings.emit(rows, table(headers, cells, right=(4, 5)) if rows else None, essential=True)
    if not rows and not settings.json:
        settings.note(f"No finalized versions match in store {store.url}.")


def _skipped(error: DsopsError) -> None:
    """A listing went on without a corrupt record: say so on stderr, even with -q."""
    click.echo(f"Warning: skipped a corrupt record: {printable(str(error))}", err=True)


@cli.command()
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
    names = RefNames(store, {ds.id: ds.ref if ds.is_final else "(this draft)"})
    files: list[dict[str, Any]] = [
        {"path": p, "size": s, "hash": h, "origin": o, "origin_ref": names(o), "mtime": m}
        for p, s, h, o, m in zip(paths, sizes, hashes, origins, mtimes)
    ]
    cells = [[f["path"], human_size(f["size"]), f["hash"][:12], f["origin_ref"]] for f in files]
    text = table(["PATH", "SIZE", "HASH", "ORIGIN"], cells, right=(1,))
    total = f"{plural(len(files), 'file')}, {human_size(sum(sizes))}"
    settings.emit(files, f"{text}\n{total}", essential=True)


def _rows(table_: Any, columns: Sequence[str]) -> list[dict[str, Any]]:
    data = table_.select(list(columns)).to_pydict()
    return [dict(zip(columns, values)) for values in zip(*(data[c] for c in columns))]


@cli.command()
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


@cli.command()
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


@cli.command()
@REF
@click.option("--deep", is_flag=True, help="Also download and re-hash every file's content.")
@global_options
@pass_settings
@fails_as("verify {ref}")
def verify(settings: Settings, ref: str, deep: bool) -> None:
    """Check that a version's stored objects are intact.

    Exits 1, listing the damaged files, if any object is missing (or, with --deep,
    does not match its hash).

    \b
    Example:
      dsops verify vision/cats@prod --deep
    """
    ds = Dataset.get(ref, store=settings.store())
    result = ds.verify(deep=deep)
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
    settings.emit(document, "\n".join(problems) if problems else f"OK {ds.ref}: {checked}")
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


@cli.command()
@REF
@click.argument("alias_name", metavar="NAME")
@global_options
@pass_settings
@fails_as("point {alias_name} at {ref}")
def alias(settings: Settings, ref: str, alias_name: str) -> None:
    """Point an alias (e.g. prod) at a version, creating or moving it.

    The alias is then usable as project/name@NAME; its history is kept.

    \b
    Example:
      dsops alias vision/cats@1.0.2 prod
    """
    ds = Dataset.get(ref, store=settings.store())
    check_alias(alias_name)
    previous = ds.set_alias(alias_name)
    if previous is None:
        status = "new alias"
    elif previous == ds.id:
        status = "unchanged"
    else:
        status = f"was {RefNames(settings.store())(previous)}"
    document = {
        "alias": alias_name,
        "ref": f"{ds.project}/{ds.name}@{alias_name}",
        "version_id": ds.id,
        "version": ds.version,
        "previous": previous,
    }
    settings.emit(document, printable(f"{document['ref']} → {ds.ref} ({status})"))


@cli.command()
@click.option(
    "--grace",
    default="7d",
    show_default=True,
    metavar="AGE",
    help="Only remove what is older than this (e.g. 12h, 7d, 3600s).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@global_options
@pass_settings
@fails_as("collect garbage")
def gc(settings: Settings, grace: str, dry_run: bool) -> None:
    """Remove what crashes and finished drafts leave behind in the store.

    Finalized drafts' parts, drafts abandoned for longer than --grace, unreferenced
    packs/objects and dangling version claims. Recent content is always kept, so running
    it beside active pipelines is safe.

    \b
    Example:
      dsops gc --grace 3d --dry-run
    """
    from dsops.gc import collect_garbage

    seconds = _parse_age(grace)
    result = collect_garbage(settings.store(), grace_seconds=seconds, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    settings.emit(
        result.to_dict(),
        f"{verb}: {plural(len(result.finalized_drafts), 'finalized draft')}, "
        f"{plural(len(result.abandoned_drafts), 'abandoned draft')}, "
        f"{plural(len(result.objects), 'object')} ({human_size(result.freed_bytes)}), "
        f"{plural(len(result.claims), 'dangling claim')}",
    )


def _parse_age(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    raw = text.strip().lower()
    unit = raw[-1:] if raw[-1:] in units else "s"
    number = raw[:-1] if raw[-1:] in units else raw
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an age: write a number with s, m, h, d or w (e.g. 7d)."
        ) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise click.BadParameter(
            f"{text!r} is not allowed: the grace period must be a finite age ≥ 0 (e.g. 7d); "
            "a negative one would delete live drafts."
        )
    return seconds


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at startup).",
)
@click.option(
    "--token",
    envvar="DSOPS_UI_TOKEN",
    help="Access token the browser must present (default: $DSOPS_UI_TOKEN).",
)
@global_options
@pass_settings
@fails_as("start the web UI")
def ui(settings: Settings, host: str, port: int, token: str | None) -> None:
    """Serve the read-only web UI over the store.

    \b
    Example:
      dsops ui --store s3://datasets --port 8765
    """
    try:
        module = importlib.import_module("dsops.ui")
    except ModuleNotFoundError as exc:
        if exc.name in ("dsops.ui", None):
            raise OperationFailed(
                "the web UI is not available in this installation yet: use the other "
                "commands (list, ls, lineage) or upgrade dsops."
            ) from exc
        raise OperationFailed(
            f"the web UI needs {exc.name}, which is not installed: pip install 'dsops[ui]'."
        ) from exc
    serve = getattr(module, "serve", None)
    if serve is None:
        raise OperationFailed(
            "the web UI is not available in this installation yet (dsops.ui has no serve): "
            "use the other commands (list, ls, lineage) or upgrade dsops."
        )
    serve(store=settings.store(), host=host, port=port, token=token)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``dsops``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="dsops")


if __name__ == "__main__":
    main()
