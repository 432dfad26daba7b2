"""One translation from "what went wrong" to the dsops error a user sees, for every backend.

A backend only classifies its client's exception into a :data:`Kind` (and adds a hint
where it knows better, such as S3's error codes); the error type and message are made
here once, so S3 and the fsspec stores say the same thing about the same failure.
"""

from __future__ import annotations

from typing import Any, Literal

from dsops.errors import (
    AccessDenied,
    ObjectExists,
    ObjectNotFound,
    PreconditionFailed,
    StoreError,
    StoreUnavailable,
)

Kind = Literal["conflict", "no_container", "not_found", "denied", "unavailable", "failed"]

DEFAULT_DENIED_HINT = (
    "check the credentials in the storage options (or the environment) and that they may "
    "read, write and list there"
)


def store_error(
    kind: Kind,
    *,
    store: str,
    key: str | None,
    conflict: type[PreconditionFailed] = PreconditionFailed,
    container: str = "",
    service: str = "the service",
    detail: str = "",
    hint: str = "",
    **context: Any,
) -> StoreError:
    """The dsops error for a failure of ``kind`` on ``store`` (at ``key``, if any).

    Args:
        kind: What went wrong (see :data:`Kind`).
        store: The store URL.
        key: The key the request was about, None for store-wide requests.
        conflict: For ``"conflict"``: :class:`ObjectExists` after a create-only write,
            :class:`PreconditionFailed` after a compare-and-swap.
        container: The bucket or container, for ``"no_container"``.
        service: Who could not be reached, for ``"unavailable"`` (an endpoint URL).
        detail: What the client said (an error code, an exception name).
        hint: What to do, where the backend knows better than the default.
        **context: More attributes for the error.

    Example:
        >>> err = store_error("not_found", store="s3://b", key="versions/x.json")
        >>> type(err).__name__, str(err)
        ('ObjectNotFound', "No object 'versions/x.json' in store s3://b.")
    """
    where = f"{store}/{key}" if key else store
    info: dict[str, Any] = {"store": store, "key": key, **context}
    said = f" ({detail})" if detail else ""
    if kind == "conflict":
        if conflict is ObjectExists:
            return ObjectExists(f"Object {key!r} already exists in {store}.", **info)
        return conflict(
            f"Object {key!r} in {store} changed since it was read (compare-and-swap lost).",
            **info,
        )
    if kind == "no_container":
        return StoreUnavailable(
            f"Bucket or container {container!r} does not exist{said}: create it or check "
            f"the URL ({store}).",
            **info,
        )
    if kind == "not_found":
        return ObjectNotFound(f"No object {key!r} in store {store}.", **info)
    if kind == "denied":
        return AccessDenied(
            f"Access denied to {where}{said}: {hint or DEFAULT_DENIED_HINT}.", **info
        )
    if kind == "unavailable":
        return StoreUnavailable(
            f"Cannot reach {service} for {where}{said}: "
            f"{hint or 'check the endpoint and the network'}.",
            **info,
        )
    return StoreError(
        f"Store request on {where} failed{said}{': ' + hint if hint else ''}.", **info
    )


__all__ = ["DEFAULT_DENIED_HINT", "Kind", "store_error"]
