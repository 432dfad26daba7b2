"""The ``dsops-clearml-data`` session state: the current dataset id and its store.

Like ``clearml-data`` (which keeps ``~/.clearml_data.json``), ``create`` remembers the
new dataset so later commands need no ``--id``; ``close`` and ``delete`` forget it. The
file is ``$DSOPS_CLEARML_STATE``, else ``<user config dir>/dsops/clearml-data.json``
(``~/.config/dsops/clearml-data.json`` on Linux, ``$XDG_CONFIG_HOME`` honoured):
``{"id": "<version id>" | null, "store": "<store URL>" | null}``.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

ENV_STATE = "DSOPS_CLEARML_STATE"


def state_path() -> Path:
    configured = os.environ.get(ENV_STATE, "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("dsops")) / "clearml-data.json"


def load() -> dict[str, Any]:
    """The saved state; ``{}`` when there is none or it is unreadable (it is a hint)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(dataset_id: str | None, store: str | None) -> None:
    """Replace the state atomically (a crash leaves the old file or the new one)."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".clearml-data-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"id": dataset_id, "store": store}, fh, sort_keys=True)
    os.replace(tmp, path)
