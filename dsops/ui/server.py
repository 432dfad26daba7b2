"""``serve``: run the web app with uvicorn (what ``dsops ui`` calls)."""

from __future__ import annotations

import ipaddress
import logging
import secrets

from dsops.errors import MissingDependency
from dsops.ui.context import StoreSource

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def require_ui_extra() -> None:
    """Fail with an install hint when the ``ui`` extra is missing."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise MissingDependency(
            f"The web UI needs {exc.name}: pip install 'dsops[ui]'.", extra="ui"
        ) from exc


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    store: StoreSource = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
) -> None:
    """Serve the read-only web app until interrupted (blocking).

    On a loopback address without a token, only loopback ``Host`` headers are accepted
    (so a web page cannot reach the app through DNS rebinding). On any other address a
    token is required: when none is given one is generated and announced with the URL.

    Example:
        ``serve("s3://bucket/datasets", port=8765)`` then open http://127.0.0.1:8765/
    """
    require_ui_extra()
    import click
    import uvicorn

    from dsops.ui.app import create_app
    from dsops.ui.security import redact

    allowed_hosts = None
    if not is_loopback(host) and not token:
        token = secrets.token_urlsafe(24)
        click.echo(f"dsops ui: generated access token {token}", err=True)
    if not token:
        allowed_hosts = LOOPBACK_HOSTS
    app = create_app(store, token=token, allowed_hosts=allowed_hosts)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"dsops ui: serving {redact(app.state.dsops.store.url)} at {url}", err=True)
    log.info("dsops ui listening on %s:%s", host, port)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
