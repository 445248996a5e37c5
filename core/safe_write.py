"""Streamed file writes that never leave half a file: downloads, "Save as" copies, JSON.

Every write goes to ``<name>.<pid>-<random>.part`` beside the destination (a name of its
own, so two processes never write into one file), is fsynced, verified and then moved into
place with an atomic ``os.replace`` (and the folder fsynced on POSIX). So the final name
only ever holds a complete file, an existing file is only replaced by a complete one, and a
failure never leaves a ``.part`` behind (a crash can: see :func:`core.files.cleanup_partials`).
Disk trouble is raised as a :class:`DownloadError` in plain words.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from core.files import (
    fsync_dir,
    human_size,
    part_path,
    remove_orphaned_parts,
    write_text_atomic,
)

logger = logging.getLogger(__name__)

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
        """The plain-words message."""
        return self.message

    def __repr__(self) -> str:
        """The kind, message and whether retrying may help."""
        return f"DownloadError({self.kind.value!r}, {self.message!r}, retryable={self.retryable})"


@dataclass(frozen=True)
class DownloadResult:
    """A file safely in place: where, how big, and its SHA-256 (hex) when one was asked for."""

    path: Path
    size: int
    #: Only with ``digest=True``: hashing costs about as much CPU as the transfer itself.
    sha256: str | None = None


# ---------------------------------------------------------------------------------------------
# Plain words


def disk_error(exc: OSError, folder: Path, doing: str) -> DownloadError:
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


def check_space(folder: Path, needed: int) -> None:
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
        raise disk_error(OSError(errno.EROFS, os.strerror(errno.EROFS)), folder, "write")
    if free < needed:
        raise DownloadError(
            DownloadErrorKind.NO_SPACE,
            f"Not enough free space in {folder}: "
            f"{human_size(needed)} needed, {human_size(free)} free.",
        )


# ---------------------------------------------------------------------------------------------
# Building blocks shared by downloads, copies and JSON writes


def ensure_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if missing; DownloadError in plain words."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(exc, folder, "create the folder") from exc


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # nothing more to do; the next cleanup_partials will retry
        logger.warning("could not remove %s: %s", path, exc)


def _finish(handle: BinaryIO, part: Path, dest: Path) -> None:
    """Fsync the ``.part`` file, move it over ``dest`` atomically and sync the folder."""
    folder = dest.parent
    try:
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        raise disk_error(exc, folder, "save the file") from exc
    handle.close()
    try:
        os.replace(part, dest)
    except OSError as exc:
        if dest.is_dir():
            raise DownloadError(
                DownloadErrorKind.OTHER, f"Cannot save as {dest}: a folder has that name."
            ) from exc
        raise disk_error(exc, folder, "save the file") from exc
    fsync_dir(folder)


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


def cancelled(where: Path) -> DownloadError:
    """The error for a write the person cancelled (nothing was saved to ``where``)."""
    return DownloadError(DownloadErrorKind.CANCELLED, f"Cancelled; nothing was saved to {where}.")


def too_large(limit: int, size: int | None = None) -> DownloadError:
    """The error for a video over ``limit`` bytes (``size``: its size, when announced)."""
    what = f"The video is {human_size(size)}," if size is not None else "The video is"
    return DownloadError(
        DownloadErrorKind.TOO_LARGE,
        f"{what} larger than the {human_size(limit)} limit.",
        retryable=False,
    )


@dataclass(frozen=True)
class Sink:
    """How :func:`write_atomically` reports progress, honours cancel and judges the result."""

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


def write_atomically(
    chunks: Iterator[bytes], dest: Path, total: int | None, sink: Sink
) -> DownloadResult:
    """Write ``chunks`` to ``dest.part``, verify, fsync and move it over ``dest``.

    The one write loop behind downloads and copies: whatever goes wrong
    (including an exception from the source or the progress callback), the ``.part`` is
    removed and ``dest`` is untouched.
    """
    folder = dest.parent
    remove_orphaned_parts(dest)  # left by a writer of this file that was killed
    part = part_path(dest)
    digest = hashlib.sha256() if sink.digest else None
    head = b""
    size = 0
    try:
        try:
            handle = open(part, "wb")  # noqa: SIM115 - closed by _finish or below
        except OSError as exc:
            raise disk_error(exc, folder, "create a file") from exc
        try:
            meter = _Progress(sink.progress, total, sink.clock, sink.progress_interval)
            while True:
                if sink.cancel is not None and sink.cancel.is_set():
                    raise cancelled(dest)
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
                    raise too_large(sink.max_bytes)
                if len(head) < 16:
                    head = (head + chunk[:16])[:16]
                if digest is not None:
                    digest.update(chunk)
                try:
                    handle.write(chunk)
                except OSError as exc:
                    raise disk_error(exc, folder, "write the file") from exc
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
# Copies and sidecar JSON


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
        raise disk_error(exc, src.parent, "read the file") from exc
    if src.is_dir():
        raise DownloadError(DownloadErrorKind.OTHER, f"{src} is a folder, not a video file.")
    ensure_folder(dest.parent)
    check_space(dest.parent, size)
    if cancel is not None and cancel.is_set():
        raise cancelled(dest)

    def read_error(exc: OSError) -> BaseException:
        return disk_error(exc, src.parent, "read the file")

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
        sink = Sink(
            progress, cancel, clock, progress_interval, read_error, same_size, digest=digest
        )
        return write_atomically(iter(lambda: source.read(chunk_size), b""), dest, size, sink)


def write_json_atomic(dest: Path, data: object) -> None:
    """Write ``data`` as UTF-8 JSON to ``dest`` atomically (core.files.write_text_atomic).

    A value JSON cannot represent raises ``TypeError``/``ValueError`` before any file is
    touched; disk trouble raises :class:`DownloadError`.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    ensure_folder(dest.parent)
    try:
        write_text_atomic(dest, text)
    except OSError as exc:
        raise disk_error(exc, dest.parent, "save the file") from exc
