"""Sources on a store URL (a landing bucket prefix): download them, then add them."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dsops.errors import SourceNotFound
from dsops.storage import check_key, open_store

_REMOTE_SCHEMES = {"s3", "gs", "gcs", "az", "abfs", "abfss", "file"}


def is_remote(source: object) -> bool:
    """True for ``s3://…``, ``gs://…``, ``az://…``, ``file://…`` sources."""
    if not isinstance(source, str):
        return False
    return urlparse(source).scheme.lower() in _REMOTE_SCHEMES


def download_prefix(url: str, dest: Path, options: dict[str, Any], workers: int = 8) -> int:
    """Copy every object under ``url`` into ``dest`` (keys become relative paths)."""
    source = open_store(url, **options)
    keys = [info.key for info in source.list("")]
    if not keys:
        raise SourceNotFound(
            f"No object under {url}: check the URL and that the landing files exist.",
            path=url,
        )

    def fetch(key: str) -> None:
        target = dest / check_key(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        source.get_file(key, target)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(fetch, keys))
    source.close()
    return len(keys)


def scheme_of(url: str) -> str:
    scheme = urlparse(url).scheme.lower()
    return "local" if scheme in ("", "file") or os.path.isabs(url) else scheme
