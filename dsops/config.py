"""Where things live when the caller does not say: read at call time, never at import."""

from __future__ import annotations

import os
from pathlib import Path

from dsops.errors import ConfigError

ENV_STORE = "DSOPS_STORE"
ENV_CACHE_DIR = "DSOPS_CACHE_DIR"
ENV_CACHE_SIZE = "DSOPS_CACHE_SIZE"
ENV_UI_URL = "DSOPS_UI_URL"

DEFAULT_CACHE_SIZE = 100 * 1024**3

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def default_store_url() -> str:
    """``$DSOPS_STORE``, else the embedded local store under the user data directory."""
    url = os.environ.get(ENV_STORE, "").strip()
    if url:
        return url
    import platformdirs

    return str(Path(platformdirs.user_data_dir("dsops")) / "store")


def cache_dir() -> Path:
    """``$DSOPS_CACHE_DIR``, else the user cache directory."""
    configured = os.environ.get(ENV_CACHE_DIR, "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("dsops"))


def parse_size(text: str) -> int:
    """Parse ``"50G"``, ``"512MiB"``, ``"1024"`` into bytes."""
    raw = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = raw[-1:] if raw[-1:] in _UNITS else ""
    number = raw[: len(raw) - len(unit)] if unit else raw
    try:
        value = float(number)
    except ValueError:
        raise ConfigError(
            f"Cannot read {text!r} as a size; write bytes or a number with K, M, G or T "
            "(e.g. '50G').",
            value=text,
        ) from None
    return int(value * _UNITS[unit])


def cache_size_limit() -> int:
    """``$DSOPS_CACHE_SIZE`` in bytes, else 100 GiB."""
    configured = os.environ.get(ENV_CACHE_SIZE, "").strip()
    return parse_size(configured) if configured else DEFAULT_CACHE_SIZE


def ui_base_url(configured: str | None = None) -> str | None:
    """The web UI's base URL: ``configured``, else ``$DSOPS_UI_URL``; None if neither."""
    url = (configured or os.environ.get(ENV_UI_URL, "")).strip()
    return url.rstrip("/") or None


def version_page(base: str | None, version_id: str) -> str | None:
    """The web UI page of a version (``<base>/versions/<id>``), or None without a UI."""
    return f"{base.rstrip('/')}/versions/{version_id}" if base else None


def dataset_page(base: str | None, project: str, name: str) -> str | None:
    """The web UI page of a dataset (``<base>/datasets/<project>/<name>``), or None."""
    from urllib.parse import quote

    return f"{base.rstrip('/')}/datasets/{quote(project)}/{quote(name)}" if base else None
