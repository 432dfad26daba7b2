"""S3 and S3-compatible stores (AWS, SeaweedFS, MinIO, …) through boto3.

One botocore client per store, created on first use (no network at construction) and
shared by every thread. Conditional writes use ``If-None-Match: *`` (create-only) and
``If-Match: <etag>`` (compare-and-swap); a lost race (HTTP 412, or 409
``ConditionalRequestConflict``) surfaces as :class:`~dsops.errors.ObjectExists` /
:class:`~dsops.errors.PreconditionFailed`, which the commit protocol retries.

Large uploads are multipart uploads this module drives itself, because boto3's transfer
manager cannot send ``If-None-Match`` on ``CompleteMultipartUpload``; downloads go through
boto3's transfer manager (parallel ranged GETs, written to a temporary name then
renamed). Etags are returned without their surrounding quotes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import boto3
import botocore.exceptions as bexc
from boto3.s3.transfer import TransferConfig, create_transfer_manager
from botocore.config import Config
from botocore.utils import determine_content_length

from dsops.errors import (
    AccessDenied,
    ConfigError,
    ObjectExists,
    PreconditionFailed,
)
from dsops.storage.base import ObjectInfo, ObjectStore, check_key
from dsops.storage.errors import store_error
from dsops.storage.remote import RemoteStoreMixin

logger = logging.getLogger(__name__)

MiB = 1024**2
_MAX_PARTS = 10_000
_MAX_COPY = 5 * 1024**3  # the largest object CopyObject copies in one request
# Bytes up to this go in one PUT (S3 takes at most 5 GB); larger ones in parts.
_MAX_SINGLE_PUT = 4 * 1024**3
_BODY_ATTEMPTS = 3  # botocore retries requests, not a body stream cut mid-read

# Client-level keyword arguments accepted in ``**extra``; the rest go to botocore Config.
_CLIENT_KWARGS = ("verify", "use_ssl")

_STREAM_ERRORS = (
    bexc.ResponseStreamingError,
    bexc.IncompleteReadError,
    bexc.ReadTimeoutError,
    bexc.ConnectionClosedError,
)

_AUTH_HINTS = {
    "InvalidAccessKeyId": "the access key id is unknown to the server: check which "
    "credentials are in use (profile, AWS_ACCESS_KEY_ID, access_key=…)",
    "SignatureDoesNotMatch": "the secret key does not match the access key: check "
    "AWS_SECRET_ACCESS_KEY / secret_key=… (and that the system clock is right)",
    "ExpiredToken": "the session token has expired: refresh the credentials",
    "TokenRefreshRequired": "the session token has expired: refresh the credentials",
    "InvalidToken": "the session token is invalid: check AWS_SESSION_TOKEN / session_token=…",
    "RequestTimeTooSkewed": "the system clock is too far off the server's: fix the clock",
    "AllAccessDisabled": "all access to this bucket has been disabled by its owner",
}


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/some/prefix`` into ``("bucket", "some/prefix")``.

    Example:
        >>> parse_s3_url("s3://datasets/team/ml/")
        ('datasets', 'team/ml')
    """
    parsed = urlparse(url)
    if parsed.scheme.lower() != "s3" or not parsed.netloc:
        raise ConfigError(f"Not an S3 URL: {url!r}; write s3://bucket/prefix.", url=url)
    if parsed.query or parsed.fragment:
        raise ConfigError(
            f"S3 URL {url!r} has a query or fragment: pass options such as endpoint_url "
            "as keyword arguments instead.",
            url=url,
        )
    prefix = parsed.path.strip("/")
    if prefix:
        check_key(prefix)
    return parsed.netloc, prefix


def _etag(raw: str) -> str:
    return raw.strip('"')


def _timestamp(value: Any) -> float:
    return float(value.timestamp()) if value is not None else 0.0


def _status(exc: bexc.ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _code(exc: bexc.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def _retried(exc: BaseException) -> bool:
    """Whether botocore sent the refused request more than once.

    Only then can a refusal be caused by our own first attempt (applied, reply lost);
    a refusal at the first attempt is always someone else's write.
    """
    cause = exc.__cause__
    if not isinstance(cause, bexc.ClientError):
        return False
    return int(cause.response.get("ResponseMetadata", {}).get("RetryAttempts") or 0) > 0


class S3Store(RemoteStoreMixin, ObjectStore):
    """A store under ``s3://bucket/prefix`` on AWS S3 or any S3-compatible server.

    Credentials and endpoint follow boto3's usual chain (explicit keys, then ``profile``,
    then environment such as ``AWS_ACCESS_KEY_ID`` / ``AWS_ENDPOINT_URL_S3`` / ``AWS_PROFILE``,
    then shared config files and instance roles), so an explicit argument always wins.

    Args:
        url: ``s3://bucket`` or ``s3://bucket/prefix``.
        endpoint_url: An S3-compatible endpoint such as ``http://127.0.0.1:8333``.
        region: The bucket's region (``us-east-1`` when nothing says otherwise).
        profile: A profile from ``~/.aws/config``.
        access_key: Access key id; needs ``secret_key``.
        secret_key: Secret access key.
        session_token: Session token for temporary credentials.
        max_pool_connections: HTTP connections kept open (set it ≥ your thread count).
        retry_mode: botocore retry mode, ``"standard"`` or ``"adaptive"``.
        max_attempts: Attempts per request, the first one included.
        connect_timeout: Seconds to wait for a TCP connection.
        read_timeout: Seconds to wait for a response or between bytes of one.
        multipart_threshold: Files at least this large upload/download in parts.
        multipart_chunksize: Part size for multipart transfers.
        transfer_concurrency: Parallel parts per file transfer.
        addressing_style: ``"path"`` or ``"virtual"`` (botocore picks when omitted).
        **extra: More ``botocore.config.Config`` arguments (``signature_version``,
            ``proxies``, …), or ``verify`` / ``use_ssl`` for the client.

    Example:
        >>> store = S3Store("s3://my-bucket/datasets", endpoint_url="http://127.0.0.1:8333")
        >>> store.bucket, store.prefix
        ('my-bucket', 'datasets')
    """

    _connections = ("_client",)

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        max_pool_connections: int = 32,
        retry_mode: str = "standard",
        max_attempts: int = 8,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        multipart_threshold: int = 32 * MiB,
        multipart_chunksize: int = 16 * MiB,
        transfer_concurrency: int = 8,
        addressing_style: str | None = None,
        **extra: Any,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._root = f"{self.prefix}/" if self.prefix else ""
        if bool(access_key) != bool(secret_key):
            raise ConfigError(
                f"Store {self.url}: access_key and secret_key go together; pass both or "
                "neither (to use a profile or the environment).",
                store=self.url,
            )
        if retry_mode not in ("standard", "adaptive", "legacy"):
            raise ConfigError(
                f"retry_mode must be 'standard' or 'adaptive', not {retry_mode!r}.",
                store=self.url,
            )
        if multipart_chunksize < 5 * MiB:
            raise ConfigError(
                "multipart_chunksize must be at least 5 MiB (the S3 minimum part size).",
                store=self.url,
            )
        self.endpoint_url = endpoint_url
        self._session_kwargs: dict[str, Any] = {
            "profile_name": profile,
            "aws_access_key_id": access_key,
            "aws_secret_access_key": secret_key,
            "aws_session_token": session_token,
            "region_name": region,
        }
        self._client_kwargs = {k: extra.pop(k) for k in _CLIENT_KWARGS if k in extra}
        if addressing_style is not None:
            extra.setdefault("s3", {})["addressing_style"] = addressing_style
        try:
            self._config = Config(
                retries=cast(Any, {"mode": retry_mode, "total_max_attempts": max_attempts}),
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_pool_connections=max_pool_connections,
                **extra,
            )
        except TypeError as exc:
            raise ConfigError(
                f"Unknown S3 store option for {self.url}: {exc}.", store=self.url
            ) from exc
        self._threshold = multipart_threshold
        self._chunksize = multipart_chunksize
        self._concurrency = max(1, transfer_concurrency)
        self._transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=self._concurrency,
            preferred_transfer_client="classic",
        )
        self._bucket_exists: bool | None = None
        self._client: Any
        self._init_remote()

    # --- client and counters ------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 S3 client, created on first use and shared by all threads."""
        return self._connection("_client", self._make_client)

    def _make_client(self) -> Any:
        try:
            session = boto3.session.Session(**self._session_kwargs)
            client = session.client(
                "s3", endpoint_url=self.endpoint_url, config=self._config, **self._client_kwargs
            )
        except bexc.ProfileNotFound as exc:
            raise ConfigError(
                f"AWS profile {self._session_kwargs['profile_name']!r} for {self.url} is not "
                "in ~/.aws/config or ~/.aws/credentials: check its name.",
                store=self.url,
            ) from exc
        except (bexc.BotoCoreError, ValueError) as exc:
            raise ConfigError(f"Cannot configure S3 for {self.url}: {exc}.") from exc
        events = client.meta.events
        events.register("before-call.s3", self._count_call)
        events.register("after-call.s3", self._count_received)
        events.register_first("before-send.s3", self._count_attempt)
        return client

    def _count_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        method = str(model.http.get("method", "GET"))
        kind = "LIST" if model.name.startswith("List") else method
        sent = 0
        if model.name in ("PutObject", "UploadPart"):
            sent = determine_content_length(params.get("body")) or 0
        self._stats.count(kind, sent=sent)

    def _count_received(self, model: Any, http_response: Any, parsed: Any, **_: Any) -> None:
        if model.name == "GetObject" and http_response.status_code < 300:
            self._stats.add("bytes_received", int(parsed.get("ContentLength") or 0))

    def _count_attempt(self, **_: Any) -> None:
        self._stats.add("attempts")

    # --- errors -------------------------------------------------------------------------

    def _endpoint(self) -> str:
        client = self._client
        return str(client.meta.endpoint_url) if client is not None else str(self.endpoint_url)

    @contextmanager
    def _errors(
        self, key: str | None, conflict: type[PreconditionFailed] = PreconditionFailed
    ) -> Iterator[None]:
        try:
            yield
        except bexc.ClientError as exc:
            raise self._client_error(exc, key, conflict) from exc
        except bexc.NoCredentialsError as exc:
            raise AccessDenied(
                f"No AWS credentials found for {self.url}: pass access_key/secret_key or a "
                "profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
                store=self.url,
            ) from exc
        except (bexc.PartialCredentialsError, bexc.ProfileNotFound, bexc.NoRegionError) as exc:
            raise ConfigError(f"S3 is misconfigured for {self.url}: {exc}.") from exc
        except (bexc.ConnectionError, bexc.HTTPClientError) as exc:
            raise store_error(
                "unavailable",
                store=self.url,
                key=key,
                service=f"the S3 endpoint {self._endpoint()}",
                detail=f"{type(exc).__name__}, after retries",
                hint="check endpoint_url / AWS_ENDPOINT_URL and that the server is up",
                endpoint=self._endpoint(),
            ) from exc
        except bexc.BotoCoreError as exc:
            raise store_error("failed", store=self.url, key=key, detail=str(exc)) from exc

    def _client_error(
        self, exc: bexc.ClientError, key: str | None, conflict: type[PreconditionFailed]
    ) -> Exception:
        code, status = _code(exc), _status(exc)
        message = str(exc.response.get("Error", {}).get("Message") or code)
        common: dict[str, Any] = {"store": self.url, "key": key, "code": code}
        if code == "NoSuchBucket" or (code in ("404", "NotFound") and self._bucket_missing()):
            return store_error(
                "no_container", container=self.bucket, detail=f"at {self._endpoint()}", **common
            )
        if code in ("PreconditionFailed", "ConditionalRequestConflict") or status == 412:
            return store_error("conflict", conflict=conflict, **common)
        if code in ("NoSuchKey", "NotFound", "404") or status == 404:
            return store_error("not_found", **common)
        if code in _AUTH_HINTS or code == "AccessDenied" or status in (401, 403):
            hint = _AUTH_HINTS.get(
                code,
                "check that the credentials are right and allow s3:GetObject, s3:PutObject, "
                f"s3:DeleteObject and s3:ListBucket on bucket {self.bucket!r}",
            )
            return store_error("denied", detail=code or str(status), hint=hint, **common)
        if status == 503 or code in ("SlowDown", "ServiceUnavailable"):
            return store_error(
                "unavailable",
                service=f"the S3 endpoint {self._endpoint()}",
                detail=f"{code}, after retries; it is unavailable or throttling",
                hint="retry later or lower the concurrency",
                **common,
            )
        return store_error("failed", detail=f"{code} (HTTP {status}): {message}", **common)

    def _bucket_missing(self) -> bool:
        """Whether the bucket is known not to exist (a HEAD 404 cannot tell on its own)."""
        if self._bucket_exists is None:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except bexc.ClientError as exc:
                if _status(exc) != 404:
                    return False  # e.g. 403 without s3:ListBucket: cannot tell, assume it exists
                self._bucket_exists = False
            except bexc.BotoCoreError:
                return False
            else:
                self._bucket_exists = True
        return self._bucket_exists is False

    # --- primitives ---------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self._root + check_key(key)

    def _get(self, key: str, **kwargs: Any) -> tuple[bytes, dict[str, Any]]:
        for attempt in range(_BODY_ATTEMPTS):
            response: dict[str, Any] = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), **kwargs
            )
            try:
                return response["Body"].read(), response
            except _STREAM_ERRORS:
                if attempt == _BODY_ATTEMPTS - 1:
                    raise
                logger.debug("Re-reading %s/%s after a cut response stream", self.url, key)
        raise AssertionError("unreachable")

    def get_with_etag(self, key: str) -> tuple[bytes, str]:
        with self._errors(key):
            data, response = self._get(key)
        return data, _etag(response["ETag"])

    def get_range(self, key: str, start: int, end: int) -> bytes:
        if start < 0:
            raise ConfigError(f"Range start must be ≥ 0, not {start}.", key=key)
        if end <= start:
            self.head(key)  # still report a missing object
            return b""
        with self._errors(key):
            try:
                data, response = self._get(key, Range=f"bytes={start}-{end - 1}")
            except bexc.ClientError as exc:
                if _status(exc) == 416:  # the range starts at or after the end
                    return b""
                raise
        if "ContentRange" not in response:  # a server that ignored the Range header
            data = data[start:end]
        return data

    def put(self, key: str, data: bytes) -> str:
        with self._errors(key):
            response = self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        return _etag(response["ETag"])

    def put_if_absent(self, key: str, data: bytes) -> str:
        """Create ``key`` (``If-None-Match: *``). Bytes past 4 GiB go up in parts, so
        even one larger than a single PUT takes (5 GB: a manifest of ~100M files) is
        written; below that, one PUT (packs of 64 MiB stay one request)."""
        try:
            with self._errors(key, conflict=ObjectExists):
                if len(data) > _MAX_SINGLE_PUT:
                    full = self._key(key)
                    return self._multipart_upload(full, data, len(data), {"IfNoneMatch": "*"})
                response = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*"
                )
        except ObjectExists as exc:
            own = self._own_write(key, data) if _retried(exc) else None
            if own is None:
                raise
            return own  # botocore retried after our own write's reply was lost
        return _etag(response["ETag"])

    def put_if_match(self, key: str, data: bytes, etag: str) -> str:
        try:
            with self._errors(key):
                response = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=data, IfMatch=f'"{_etag(etag)}"'
                )
        except PreconditionFailed as exc:
            own = self._own_write(key, data) if _retried(exc) else None
            if own is None:
                raise
            return own
        return _etag(response["ETag"])

    def head(self, key: str) -> ObjectInfo:
        with self._errors(key):
            response = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        return ObjectInfo(
            key,
            int(response["ContentLength"]),
            _etag(response["ETag"]),
            _timestamp(response.get("LastModified")),
        )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        skip = len(self._root)
        paginator = self.client.get_paginator("list_objects_v2")
        with self._errors(None):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._root + prefix):
                for item in page.get("Contents", ()):
                    yield ObjectInfo(
                        item["Key"][skip:],
                        int(item["Size"]),
                        _etag(item["ETag"]),
                        _timestamp(item.get("LastModified")),
                    )

    def delete(self, key: str) -> None:
        with self._errors(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    # --- file transfers -----------------------------------------------------------------

    def put_file(self, key: str, path: Path) -> str:
        """Upload a local file: one streamed PUT, or a parallel multipart upload."""
        return self._upload_file(key, Path(path), create_only=False)

    def put_file_if_absent(self, key: str, path: Path) -> bool:
        """Upload unless the key exists (checked first, enforced by ``If-None-Match``)."""
        if self.exists(key):
            return False
        try:
            self._upload_file(key, Path(path), create_only=True)
        except ObjectExists:
            return False
        return True

    def refresh(self, key: str, source: Path | bytes) -> None:
        """A server-side copy onto itself (new LastModified, no bytes sent)."""
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        if not self.renew(key, size):
            super().refresh(key, source)

    def renew(self, key: str, size: int) -> bool:
        """A server-side copy onto itself, for objects CopyObject takes in one request."""
        if size > _MAX_COPY:
            return False
        full = self._key(key)
        with self._errors(key):
            self.client.copy_object(
                Bucket=self.bucket,
                Key=full,
                CopySource={"Bucket": self.bucket, "Key": full},
                MetadataDirective="REPLACE",
            )
        return True

    def get_file(self, key: str, path: Path) -> None:
        """Download with boto3's transfer manager: parallel ranged GETs for large objects."""
        with self._errors(key), create_transfer_manager(self.client, self._transfer_config) as tm:
            tm.download(self.bucket, self._key(key), str(path)).result()

    def _upload_file(self, key: str, path: Path, *, create_only: bool) -> str:
        size = path.stat().st_size
        condition = {"IfNoneMatch": "*"} if create_only else {}
        conflict = ObjectExists if create_only else PreconditionFailed
        if size < self._threshold:
            with self._errors(key, conflict=conflict), open(path, "rb") as fh:
                response = self.client.put_object(
                    Bucket=self.bucket, Key=self._key(key), Body=fh, **condition
                )
            return _etag(response["ETag"])
        with self._errors(key, conflict=conflict):
            return self._multipart_upload(self._key(key), path, size, condition)

    def _multipart_upload(
        self, full_key: str, source: Path | bytes, size: int, condition: dict[str, str]
    ) -> str:
        """Upload ``source`` (a file, or bytes in memory) in parts of at least the chunk
        size, few enough for S3's 10,000-part limit."""
        part_size = max(self._chunksize, -(-size // _MAX_PARTS))
        count = -(-size // part_size)
        client = self.client
        upload_id = client.create_multipart_upload(Bucket=self.bucket, Key=full_key)["UploadId"]

        def send(number: int) -> dict[str, Any]:
            start = (number - 1) * part_size
            if isinstance(source, bytes):
                body = source[start : start + part_size]
            else:
                with open(source, "rb") as fh:
                    body = os.pread(fh.fileno(), part_size, start)
            response = client.upload_part(
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
            )
            return {"PartNumber": number, "ETag": response["ETag"]}

        try:
            with ThreadPoolExecutor(min(self._concurrency, count)) as pool:
                parts = list(pool.map(send, range(1, count + 1)))
            response = client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
                **condition,
            )
        except BaseException:
            self._abort_upload(full_key, upload_id)
            raise
        return _etag(response["ETag"])

    def _abort_upload(self, full_key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full_key, UploadId=upload_id)
        except (bexc.ClientError, bexc.BotoCoreError) as exc:
            # The original error matters more; the parts cost storage until a bucket
            # lifecycle rule (AbortIncompleteMultipartUpload) removes them.
            logger.warning(
                "Could not abort multipart upload %s of %s/%s: %s",
                upload_id,
                self.bucket,
                full_key,
                exc,
            )

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the client's connections; the next request opens a new client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()
