"""The FastAPI application: pages, static assets, the JSON API, errors as JSON."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

import dsops
from dsops.errors import (
    DiskFull,
    DsopsError,
    IntegrityError,
    InvalidPath,
    InvalidReference,
    ManifestError,
    MetadataNotFound,
    MissingDependency,
    StoreError,
    VersionDeleted,
    VersionNotFound,
)
from dsops.ui import api
from dsops.ui.context import StoreSource, UIContext
from dsops.ui.security import Authenticate, GuardMiddleware, redact, token_auth

log = logging.getLogger(__name__)

# Everything the pages load ships in the package; nothing else is served as a file.
STATIC = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

_STATUS: list[tuple[type[Exception], int]] = [
    (VersionDeleted, 410),  # Gone: the id was real, its version is deleted
    (VersionNotFound, 404),  # also DatasetNotFound
    (MetadataNotFound, 404),
    (api.UnsupportedPreview, 415),
    (IntegrityError, 502),  # the store's bytes do not match their hash: never served
    (ManifestError, 502),
    (InvalidPath, 400),
    (InvalidReference, 400),
    (MissingDependency, 501),
    (DiskFull, 507),  # the server's cache disk: Insufficient Storage
    (StoreError, 502),
    (ValueError, 400),  # ConfigError and other bad input
]


def create_app(
    store: StoreSource,
    token: str | None = None,
    *,
    authenticate: Authenticate | None = None,
    allowed_hosts: Iterable[str] | None = None,
    manifest_budget: int | None = None,
) -> FastAPI:
    """The read-only web app over ``store``.

    Args:
        store: A :class:`~dsops.Store`, a URL, a callable returning a Store (opened on
            first request), or None for the default store.
        token: When set, every request must carry it (Bearer header, ``?token=``, or the
            cookie that ``?token=`` sets); others get 401.
        authenticate: Another check run on every request (the Airflow plugin's user
            check); it returns a response to refuse the request, None to allow it.
        allowed_hosts: Host names accepted in the ``Host`` header (None: any).
        manifest_budget: Bytes of manifests kept in memory for paging.

    Example:
        >>> import tempfile
        >>> from fastapi.testclient import TestClient
        >>> app = create_app(tempfile.mkdtemp())
        >>> TestClient(app).get("/api/datasets").json()
        []
    """
    app = FastAPI(
        title="dsops",
        version=dsops.__version__,
        description="Read-only browser and JSON API over a dsops dataset store.",
        # Swagger UI and ReDoc load from a CDN that the CSP forbids: only the schema.
        docs_url=None,
        redoc_url=None,
    )
    options = {"manifest_budget": manifest_budget} if manifest_budget else {}
    app.state.dsops = UIContext(store, **options)
    checks = [c for c in (token_auth(token) if token else None, authenticate) if c]
    app.add_middleware(
        GuardMiddleware,
        authenticate=_all(checks) if checks else None,
        token=token,
        allowed_hosts=allowed_hosts,
    )
    app.include_router(api.router)
    _add_error_handlers(app)
    _add_pages(app)
    return app


def _all(checks: list[Authenticate]) -> Authenticate:
    async def check(request: Request) -> Response | None:
        for one in checks:
            refusal = await one(request)
            if refusal is not None:
                return refusal
        return None

    return check


def _add_error_handlers(app: FastAPI) -> None:
    async def dsops_error(request: Request, exc: Exception) -> JSONResponse:
        status = status_of(exc)
        if status >= 500:
            log.warning("%s %s failed: %s", request.method, request.url.path, exc)
        body: dict[str, Any] = {"detail": redact(str(exc))}
        if isinstance(exc, VersionDeleted):  # what the page says about a deleted version
            body.update({k: exc.context.get(k) for k in ("ref", "deleted_at")})
            body["id"] = exc.context.get("version_id")
        return JSONResponse(body, status_code=status)

    async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # A bug must still answer JSON, and never show a traceback to the browser
        # (the server log has it).
        return JSONResponse(
            {"detail": f"Internal error ({type(exc).__name__}): see the server log."},
            status_code=500,
        )

    app.add_exception_handler(DsopsError, dsops_error)
    app.add_exception_handler(Exception, unexpected_error)


def _page(request: Request, status: int = 200) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    text = resources.files("dsops.ui").joinpath("static/index.html").read_text("utf-8")
    return HTMLResponse(text.replace("{{ROOT}}", html.escape(root, quote=True)), status)


def _add_pages(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def datasets_page(request: Request) -> HTMLResponse:
        return _page(request)

    @app.get("/datasets/{project:path}/{name}", include_in_schema=False)
    def dataset_page(request: Request, project: str, name: str) -> HTMLResponse:
        known = any(
            v["project"] == project and v["name"] == name
            for v in request.app.state.dsops.versions()
        )
        return _page(request, 200 if known else 404)

    @app.get("/versions/{version_id}", include_in_schema=False)
    def version_page(request: Request, version_id: str) -> HTMLResponse:
        try:
            request.app.state.dsops.record(version_id)
        except VersionNotFound as exc:  # the page says why, from the API's answer
            return _page(request, status_of(exc))
        return _page(request)

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        data = resources.files("dsops.ui").joinpath(f"static/{name}").read_bytes()
        return Response(data, media_type=STATIC[name], headers={"cache-control": "no-cache"})


def status_of(exc: Exception) -> int:
    """The HTTP status an error maps to (for tests and the docs)."""
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
