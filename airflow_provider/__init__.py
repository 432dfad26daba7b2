"""Apache Airflow provider for dsops dataset versioning."""

from __future__ import annotations

from typing import Any

import dsops


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow's providers manager (entry point)."""
    return {
        "package-name": "dsops",
        "name": "dsops",
        "description": "Dataset versioning for ML pipelines: create, add, sync, finalize, fetch.",
        "versions": [dsops.__version__],
    }
