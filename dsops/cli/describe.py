"""Commands for what may change about a version besides its content: describe
(description and tags) and metadata set|get|ls|rm."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from dsops.cli.failures import OperationFailed, fails_as
from dsops.cli.output import (
    REF,
    Settings,
    global_options,
    local_time,
    pass_settings,
    stdout_is_terminal,
    table,
)
from dsops.dataset import Dataset
from dsops.render import human_size, printable


def _summary(ds: Dataset) -> dict[str, Any]:
    record = ds.to_dict()
    keys = ["id", "ref", "description", "tags", "published", "published_at", "metadata"]
    return {key: record.get(key) for key in keys}


def _summary_text(summary: dict[str, Any]) -> str:
    published = (
        f"yes (since {local_time(summary['published_at'])})" if summary["published"] else "no"
    )
    lines = [
        summary["ref"],
        f"description: {summary['description'] or '-'}",
        f"tags: {', '.join(summary['tags']) or '-'}",
        f"published: {published}",
        f"metadata: {', '.join(summary['metadata']) or '-'}",
    ]
    return "\n".join(printable(line) for line in lines)


@click.command()
@REF
@click.option("--description", metavar="TEXT", help="Replace the description.")
@click.option("--add-tag", "add_tags", multiple=True, metavar="T", help="Add a tag (repeatable).")
@click.option(
    "--remove-tag", "remove_tags", multiple=True, metavar="T", help="Remove a tag (repeatable)."
)
@global_options
@pass_settings
@fails_as("describe {ref}")
def describe(
    settings: Settings,
    ref: str,
    description: str | None,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
) -> None:
    """Show or change a version's description and tags (its content never changes).

    Without options it prints the description, tags, published flag and metadata names.

    \b
    Example:
      dsops describe vision/cats@1.0.2 --description "cleaned labels" --add-tag clean
      dsops describe vision/cats@1.0.2
    """
    ds = Dataset.get(ref, store=settings.store())
    if add_tags:  # first: it checks the tags before anything is written
        ds.add_tags(*add_tags)
    if remove_tags:
        ds.remove_tags(*remove_tags)
    if description is not None:
        ds.set_description(description)
    summary = _summary(ds)
    settings.emit(summary, _summary_text(summary), essential=True)


@click.group()
@global_options
def metadata() -> None:
    """Attach, read and list named metadata values of a version.

    A value is JSON (a dict or list), a table (a DataFrame, stored as Parquet) or bytes.
    Names are letters, digits, '.', '_', '-' (no '/', no '..').

    \b
    Example:
      dsops metadata set vision/cats@1.0.2 stats --json-value '{"mean": 0.45}'
      dsops metadata get vision/cats@1.0.2 stats
    """


@metadata.command(name="set")
@REF
@click.argument("name", metavar="NAME")
@click.argument("file", metavar="[FILE]", required=False, type=click.Path(dir_okay=False))
@click.option("--json-value", metavar="JSON", help="Store this inline JSON (an object or list).")
@click.option(
    "--parquet",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Store this Parquet file as a table (read back as a DataFrame).",
)
@global_options
@pass_settings
@fails_as("set metadata {name} of {ref}")
def set_metadata(
    settings: Settings,
    ref: str,
    name: str,
    file: str | None,
    json_value: str | None,
    parquet: str | None,
) -> None:
    """Set metadata NAME of a version: FILE's bytes, --json-value, or --parquet FILE.

    Setting a name again replaces its value; drafts and finalized versions alike.

    \b
    Example:
      dsops metadata set vision/cats@1.0.2 report ./report.pdf
      dsops metadata set vision/cats@1.0.2 classes --json-value '["cat", "dog"]'
      dsops metadata set vision/cats@1.0.2 stats --parquet ./stats.parquet
    """
    given = [source for source in (file, json_value, parquet) if source is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one value: FILE, --json-value JSON or --parquet FILE.")
    value: Any
    if json_value is not None:
        try:
            value = json.loads(json_value)
        except ValueError as exc:
            raise click.BadParameter(
                f"not valid JSON ({exc}).", param_hint="--json-value"
            ) from None
        if not isinstance(value, (dict, list)):
            raise click.BadParameter(
                "metadata JSON is an object or a list, e.g. '{\"mean\": 0.45}'.",
                param_hint="--json-value",
            )
    elif parquet is not None:
        import pandas as pd  # only here: most commands never need it

        value = pd.read_parquet(parquet)
    else:
        value = Path(str(file)).read_bytes()
    ds = Dataset.get(ref, store=settings.store())
    ds.set_metadata(value, name=name)
    kind = "json" if isinstance(value, (dict, list)) else "bytes"
    kind = "parquet" if parquet is not None else kind
    document = {"id": ds.id, "ref": ds.ref, "name": name, "kind": kind}
    settings.emit(document, printable(f"Set metadata {name} ({kind}) of {ds.ref}"))


@metadata.command(name="get")
@REF
@click.argument("name", metavar="NAME")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write the value to FILE (bytes as stored, JSON pretty, a table as Parquet).",
)
@global_options
@pass_settings
@fails_as("get metadata {name} of {ref}")
def get_metadata(settings: Settings, ref: str, name: str, output: str | None) -> None:
    """Print metadata NAME of a version: JSON pretty, a table as a table, bytes raw.

    Bytes go to -o FILE, or to stdout when it is not a terminal (a pipe or a file).

    \b
    Example:
      dsops metadata get vision/cats@1.0.2 stats
      dsops metadata get vision/cats@1.0.2 report -o report.pdf
    """
    value = Dataset.get(ref, store=settings.store()).get_metadata(name)
    if isinstance(value, (dict, list)):
        text = json.dumps(value, indent=2, ensure_ascii=False)
        _show(settings, output, name, "json", value, text)
    elif isinstance(value, bytes):
        _show_bytes(settings, output, name, value)
    else:  # a DataFrame
        if output is not None:
            value.to_parquet(output, compression="zstd")
        rows = json.loads(value.to_json(orient="records", date_format="iso"))
        cells = [[str(v) for v in row] for row in value.astype(str).itertuples(index=False)]
        text = table([str(c) for c in value.columns], cells)
        _show(settings, output, name, "parquet", rows, text, written=output is not None)


def _show(
    settings: Settings,
    output: str | None,
    name: str,
    kind: str,
    value: Any,
    text: str,
    *,
    written: bool = False,
) -> None:
    if output is not None and not written:
        Path(output).write_text(text + "\n", encoding="utf-8")
    if output is not None:
        settings.emit({"name": name, "kind": kind, "path": output}, None)
        settings.note(f"Wrote metadata {name} ({kind}) to {output}")
        return
    settings.emit({"name": name, "kind": kind, "value": value}, text, essential=True)


def _show_bytes(settings: Settings, output: str | None, name: str, value: bytes) -> None:
    if output is not None:
        Path(output).write_bytes(value)
        settings.emit({"name": name, "kind": "bytes", "size": len(value), "path": output}, None)
        settings.note(f"Wrote metadata {name} (bytes, {human_size(len(value))}) to {output}")
        return
    if settings.json:
        raise OperationFailed(
            f"cannot print metadata {name} with --json: it is bytes ({human_size(len(value))}); "
            "write it with -o FILE."
        )
    if stdout_is_terminal():
        raise OperationFailed(
            f"cannot print metadata {name} on a terminal: it is bytes "
            f"({human_size(len(value))}); write it with -o FILE or redirect stdout."
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(value)
    sys.stdout.buffer.flush()


@metadata.command(name="ls")
@REF
@global_options
@pass_settings
@fails_as("list the metadata of {ref}")
def list_metadata(settings: Settings, ref: str) -> None:
    """List the names of a version's metadata.

    \b
    Example:
      dsops metadata ls vision/cats@1.0.2
    """
    names = Dataset.get(ref, store=settings.store()).list_metadata()
    settings.emit(names, "\n".join(printable(n) for n in names) or None, essential=True)


@metadata.command(name="rm")
@REF
@click.argument("name", metavar="NAME")
@global_options
@pass_settings
@fails_as("remove metadata {name} of {ref}")
def remove_metadata(settings: Settings, ref: str, name: str) -> None:
    """Forget metadata NAME of a version (gc reclaims its bytes later).

    \b
    Example:
      dsops metadata rm vision/cats@1.0.2 stats
    """
    ds = Dataset.get(ref, store=settings.store())
    if not ds.remove_metadata(name):
        known = ", ".join(ds.list_metadata()) or "none"
        raise OperationFailed(
            f"cannot remove metadata {name} of {ds.ref}: it has no such metadata (it has: {known})."
        )
    settings.emit({"id": ds.id, "ref": ds.ref, "name": name, "removed": True}, f"Removed {name}")


COMMANDS = [describe, metadata]
