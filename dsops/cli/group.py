"""The ``dsops`` command group: its help, ``--version``, and every command in order."""

from __future__ import annotations

from collections.abc import Sequence

import click

from dsops import __version__
from dsops.cli import admin, describe, fetch, inspect, lifecycle, versions
from dsops.cli.output import global_options


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


for _command in [
    *versions.COMMANDS,
    fetch.get,
    *inspect.COMMANDS,
    *lifecycle.COMMANDS,
    *describe.COMMANDS,
    *admin.COMMANDS,
]:
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``dsops``)."""
    cli.main(args=list(argv) if argv is not None else None, prog_name="dsops")
