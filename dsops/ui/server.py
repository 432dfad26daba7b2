"""``serve``: run the web app with uvicorn (what ``dsops ui`` calls)."""

from __future__ import annotations

import copy
import ipaddress
import logging
import secrets
import socket
from typing import Any

from dsops.errors import ConfigError, MissingDependency
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


def check_port(port: int) -> None:
    """Refuse a port outside 0-65535 (0 means any free port)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(
            f"Port {port!r} is not a TCP port: use 1-65535 (or 0 for any free port).",
            port=port,
        )


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``; port 0 picks a free port (``getsockname``)."""
    check_port(port)
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {host!r}: {exc.strerror or exc}. Give an address of this "
            "machine with --host (e.g. 127.0.0.1 or 0.0.0.0).",
            host=host,
        ) from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Choose another --port "
            "(or 0 for any free port) or --host.",
            host=host,
            port=port,
        ) from exc
    sock.set_inheritable(True)
    return sock


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup, with ``?token=`` values hidden from every log line."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "dsops.ui.security.RedactTokens"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_tokens")
    return config


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
    ``port`` is 1-65535, or 0 for any free port (the URL announced has the real one); a
    port outside that range or already in use raises :class:`ConfigError`. The access
    log never shows ``?token=`` values.

    Example:
        ``serve("s3://bucket/datasets", port=8765)`` then open http://127.0.0.1:8765/
    """
    check_port(port)
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
    sock = listen(host, port)
    port = int(sock.getsockname()[1])
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    click.echo(f"dsops ui: serving {redact(app.state.dsops.store.url)} at {url}", err=True)
    log.info("dsops ui listening on %s:%s", host, port)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="info", server_header=False, log_config=log_config()
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
