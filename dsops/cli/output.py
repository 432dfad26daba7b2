"""What every command shares: the global options, the settings they fill, and output.

Results go to stdout (one JSON document with ``--json``), notes to stderr; tables show
control characters escaped; REFs complete from the store.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click
from click.shell_completion import CompletionItem

from dsops.errors import DsopsError, VersionNotFound
from dsops.render import human_size, printable, short_id

if TYPE_CHECKING:
    # Imported where used: `dsops --help` and `--version` must not pay for pyarrow.
    from dsops.drafts import ChangeSummary
    from dsops.progress import Callback
    from dsops.store import Store

F = TypeVar("F", bound=Callable[..., Any])


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
            from dsops.store import Store

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
        from dsops.cli.progress_bars import TqdmProgress

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


def stdin_is_terminal() -> bool:
    """Whether a question could be answered (``confirm`` asks only then)."""
    return _isatty(sys.stdin)


def stdout_is_terminal() -> bool:
    """True when stdout is a terminal (raw bytes would garble it)."""
    return _isatty(sys.stdout)


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
                from dsops.dataset import Dataset

                found = Dataset.get(version_id, store=self._store)
                self._names[version_id] = found.ref if found.is_final else "(draft)"
            except VersionNotFound:
                self._names[version_id] = f"{short_id(version_id)} (missing)"
        return self._names[version_id]


def complete_ref(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of REF: every version's ref and every alias."""
    settings = ctx.find_object(Settings) or Settings()
    try:
        from dsops.dataset import Dataset

        rows = Dataset.list(store=settings.store(), on_corrupt=lambda _error: None)
    except (DsopsError, OSError):
        return []
    refs = {r["ref"] for r in rows}
    refs |= {f"{r['project']}/{r['name']}@{a}" for r in rows for a in r["aliases"]}
    return [CompletionItem(ref) for ref in sorted(refs) if ref.startswith(incomplete)]


REF = click.argument("ref", metavar="REF", shell_complete=complete_ref)


# --- datasets and confirmation (lifecycle verbs) ----------------------------------------


def parse_dataset(ctx: click.Context | None, param: click.Parameter | None, text: str) -> Any:
    """A DATASET argument, ``project/name`` (a REF without ``@``), as ``(project, name)``."""
    from dsops.catalog import DatasetRef, is_version_id

    if "@" in text or is_version_id(text.strip()):
        raise click.BadParameter(
            f"{text!r} names a version: give the dataset as project/name (no @ or id), "
            "e.g. vision/cats.",
            ctx,
            param,
        )
    try:
        parsed = DatasetRef.parse(text)
    except DsopsError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return parsed.project, parsed.name


def complete_dataset(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of DATASET: every dataset's ``project/name``."""
    refs = complete_ref(ctx, param, incomplete)
    names = {item.value.partition("@")[0] for item in refs}
    return [CompletionItem(name) for name in sorted(names)]


DATASET = click.argument(
    "dataset", metavar="DATASET", callback=parse_dataset, shell_complete=complete_dataset
)

YES = click.option(
    "--yes", "-y", is_flag=True, help="Do not ask for confirmation (never asked off a TTY)."
)


def confirm(yes: bool, what: str, details: Sequence[str] = ()) -> None:
    """Ask before a destructive change when stdin is a terminal and ``--yes`` is absent.

    ``what`` and ``details`` (one line each) say exactly what will happen; they and the
    prompt go to stderr, so ``--json`` output stays one document. Declining exits 1
    with nothing changed. Scripts (stdin not a terminal) are never asked.
    """
    if yes or not _isatty(sys.stdin):
        return
    for line in details:
        click.echo(f"  {printable(line)}", err=True)
    if not click.confirm(printable(what), default=False, err=True):
        raise click.ClickException("cancelled: nothing was changed.")
