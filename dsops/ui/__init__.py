"""The read-only web UI and JSON API over a store (``dsops ui``), and its Airflow plugin.

Needs the ``ui`` extra (``pip install 'dsops[ui]'``): FastAPI, uvicorn and Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsops.ui.server import require_ui_extra, serve

if TYPE_CHECKING:
    from fastapi import FastAPI

    from dsops.ui.context import StoreSource


def create_app(store: StoreSource, token: str | None = None, **options: Any) -> FastAPI:
    """The FastAPI app; see :func:`dsops.ui.app.create_app` for the options."""
    require_ui_extra()
    from dsops.ui.app import create_app as build

    return build(store, token, **options)


__all__ = ["create_app", "serve"]
