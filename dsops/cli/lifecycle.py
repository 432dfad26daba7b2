"""Commands that change a dataset over its life: delete, prune, publish, rename, move.

The destructive ones (delete, prune, rename, move) say exactly what they will do and
ask first on a terminal (``--yes`` skips the question; scripts are never asked).
"""

from __future__ import annotations

from typing import Any

import click

from dsops.cli.failures import OperationFailed, fails_as
from dsops.cli.output import (
    DATASET,
    REF,
    YES,
    Settings,
    complete_ref,
    confirm,
    global_options,
    pass_settings,
)
from dsops.dataset import Dataset
from dsops.render import plural, printable


def _refs(records: list[dict[str, Any]]) -> str:
    return ", ".join(printable(r["ref"]) for r in records) or "nothing"


def _version_lines(records: list[dict[str, Any]]) -> list[str]:
    return [f"{r['ref']}  {r['id']}  finalized {r['finalized_at'] or '-'}" for r in records]


@click.command()
@click.argument("refs", metavar="[REF]...", nargs=-1, shell_complete=complete_ref)
@click.option("--project", help="With --entire-dataset: the dataset's project.")
@click.option("--name", help="With --entire-dataset: the dataset's name.")
@click.option("--entire-dataset", is_flag=True, help="Delete every version of --project/--name.")
@click.option(
    "--force",
    is_flag=True,
    help="Also delete published versions, parents of other versions, and versions an "
    "alias points at (the alias is cleared). Required with --entire-dataset.",
)
@YES
@global_options
@pass_settings
@fails_as("delete")
def delete(
    settings: Settings,
    refs: tuple[str, ...],
    project: str | None,
    name: str | None,
    entire_dataset: bool,
    force: bool,
    yes: bool,
) -> None:
    """Delete versions, or with --entire-dataset a whole dataset.

    A published version, a parent of another version, or one an alias other than
    latest points at is refused unless --force; children keep reading back exactly.
    latest moves back to the highest remaining version; labels are never reused.

    \b
    Example:
      dsops delete vision/cats@1.0.3 vision/cats@1.0.4
      dsops delete --project vision --name cats --entire-dataset --force --yes
    """
    store = settings.store()
    if entire_dataset:
        if refs or not project or not name:
            raise click.UsageError("--entire-dataset takes --project and --name, and no REF.")
        if not force:
            raise click.UsageError(
                "--entire-dataset deletes every version, published ones included: "
                "add --force to confirm that is meant."
            )
        versions = Dataset.list(project, name, store=store)
        confirm(
            yes,
            f"Delete dataset {project}/{name} entirely ({plural(len(versions), 'version')})?",
            _version_lines(versions),
        )
        deleted = Dataset.delete(
            project=project, name=name, entire_dataset=True, force=True, store=store
        )
    else:
        if project or name:
            raise click.UsageError("--project/--name go with --entire-dataset; else give REFs.")
        if not refs:
            raise click.UsageError("give at least one REF (or --entire-dataset).")
        targets = _check_deletable([Dataset.get(ref, store=store) for ref in refs], force, store)
        rows = [t.to_dict() for t in targets]
        confirm(yes, f"Delete {plural(len(rows), 'version')}?", _version_lines(rows))
        deleted = [gone for t in targets for gone in Dataset.delete(t, force=force)]
    settings.emit(deleted, f"Deleted {_refs(deleted)}")


def _check_deletable(targets: list[Dataset], force: bool, store: Any) -> list[Dataset]:
    """The versions to delete, children first, once checked all together so a refusal
    comes before anything is deleted (``Dataset.delete`` checks each one again)."""
    unique = list({t.id: t for t in targets}.values())
    for target in unique:
        if not target.is_final:
            raise OperationFailed(
                f"cannot delete {target.id}: it is an open draft, not a finalized version "
                "(`dsops gc` removes drafts abandoned for the grace period)."
            )
    chosen = {t.id for t in unique}
    if not force:
        live = Dataset.list(store=store)
        for target in unique:
            kids = [r["ref"] for r in live if target.id in r["parents"] and r["id"] not in chosen]
            aliases = [a for a in target.aliases() if a != "latest"]
            why = ""
            if target.is_published:
                why = "it is published"
            elif kids:
                why = f"it is the parent of {', '.join(kids[:3])}{' …' if len(kids) > 3 else ''}"
            elif aliases:
                why = f"alias(es) {', '.join(aliases)} point at it (move them with dsops alias)"
            if why:
                raise OperationFailed(
                    f"cannot delete {printable(target.ref)}: {why}; pass --force to delete it "
                    "anyway. Nothing was deleted."
                )
    # Children before parents: each delete then passes the parent rule on its own.
    return sorted(unique, key=lambda t: t.to_dict()["finalized_at"] or "", reverse=True)


@click.command()
@click.option("--project", required=True, help="The dataset's project.")
@click.option("--name", required=True, help="The dataset's name.")
@click.option("--keep-last", type=click.IntRange(min=0), metavar="K", help="Keep the newest K.")
@click.option("--keep-within", metavar="AGE", help="Keep versions finalized within AGE (30d, 12h).")
@click.option(
    "--no-keep-aliases",
    "keep_aliases",
    flag_value=False,
    default=True,
    help="Also delete versions an alias points at (latest is always kept by --keep-last).",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@YES
@global_options
@pass_settings
@fails_as("prune {project}/{name}")
def prune(
    settings: Settings,
    project: str,
    name: str,
    keep_last: int | None,
    keep_within: str | None,
    keep_aliases: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Apply a retention policy: delete versions beyond --keep-last and older than
    --keep-within.

    At least one of them is required. Published versions are always kept, and (unless
    --no-keep-aliases) every version an alias points at.

    \b
    Example:
      dsops prune --project vision --name cats --keep-last 7 --keep-within 30d --dry-run
    """
    store = settings.store()
    policy: dict[str, Any] = {
        "keep_last": keep_last,
        "keep_within": keep_within,
        "keep_aliases": keep_aliases,
    }
    plan = Dataset.prune(project, name, **policy, dry_run=True, store=store)
    deleted = plan
    if plan and not dry_run:
        confirm(
            yes, f"Prune {plural(len(plan), 'version')} of {project}/{name}?", _version_lines(plan)
        )
        deleted = Dataset.prune(project, name, **policy, store=store)
        if {d["id"] for d in deleted} != {d["id"] for d in plan}:
            settings.note(
                "Note: the dataset changed since the plan was shown (a concurrent writer); "
                "the policy was applied to what is there now — see the list of deleted."
            )
    verb = "Would delete" if dry_run else "Deleted"
    settings.emit({"dry_run": dry_run, "deleted": deleted}, f"{verb} {_refs(deleted)}")


@click.command()
@REF
@global_options
@pass_settings
@fails_as("publish {ref}")
def publish(settings: Settings, ref: str) -> None:
    """Mark a finalized version published: delete and prune then refuse it.

    Publishing again is harmless (the first time is kept); delete --force still works.

    \b
    Example:
      dsops publish vision/cats@1.0.2
    """
    ds = Dataset.get(ref, store=settings.store())
    ds.publish()
    record = ds.to_dict()
    settings.emit(record, f"Published {printable(ds.ref)} (since {record['published_at']})")


def _rename(
    settings: Settings, dataset: tuple[str, str], target: tuple[str, str], yes: bool
) -> None:
    (project, name), (new_project, new_name) = dataset, target
    store = settings.store()
    versions = Dataset.list(project, name, store=store)
    confirm(
        yes,
        f"Rename dataset {project}/{name} to {new_project}/{new_name} "
        f"({plural(len(versions), 'version')}; the old name is retired for good)?",
    )
    if new_project == project:
        result = Dataset.rename(project, name, new_name, store=store)
    else:
        result = Dataset.move(project, name, new_project, store=store)
    to = result["to"]
    settings.emit(result, printable(f"{project}/{name} → {to['project']}/{to['name']}"))


@click.command()
@DATASET
@click.argument("new_name", metavar="NEW_NAME")
@YES
@global_options
@pass_settings
@fails_as("rename {dataset[0]}/{dataset[1]}")
def rename(settings: Settings, dataset: tuple[str, str], new_name: str, yes: bool) -> None:
    """Rename dataset DATASET (project/name) to project/NEW_NAME.

    Every version, label and alias follows; ids never change; the old name stops
    resolving (it names the new one in the error) and is never reused.

    \b
    Example:
      dsops rename vision/cats felines
    """
    _rename(settings, dataset, (dataset[0], new_name), yes)


@click.command()
@DATASET
@click.argument("new_project", metavar="NEW_PROJECT")
@YES
@global_options
@pass_settings
@fails_as("move {dataset[0]}/{dataset[1]}")
def move(settings: Settings, dataset: tuple[str, str], new_project: str, yes: bool) -> None:
    """Move dataset DATASET (project/name) to NEW_PROJECT/name, as rename does.

    \b
    Example:
      dsops move vision/cats archive/vision
    """
    _rename(settings, dataset, (new_project, dataset[1]), yes)


COMMANDS = [delete, prune, publish, rename, move]
