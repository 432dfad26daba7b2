"""ClearML's ``output_uri`` / ``--storage`` values as dsops stores."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from dsops.store import Store

StoreLike = Store | str | None

_AZURE_HOST = ".blob.core.windows.net"


def store_url(uri: str) -> tuple[str, dict[str, Any]]:
    """A dsops store URL (and backend options) for a ClearML storage URI.

    ``azure://<account>.blob.core.windows.net/<container>/<path>`` becomes
    ``az://<container>/<path>`` with ``account_name=<account>``; ``azure://c/p`` becomes
    ``az://c/p``. Every other URI (``s3://``, ``gs://``, ``az://``, a path) is kept.

    Example:
        >>> store_url("azure://acme.blob.core.windows.net/data/sets")
        ('az://data/sets', {'account_name': 'acme'})
        >>> store_url("s3://bucket/datasets")
        ('s3://bucket/datasets', {})
    """
    if not uri.startswith("azure://"):
        return uri, {}
    parts = urlsplit(uri)
    if parts.netloc.endswith(_AZURE_HOST):
        account = parts.netloc[: -len(_AZURE_HOST)]
        return f"az://{parts.path.lstrip('/')}".rstrip("/"), {"account_name": account}
    return "az://" + uri[len("azure://") :], {}


def clearml_store(store: StoreLike) -> Store:
    """A :class:`Store` from a Store, a ClearML storage URI, or None (the default store)."""
    if isinstance(store, Store):
        return store
    if store is None:
        return Store()
    url, options = store_url(store)
    return Store(url, **options)
