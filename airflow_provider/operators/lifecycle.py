"""Remove versions: ``PruneDatasetOperator`` (retention) and ``DeleteDatasetOperator``.

Both are thin wrappers over ``Dataset.prune`` and ``Dataset.delete`` (docs/FORMAT.md,
"Delete"): a deleted version stops resolving and leaves every listing, its children keep
reading back exactly, and its storage is reclaimed later by gc. Each returns the ids of
the versions it deleted (an XCom list) and pushes their references as XCom
``deleted_refs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider._common import optional_text, require_text
from airflow_provider.operators.base import DsopsBaseOperator
from dsops import Dataset
from dsops.errors import ConfigError

REFS_XCOM_KEY = "deleted_refs"


class PruneDatasetOperator(DsopsBaseOperator):
    """Apply a retention policy to ``project/name``; returns the deleted version ids.

    Deletes the versions beyond the newest ``keep_last`` that were also finalized longer
    ago than ``keep_within``; never a published one, nor (``keep_aliases``) one an alias
    points at (``latest`` included, so the newest always stays). At least one of
    ``keep_last`` / ``keep_within`` is required. A retry deletes what is left to delete.

    Args:
        project: Project of the dataset.
        name: Dataset name.
        keep_last: Keep the newest N versions (an int, or a rendered template of one).
        keep_within: Keep versions finalized within this age: ``"30d"``, ``"12h"``,
            ``"90m"``, ``"2w"``, or a ``timedelta``; empty means no age rule.
        keep_aliases: Keep every version an alias points at.
        dry_run: Delete nothing; return (and push) what would be deleted.
        dsops_conn_id: Connection of type ``dsops``.

    Example:
        >>> PruneDatasetOperator(task_id="prune", project="demo", name="events",
        ...                      keep_last=7, keep_within="30d").template_fields
        ('project', 'name', 'keep_last', 'keep_within')
    """

    template_fields: Sequence[str] = ("project", "name", "keep_last", "keep_within")

    def __init__(
        self,
        *,
        project: str,
        name: str,
        keep_last: int | str | None = None,
        keep_within: Any = None,
        keep_aliases: bool = True,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project = project
        self.name = name
        self.keep_last = keep_last
        self.keep_within = keep_within
        self.keep_aliases = keep_aliases
        # Not ``self.dry_run``: that is BaseOperator's own method (render templates only).
        self.report_only = dry_run

    def execute(self, context: Any) -> list[str]:
        project = require_text("project", self.project)
        name = require_text("name", self.name)
        keep_within = self.keep_within
        if keep_within is None or isinstance(keep_within, str):
            keep_within = optional_text("keep_within", keep_within)
        deleted = Dataset.prune(
            project,
            name,
            keep_last=_whole_number("keep_last", self.keep_last),
            keep_within=keep_within,
            keep_aliases=self.keep_aliases,
            dry_run=self.report_only,
            store=self.hook.store,
        )
        self.log.info(
            "%s %d version(s) of %s/%s (keep_last=%s, keep_within=%s): %s",
            "Would delete" if self.report_only else "Deleted",
            len(deleted),
            project,
            name,
            self.keep_last,
            keep_within,
            ", ".join(v["ref"] for v in deleted) or "none",
        )
        return _report(self, context, deleted)


class DeleteDatasetOperator(DsopsBaseOperator):
    """Delete one version, or a whole dataset; returns the deleted version ids.

    A version that is published, that another version names as a parent, or that an
    alias other than ``latest`` points at is refused (``ProtectedVersion``) unless
    ``force``; its children keep reading back exactly either way. ``latest`` moves back
    to the highest remaining version.

    Args:
        ref: The version: an id (e.g. ``"{{ ti.xcom_pull('finalize') }}"``) or a
            reference (``project/name@1.2.0``, ``project/name@latest``).
        project: With ``name`` and ``entire_dataset=True``: the dataset to delete whole.
        name: See ``project``.
        entire_dataset: Delete every version of ``project/name`` (needs ``force=True``).
        force: Delete even a published, parent or aliased version.
        dsops_conn_id: Connection of type ``dsops``.

    Example:
        >>> DeleteDatasetOperator(task_id="delete", ref="demo/events@1.0.0").template_fields
        ('ref', 'project', 'name')
    """

    template_fields: Sequence[str] = ("ref", "project", "name")

    def __init__(
        self,
        *,
        ref: str | None = None,
        project: str | None = None,
        name: str | None = None,
        entire_dataset: bool = False,
        force: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.ref = ref
        self.project = project
        self.name = name
        self.entire_dataset = entire_dataset
        self.force = force

    def execute(self, context: Any) -> list[str]:
        ref = optional_text("ref", self.ref)
        project = optional_text("project", self.project)
        name = optional_text("name", self.name)
        if self.entire_dataset:
            if ref is not None or project is None or name is None:
                raise ConfigError(
                    "entire_dataset=True deletes a whole dataset: pass project= and name= "
                    "(and no ref)."
                )
        elif ref is None or project is not None or name is not None:
            # Never fall back to "latest": a template rendering empty must delete nothing.
            raise ConfigError(
                f"DeleteDatasetOperator needs ref= (an id or project/name@version; got "
                f"{self.ref!r}), or project=, name= and entire_dataset=True."
            )
        deleted = Dataset.delete(
            ref,
            force=self.force,
            project=project,
            name=name,
            entire_dataset=self.entire_dataset,
            store=self.hook.store,
        )
        self.log.info("Deleted %s", ", ".join(f"{v['ref']} ({v['id']})" for v in deleted))
        return _report(self, context, deleted)


def _report(operator: DsopsBaseOperator, context: Any, deleted: list[dict[str, Any]]) -> list[str]:
    """Push the deleted references and an empty link; the ids are the return value."""
    ti = context.get("ti")
    if ti is not None:
        ti.xcom_push(key=REFS_XCOM_KEY, value=[v["ref"] for v in deleted])
    operator.push_link(context, None)  # a deleted version has no page
    return [str(v["id"]) for v in deleted]


def _whole_number(argument: str, value: Any) -> Any:
    """A rendered template of a whole number (``"7"``) as an int; empty as None."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not text.isdigit():
            raise ConfigError(f"{argument} must be a whole number ≥ 0, not {value!r}.")
        return int(text)
    return value
