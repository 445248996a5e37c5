"""Small durable-file helpers: atomic text writes, folder fsync, and ``.part`` file names.

An atomic write goes to a temporary file beside the destination, is fsynced and moved over
it with ``os.replace``, and the folder is fsynced (POSIX), so the destination only ever holds
the old or the whole new content. Streamed writes (downloads, copies) use the same ``.part``
names (core.safe_write); :func:`cleanup_partials` removes those a stopped process left.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from core.joblock import pid_alive

logger = logging.getLogger(__name__)

PART_SUFFIX = ".part"
_PART_PID = re.compile(r"\.(\d+)-[0-9a-f]+\.part$")
#: What :func:`part_path` appends to a file's name.
_OWN_PART = re.compile(r"\.\d+-[0-9a-f]+\.part")


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


def fsync_dir(folder: Path) -> None:
    """Make a create or rename in ``folder`` durable (POSIX; a no-op where unsupported)."""
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


def write_text_atomic(path: Path, text: str, *, newline: str | None = None) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (temporary file, fsync, rename).

    The folder is created if needed. On any failure the temporary file is removed and
    ``path`` keeps its old content; the ``OSError`` is raised. ``newline`` is passed to
    ``open`` (``""``: write line endings as given).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline=newline) as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_dir(path.parent)


def part_path(dest: Path) -> Path:
    """A ``.part`` name no other writer uses: the process id and a random tag."""
    return dest.with_name(f"{dest.name}.{os.getpid()}-{secrets.token_hex(4)}{PART_SUFFIX}")


def writer_pid(path: Path) -> int | None:
    """The process id in a ``.part`` name written by :func:`part_path` (None: older name)."""
    match = _PART_PID.search(path.name)
    return int(match.group(1)) if match else None


def cleanup_partials(folder: Path, *, older_than: float = 0.0) -> list[Path]:
    """Remove stale ``*.part`` files in ``folder`` (not below it); return what was removed.

    A file whose name carries the id of a process still running is spared while it was
    modified within ``older_than`` seconds (another process is writing it now); every other
    ``.part`` is stale: its writer is gone. Names without a process id (older versions)
    are spared while younger than ``older_than``. A missing folder is fine.
    """
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    cutoff = time.time() - older_than

    def stale(path: Path) -> bool:
        if not path.name.endswith(PART_SUFFIX) or path.is_symlink() or not path.is_file():
            return False
        recent = older_than > 0 and path.stat().st_mtime > cutoff
        pid = writer_pid(path)
        return not (recent and (pid is None or pid_alive(pid)))

    return _remove_where(entries, stale, f"in {folder}")


def remove_orphaned_parts(dest: Path) -> list[Path]:
    """Remove the ``.part`` files of ``dest`` whose writing process is gone; return them.

    A process killed while writing ``dest`` (a Save as, the command line's ``--output``)
    leaves ``dest.<pid>-<tag>.part`` beside it. Only names :func:`part_path` made for this
    very file are touched, so other programs' ``.part`` files in a person's folder (a
    browser's downloads) are never removed, nor one a running process is writing.
    """
    try:
        entries = list(dest.parent.iterdir())
    except OSError:
        return []

    def orphaned(path: Path) -> bool:
        tail = path.name[len(dest.name) :]
        if not path.name.startswith(dest.name) or not _OWN_PART.fullmatch(tail):
            return False
        pid = writer_pid(path)
        return not (pid is None or pid_alive(pid) or path.is_symlink() or not path.is_file())

    return _remove_where(entries, orphaned, f"of {dest}")


def _remove_where(entries: list[Path], doomed: Callable[[Path], bool], where: str) -> list[Path]:
    """Remove the ``.part`` files among ``entries`` that ``doomed`` picks; return them."""
    removed: list[Path] = []
    for path in entries:
        try:
            if not doomed(path):
                continue
            path.unlink()
        except OSError as exc:
            logger.warning("could not remove the partial file %s: %s", path, exc)
            continue
        removed.append(path)
    if removed:
        logger.info("removed %d partial file(s) %s", len(removed), where)
    return removed
