"""The dsops web UI inside Airflow 3: mounted in the API server, listed in the navigation.

Registered through the ``airflow.plugins`` entry point. The API server mounts the app at
``/dsops`` (``fastapi_apps``) and Airflow's UI shows a "Datasets" entry that opens it
(``external_views``). Every request, including ``/dsops/openapi.json`` and downloads, needs an
Airflow user allowed to read assets (a dataset version is what Airflow calls an asset):
the JWT comes from the ``Authorization: Bearer`` header or the ``_token`` cookie that
Airflow's UI sets at login, and Airflow's auth manager decides.

The store is that of the ``dsops_default`` connection (through the provider's
``DsopsHook`` when it is installed), else ``$DSOPS_STORE`` or the embedded local store.
It is opened on the first request, never when a scheduler or worker imports plugins.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dsops.store import Store

log = logging.getLogger(__name__)

URL_PREFIX = "/dsops"
CONN_ID = "dsops_default"


def open_store(conn_id: str = CONN_ID) -> Store:
    """The store of ``conn_id``; without that connection, ``$DSOPS_STORE`` or the default."""
    try:
        from airflow_provider.hooks import DsopsHook
    except ImportError:
        return _store_from_connection(conn_id)
    store: Store = DsopsHook(dsops_conn_id=conn_id).store
    return store


def _store_from_connection(conn_id: str) -> Store:
    """Read the connection without the provider: Host (or extra ``store_url``) is the URL."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        log.info("No %r connection: using DSOPS_STORE or the embedded store.", conn_id)
        return Store()
    extra = conn.extra_dejson or {}
    url = (extra.get("store_url") or conn.host or "").strip() or None
    options: dict[str, Any] = {}
    if url and url.startswith("s3://"):
        wanted = {
            "access_key": conn.login,
            "secret_key": conn.password,
            "endpoint_url": extra.get("endpoint_url"),
            "region": extra.get("region"),
        }
        options = {k: v for k, v in wanted.items() if v}
    return Store(url, cache_dir=extra.get("cache_dir") or None, **options)


async def authenticate(request: Request) -> Response | None:
    """Allow only an authenticated Airflow user who may read assets."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
    from airflow.api_fastapi.auth.managers.models.resource_details import AssetDetails
    from airflow.api_fastapi.core_api.security import resolve_user_from_token
    from fastapi import HTTPException

    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else None
    try:
        user = await resolve_user_from_token(token or request.cookies.get(COOKIE_NAME_JWT_TOKEN))
    except HTTPException as exc:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    if not get_auth_manager().is_authorized_asset(method="GET", details=AssetDetails(), user=user):
        return JSONResponse({"detail": "Forbidden: you may not read assets."}, status_code=403)
    return None


def build_app() -> Any:
    from dsops.ui.app import create_app

    return create_app(open_store, authenticate=authenticate)


class DsopsUIPlugin(AirflowPlugin):
    """Adds the dsops dataset browser to Airflow's API server and navigation."""

    name = "dsops"
    fastapi_apps = [{"app": build_app(), "url_prefix": URL_PREFIX, "name": "dsops datasets"}]
    external_views = [
        {
            "name": "Datasets",
            "href": f"{URL_PREFIX}/",
            "url_route": "dsops",
            "destination": "nav",
            "icon": f"{URL_PREFIX}/static/favicon.svg",
        }
    ]
