"""Commands that look after a store: alias, gc, ui."""

from __future__ import annotations

import importlib
import math

import click

from dsops.catalog import check_alias
from dsops.cli.failures import OperationFailed, fails_as
from dsops.cli.output import REF, RefNames, Settings, global_options, pass_settings
from dsops.dataset import Dataset
from dsops.render import human_size, plural, printable


@click.command()
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


@click.command()
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


@click.command()
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


COMMANDS = [alias, gc, ui]
