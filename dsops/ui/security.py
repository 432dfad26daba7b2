"""Who may use the app: a token on every request, a loopback Host, safe headers.

A pure ASGI middleware (not a FastAPI dependency) so that it guards *every* route,
including ``/openapi.json`` and streamed downloads.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "dsops_ui_token"

# Scripts and styles only from the app itself: nothing from a CDN, nothing inline.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

Authenticate = Callable[[Request], Awaitable[Response | None]]

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


_QUERY_TOKEN = re.compile(r"(?P<key>(?:^|[?&\s])token=)[^&\s\"']*")


def redact(text: str) -> str:
    """Remove credentials embedded in URLs (``s3://key:secret@bucket``) from a message."""
    return _USERINFO.sub(r"\g<scheme>***@", text)


def redact_token(text: str) -> str:
    """Hide ``token=`` query values (``/?token=abc`` → ``/?token=***``)."""
    return _QUERY_TOKEN.sub(r"\g<key>***", text)


class RedactTokens(logging.Filter):
    """A log filter that hides ``?token=`` values, e.g. in uvicorn's access log lines
    (whose arguments hold the request path with its query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_token(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_token(a) if isinstance(a, str) else a for a in record.args)
        return True


def token_auth(token: str) -> Authenticate:
    """Accept ``Authorization: Bearer <token>``, ``?token=<token>`` or the cookie it sets."""
    expected = token.encode()

    def valid(candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(str(candidate).encode(), expected)

    async def authenticate(request: Request) -> Response | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and valid(credentials.strip()):
            return None
        if valid(request.cookies.get(COOKIE)) or valid(request.query_params.get("token")):
            return None
        return JSONResponse(
            {
                "detail": "Not authenticated: open the URL printed at startup (with ?token=…) "
                "or send 'Authorization: Bearer <token>'."
            },
            status_code=401,
            headers={"www-authenticate": "Bearer"},
        )

    return authenticate


class GuardMiddleware:
    """Refuse unexpected Host headers and unauthenticated requests; add safe headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Authenticate | None = None,
        token: str | None = None,
        allowed_hosts: Iterable[str] | None = None,
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.token = token
        self.allowed_hosts = frozenset(allowed_hosts) if allowed_hosts is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._check_host(request)
        if refusal is None and self.authenticate is not None:
            refusal = await self.authenticate(request)
        if refusal is not None:
            for name, value in SECURITY_HEADERS.items():
                refusal.headers.setdefault(name, value)
            await refusal(scope, receive, send)
            return
        cookie = self._cookie_to_set(scope, request)
        if cookie and self._is_page_login(request):
            # Keep the token out of the address bar, history and later Referer headers:
            # the cookie now carries it.
            login = RedirectResponse(_without_token(request), status_code=303)
            login.headers.append("set-cookie", cookie)
            for name, value in SECURITY_HEADERS.items():
                login.headers.setdefault(name, value)
            await login(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                raw = list(message.get("headers", []))
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        raw.append((name.encode(), value.encode()))
                if cookie:
                    raw.append((b"set-cookie", cookie.encode()))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _check_host(self, request: Request) -> Response | None:
        if self.allowed_hosts is None:
            return None
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() in self.allowed_hosts:
            return None
        # A page on another site that rebinds its DNS name to 127.0.0.1 lands here.
        return JSONResponse({"detail": f"Unexpected Host header {host!r}."}, status_code=400)

    @staticmethod
    def _is_page_login(request: Request) -> bool:
        """A browser opening a page with ``?token=`` (API clients keep the plain answer)."""
        accept = request.headers.get("accept", "")
        return request.method in ("GET", "HEAD") and "text/html" in accept

    def _cookie_to_set(self, scope: Scope, request: Request) -> str | None:
        """After a valid ``?token=``, remember it so links and downloads keep working."""
        if not self.token:
            return None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if query.get("token") != self.token or request.cookies.get(COOKIE) == self.token:
            return None
        cookie: SimpleCookie = SimpleCookie()
        cookie[COOKIE] = self.token
        cookie[COOKIE]["httponly"] = True
        cookie[COOKIE]["samesite"] = "Strict"
        cookie[COOKIE]["path"] = scope.get("root_path") or "/"
        if request.url.scheme == "https":
            cookie[COOKIE]["secure"] = True
        return cookie.output(header="").strip()


def _without_token(request: Request) -> str:
    """The request's own path and query, minus ``token=``: a relative redirect target."""
    path = "/" + request.url.path.lstrip("/")  # never "//host": that would leave the site
    query = "&".join(
        part for part in request.url.query.split("&") if part and not part.startswith("token=")
    )
    return f"{path}?{query}" if query else path
