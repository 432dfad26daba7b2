"""The dsops web UI inside Airflow 3: mounted in the API server, listed in the navigation.

Registered through the ``airflow.plugins`` entry point. The API server mounts the app at
``/dsops`` (``fastapi_apps``) and Airflow's UI shows a "Datasets" entry that opens it
(``external_views``). Every request, including ``/dsops/openapi.json`` and downloads, needs an
Airflow user allowed to read assets (a dataset version is what Airflow calls an asset):
the JWT comes from the ``Authorization: Bearer`` header or the ``_token`` cookie that
Airflow's UI sets at login, and Airflow's auth manager decides.

The store is that of the ``dsops_default`` connection (through the provider's
``DsopsHook``), else ``$DSOPS_STORE`` or the embedded local store.
It is opened on the first request, never when a scheduler or worker imports plugins.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from airflow_provider.hooks import DsopsHook
from dsops.store import Store

URL_PREFIX = "/dsops"
CONN_ID = "dsops_default"


def connection_store(conn_id: str = CONN_ID) -> Store:
    """The store of connection ``conn_id``, read by :class:`DsopsHook` (every field it
    knows: keys, session token, profile, ``aws_conn_id``…); without that connection,
    ``$DSOPS_STORE`` or the embedded local store."""
    store: Store = DsopsHook(dsops_conn_id=conn_id).store
    return store


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

    return create_app(connection_store, authenticate=authenticate)


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
