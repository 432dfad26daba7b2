"""External files: read a source URL that stays where it is (docs/FORMAT.md "External files").

``s3://``, ``gs://``, ``az://`` and ``file://`` sources are read through the store
backends (:func:`dsops.storage.open_store`); ``http(s)://`` through the standard
library's ``urllib`` (one GET gives the validator and the bytes, so they always belong
together). :class:`LinkReader` lists a URL, asks a source for its validator, and streams
its bytes in chunks — never holding a whole file in memory.
"""

from __future__ import annotations

import email.utils
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse

from dsops.errors import ConfigError, ObjectNotFound, SourceNotFound, StoreUnavailable
from dsops.layout import LINK_SCHEMES
from dsops.storage import ObjectStore, open_store

CHUNK = 8 * 1024 * 1024
_HTTP = ("http", "https")


@dataclass(frozen=True)
class LinkInfo:
    """One external file: its URL, size, validator and modified time (ns, 0 if unknown)."""

    url: str
    size: int
    validator: str
    mtime_ns: int = 0


def link_scheme(url: str) -> str:
    """The scheme of an external file URL; any other raises :class:`ConfigError`.

    Example:
        >>> link_scheme("s3://bucket/key")
        's3'
    """
    scheme = urlparse(url).scheme.lower()
    if (
        scheme not in LINK_SCHEMES
        or not url.lower().startswith(f"{scheme}://")
        or not (url[len(scheme) + 3 :].strip("/"))
    ):
        raise ConfigError(
            f"Cannot link {url!r}: an external file is an s3://, gs://, az://, http://, "
            "https:// or file:// URL naming a file or a prefix.",
            url=url,
        )
    return scheme


def _split(url: str) -> tuple[str, str]:
    parent, _, leaf = url.rstrip("/").rpartition("/")
    if not leaf or parent.endswith(":/"):
        raise SourceNotFound(f"Nothing found at {url}: name a file or a prefix.", path=url)
    return parent, leaf


class LinkReader:
    """Reads external files; ``options_for(url)`` gives a store backend's options."""

    def __init__(
        self,
        options_for: Callable[[str], dict[str, Any]] | None = None,
        *,
        timeout: float = 60.0,
    ) -> None:
        self._options_for = options_for or (lambda _url: {})
        self.timeout = timeout

    def _backend(self, url: str) -> ObjectStore:
        return open_store(url, **self._options_for(url))

    # --- listing ----------------------------------------------------------------------

    def list(self, url: str, recursive: bool = True) -> list[tuple[str, LinkInfo]]:
        """``(path relative to url, info)`` of every file ``url`` names, sorted.

        A prefix gives every object below it (only its first level unless
        ``recursive``); a URL naming one file gives that file under its basename.
        :class:`SourceNotFound` when nothing is there.
        """
        scheme = link_scheme(url)
        if scheme in _HTTP:
            return [(_split(url)[1], self.head(url))]
        root = url.rstrip("/")
        backend = self._backend(root)
        try:
            found = [
                (info.key, self._info(f"{root}/{info.key}", info.size, info.etag, info.modified))
                for info in backend.list("")
                if recursive or "/" not in info.key
            ]
        finally:
            backend.close()
        if found:
            return sorted(found)
        return [(_split(url)[1], self.head(url))]

    def _info(self, url: str, size: int, etag: str, modified: float) -> LinkInfo:
        if urlparse(url).scheme.lower() == "file":
            st = os.stat(unquote(urlparse(url).path))
            return LinkInfo(url, st.st_size, f"{st.st_mtime_ns}-{st.st_size}", st.st_mtime_ns)
        return LinkInfo(url, size, etag, int(modified * 1_000_000_000))

    # --- one file ---------------------------------------------------------------------

    def head(self, url: str) -> LinkInfo:
        """Size and validator of one file (:class:`SourceNotFound` if it is not there)."""
        scheme = link_scheme(url)
        if scheme in _HTTP:
            with self._http(url, "HEAD") as response:
                return _http_info(url, response)
        parent, leaf = _split(url)
        backend = self._backend(parent)
        try:
            info = backend.head(leaf)
        except ObjectNotFound:
            raise SourceNotFound(
                f"External file {url} is not there: check the URL and the credentials.",
                path=url,
            ) from None
        finally:
            backend.close()
        return self._info(url, info.size, info.etag, info.modified)

    def stream(
        self, url: str, expect: str | None = None
    ) -> tuple[LinkInfo, Iterator[bytes] | None]:
        """The file's info as the read begins, and its bytes in chunks.

        For HTTP both come from one GET; for a store source the head comes first, then
        ranged reads of ``CHUNK`` bytes. With ``expect`` (a recorded validator) that
        differs from the source's, no byte is read: the chunks are None.
        """
        scheme = link_scheme(url)
        if scheme in _HTTP:
            response = self._http(url, "GET")
            info = _http_info(url, response)
            if expect is not None and info.validator != expect:
                response.close()
                return info, None

            def body() -> Iterator[bytes]:
                with response:
                    while chunk := response.read(CHUNK):
                        yield chunk

            return info, body()
        info = self.head(url)
        if expect is not None and info.validator != expect:
            return info, None
        parent, leaf = _split(url)

        def ranges() -> Iterator[bytes]:
            backend = self._backend(parent)
            try:
                for start in range(0, info.size, CHUNK):
                    yield backend.get_range(leaf, start, min(start + CHUNK, info.size))
            except ObjectNotFound:
                raise SourceNotFound(f"External file {url} is gone.", path=url) from None
            finally:
                backend.close()

        return info, ranges()

    def _http(self, url: str, method: str) -> Any:
        request = urllib.request.Request(url, method=method)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code in (404, 410):
                raise SourceNotFound(
                    f"External file {url} is not there (HTTP {exc.code}): check the URL.",
                    path=url,
                ) from None
            raise StoreUnavailable(
                f"Reading external file {url} failed: HTTP {exc.code} {exc.reason}.", url=url
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise StoreUnavailable(
                f"Cannot reach external file {url} ({exc}): check the URL and the network.",
                url=url,
            ) from None


def _http_info(url: str, response: Any) -> LinkInfo:
    headers = response.headers
    length = headers.get("Content-Length")
    size = int(length) if length and length.isdigit() else -1
    modified = headers.get("Last-Modified") or ""
    mtime_ns = 0
    if modified:
        try:
            mtime_ns = int(email.utils.parsedate_to_datetime(modified).timestamp()) * 10**9
        except (TypeError, ValueError):
            mtime_ns = 0
    if headers.get("ETag"):
        validator = f"etag:{headers['ETag']}"
    elif modified:
        validator = f"modified:{modified}"
    else:
        validator = f"size:{size}"
    return LinkInfo(url, size, validator, mtime_ns)


__all__ = ["CHUNK", "LinkInfo", "LinkReader", "link_scheme"]
