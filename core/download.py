"""Video downloads: a job's bytes streamed from the gateway, verified, and moved into place.

The gateway streams content without ``Range`` support and sometimes without
``Content-Length``, so a failed transfer restarts from zero with a fresh stream. The bytes
are written the safe way of core.safe_write (a ``.part`` file, fsync, atomic move), whose
error types and copy helpers are re-exported here for the callers that know them by this
module.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Protocol

from core.errors import ErrorKind, GatewayError
from core.files import PART_SUFFIX, cleanup_partials, human_size
from core.gateway_http import scrub_urls
from core.mp4_boxes import BoxWalker
from core.safe_write import (
    DownloadError,
    DownloadErrorKind,
    DownloadResult,
    ProgressFn,
    Sink,
    cancelled,
    check_space,
    copy_file,
    ensure_folder,
    too_large,
    write_atomically,
    write_json_atomic,
)

logger = logging.getLogger(__name__)

#: The gateway refuses to stream more than this (502 ``video_content_too_large``).
MAX_CONTENT_BYTES = 512 * 1024 * 1024
#: Bytes 4..8 of every MP4 (ISO base media) file.
MP4_SIGNATURE = b"ftyp"


class ContentStreamLike(Protocol):
    """What :func:`download` needs from a content response (``core.gateway.ContentStream``).

    A context manager (closing the HTTP response on exit) whose failures raise
    :class:`core.errors.GatewayError`.
    """

    @property
    def content_length(self) -> int | None:
        """The announced size, or ``None`` when the gateway sent no ``Content-Length``."""
        ...

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        """The body, in chunks of up to ``chunk_size`` bytes."""
        ...

    def __enter__(self) -> ContentStreamLike:
        """Open (or just return) the stream."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
        /,
    ) -> bool | None:
        """Close the response."""
        ...


# ---------------------------------------------------------------------------------------------
# Downloads


class _TryAgainError(Exception):
    """Internal: this attempt failed in a way a fresh attempt from zero may fix."""

    def __init__(self, error: DownloadError) -> None:
        super().__init__(error.message)
        self.error = error


#: Gateway error kinds worth an immediate fresh attempt (a dropped or garbled transfer).
_RETRY_NOW_KINDS = frozenset(
    {
        ErrorKind.TRANSIENT,
        ErrorKind.NETWORK,
        ErrorKind.TIMEOUT,
        ErrorKind.UNEXPECTED,
        ErrorKind.LINK_EXPIRED,
    }
)
#: The gateway's 502 past its 512 MiB cap, and the client's own cap while streaming: by
#: code, or by reason when a proxy or provider puts another code in front.
_TOO_LARGE_CODES = frozenset({"video_content_too_large", "content_too_large"})
_TOO_LARGE_REASONS = frozenset(
    {"video_content_too_large", "content_too_large", "content_exceeds_cap"}
)


def _too_large_answer(exc: GatewayError) -> bool:
    reason = (exc.reason or "").lower()
    return (exc.code or "").lower() in _TOO_LARGE_CODES or reason in _TOO_LARGE_REASONS


def _refused(exc: GatewayError) -> DownloadError | None:
    """The download error for answers no retry can change (400, 403, an insecure redirect)."""
    detail = f"{exc.status} {exc.code}" if exc.status and exc.code else (exc.code or "")
    if exc.kind is ErrorKind.INSECURE:
        return DownloadError(
            DownloadErrorKind.INSECURE,
            f"The download was redirected to an insecure address, which Reelgate refuses to "
            f"follow ({exc.message}). Ask the gateway's operator; retrying will not help.",
            retryable=False,
        )
    if exc.kind is ErrorKind.VALIDATION or exc.status == 400:
        return DownloadError(
            DownloadErrorKind.REFUSED,
            f"The gateway refused the download request ({detail}): {exc.message}. "
            "Retrying the same request will not help.",
            retryable=False,
        )
    if exc.kind is ErrorKind.POLICY_BLOCK or exc.status == 403:
        return DownloadError(
            DownloadErrorKind.REFUSED,
            f"The gateway refused to hand over the video ({detail}): {exc.message}. "
            "Retrying will not help.",
            retryable=False,
        )
    return None


def _from_gateway(exc: GatewayError) -> BaseException:
    """Map a gateway failure during a download to what :func:`download` raises.

    Transfer trouble becomes a (retryable) :class:`DownloadError`; errors about the job or
    the account (404 gone, 401 key, ...) are returned unchanged so the caller can act on
    them (mark the job gone, ask for a key).
    """
    if _too_large_answer(exc):
        return DownloadError(
            DownloadErrorKind.TOO_LARGE,
            "The video is larger than the gateway's 512 MiB download limit.",
            retryable=False,
        )
    refused = _refused(exc)
    if refused is not None:
        return refused
    if exc.kind is ErrorKind.NOT_READY:
        return DownloadError(
            DownloadErrorKind.NOT_READY,
            "The video is not ready on the gateway yet; it will be fetched once it is.",
            retryable=True,
        )
    if exc.kind is ErrorKind.RATE_LIMITED:  # retried later by the caller, never at once
        return DownloadError(
            DownloadErrorKind.NETWORK,
            f"The download was refused for now: {exc.summary}",
            retryable=True,
            retry_after=exc.retry_after,
        )
    if exc.kind in _RETRY_NOW_KINDS:
        return _TryAgainError(
            DownloadError(
                DownloadErrorKind.NETWORK, f"The download failed: {exc.summary}", retryable=True
            )
        )
    return exc


def _broken_connection(exc: OSError) -> BaseException:
    """A transport ``OSError`` that slipped past the client: worth a fresh attempt."""
    return _TryAgainError(
        DownloadError(
            DownloadErrorKind.NETWORK,
            f"The connection broke during the download: {scrub_urls(str(exc))}",
        )
    )


def _walked(chunks: Iterator[bytes], walker: BoxWalker) -> Iterator[bytes]:
    """``chunks`` unchanged, each one shown to ``walker`` on its way through."""
    for chunk in chunks:
        walker.feed(chunk)
        yield chunk


def _verify_video(
    content_length: int | None, boxes: BoxWalker | None = None
) -> Callable[[int, bytes], None]:
    """A check that the body looks complete: non-empty, MP4, and as long as announced.

    Without a ``Content-Length``, ``boxes`` (the MP4's own box sizes) say whether the body
    stopped early: a connection closed half way through looks like the end otherwise.
    """

    def verify(size: int, head: bytes) -> None:
        if size == 0:
            raise _TryAgainError(
                DownloadError(DownloadErrorKind.VERIFY, "The gateway sent an empty file.")
            )
        if content_length is not None and size != content_length:
            word = "stopped early" if size < content_length else "sent more than announced"
            raise _TryAgainError(
                DownloadError(
                    DownloadErrorKind.VERIFY,
                    f"The download {word}: got {human_size(size)} of {human_size(content_length)}.",
                )
            )
        if head[4:8] != MP4_SIGNATURE:
            raise DownloadError(
                DownloadErrorKind.VERIFY,
                f"The gateway sent something that is not an MP4 video ({human_size(size)}, "
                f"starting with {head!r}).",
                retryable=False,
            )
        if boxes is not None and boxes.cut_off():
            raise _TryAgainError(
                DownloadError(
                    DownloadErrorKind.VERIFY,
                    f"The download stopped early: got {human_size(size)}, but {boxes.describe()}.",
                )
            )

    return verify


def _attempt(
    open_stream: Callable[[], ContentStreamLike],
    dest: Path,
    *,
    expected_size: int | None,
    min_free_bytes: int,
    chunk_size: int,
    max_bytes: int,
    sink: Sink,
) -> DownloadResult:
    """One try from zero: open a fresh stream, check the space, write, verify."""
    try:
        with open_stream() as stream:
            content_length = stream.content_length
            if content_length is not None and content_length < 0:
                content_length = None
            if content_length is not None and content_length > max_bytes:
                raise too_large(max_bytes, content_length)
            check_space(dest.parent, content_length or expected_size or min_free_bytes)
            chunks = stream.iter_chunks(chunk_size)
            boxes = BoxWalker() if content_length is None else None
            if boxes is not None:
                chunks = _walked(chunks, boxes)
            video_sink = dataclasses.replace(
                sink, verify=_verify_video(content_length, boxes), max_bytes=max_bytes
            )
            return write_atomically(chunks, dest, content_length, video_sink)
    except GatewayError as exc:
        mapped = _from_gateway(exc)
        if mapped is exc:
            raise
        raise mapped from exc


def download(
    open_stream: Callable[[], ContentStreamLike],
    dest: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    attempts: int = 3,
    expected_size: int | None = None,
    min_free_bytes: int = 64 * 1024 * 1024,
    chunk_size: int = 1 << 20,
    max_bytes: int = MAX_CONTENT_BYTES,
    clock: Callable[[], float] = time.monotonic,
    progress_interval: float = 0.05,
    digest: bool = False,
) -> DownloadResult:
    """Stream a video to ``dest`` via ``dest.part``, verify it, and move it into place.

    ``open_stream`` is called once per attempt and must return a fresh stream (there is no
    Range support: every attempt starts from zero). Before any byte is written the
    destination's disk must have room for ``Content-Length``, else ``expected_size``, else
    ``min_free_bytes``; ``expected_size`` is only a space hint and is not verified.

    Progress is reported as ``(0, total)`` when an attempt starts, then at most once per
    ``progress_interval`` seconds, and once more with the final size. ``total`` is the
    ``Content-Length`` or ``None``.

    ``digest=True`` also computes the file's SHA-256 (``DownloadResult.sha256``). It is off by
    default: nothing checks it (the gateway publishes no checksum), and on a 2-core machine
    hashing 512 MiB took as long as receiving and writing it, halving download speed
    (``tests/bench/bench_download_speed.py``).

    Raises :class:`DownloadError` (``NO_SPACE``, ``PERMISSION``, ``CANCELLED``, ``VERIFY``,
    ``NETWORK``, ``TOO_LARGE``, ``NOT_READY``, ``OTHER``). Dropped transfers, gateway
    5xx/timeouts and short bodies are retried from zero up to ``attempts`` times in all;
    429 and 409 are not retried here (``retryable`` is True: the caller tries later).
    Gateway errors about the job or account rather than the transfer (404, 401, 403, ...)
    propagate as the original :class:`GatewayError`. Whatever happens, ``dest`` is either
    the complete new file or untouched, and no ``.part`` is left behind.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    ensure_folder(dest.parent)
    if expected_size is not None:
        check_space(dest.parent, expected_size)
    sink = Sink(
        progress=progress,
        cancel=cancel,
        clock=clock,
        progress_interval=progress_interval,
        read_error=_broken_connection,
        verify=_verify_video(None),
        digest=digest,
    )
    last: DownloadError | None = None
    for attempt in range(1, attempts + 1):
        if cancel is not None and cancel.is_set():
            raise cancelled(dest)
        try:
            result = _attempt(
                open_stream,
                dest,
                expected_size=expected_size,
                min_free_bytes=min_free_bytes,
                chunk_size=chunk_size,
                max_bytes=max_bytes,
                sink=sink,
            )
        except _TryAgainError as again:
            last = again.error
            logger.info("download of %s failed (attempt %d/%d): %s", dest, attempt, attempts, last)
            continue
        if attempt > 1:
            logger.info("download of %s succeeded on attempt %d", dest, attempt)
        return result
    assert last is not None
    raise DownloadError(
        last.kind, f"{last.message} (gave up after {attempts} attempts)", retryable=True
    )


__all__ = [
    "MAX_CONTENT_BYTES",
    "PART_SUFFIX",
    "ContentStreamLike",
    "DownloadError",
    "DownloadErrorKind",
    "DownloadResult",
    "ProgressFn",
    "cleanup_partials",
    "copy_file",
    "download",
    "human_size",
    "write_json_atomic",
]
