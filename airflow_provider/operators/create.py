"""``CreateDatasetOperator``: start a draft version; returns its id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider._common import optional_text, require_text, run_key, text_list
from airflow_provider.operators.base import DsopsBaseOperator
from dsops import Dataset


class CreateDatasetOperator(DsopsBaseOperator):
    """Start a draft of ``project/name`` and return its version id (an XCom string).

    Args:
        project: Project, optionally nested (``"vision/cats"``).
        name: Dataset name.
        parents: Version ids or references to inherit from; ``"latest"`` means this
            dataset's latest version (none on the first run).
        description: Free text.
        tags: Labels for search.
        version: Explicit semantic version (default: the next patch at finalize).
        keyed: Derive the draft id from (dag id, run id, task id, map index), so that a
            retry of this task reopens the draft its earlier attempt created instead of
            leaving an orphan. A run cleared after its draft was finalized gets a new
            draft. Set False for a fresh random draft on every attempt.
        dsops_conn_id: Connection of type ``dsops``.

    Example:
        >>> op = CreateDatasetOperator(task_id="create", project="demo", name="events",
        ...                            parents=["latest"])
        >>> op.template_fields
        ('project', 'name', 'parents', 'description', 'tags', 'version')
    """

    template_fields: Sequence[str] = (
        "project",
        "name",
        "parents",
        "description",
        "tags",
        "version",
    )

    def __init__(
        self,
        *,
        project: str,
        name: str,
        parents: str | Sequence[str] | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        version: str | None = None,
        keyed: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project = project
        self.name = name
        self.parents = parents
        self.description = description
        self.tags = tags
        self.version = version
        self.keyed = keyed

    def execute(self, context: Any) -> str:
        project = require_text("project", self.project)
        name = require_text("name", self.name)
        arguments: dict[str, Any] = {
            "parents": text_list("parents", self.parents),
            "store": self.hook.store,
            "description": optional_text("description", self.description) or "",
            "tags": text_list("tags", self.tags),
            "version": optional_text("version", self.version),
        }
        key = run_key(context) if self.keyed else None
        ds = Dataset.create(project, name, key=key, **arguments)
        self.log.info(
            "%s draft %s of %s/%s (parents: %s)",
            "Created" if ds.created else "Reopened the earlier attempt's",
            ds.id,
            project,
            name,
            ", ".join(ds.parents) or "none",
        )
        self.push_link(context, ds.id)
        return ds.id
