"""Sources that are URLs: download an object-store prefix so it can be added like a folder.

Adding files reads local paths. A pipeline that ingests from a landing bucket
(``s3://landing/2024-05-01/``) downloads that prefix into a scratch folder first, then
adds the folder; the draft's own store can be somewhere else entirely.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dsops.disk import space_for
from dsops.errors import SourceNotFound
from dsops.progress import human_size
from dsops.storage import ObjectStore, open_store


def source_options(
    url: str, store_url: str, store_options: dict[str, Any], given: dict[str, Any] | None
) -> dict[str, Any]:
    """The backend options to read URL source ``url`` with — decided here only.

    ``given`` (the caller's ``source_options``, e.g. another connection's credentials)
    applies to every URL source. Without it, a source of the same kind as the dataset's
    store (``s3://`` landing bucket, ``s3://`` store) reuses the store's options — its
    endpoint and keys —, and any other kind gets none (its backend's own defaults).

    Example:
        >>> source_options("s3://landing/day", "s3://data", {"endpoint_url": "http://x"}, None)
        {'endpoint_url': 'http://x'}
        >>> source_options("gs://landing/day", "s3://data", {"endpoint_url": "http://x"}, None)
        {}
    """
    if given is not None:
        return dict(given)
    same_kind = urlparse(url).scheme.lower() == urlparse(store_url).scheme.lower()
    return dict(store_options) if same_kind else {}


def is_url(text: str | os.PathLike[str]) -> bool:
    """True for ``s3://``, ``gs://``, ``az://``, ``file://`` URLs; False for plain paths.

    Example:
        >>> is_url("s3://landing/today/"), is_url("/data/landing")
        (True, False)
    """
    if not isinstance(text, str):
        return False
    parsed = urlparse(text)
    return len(parsed.scheme) > 1 and text.startswith(f"{parsed.scheme}://")


@dataclass(frozen=True)
class DownloadResult:
    """What :func:`download_prefix` fetched."""

    url: str
    files: int
    bytes: int


def download_prefix(
    url: str,
    target: str | os.PathLike[str],
    *,
    workers: int = 8,
    select: Callable[[str], bool] | None = None,
    **options: Any,
) -> DownloadResult:
    """Download every object under ``url`` into ``target``, keeping relative paths.

    ``url`` names a prefix (``s3://bucket/landing/day``); when nothing lies below it but
    the URL names one object, that object is downloaded. ``select`` (a relative key →
    keep it?) downloads only part of what is listed (a shard): the others are never
    read, and a prefix none of whose objects is selected yields an empty ``target``.
    ``options`` are the backend's (``endpoint_url=``, ``access_key=`` … for S3).

    Example:
        >>> import tempfile, pathlib
        >>> src = pathlib.Path(tempfile.mkdtemp()); _ = (src / "a.txt").write_text("hi")
        >>> download_prefix(f"file://{src}", tempfile.mkdtemp()).files
        1
    """
    root = Path(target)
    backend = open_store(url.rstrip("/"), **options)
    try:
        keys = [(info.key, info.size) for info in backend.list("")]
        if keys:
            if select is not None:
                keys = [(key, size) for key, size in keys if select(key)]
            root.mkdir(parents=True, exist_ok=True)
            _fetch_all(backend, keys, root, workers)
            return DownloadResult(url, len(keys), sum(size for _, size in keys))
    finally:
        backend.close()
    return _download_object(url, root, select, **options)


def _download_object(
    url: str, root: Path, select: Callable[[str], bool] | None, **options: Any
) -> DownloadResult:
    """``url`` names one object rather than a prefix: download it alone."""
    parent, _, leaf = url.rstrip("/").rpartition("/")
    if leaf and not parent.endswith(":/"):
        backend = open_store(parent, **options)
        try:
            info = backend.head(leaf)
            root.mkdir(parents=True, exist_ok=True)
            if select is not None and not select(leaf):
                return DownloadResult(url, 0, 0)
            _fetch_all(backend, [(leaf, info.size)], root, 1)
            return DownloadResult(url, 1, info.size)
        except FileNotFoundError:
            pass
        finally:
            backend.close()
    raise SourceNotFound(
        f"Nothing found under {url}: check the URL, the prefix and the credentials.",
        path=url,
    )


_SCRATCH_FIX = "free space there, or set TMPDIR to a folder on a larger disk"


def _fetch_all(backend: ObjectStore, keys: list[tuple[str, int]], root: Path, workers: int) -> None:
    def fetch(key: str) -> None:
        path = root.joinpath(*key.split("/"))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            backend.get_file(key, path)
        except BaseException:
            path.unlink(missing_ok=True)  # no partial download left behind
            raise

    total = sum(size for _, size in keys)
    what = f"{len(keys)} downloaded source files ({human_size(total)}) from {backend.url}"
    # The caller's scratch folder is removed as a whole; DiskFull names it and the size.
    with (
        space_for(root, total, what, _SCRATCH_FIX),
        ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
    ):
        list(pool.map(fetch, [key for key, _ in keys]))


__all__ = ["DownloadResult", "download_prefix", "is_url"]
