"""``DsopsHook``: an Airflow connection of type ``dsops`` turned into a :class:`dsops.Store`.

Connection fields (the UI form is declared in ``get_provider_info``):

- Host: the store URL (``s3://bucket/datasets``, ``/mnt/nfs/datasets``, ``gs://…``).
- Login / Password: S3 access key id and secret key (the password is masked).
- Extra: ``endpoint_url``, ``region``, ``session_token``, ``profile`` for S3;
  ``aws_conn_id`` to reuse the credentials, region and endpoint of an existing ``aws``
  connection instead; ``cache_dir`` for the local cache; ``ui_base_url`` of the dsops
  web UI (for the operators' "dsops" link). ``store_url`` in extra overrides Host.

When the connection does not exist, the hook falls back to ``$DSOPS_STORE`` or the
embedded local store, so a DAG runs on a laptop with no setup at all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from dsops import Store, config, layout
from dsops.errors import DsopsError

#: Extra keys read by the hook (the UI writes them without a prefix; older forms wrote
#: ``extra__dsops__<key>``, which is read too).
EXTRA_FIELDS = (
    "store_url",
    "endpoint_url",
    "region",
    "session_token",
    "profile",
    "aws_conn_id",
    "cache_dir",
    "ui_base_url",
)


@dataclass(frozen=True)
class StoreSettings:
    """Everything needed to open the store, read from a connection (or the fallback)."""

    url: str | None
    options: dict[str, Any] = field(default_factory=dict, repr=False)  # holds secrets
    cache_dir: str | None = None
    ui_base_url: str | None = None
    source: str = "default"

    def open(self) -> Store:
        return Store(self.url, cache_dir=self.cache_dir, **self.options)

    def describe(self) -> str:
        """The store URL and where it came from, with no secret in it."""
        url = self.url or f"{config.default_store_url()} (DSOPS_STORE or embedded default)"
        return f"{url} [{self.source}]"


class DsopsHook(BaseHook):
    """Open the dsops store an Airflow connection describes.

    Nothing touches the network until :attr:`store` is first used, so building the hook
    (at DAG parse time, in an operator's ``__init__``) is free.

    Args:
        dsops_conn_id: The connection id; when it does not exist the hook uses
            ``$DSOPS_STORE`` or the embedded local store.

    Example:
        >>> hook = DsopsHook(dsops_conn_id="no_such_connection")
        >>> hook.dsops_conn_id
        'no_such_connection'
    """

    conn_name_attr = "dsops_conn_id"
    default_conn_name = "dsops_default"
    conn_type = "dsops"
    hook_name = "dsops dataset store"

    def __init__(self, dsops_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dsops_conn_id = dsops_conn_id

    # --- settings ---------------------------------------------------------------------

    @cached_property
    def settings(self) -> StoreSettings:
        """The store settings from the connection, or the fallback when it is missing."""
        try:
            conn = self.get_connection(self.dsops_conn_id)
        except AirflowNotFoundException:
            return self._fallback()
        return self._settings_from(conn)

    async def asettings(self) -> StoreSettings:
        """:attr:`settings` for async code (triggers): the connection is read async."""
        if "settings" in self.__dict__:
            return self.settings
        try:
            conn = await self.aget_connection(self.dsops_conn_id)
        except AirflowNotFoundException:
            settings = self._fallback()
        else:
            settings = await asyncio.to_thread(self._settings_from, conn)
        self.__dict__["settings"] = settings
        return settings

    def _fallback(self) -> StoreSettings:
        if self.dsops_conn_id != self.default_conn_name:
            self.log.warning(
                "Connection %r does not exist: using DSOPS_STORE or the embedded local store.",
                self.dsops_conn_id,
            )
        return StoreSettings(
            url=None,
            ui_base_url=config.ui_base_url(),
            source=f"no connection {self.dsops_conn_id!r}",
        )

    def _settings_from(self, conn: Any) -> StoreSettings:
        extra = _extra(conn)
        url = (extra.get("store_url") or conn.host or "").strip() or None
        options: dict[str, Any] = {}
        if url and url.lower().startswith("s3://"):
            options = self._s3_options(conn, extra)
        return StoreSettings(
            url=url,
            options=options,
            cache_dir=extra.get("cache_dir") or None,
            ui_base_url=config.ui_base_url(extra.get("ui_base_url")),
            source=f"connection {self.dsops_conn_id!r}",
        )

    def _s3_options(self, conn: Any, extra: dict[str, Any]) -> dict[str, Any]:
        options: dict[str, Any] = {}
        aws_conn_id = extra.get("aws_conn_id")
        if aws_conn_id:
            options.update(aws_connection_options(aws_conn_id, self))
        explicit = {
            "access_key": conn.login,
            "secret_key": conn.password,
            "session_token": extra.get("session_token"),
            "endpoint_url": extra.get("endpoint_url"),
            "region": extra.get("region"),
            "profile": extra.get("profile"),
        }
        options.update({k: v for k, v in explicit.items() if v})
        return options

    # --- the store --------------------------------------------------------------------

    @cached_property
    def store(self) -> Store:
        """The opened :class:`dsops.Store` (cached for the hook's life)."""
        settings = self.settings
        self.log.info("dsops store: %s", settings.describe())
        return settings.open()

    def get_conn(self) -> Store:
        return self.store

    @property
    def ui_base_url(self) -> str | None:
        """Base URL of the dsops web UI, from the connection or ``$DSOPS_UI_URL``."""
        return config.ui_base_url(self.settings.ui_base_url)

    def version_url(self, version_id: str) -> str | None:
        """The web UI page of a version, when a UI base URL is configured."""
        return config.version_page(self.ui_base_url, version_id)

    def dataset_url(self, project: str, name: str) -> str | None:
        """The web UI page of a dataset, when a UI base URL is configured."""
        return config.dataset_page(self.ui_base_url, project, name)

    def test_connection(self) -> tuple[bool, str]:
        """Open the store and read its format marker; never writes."""
        try:
            settings = self.settings
            store = settings.open()
            # A read of the format marker: reachability, credentials and format at once.
            found = store.backend.exists(layout.MARKER)
        except DsopsError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if found:
            store.ensure_format()  # refuses a store of a newer format
            return True, f"Connected to the dsops store {store.url}."
        return True, f"Reached {store.url}: no datasets yet (created on first write)."


def _extra(conn: Any) -> dict[str, Any]:
    raw = conn.extra_dejson or {}
    result: dict[str, Any] = {}
    for key in EXTRA_FIELDS:
        value = raw.get(key, raw.get(f"extra__dsops__{key}"))
        if value not in (None, ""):
            result[key] = value
    return result


def aws_connection_options(aws_conn_id: str, hook: BaseHook) -> dict[str, Any]:
    """S3 store options from an Airflow ``aws`` connection.

    With the Amazon provider installed, its hook resolves the credentials (role
    assumption, profiles, …). Without it, the connection's own fields are read: login /
    password as keys, and ``region_name``, ``endpoint_url`` (or
    ``service_config.s3.endpoint_url``), ``aws_session_token``, ``profile_name`` from
    extra.
    """
    try:
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
    except ImportError:
        return _aws_fields(hook.get_connection(aws_conn_id))
    aws = AwsBaseHook(aws_conn_id=aws_conn_id, client_type="s3")
    creds = aws.get_credentials()
    options = {
        "access_key": creds.access_key,
        "secret_key": creds.secret_key,
        "session_token": creds.token,
        "region": aws.conn_config.region_name,
        "endpoint_url": aws.conn_config.get_service_endpoint_url("s3"),
    }
    return {k: v for k, v in options.items() if v}


def _aws_fields(conn: Any) -> dict[str, Any]:
    extra = conn.extra_dejson or {}
    s3_config = (extra.get("service_config") or {}).get("s3") or {}
    session = extra.get("session_kwargs") or {}
    options = {
        "access_key": conn.login,
        "secret_key": conn.password,
        "session_token": extra.get("aws_session_token"),
        "region": extra.get("region_name") or session.get("region_name"),
        "endpoint_url": s3_config.get("endpoint_url") or extra.get("endpoint_url"),
        "profile": extra.get("profile_name") or session.get("profile_name"),
    }
    return {k: v for k, v in options.items() if v}
