"""How a failed command ends: one line ``Error: cannot <action>: <why and what to do>``
on stderr, exit code 1, the traceback only with ``--debug``."""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from typing import IO, Any, TypeVar

import click

from dsops.cli.output import Settings
from dsops.errors import DsopsError, NotFinalized, VersionImmutable
from dsops.render import printable

F = TypeVar("F", bound=Callable[..., Any])

# The SDK's messages name the Python API; these add the matching command line.
_CLI_HINTS: dict[type[DsopsError], str] = {
    VersionImmutable: "From the shell: dsops create --project {project} --name {name} "
    "--parent {version_id}",
    NotFinalized: "From the shell: dsops finalize {version_id} (or copy a draft with "
    "dsops get {version_id} --to DIR).",
}


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
