"""Streamed video bytes from the gateway (or a signed link), read in bounded memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from core.errors import ErrorKind, GatewayError
from core.gateway_http import transport_error, transport_errors
from core.wire import JsonObject

if TYPE_CHECKING:
    import requests


@dataclass(frozen=True)
class SignedLink:
    """A short-lived download link minted by ``POST /videos/{id}/download_url`` (needs no key)."""

    # The URL's query is a credential until it expires: keep it (and raw) out of reprs.
    url: str = field(repr=False)
    expires_at: float | None
    raw: JsonObject = field(repr=False)


def parse_content_length(value: str | None) -> int | None:
    """The ``Content-Length`` header as a non-negative int, or ``None`` if absent or odd."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit():
        return None
    return int(text)


def content_too_large(limit: int, status: int | None) -> GatewayError:
    """The error for a body past the client's size cap."""
    return GatewayError(
        kind=ErrorKind.UNEXPECTED,
        message=f"The video is larger than the {limit}-byte limit; download stopped",
        status=status,
        code="content_too_large",
    )


class ContentStream:
    """A context manager over one streamed response; never holds more than a chunk in memory.

    ``iter_chunks`` raises ``GatewayError`` (``NETWORK``/``TIMEOUT``) when the stream is cut
    off and the cut is visible at the HTTP level (short ``Content-Length`` or an unterminated
    chunked body), and ``UNEXPECTED``/``content_too_large`` once more than ``max_bytes``
    arrive. A close-delimited body that stops early looks complete at this level: callers
    verify the file they wrote.
    """

    def __init__(self, response: requests.Response, *, max_bytes: int) -> None:
        """Wrap a successful ``stream=True`` response; the caller hands over its ownership."""
        self._response = response
        self._max_bytes = max_bytes
        self._closed = False
        self.status: int = response.status_code
        self.content_type: str | None = response.headers.get("Content-Type")
        self.content_length: int | None = parse_content_length(
            response.headers.get("Content-Length")
        )
        self.bytes_read = 0

    def __repr__(self) -> str:
        """Status, type and length; never the URL (a signed link is a credential)."""
        return (
            f"ContentStream(status={self.status}, content_type={self.content_type!r}, "
            f"content_length={self.content_length}, bytes_read={self.bytes_read})"
        )

    def iter_chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield the body in chunks of at most ``chunk_size`` bytes until it ends."""
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        if self._closed:
            raise GatewayError(
                kind=ErrorKind.UNEXPECTED,
                message="The download stream was already closed",
                status=self.status,
                code="stream_closed",
            )
        chunks = self._response.iter_content(chunk_size)
        try:
            while True:
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
                except transport_errors() as exc:
                    raise transport_error(exc, during_body=True) from exc
                if not chunk:
                    continue
                self.bytes_read += len(chunk)
                if self.bytes_read > self._max_bytes:
                    raise content_too_large(self._max_bytes, self.status)
                yield chunk
        except GatewayError:
            self.close()
            raise

    def close(self) -> None:
        """Release the connection (idempotent)."""
        if not self._closed:
            self._closed = True
            self._response.close()

    def __enter__(self) -> ContentStream:
        """Use as ``with client.open_content(...) as stream:``."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the response whatever happened."""
        self.close()
