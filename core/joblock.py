"""Locks shared by every Reelgate process on this machine: one OS file lock per name.

The window and the command line (or two windows) work on one journal. A job's download and a
gateway identity's creates must each run in one place at a time, whichever process runs
them: an advisory lock on a small file beside the journal says who. The OS drops the lock
when its holder exits, so a killed process never leaves a job locked. A job's lock file is
removed by its holder when the download ends (``release(remove=True)``); a process that opened
the file before it was removed sees that its file is no longer the one at the path once it
gets the lock, and takes the lock again on the new file, so removal never lets two in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar

logger = logging.getLogger(__name__)

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # Windows
    import msvcrt
except ImportError:  # pragma: no cover - POSIX
    msvcrt = None  # type: ignore[assignment]


def lock_name(*parts: str) -> str:
    """A file-safe name for a lock (a hash, so identities and ids never leak into names)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


class FileLock:
    """An exclusive lock held by one thread of one process at a time.

    ``acquire(blocking=False)`` says whether the lock was free. Inside one process a
    thread lock guards the same name too (POSIX file locks are per process, not per
    thread), so two threads of one engine exclude each other as well.
    """

    _thread_locks: ClassVar[dict[str, threading.Lock]] = {}
    _registry_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        """Prepare a lock on ``path`` (created when first taken)."""
        self.path = path
        key = str(path.resolve()) if path.parent.exists() else str(path)
        with FileLock._registry_lock:
            self._thread_lock = FileLock._thread_locks.setdefault(key, threading.Lock())
        self._handle: IO[bytes] | None = None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock; with ``blocking=False`` return False at once when it is held."""
        if not self._thread_lock.acquire(blocking=blocking):
            return False
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = open(self.path, "a+b")  # noqa: SIM115 - kept open while held
            except OSError as exc:
                # No lock file (read-only data folder): the thread lock still guards this
                # process.
                logger.warning("cannot open lock file %s: %s", self.path, exc)
                self._handle = None
                return True
            if not _lock_file(handle, blocking=blocking):
                handle.close()
                self._thread_lock.release()
                return False
            if _still_at(handle, self.path):
                self._handle = handle
                return True
            # The holder removed the file while this process waited: lock the new one.
            _unlock_file(handle)
            handle.close()

    def release(self, *, remove: bool = False) -> None:
        """Give the lock back.

        With ``remove``, delete the lock file first (while still held, so no other process
        can be holding it). Not on Windows, where open files stay.
        """
        handle, self._handle = self._handle, None
        try:
            if handle is not None:
                if remove and fcntl is not None:
                    try:
                        self.path.unlink()
                    except OSError as exc:
                        logger.debug("lock file %s not removed: %s", self.path, exc)
                _unlock_file(handle)
                handle.close()
        finally:
            self._thread_lock.release()

    def __enter__(self) -> FileLock:
        """Take the lock, waiting for it."""
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Release it."""
        self.release()


def _still_at(handle: IO[bytes], path: Path) -> bool:
    """Whether the open ``handle`` is still the file at ``path`` (not removed or replaced)."""
    try:
        at_path = os.stat(path)
    except OSError:
        return False
    mine = os.fstat(handle.fileno())
    return (mine.st_dev, mine.st_ino) == (at_path.st_dev, at_path.st_ino)


def _lock_file(handle: IO[bytes], *, blocking: bool) -> bool:
    """Lock the whole file; False when another process holds it (non-blocking)."""
    if fcntl is not None:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(handle.fileno(), flags)
        except BlockingIOError:
            return False
        return True
    if msvcrt is not None:  # pragma: no cover - Windows
        mode = msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), mode, 1)
        except OSError:
            return False
        return True
    return True  # pragma: no cover - no OS locks: the thread lock is all there is


def _unlock_file(handle: IO[bytes]) -> None:
    if fcntl is not None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    elif msvcrt is not None:  # pragma: no cover - Windows
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (used to judge stale files)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - Windows raises other errors for odd pids
        return False
    return True
