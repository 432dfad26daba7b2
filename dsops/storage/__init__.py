"""Object stores: the interface, the local backend, and URL → backend resolution."""

from __future__ import annotations

import importlib
from typing import Any
from urllib.parse import unquote, urlparse

from dsops.errors import ConfigError, MissingDependency
from dsops.storage.base import ObjectInfo, ObjectStore, check_key, dump_json
from dsops.storage.local import LocalStore

# scheme → (module, class, extra that provides its dependencies)
_BACKENDS: dict[str, tuple[str, str, str | None]] = {
    "s3": ("dsops.storage.s3", "S3Store", None),
    "gs": ("dsops.storage.fsspec_store", "FsspecStore", "gcs"),
    "gcs": ("dsops.storage.fsspec_store", "FsspecStore", "gcs"),
    "az": ("dsops.storage.fsspec_store", "FsspecStore", "azure"),
    "abfs": ("dsops.storage.fsspec_store", "FsspecStore", "azure"),
    "abfss": ("dsops.storage.fsspec_store", "FsspecStore", "azure"),
}


def open_store(url: str, **options: Any) -> ObjectStore:
    """Open the backend for ``url``: a path, ``file://…``, ``s3://…``, ``gs://…``, ``az://…``.

    Example:
        >>> store = open_store("/tmp/dsops-doc-store")
        >>> type(store).__name__
        'LocalStore'
    """
    if not url or not str(url).strip():
        raise ConfigError("Empty store URL: pass a path or a URL such as s3://bucket/prefix.")
    url = str(url).strip()
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):
        if options:
            raise ConfigError(
                f"Options {sorted(options)} do not apply to a local store ({url}).",
                options=sorted(options),
            )
        path = unquote(parsed.path) if scheme == "file" else url
        if scheme == "file" and parsed.netloc not in ("", "localhost"):
            raise ConfigError(f"file:// URLs name a local path; got host {parsed.netloc!r}.")
        return LocalStore(path)
    if scheme not in _BACKENDS:
        raise ConfigError(
            f"Unknown store scheme {scheme!r} in {url!r}: use a path, file://, s3://, gs:// "
            "or az://.",
            url=url,
        )
    module_name, class_name, extra = _BACKENDS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'dsops[{extra}]'" if extra else "pip install dsops"
        raise MissingDependency(
            f"The {scheme}:// store needs a package that is not installed ({exc.name}): "
            f"run {hint}.",
            scheme=scheme,
            extra=extra,
        ) from exc
    backend: ObjectStore = getattr(module, class_name)(url, **options)
    return backend


__all__ = ["LocalStore", "ObjectInfo", "ObjectStore", "check_key", "dump_json", "open_store"]
