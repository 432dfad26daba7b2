"""``DsopsStore``: a Prefect Block holding where a dsops store lives and how to reach it.

A block only adapts Prefect configuration into a :class:`dsops.Store`; it never touches
the network until a task asks it for the store.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any, cast

from prefect.blocks.core import Block
from pydantic import Field, HttpUrl, SecretStr

import dsops
from dsops.config import ui_base_url
from dsops.errors import ConfigError

try:  # prefect-aws is optional: when installed, a block may reuse its AwsCredentials.
    from prefect_aws import AwsCredentials
except ImportError:
    AwsCredentials = None  # type: ignore[assignment,misc]

# Where the project is published; the logo is prefect_tasks/logo.png of that repository.
REPO_URL = "https://github.com/dsops/dsops"
DOCS_URL = f"{REPO_URL}/blob/main/docs/PREFECT.md"
LOGO_PATH = "prefect_tasks/logo.png"

# Prefect block document names: lowercase letters, digits and dashes.
_BLOCK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class DsopsStore(Block):
    """Where dsops datasets live: a store URL, S3 endpoint and credentials, and UI base URL.

    Leave ``url`` empty to use ``$DSOPS_STORE`` or the embedded local store of the worker.
    Credentials left empty fall back to boto3's usual chain (environment, profile,
    instance role).

    Example:
        Load a saved store and open a dataset version through it:
        ```python
        from prefect_tasks import DsopsStore

        dsops_store = DsopsStore.load("BLOCK_NAME")
        store = dsops_store.get_store()
        ```
    """

    _block_type_name = "dsops Store"
    _block_type_slug = "dsops-store"
    _documentation_url = HttpUrl(DOCS_URL)
    _logo_url = HttpUrl(
        f"{REPO_URL.replace('github.com', 'raw.githubusercontent.com')}/main/{LOGO_PATH}"
    )
    _description = (
        "Where dsops dataset versions live (a path or an s3://, gs://, az:// URL), how to "
        "reach an S3-compatible endpoint, and the dsops web UI to link to."
    )

    url: str | None = Field(
        default=None,
        title="Store URL",
        description=(
            "Store root, e.g. s3://bucket/datasets or /mnt/nfs/datasets. Empty: $DSOPS_STORE, "
            "else the embedded local store."
        ),
        examples=["s3://ml-data/datasets", "/mnt/nfs/datasets"],
    )
    endpoint_url: str | None = Field(
        default=None,
        title="S3 endpoint URL",
        description="S3-compatible endpoint (SeaweedFS, MinIO, …); empty for AWS S3.",
        examples=["http://127.0.0.1:8333"],
    )
    region: str | None = Field(default=None, description="Region of the S3 bucket, e.g. us-east-1.")
    profile: str | None = Field(
        default=None, description="AWS profile from ~/.aws/config to take credentials from."
    )
    access_key: str | None = Field(
        default=None, title="Access key id", description="S3 access key id."
    )
    secret_key: SecretStr | None = Field(
        default=None, title="Secret access key", description="S3 secret access key."
    )
    session_token: SecretStr | None = Field(
        default=None, description="Session token for temporary S3 credentials."
    )
    if AwsCredentials is not None:
        aws_credentials: AwsCredentials | None = Field(
            default=None,
            description=(
                "prefect-aws credentials to use instead of the key fields above (their "
                "region and endpoint apply when this block sets none)."
            ),
        )
    ui_url: str | None = Field(
        default=None,
        title="UI base URL",
        description=(
            "Base URL of the dsops web UI, for links to versions (empty: $DSOPS_UI_URL, "
            "else no links)."
        ),
        examples=["http://dsops.internal:8000"],
    )

    def store_options(self) -> dict[str, Any]:
        """Backend options for :class:`dsops.Store`; only those that are set."""
        options: dict[str, Any] = {}
        credentials = getattr(self, "aws_credentials", None)
        if credentials is not None:
            options.update(aws_credentials_options(credentials))
        own = {
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "profile": self.profile,
            "access_key": self.access_key,
            "secret_key": _reveal(self.secret_key),
            "session_token": _reveal(self.session_token),
        }
        options.update({key: value for key, value in own.items() if value})
        return options

    def get_store(self) -> dsops.Store:
        """Open the store this block describes (no network access until first use)."""
        return shared_store(self.url or None, **self.store_options())

    def get_ui_url(self) -> str | None:
        """The UI base URL without a trailing slash, or None when none is configured."""
        return ui_base_url(self.ui_url)


def aws_credentials_options(credentials: Any) -> dict[str, Any]:
    """Store options from a prefect-aws ``AwsCredentials`` block (duck-typed)."""
    client_parameters = getattr(credentials, "aws_client_parameters", None)
    values = {
        "access_key": getattr(credentials, "aws_access_key_id", None),
        "secret_key": _reveal(getattr(credentials, "aws_secret_access_key", None)),
        "session_token": _reveal(getattr(credentials, "aws_session_token", None)),
        "profile": getattr(credentials, "profile_name", None),
        "region": getattr(credentials, "region_name", None),
        "endpoint_url": getattr(client_parameters, "endpoint_url", None),
    }
    return {key: str(value) for key, value in values.items() if value}


def _reveal(secret: Any) -> str | None:
    if secret is None:
        return None
    if isinstance(secret, SecretStr):
        return secret.get_secret_value() or None
    return str(secret) or None


StoreArg = DsopsStore | dsops.Store | str | None


@dataclass(frozen=True)
class ResolvedStore:
    """What a task's ``store=`` argument stands for."""

    store: dsops.Store
    ui_url: str | None = None
    # Backend options (S3 endpoint, credentials) of the block, also used to read URL sources.
    options: dict[str, Any] = field(default_factory=dict)


def resolve_store(store: StoreArg) -> ResolvedStore:
    """Open the store a task was given, with the UI base URL and options that go with it.

    ``store`` is a :class:`DsopsStore` block, a saved block's name (lowercase letters,
    digits and dashes, e.g. ``"prod-datasets"``), a store URL or path, a
    :class:`dsops.Store`, or None for ``$DSOPS_STORE`` / the embedded local store.
    A relative path that looks like a block name must be written ``./name``.
    """
    if isinstance(store, str) and _BLOCK_NAME.match(store.strip()):
        store = load_block(store.strip())
    if isinstance(store, DsopsStore):
        return ResolvedStore(store.get_store(), store.get_ui_url(), store.store_options())
    if isinstance(store, dsops.Store):
        return ResolvedStore(store, ui_base_url())
    if store is None or isinstance(store, str):
        return ResolvedStore(shared_store(store.strip() if store else None), ui_base_url())
    raise ConfigError(
        f"store= must be a DsopsStore block, a block name or a store URL, not "
        f"{type(store).__name__}.",
        store=repr(store),
    )


_ENVIRONMENT = ("DSOPS_STORE", "DSOPS_CACHE_DIR", "DSOPS_CACHE_SIZE")
_opened: dict[str, dsops.Store] = {}
_opened_lock = threading.Lock()


def shared_store(url: str | None, **options: Any) -> dsops.Store:
    """A :class:`dsops.Store`, shared by the task runs of this process.

    Tasks mapped over one draft run on threads of one worker; sharing the store shares its
    S3 connection pool and its local stat cache (one SQLite connection, not one per task).
    The key includes the environment the store reads, so a changed ``DSOPS_*`` opens anew;
    it is a digest, so no credential is kept as a dictionary key.
    """
    material = repr(
        (url, *(os.environ.get(name) for name in _ENVIRONMENT), sorted(options.items()))
    )
    key = hashlib.sha256(material.encode()).hexdigest()
    with _opened_lock:
        store = _opened.get(key)
        if store is None:
            store = _opened[key] = dsops.Store(url, **options)
    return store


def load_block(name: str) -> DsopsStore:
    """Load a saved :class:`DsopsStore` block by name, with a clear error when missing."""
    try:
        block = cast(DsopsStore, DsopsStore.load(name))  # sync here: tasks run in threads
    except ValueError as exc:
        raise ConfigError(
            f"Cannot load the DsopsStore block {name!r} ({exc}): save one under that name "
            f"(DsopsStore(url=...).save({name!r})), or pass a store URL (write a relative "
            f"path as ./{name}).",
            block=name,
        ) from exc
    return block
