"""Commands that look after a store: alias, gc, ui."""

from __future__ import annotations

import importlib
import math
from typing import TYPE_CHECKING

import click

from dsops.catalog import check_alias
from dsops.cli.failures import OperationFailed, fails_as
from dsops.cli.output import (
    REF,
    YES,
    RefNames,
    Settings,
    confirm,
    global_options,
    pass_settings,
    stdin_is_terminal,
)
from dsops.dataset import Dataset
from dsops.render import human_size, plural, printable

if TYPE_CHECKING:
    from dsops.gc import GcResult


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
@YES
@global_options
@pass_settings
@fails_as("collect garbage")
def gc(settings: Settings, grace: str, dry_run: bool, yes: bool) -> None:
    """Reclaim storage: remove what deletes, crashes and finished drafts leave behind.

    Content no live version, open draft or metadata references (a deleted version's
    once it was deleted longer than --grace ago), finalized and deleted versions'
    drafts, drafts abandoned for longer than --grace, deleted versions' manifests and
    dangling version claims. Recent content is always kept, so running it beside active
    pipelines is safe. Labels of deleted versions are kept (never reused). On a terminal
    it shows what it will remove and asks first (--yes skips the question).

    \b
    Example:
      dsops gc --grace 3d --dry-run
      dsops gc --grace 3d --yes
    """
    from dsops.gc import collect_garbage

    seconds = _parse_age(grace)
    store = settings.store()
    if not dry_run and not yes and stdin_is_terminal():
        plan = collect_garbage(store, grace_seconds=seconds, dry_run=True)
        if _removes_anything(plan):
            confirm(yes, "Remove this garbage for good?", _gc_lines(plan))
    result = collect_garbage(store, grace_seconds=seconds, dry_run=dry_run)
    settings.emit(result.to_dict(), "\n".join(_gc_lines(result)))


def _removes_anything(result: GcResult) -> bool:
    return any(
        (
            result.finalized_drafts,
            result.abandoned_drafts,
            result.deleted_drafts,
            result.objects,
            result.claims,
            result.deleted_manifests,
            result.states,
            result.rolled_forward,
        )
    )


def _gc_lines(result: GcResult) -> list[str]:
    """What a collection removed (would remove), and what it could not free."""
    verb = "would remove" if result.dry_run else "removed"
    lines = [
        f"{verb}: {plural(len(result.finalized_drafts), 'finalized draft')}, "
        f"{plural(len(result.abandoned_drafts), 'abandoned draft')}, "
        f"{plural(len(result.objects), 'object')} ({human_size(result.freed_bytes)}), "
        f"{plural(len(result.claims), 'dangling claim')}",
        f"deleted versions: {plural(len(result.deleted_drafts), 'draft')}, "
        f"{plural(len(result.deleted_manifests), 'manifest')} "
        f"({len(result.kept_manifests)} kept: parents of live versions or drafts), "
        f"{plural(len(result.states), 'state document')}",
        f"freed {human_size(result.freed_bytes)}; held {human_size(result.held_bytes)} of "
        f"dead data in {plural(result.held_packs, 'partly live pack')}",
    ]
    if result.rolled_forward:
        done = "would complete" if result.dry_run else "completed"
        lines.append(f"{done} {plural(len(result.rolled_forward), 'interrupted delete')}")
    return lines


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
