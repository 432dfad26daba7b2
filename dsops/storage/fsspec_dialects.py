"""How each fsspec backend reaches its service's etags and conditional writes.

A dialect signals a lost condition by raising :class:`FileExistsError` (as gcsfs and
adlfs themselves do on HTTP 412), and names backend-specific exceptions through
:meth:`Dialect.classify`; :class:`~dsops.storage.fsspec_store.FsspecStore` turns both
into dsops errors.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Literal

import fsspec

ErrorKind = Literal["conflict", "not_found", "no_container", "denied", "unavailable"]

_BY_STATUS: dict[int, ErrorKind] = {
    401: "denied",
    403: "denied",
    404: "not_found",
    409: "conflict",
    412: "conflict",
    429: "unavailable",
    500: "unavailable",
    502: "unavailable",
    503: "unavailable",
    504: "unavailable",
}


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an SDK exception carries (``code`` in gcsfs, ``status_code`` in azure)."""
    for name in ("status_code", "code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int):
            return value
    return None


def modified(info: dict[str, Any]) -> float:
    """Last-modified time of an fsspec ``info`` entry in POSIX seconds (0.0 if unknown)."""
    for name in ("mtime", "last_modified", "LastModified", "updated", "created"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


class Dialect:
    """Generic fsspec filesystem: no atomic conditional writes (emulated, single writer)."""

    conditional = False
    has_containers = False  # whether the first path part is a bucket that must exist

    def filesystem(self, protocol: str, options: dict[str, Any]) -> Any:
        """Create the fsspec filesystem (here, and only here, the backend may go online)."""
        return fsspec.filesystem(protocol, **options)

    def etag(self, info: dict[str, Any]) -> str:
        for name in ("etag", "ETag", "generation"):
            if info.get(name):
                return str(info[name]).strip('"')
        changed = info.get("mtime") or info.get("created") or info.get("LastModified") or ""
        return f"{info.get('size')}-{changed}"

    def get_with_etag(self, fs: Any, path: str) -> tuple[bytes, str]:
        # Without a versioned read, bracket the read with two stats until they agree.
        for _ in range(5):
            before = self.etag(fs.info(path))
            data = fs.cat_file(path)
            after = self.etag(fs.info(path))
            if before == after:
                return bytes(data), after
        raise OSError(f"{path} kept changing while it was read")

    def get_range(self, fs: Any, path: str, start: int, end: int) -> bytes:
        try:
            return bytes(fs.cat_file(path, start=start, end=end))
        except Exception as exc:
            if http_status(exc) == 416:  # the range starts at or after the end
                return b""
            raise

    def put(self, fs: Any, path: str, data: bytes) -> str:
        fs.pipe_file(path, data)
        return self.etag(fs.info(path))

    def put_if_absent(self, fs: Any, path: str, data: bytes) -> str:
        if fs.exists(path):
            raise FileExistsError(path)
        return self.put(fs, path, data)

    def put_if_match(self, fs: Any, path: str, data: bytes, etag: str) -> str:
        if self.etag(fs.info(path)) != etag:
            raise FileExistsError(path)
        return self.put(fs, path, data)

    def put_file(self, fs: Any, local: str, path: str, *, create_only: bool) -> str:
        if create_only and fs.exists(path):
            raise FileExistsError(path)
        fs.put_file(local, path)
        return self.etag(fs.info(path))

    def classify(self, exc: BaseException) -> ErrorKind | None:
        """What a backend exception means, or None if it is not a known service error."""
        status = http_status(exc)
        return _BY_STATUS.get(status) if status is not None else None


class GcsDialect(Dialect):
    """gcsfs: the etag is the generation; writes carry ``ifGenerationMatch``."""

    conditional = True
    has_containers = True

    def filesystem(self, protocol: str, options: dict[str, Any]) -> Any:
        if options.get("endpoint_url"):
            # gcsfs's default (experimental) class asks a gRPC storage-control API for each
            # bucket's layout; emulators have none and it waits a minute per bucket.
            from gcsfs.core import GCSFileSystem

            return GCSFileSystem(**options)
        return super().filesystem(protocol, options)

    def etag(self, info: dict[str, Any]) -> str:
        return str(info.get("generation") or super().etag(info))

    def _upload(self, fs: Any, path: str, data: bytes, generation: int | None) -> str:
        # gcsfs's own pipe_file knows only ifGenerationMatch=0, so send the multipart
        # upload it would send, with the precondition we need.
        from gcsfs.core import quote

        bucket, key, _ = fs.split_path(path)
        boundary = f"dsops-{uuid.uuid4().hex}"
        head = (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps({'name': key})}\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n"
        ).encode()
        body = head + data + f"\r\n--{boundary}--\r\n".encode()
        params = {} if generation is None else {"ifGenerationMatch": str(generation)}
        response = fs.call(
            "POST",
            f"{fs._location}/upload/storage/v1/b/{quote(bucket)}/o",
            uploadType="multipart",
            headers={"Content-Type": f'multipart/related; boundary="{boundary}"'},
            data=body,
            json_out=True,
            **params,
        )
        fs.invalidate_cache(path)
        return str(response["generation"])

    def get_with_etag(self, fs: Any, path: str) -> tuple[bytes, str]:
        bucket, key, _ = fs.split_path(path)
        headers, data = fs.call("GET", "b/{}/o/{}", bucket, key, alt="media")
        generation = headers.get("X-Goog-Generation")
        if generation is None:  # not every emulator sends it
            return super().get_with_etag(fs, path)
        return bytes(data), str(generation)

    def put(self, fs: Any, path: str, data: bytes) -> str:
        return self._upload(fs, path, data, None)

    def put_if_absent(self, fs: Any, path: str, data: bytes) -> str:
        return self._upload(fs, path, data, 0)

    def put_if_match(self, fs: Any, path: str, data: bytes, etag: str) -> str:
        if not etag.isdigit():
            raise FileExistsError(path)  # not a generation: it cannot match
        return self._upload(fs, path, data, int(etag))

    def put_file(self, fs: Any, local: str, path: str, *, create_only: bool) -> str:
        fs.put_file(local, path, mode="create" if create_only else "overwrite")
        return self.etag(fs.info(path))

    def classify(self, exc: BaseException) -> ErrorKind | None:
        import aiohttp
        from google.auth.exceptions import GoogleAuthError  # a gcsfs dependency

        if isinstance(exc, (aiohttp.ClientConnectionError, TimeoutError)):
            return "unavailable"
        if isinstance(exc, OSError) and str(exc).startswith("Forbidden"):
            return "denied"
        if isinstance(exc, GoogleAuthError):
            return "denied"
        return super().classify(exc)


class AzureDialect(Dialect):
    """adlfs: blob ETags; ``If-None-Match: *`` and ``If-Match`` through the blob SDK."""

    conditional = True
    has_containers = True

    def put(self, fs: Any, path: str, data: bytes) -> str:
        return self._etag_of(fs.pipe_file(path, data), fs, path)

    def put_if_absent(self, fs: Any, path: str, data: bytes) -> str:
        return self._etag_of(fs.pipe_file(path, data, mode="create"), fs, path)

    def put_if_match(self, fs: Any, path: str, data: bytes, etag: str) -> str:
        from azure.core import MatchConditions

        result = fs.pipe_file(
            path, data, etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified
        )
        return self._etag_of(result, fs, path)

    def _etag_of(self, result: Any, fs: Any, path: str) -> str:
        if isinstance(result, dict) and result.get("etag"):
            return str(result["etag"]).strip('"')
        return self.etag(fs.info(path))

    def get_with_etag(self, fs: Any, path: str) -> tuple[bytes, str]:
        from fsspec.asyn import sync

        container, blob, _ = fs.split_path(path)

        async def fetch() -> tuple[bytes, str]:
            async with fs.service_client.get_blob_client(container, blob) as client:
                downloader = await client.download_blob()
                data = await downloader.readall()
                return bytes(data), str(downloader.properties.etag).strip('"')

        result: tuple[bytes, str] = sync(fs.loop, fetch)
        return result

    def put_file(self, fs: Any, local: str, path: str, *, create_only: bool) -> str:
        fs.put_file(local, path, overwrite=not create_only)
        return self.etag(fs.info(path))

    def classify(self, exc: BaseException) -> ErrorKind | None:
        from azure.core import exceptions as az

        if isinstance(exc, (az.ResourceExistsError, az.ResourceModifiedError)):
            return "conflict"
        if isinstance(exc, az.ResourceNotFoundError):
            code = str(getattr(exc, "error_code", "") or "")
            return "no_container" if code == "ContainerNotFound" else "not_found"
        if isinstance(exc, az.ClientAuthenticationError):
            return "denied"
        if isinstance(exc, (az.ServiceRequestError, az.ServiceResponseError)):
            return "unavailable"
        return super().classify(exc)


def dialect_for(protocol: str) -> Dialect:
    """The dialect for an fsspec protocol name (``gcs``, ``abfs``, anything else)."""
    if protocol in ("gcs", "gs"):
        return GcsDialect()
    if protocol in ("abfs", "az", "abfss"):
        return AzureDialect()
    return Dialect()
