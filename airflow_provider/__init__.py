"""Apache Airflow provider for dsops dataset versioning (Airflow 3, Task SDK).

Operators: ``airflow_provider.operators``; sensors: ``airflow_provider.sensors``;
hooks: ``airflow_provider.hooks``; Assets: ``airflow_provider.assets``.
Registered with Airflow through the ``apache_airflow_provider`` entry point.
"""

from __future__ import annotations

from typing import Any

import dsops

_INTEGRATION = "dsops"
_STRING = {"type": ["string", "null"]}


def _connection_type() -> dict[str, Any]:
    """The ``dsops`` connection form: declared here, read by Airflow 3.2+'s UI.

    Airflow 3.2 takes connection form fields from ``conn-fields`` and
    ``ui-field-behaviour`` in the provider info (``get_connection_form_widgets`` on the
    hook is deprecated there). Fields with ``"format": "password"`` are masked.
    """
    return {
        "connection-type": "dsops",
        "hook-class-name": "airflow_provider.hooks.dsops.DsopsHook",
        "hook-name": "dsops dataset store",
        "conn-fields": {
            "endpoint_url": {
                "label": "S3 endpoint URL",
                "description": "For S3-compatible servers (SeaweedFS, MinIO, …); empty for AWS.",
                "schema": _STRING,
            },
            "region": {"label": "S3 region", "schema": _STRING},
            "session_token": {
                "label": "S3 session token",
                "description": "For temporary credentials.",
                "schema": {"type": ["string", "null"], "format": "password"},
            },
            "profile": {"label": "AWS profile", "schema": _STRING},
            "aws_conn_id": {
                "label": "AWS connection id",
                "description": "Reuse the credentials, region and endpoint of this aws "
                "connection instead of the keys above.",
                "schema": _STRING,
            },
            "cache_dir": {
                "label": "Local cache folder",
                "description": "Default: $DSOPS_CACHE_DIR or the user cache directory.",
                "schema": _STRING,
            },
            "ui_base_url": {
                "label": "dsops web UI URL",
                "description": "Enables the task's 'dsops' link (else $DSOPS_UI_URL).",
                "schema": _STRING,
            },
        },
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port"],
            "relabeling": {
                "host": "Store URL",
                "login": "S3 access key id",
                "password": "S3 secret access key",
            },
            "placeholders": {
                "host": "s3://bucket/datasets or /mnt/nfs/datasets",
                "login": "empty: boto3's default credentials",
                "password": "empty: boto3's default credentials",
                "endpoint_url": "http://127.0.0.1:8333",
                "region": "us-east-1",
                "aws_conn_id": "aws_default",
                "ui_base_url": "http://dsops-ui.internal:8000",
            },
        },
    }


def get_provider_info() -> dict[str, Any]:
    """Provider metadata read by Airflow's providers manager (entry point)."""
    return {
        "package-name": "dsops",
        "name": "dsops",
        "description": (
            "Dataset versioning for ML pipelines: create, add, sync, finalize, fetch, prune, "
            "delete."
        ),
        "versions": [dsops.__version__],
        "integrations": [
            {
                "integration-name": _INTEGRATION,
                "external-doc-url": "https://github.com/dsops/dsops/blob/main/docs/AIRFLOW.md",
                "tags": ["software"],
            }
        ],
        "operators": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": [
                    "airflow_provider.operators.create",
                    "airflow_provider.operators.files",
                    "airflow_provider.operators.finalize",
                    "airflow_provider.operators.fetch",
                    "airflow_provider.operators.lifecycle",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider.sensors.version"],
            }
        ],
        "hooks": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider.hooks.dsops"],
            }
        ],
        "triggers": [
            {
                "integration-name": _INTEGRATION,
                "python-modules": ["airflow_provider.triggers.version"],
            }
        ],
        "connection-types": [_connection_type()],
        "extra-links": ["airflow_provider.links.DsopsVersionLink"],
        "asset-uris": [
            {
                "schemes": ["dsops"],
                "handler": "airflow_provider.assets.sanitize_uri",
                "factory": "airflow_provider.assets.create_asset",
                "to_openlineage_converter": "airflow_provider.assets.convert_asset_to_openlineage",
            }
        ],
    }
