"""Safe file writing: streamed, verified video downloads, "Save as" copies and sidecar JSON.

Every write goes to ``<name>.<pid>-<random>.part`` beside the destination (a name of its
own, so two processes never write into one file), is fsynced, verified and then moved into
place with an atomic ``os.replace`` (and the folder fsynced on POSIX). So the final name
only ever holds a complete file, an existing file is only replaced by a complete one, and a
failure never leaves a ``.part`` behind (a crash can: see :func:`cleanup_partials`).

The gateway streams content without ``Range`` support and sometimes without
``Content-Length``, so a failed transfer restarts from zero with a fresh stream.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from core.errors import ErrorKind, GatewayError
from core.gateway_http import scrub_urls
from core.joblock import pid_alive

logger = logging.getLogger(__name__)

#: The gateway refuses to stream more than this (502 ``video_content_too_large``).
MAX_CONTENT_BYTES = 512 * 1024 * 1024
#: Bytes 4..8 of every MP4 (ISO base media) file.
MP4_SIGNATURE = b"ftyp"
PART_SUFFIX = ".part"

ProgressFn = Callable[[int, int | None], None]
"""Progress callback: ``(bytes so far, total or None when unknown)``."""


class DownloadErrorKind(StrEnum):
    """Why a download or copy failed; decides the wording and whether trying later may help."""

    NO_SPACE = "no_space"
    PERMISSION = "permission"
    CANCELLED = "cancelled"
    VERIFY = "verify"
    NETWORK = "network"
    TOO_LARGE = "too_large"
    NOT_READY = "not_ready"
    REFUSED = "refused"
    INSECURE = "insecure"
    OTHER = "other"


_RETRYABLE_BY_DEFAULT = frozenset({DownloadErrorKind.NETWORK, DownloadErrorKind.NOT_READY})


class DownloadError(Exception):
    """A failed download, copy or atomic write, explained in plain words."""

    def __init__(
        self,
        kind: DownloadErrorKind,
        message: str,
        *,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        """``retryable`` says whether trying again later may work (default: by kind)."""
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = kind in _RETRYABLE_BY_DEFAULT if retryable is None else retryable
        #: Seconds the gateway asked to wait (a 429 during a download), if it said.
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"DownloadError({self.kind.value!r}, {self.message!r}, retryable={self.retryable})"


@dataclass(frozen=True)
class DownloadResult:
    """A file safely in place: where, how big, and its SHA-256 (hex) when one was asked for."""

    path: Path
    size: int
    #: Only with ``digest=True``: hashing costs about as much CPU as the transfer itself.
    sha256: str | None = None


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
# Plain words


def human_size(size: int) -> str:
    """A byte count as a person reads it: ``"532 bytes"``, ``"3.4 MB"``, ``"120 MB"``."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000.0
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _os_error(exc: OSError, folder: Path, doing: str) -> DownloadError:
    """Turn an OS error while ``doing`` something in ``folder`` into a plain-words error."""
    code = exc.errno
    if code == errno.ENOSPC:
        return DownloadError(
            DownloadErrorKind.NO_SPACE,
            f"The disk holding {folder} is full: free some space or choose another folder.",
        )
    if code == getattr(errno, "EDQUOT", -1):
        return DownloadError(
            DownloadErrorKind.NO_SPACE,
            f"Your disk quota for {folder} is used up: free some space or choose another folder.",
        )
    if code == errno.EROFS:
        return DownloadError(
            DownloadErrorKind.PERMISSION,
            f"{folder} is on a read-only disk: choose another folder.",
        )
    if code in (errno.EACCES, errno.EPERM):
        return DownloadError(
            DownloadErrorKind.PERMISSION,
            f"Reelgate is not allowed to write in {folder}: "
            "choose another folder or change its permissions.",
        )
    if code in (errno.ENOTDIR, errno.EEXIST):
        return DownloadError(
            DownloadErrorKind.OTHER,
            f"Cannot save into {folder}: part of that path is a file, not a folder.",
        )
    if code == errno.ENAMETOOLONG:
        return DownloadError(
            DownloadErrorKind.OTHER, f"The file name is too long for the disk holding {folder}."
        )
    reason = exc.strerror or str(exc)
    return DownloadError(DownloadErrorKind.OTHER, f"Could not {doing} in {folder}: {reason}.")


def _read_only(folder: Path) -> bool:
    """Whether ``folder`` is on a file system mounted read-only (POSIX; else False)."""
    statvfs = getattr(os, "statvfs", None)
    if statvfs is None:
        return False
    try:
        return bool(statvfs(folder).f_flag & getattr(os, "ST_RDONLY", 1))
    except OSError:
        return False


def _check_space(folder: Path, needed: int) -> None:
    """Raise ``NO_SPACE`` unless ``folder``'s disk has ``needed`` bytes free.

    A read-only disk is reported as such (``PERMISSION``) first: such disks often show
    little or no free space, and "free some space" would send the person the wrong way.
    """
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:  # cannot tell: let the write itself find out
        logger.debug("disk_usage(%s) failed: %s", folder, exc)
        return
    if free < needed and _read_only(folder):
        raise _os_error(OSError(errno.EROFS, os.strerror(errno.EROFS)), folder, "write")
    if free < needed:
        raise DownloadError(
            DownloadErrorKind.NO_SPACE,
            f"Not enough free space in {folder}: "
            f"{human_size(needed)} needed, {human_size(free)} free.",
        )


# ---------------------------------------------------------------------------------------------
# Building blocks shared by downloads, copies and JSON writes


def _part_path(dest: Path) -> Path:
    """A ``.part`` name no other writer uses: the process id and a random tag."""
    return dest.with_name(f"{dest.name}.{os.getpid()}-{secrets.token_hex(4)}{PART_SUFFIX}")


_PART_PID = re.compile(r"\.(\d+)-[0-9a-f]+\.part$")


def _writer_pid(path: Path) -> int | None:
    """The process id in a ``.part`` name written by :func:`_part_path` (None: older name)."""
    match = _PART_PID.search(path.name)
    return int(match.group(1)) if match else None


def _ensure_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, folder, "create the folder") from exc


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # nothing more to do; the next cleanup_partials will retry
        logger.warning("could not remove %s: %s", path, exc)


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened (Windows)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on folders; the data itself is synced
        pass
    finally:
        os.close(fd)


def _finish(handle: BinaryIO, part: Path, dest: Path) -> None:
    """fsync the ``.part`` file, move it over ``dest`` atomically and sync the folder."""
    folder = dest.parent
    try:
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        raise _os_error(exc, folder, "save the file") from exc
    handle.close()
    try:
        os.replace(part, dest)
    except OSError as exc:
        if dest.is_dir():
            raise DownloadError(
                DownloadErrorKind.OTHER, f"Cannot save as {dest}: a folder has that name."
            ) from exc
        raise _os_error(exc, folder, "save the file") from exc
    _fsync_dir(folder)


class _Progress:
    """Forward progress to a callback at most every ``interval`` seconds (plus the last one)."""

    def __init__(
        self,
        callback: ProgressFn | None,
        total: int | None,
        clock: Callable[[], float],
        interval: float,
    ) -> None:
        self._callback = callback
        self._total = total
        self._clock = clock
        self._interval = interval
        self._last = clock()
        if callback is not None:
            callback(0, total)

    def update(self, done: int) -> None:
        if self._callback is None:
            return
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            self._callback(done, self._total)

    def finish(self, done: int) -> None:
        if self._callback is not None:
            self._callback(done, self._total)


def _cancelled(where: Path) -> DownloadError:
    return DownloadError(DownloadErrorKind.CANCELLED, f"Cancelled; nothing was saved to {where}.")


def _too_large(limit: int, size: int | None = None) -> DownloadError:
    what = f"The video is {human_size(size)}," if size is not None else "The video is"
    return DownloadError(
        DownloadErrorKind.TOO_LARGE,
        f"{what} larger than the {human_size(limit)} limit.",
        retryable=False,
    )


@dataclass(frozen=True)
class _Sink:
    """How :func:`_write_atomically` reports progress, honours cancel and judges the result."""

    progress: ProgressFn | None
    cancel: threading.Event | None
    clock: Callable[[], float]
    progress_interval: float
    #: Maps an ``OSError`` raised by the *source* (not the disk being written).
    read_error: Callable[[OSError], BaseException]
    #: ``(size, first 16 bytes)`` -> raise if the result is not acceptable.
    verify: Callable[[int, bytes], None]
    max_bytes: int | None = None
    #: Whether to compute the SHA-256 of what was written.
    digest: bool = False


def _write_atomically(
    chunks: Iterator[bytes], dest: Path, total: int | None, sink: _Sink
) -> DownloadResult:
    """Write ``chunks`` to ``dest.part``, verify, fsync and move it over ``dest``.

    The one write loop behind downloads, copies and JSON files: whatever goes wrong
    (including an exception from the source or the progress callback), the ``.part`` is
    removed and ``dest`` is untouched.
    """
    folder = dest.parent
    part = _part_path(dest)
    digest = hashlib.sha256() if sink.digest else None
    head = b""
    size = 0
    try:
        try:
            handle = open(part, "wb")  # noqa: SIM115 - closed by _finish or below
        except OSError as exc:
            raise _os_error(exc, folder, "create a file") from exc
        try:
            meter = _Progress(sink.progress, total, sink.clock, sink.progress_interval)
            while True:
                if sink.cancel is not None and sink.cancel.is_set():
                    raise _cancelled(dest)
                try:
                    chunk = next(chunks)
                except StopIteration:
                    break
                except OSError as exc:
                    raise sink.read_error(exc) from exc
                if not chunk:
                    continue
                size += len(chunk)
                if sink.max_bytes is not None and size > sink.max_bytes:
                    raise _too_large(sink.max_bytes)
                if len(head) < 16:
                    head = (head + chunk[:16])[:16]
                if digest is not None:
                    digest.update(chunk)
                try:
                    handle.write(chunk)
                except OSError as exc:
                    raise _os_error(exc, folder, "write the file") from exc
                meter.update(size)
            sink.verify(size, head)
            _finish(handle, part, dest)
        finally:
            handle.close()
    except BaseException:
        _remove_quietly(part)
        raise
    meter.finish(size)
    return DownloadResult(
        path=dest, size=size, sha256=None if digest is None else digest.hexdigest()
    )


# ---------------------------------------------------------------------------------------------
# Downloads


class _TryAgain(Exception):
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
        return _TryAgain(
            DownloadError(
                DownloadErrorKind.NETWORK, f"The download failed: {exc.summary}", retryable=True
            )
        )
    return exc


def _broken_connection(exc: OSError) -> BaseException:
    """A transport ``OSError`` that slipped past the client: worth a fresh attempt."""
    return _TryAgain(
        DownloadError(
            DownloadErrorKind.NETWORK,
            f"The connection broke during the download: {scrub_urls(str(exc))}",
        )
    )


def _verify_video(content_length: int | None) -> Callable[[int, bytes], None]:
    """A check that the body looks complete: non-empty, MP4, and as long as announced."""

    def verify(size: int, head: bytes) -> None:
        if size == 0:
            raise _TryAgain(
                DownloadError(DownloadErrorKind.VERIFY, "The gateway sent an empty file.")
            )
        if content_length is not None and size != content_length:
            word = "stopped early" if size < content_length else "sent more than announced"
            raise _TryAgain(
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

    return verify


def _attempt(
    open_stream: Callable[[], ContentStreamLike],
    dest: Path,
    *,
    expected_size: int | None,
    min_free_bytes: int,
    chunk_size: int,
    max_bytes: int,
    sink: _Sink,
) -> DownloadResult:
    """One try from zero: open a fresh stream, check the space, write, verify."""
    try:
        with open_stream() as stream:
            content_length = stream.content_length
            if content_length is not None and content_length < 0:
                content_length = None
            if content_length is not None and content_length > max_bytes:
                raise _too_large(max_bytes, content_length)
            _check_space(dest.parent, content_length or expected_size or min_free_bytes)
            video_sink = dataclasses.replace(
                sink, verify=_verify_video(content_length), max_bytes=max_bytes
            )
            return _write_atomically(
                stream.iter_chunks(chunk_size), dest, content_length, video_sink
            )
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
    _ensure_folder(dest.parent)
    if expected_size is not None:
        _check_space(dest.parent, expected_size)
    sink = _Sink(
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
            raise _cancelled(dest)
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
        except _TryAgain as again:
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


# ---------------------------------------------------------------------------------------------
# Copies, sidecar JSON, cleanup


def copy_file(
    src: Path,
    dest: Path,
    *,
    progress: ProgressFn | None = None,
    cancel: threading.Event | None = None,
    chunk_size: int = 1 << 20,
    clock: Callable[[], float] = time.monotonic,
    progress_interval: float = 0.05,
    digest: bool = False,
) -> DownloadResult:
    """Copy ``src`` to ``dest`` ("Save as") with the same ``.part``, fsync and atomic move.

    ``digest=True`` also computes the copy's SHA-256 (see :func:`download`).

    Raises :class:`DownloadError`: ``OTHER`` when ``src`` is missing, ``NO_SPACE``,
    ``PERMISSION``, ``CANCELLED``, or ``VERIFY`` when the source changed size mid-copy.
    """
    try:
        size = src.stat().st_size
    except FileNotFoundError as exc:
        raise DownloadError(
            DownloadErrorKind.OTHER, f"The file to copy is no longer there: {src}"
        ) from exc
    except OSError as exc:
        raise _os_error(exc, src.parent, "read the file") from exc
    if src.is_dir():
        raise DownloadError(DownloadErrorKind.OTHER, f"{src} is a folder, not a video file.")
    _ensure_folder(dest.parent)
    _check_space(dest.parent, size)
    if cancel is not None and cancel.is_set():
        raise _cancelled(dest)

    def read_error(exc: OSError) -> BaseException:
        return _os_error(exc, src.parent, "read the file")

    def same_size(done: int, _head: bytes) -> None:
        if done != size:
            raise DownloadError(
                DownloadErrorKind.VERIFY,
                f"{src} changed while it was being copied "
                f"({human_size(size)} became {human_size(done)}); try again.",
                retryable=True,
            )

    try:
        source = open(src, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        raise read_error(exc) from exc
    with source:
        sink = _Sink(
            progress, cancel, clock, progress_interval, read_error, same_size, digest=digest
        )
        return _write_atomically(iter(lambda: source.read(chunk_size), b""), dest, size, sink)


def write_json_atomic(dest: Path, data: object) -> None:
    """Write ``data`` as UTF-8 JSON to ``dest`` via ``.part`` + fsync + atomic replace.

    A value JSON cannot represent raises ``TypeError``/``ValueError`` before any file is
    touched; disk trouble raises :class:`DownloadError`.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    folder = dest.parent
    _ensure_folder(folder)

    def read_error(exc: OSError) -> BaseException:  # pragma: no cover - reads from memory
        return exc

    def accept(_size: int, _head: bytes) -> None:
        return None

    sink = _Sink(None, None, time.monotonic, 0.0, read_error, accept)
    _write_atomically(iter([text.encode("utf-8")]), dest, None, sink)


def cleanup_partials(folder: Path, *, older_than: float = 0.0) -> list[Path]:
    """Remove stale ``*.part`` files in ``folder`` (not below it); return what was removed.

    A file whose name carries the id of a process still running is spared while it was
    modified within ``older_than`` seconds (another process is writing it now); every other
    ``.part`` is stale: its writer is gone. Names without a process id (older versions)
    are spared while younger than ``older_than``. A missing folder is fine.
    """
    removed: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return removed
    cutoff = time.time() - older_than
    for path in entries:
        if not path.name.endswith(PART_SUFFIX) or path.is_symlink() or not path.is_file():
            continue
        try:
            recent = older_than > 0 and path.stat().st_mtime > cutoff
            pid = _writer_pid(path)
            if recent and (pid is None or pid_alive(pid)):
                continue
            path.unlink()
        except OSError as exc:
            logger.warning("could not remove stale partial file %s: %s", path, exc)
            continue
        removed.append(path)
    if removed:
        logger.info("removed %d stale partial file(s) in %s", len(removed), folder)
    return removed
