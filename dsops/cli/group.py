"""The ``dsops`` command group: its help, ``--version``, and every command in order.

Commands are imported when they run: ``dsops --version`` and ``dsops --help`` import
neither pyarrow nor the SDK. The help line of each command is kept here, beside its
module; ``tests/unit/test_cli_start.py`` checks it against the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import IO, Any

import click

from dsops import __version__
from dsops.cli.output import global_options

# (name, module in dsops.cli, help line), in the order `dsops --help` lists them.
COMMANDS: list[tuple[str, str, str]] = [
    ("create", "versions", "Start a draft version and print its id."),
    ("add", "versions", "Add files or folders to a draft, or external files with --link URL."),
    ("remove", "versions", "Remove files matching glob patterns from a draft."),
    ("sync", "versions", "Mirror a local folder into a draft."),
    ("finalize", "versions", "Commit a draft; print its id and reference."),
    (
        "squash",
        "versions",
        "Merge versions into one new version with no parents; print its id and reference.",
    ),
    ("get", "fetch", "Fetch a version and print the local folder."),
    (
        "list",
        "inspect",
        "List finalized versions, oldest first (also available as `dsops search`).",
    ),
    ("search", "inspect", "Search versions (as list)."),
    ("ls", "inspect", "List a version's files with size, hash and origin."),
    ("diff", "inspect", "Show what changes from REF_A (old) to REF_B (new)."),
    ("lineage", "inspect", "Show a version's ancestry (every version it derives from)."),
    (
        "verify",
        "inspect",
        "Check that a version's stored objects are intact (and a local folder matches it).",
    ),
    ("delete", "lifecycle", "Delete versions, or with --entire-dataset a whole dataset."),
    (
        "prune",
        "lifecycle",
        "Apply a retention policy: delete versions beyond --keep-last and older than "
        "--keep-within.",
    ),
    (
        "publish",
        "lifecycle",
        "Mark a finalized version published: delete and prune then refuse it.",
    ),
    ("rename", "lifecycle", "Rename dataset DATASET (project/name) to project/NEW_NAME."),
    (
        "move",
        "lifecycle",
        "Move dataset DATASET (project/name) to NEW_PROJECT/name, as rename does.",
    ),
    (
        "describe",
        "describe",
        "Show or change a version's description and tags (its content never changes).",
    ),
    ("metadata", "describe", "Attach, read and list named metadata values of a version."),
    ("alias", "admin", "Point an alias (e.g. prod) at a version, creating or moving it."),
    (
        "gc",
        "admin",
        "Reclaim storage: remove what deletes, crashes and finished drafts leave behind.",
    ),
    ("ui", "admin", "Serve the read-only web UI over the store."),
]


class OneLineUsageError(click.UsageError):
    """A usage error shown as every refusal is: one line, naming the fix (exit 2)."""

    @classmethod
    def of(cls, exc: click.UsageError) -> OneLineUsageError:
        if isinstance(exc, cls):
            return exc
        return cls(exc.format_message(), exc.ctx)

    def show(self, file: IO[Any] | None = None) -> None:
        where = self.ctx.command_path if self.ctx is not None else "dsops"
        message = " ".join(self.format_message().split()).rstrip(".")  # one line
        click.echo(f"Error: {message} (see `{where} --help`).", file=file, err=True)


class DsopsGroup(click.Group):
    """Commands listed in the order above, each imported on first use; ``close`` is
    ``finalize``."""

    aliases = {"close": "finalize"}

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise OneLineUsageError.of(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise OneLineUsageError.of(exc) from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, _, _ in COMMANDS]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = self.aliases.get(cmd_name, cmd_name)
        if name not in self.commands:
            module = next((m for n, m, _ in COMMANDS if n == name), None)
            if module is None:
                return None
            for command in importlib.import_module(f"dsops.cli.{module}").COMMANDS:
                self.add_command(command)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table, without importing any command."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, line) for name, _, line in COMMANDS])


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


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``dsops``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="dsops")
