"""The durable job journal: every job Reelgate submitted and everything that happened to it.

One SQLite file (stdlib ``sqlite3``) in WAL mode with ``synchronous=FULL``: a call that
writes returns only after its transaction is committed and synced, so a job recorded before
its create request is sent survives a SIGKILL or, as far as the disk honours fsync, a power
cut. Each job is one row (queryable columns plus the full JSON document) and an append-only
list of events (what the gateway said, when, verbatim).

Durability choice, measured on the development machine (ext4 on a virtio disk, Python 3.11,
SQLite 3.40): recording a status event (``save``: upsert + event insert, one transaction)
takes a median of 0.22-0.32 ms with ``synchronous=FULL`` (p95 about 0.5 ms; medians rose to
0.8-1.5 ms in runs made while other test suites were using the same disk) against 0.075 ms with
``NORMAL``. ``NORMAL`` in WAL mode survives an application crash (SIGKILL) but may lose the
last commits on power loss, and a lost row is a paid job nobody can find; FULL stays well
under the 1 ms budget, so FULL it is.

A file that is not a readable SQLite database is never emptied or deleted: it is renamed to
``<name>.corrupt-<YYYYmmdd-HHMMSS>`` (with its -wal/-shm), whatever jobs it still yields are
copied into a fresh journal, and :attr:`Journal.recovered_from` tells the caller to say so.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from core.files import fsync_dir
from core.gc_pause import collector_paused
from core.jobs import TERMINAL_STATES, DownloadState, Job, JobState
from core.journal_codec import (
    Row,
    job_from_dict,
    job_from_json,
    job_row,
    job_to_dict,
    stand_in,
)
from core.journal_json import from_json, sqlite_text, to_json
from core.journal_schema import (
    APPEND_EVENT,
    EVENT_COLUMNS,
    INSERT_JOB,
    JOB_COLUMNS,
    SCHEMA_VERSION,
    STAND_IN_COLUMNS,
    UPSERT_JOB,
    JournalCorruptError,
    JournalTooNewError,
    JournalUnavailableError,
    move_aside,
    prepare,
    probe,
    restore,
    salvage,
    transaction,
)

__all__ = [
    "SCHEMA_VERSION",
    "Journal",
    "JournalCorruptError",
    "JournalEvent",
    "JournalTooNewError",
    "JournalUnavailableError",
    "job_from_dict",
    "job_to_dict",
]

logger = logging.getLogger(__name__)

#: Seconds a statement waits for another connection's lock before failing.
DEFAULT_BUSY_TIMEOUT = 10.0

#: From this many rows on, decoding pauses the cyclic garbage collector.
_BULK = 2000
_TERMINAL = tuple(sorted(state.value for state in TERMINAL_STATES))
# Candidates only (unknown states included); the parsed job has the final word.
_UNFINISHED = (
    f"SELECT {JOB_COLUMNS} FROM jobs WHERE state NOT IN ({', '.join('?' * len(_TERMINAL))}) "
    "OR (state = 'completed' AND (download IS NULL OR download <> 'done')) "
    "ORDER BY created_at, rowid"
)


@dataclass(frozen=True)
class JournalEvent:
    """One appended journal entry: what happened to a job, when, and what the gateway said."""

    id: int
    local_id: str
    at: float
    kind: str
    state: str
    http_status: int | None
    request_id: str | None
    raw: object
    note: str | None


def _resumable(job: Job) -> bool:
    """Still running on the server, or completed with the video not (fully) downloaded yet."""
    if not job.terminal:
        return True
    return job.state is JobState.COMPLETED and job.download is not DownloadState.DONE


def _event(row: Row) -> JournalEvent:
    """A :class:`JournalEvent` from an ``EVENT_COLUMNS`` row, its raw JSON parsed."""
    event_id, local_id, at, kind, state, http_status, request_id, raw, note = row
    return JournalEvent(
        id=event_id,
        local_id=local_id,
        at=at,
        kind=kind,
        state=state,
        http_status=http_status,
        request_id=request_id,
        raw=from_json(raw),
        note=note,
    )


def _connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """The journal's single read-write connection, configured for durability."""
    try:
        conn = sqlite3.connect(
            str(path),
            timeout=busy_timeout,
            isolation_level=None,  # explicit BEGIN IMMEDIATE / COMMIT only
            check_same_thread=False,  # shared between threads behind Journal._lock
            cached_statements=64,
        )
    except sqlite3.Error as exc:
        raise JournalUnavailableError(
            f"The job journal {path} cannot be opened ({exc}). Check the folder's permissions "
            "and free disk space, then start Reelgate again."
        ) from exc
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            logger.warning("journal %s cannot use WAL mode (got %s)", path, mode)
        conn.execute("PRAGMA synchronous=FULL")  # see the module docstring for the measurement
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        conn.close()
        raise JournalUnavailableError(f"The job journal {path} cannot be used ({exc}).") from exc
    return conn


class Journal:
    """The job journal: one SQLite file, one connection, safe to call from several threads."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: Path,
        *,
        schema_version: int,
        recovered_from: Path | None = None,
        recovery_problem: str | None = None,
        salvaged_jobs: int = 0,
        backup_path: Path | None = None,
    ) -> None:
        """Wrap an open, prepared connection; use :meth:`open` instead."""
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        self.schema_version = schema_version
        #: Where a damaged journal was moved to when this one was opened, else None.
        self.recovered_from = recovered_from
        #: What was wrong with the damaged journal (for logs and the message).
        self.recovery_problem = recovery_problem
        #: How many jobs were copied from the damaged journal into this one.
        self.salvaged_jobs = salvaged_jobs
        #: The copy made before migrating an older journal, else None.
        self.backup_path = backup_path

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Journal:
        """Open (creating, migrating or recovering as needed) the journal at ``path``.

        Raises :class:`JournalTooNewError` for a journal from a newer Reelgate (left untouched),
        and :class:`JournalCorruptError` (or :class:`JournalUnavailableError`) with a message saying
        what to do when the file can be neither used nor moved aside.
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalUnavailableError(
                f"The folder for the job journal {path.parent} cannot be created ({exc}). "
                "Check its permissions or choose another data folder."
            ) from exc
        found = probe(path, busy_timeout)
        if found.version is not None and found.version > SCHEMA_VERSION:
            raise JournalTooNewError(
                f"The job journal {path} was written by a newer Reelgate (journal version "
                f"{found.version}; this Reelgate knows up to {SCHEMA_VERSION}). Install the "
                "newer Reelgate to see these jobs. The file has not been changed."
            )
        recovered_from: Path | None = None
        problem: str | None = None
        if found.problem is not None or found.version is None:
            problem = found.problem or "the file is not a Reelgate job journal"
            recovered_from = move_aside(path)
            logger.error("journal %s is unusable (%s); moved to %s", path, problem, recovered_from)
        existed = path.exists()
        conn = _connect(path, busy_timeout)
        try:
            version, backup_path = prepare(conn, path)
            salvaged = 0
            if recovered_from is not None:
                salvaged = restore(conn, *salvage(recovered_from, busy_timeout))
        except sqlite3.Error as exc:
            conn.close()
            raise JournalUnavailableError(
                f"The job journal {path} could not be prepared ({exc}). It was not changed; "
                "check free disk space, then start Reelgate again."
            ) from exc
        except BaseException:
            conn.close()
            raise
        if not existed:
            fsync_dir(path.parent)  # the new file's directory entry must survive a power cut
        return cls(
            conn,
            path,
            schema_version=version,
            recovered_from=recovered_from,
            recovery_problem=problem,
            salvaged_jobs=salvaged,
            backup_path=backup_path,
        )

    @property
    def recovery_message(self) -> str | None:
        """A sentence for the person when a damaged journal was moved aside, else None."""
        if self.recovered_from is None:
            return None
        recovered = (
            f" {self.salvaged_jobs} job(s) could be recovered from it."
            if self.salvaged_jobs
            else ""
        )
        return (
            f"The job journal was damaged ({self.recovery_problem}). It was moved aside to "
            f"{self.recovered_from} and a new journal was started.{recovered} Keep that file: "
            "it holds your earlier job records."
        )

    # -- writing ---------------------------------------------------------------------------

    def insert(self, job: Job) -> None:
        """Record a new job; committed and synced before this returns.

        Raises ValueError if a job with the same ``local_id`` is already recorded.
        """
        row = job_row(job)
        with self._lock:
            try:
                self._conn.execute(INSERT_JOB, row)
            except sqlite3.IntegrityError as exc:
                if "UNIQUE" not in str(exc):
                    raise
                raise ValueError(f"job {job.local_id!r} is already in the journal") from exc

    def save(
        self,
        job: Job,
        kind: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        raw: object = None,
        note: str | None = None,
    ) -> None:
        """Update the job's row and append an event, in one committed transaction.

        The event is stamped ``job.updated_at`` and ``job.state``; ``raw`` is the response
        (any JSON value, or text) and is kept verbatim.
        """
        row = job_row(job)
        event = (
            row[0],
            job.updated_at,
            sqlite_text(kind),
            job.state.value,
            http_status,
            None if request_id is None else sqlite_text(request_id),
            None if raw is None else to_json(raw),
            None if note is None else sqlite_text(note),
        )
        with self._lock, transaction(self._conn):
            self._conn.execute(UPSERT_JOB, row)
            self._conn.execute(APPEND_EVENT, event)

    def update(self, job: Job) -> None:
        """Update the job's row without an event (bookkeeping such as ``next_poll_at``)."""
        row = job_row(job)
        with self._lock:
            self._conn.execute(UPSERT_JOB, row)

    def set_hidden(self, local_id: str, hidden: bool) -> None:
        """Hide a job from the list (or show it again); the job itself is never deleted."""
        with self._lock:
            cursor = self._conn.execute(
                "UPDATE jobs SET hidden = ? WHERE local_id = ?", (int(hidden), local_id)
            )
        if cursor.rowcount == 0:
            raise KeyError(f"no job {local_id!r} in the journal")

    # -- reading ---------------------------------------------------------------------------

    def _fetch(self, sql: str, parameters: tuple[object, ...] = ()) -> list[Row]:
        """All rows of one query, run under the lock."""
        with self._lock:
            return self._conn.execute(sql, parameters).fetchall()

    def _decode(self, rows: list[Row]) -> list[Job]:
        """Jobs from ``JOB_COLUMNS`` rows; an unreadable document degrades to the columns."""
        if len(rows) < _BULK:
            return [self._job(doc, rowid) for doc, rowid in rows]
        with collector_paused():  # see core.gc_pause
            return [self._job(doc, rowid) for doc, rowid in rows]

    def _job(self, doc: object, rowid: int) -> Job:
        """One job from its document, or from its columns when the document is unreadable."""
        try:
            return job_from_json(doc)
        except ValueError as exc:
            rows = self._fetch(f"SELECT {STAND_IN_COLUMNS} FROM jobs WHERE rowid = ?", (rowid,))
            return stand_in(rows[0], str(exc))

    def get(self, local_id: str) -> Job | None:
        """The job with this local id, hidden or not, or None."""
        rows = self._fetch(f"SELECT {JOB_COLUMNS} FROM jobs WHERE local_id = ?", (local_id,))
        return self._decode(rows)[0] if rows else None

    def find_remote(self, remote_id: str) -> Job | None:
        """The (newest) job the gateway knows by ``remote_id``, hidden or not, or None."""
        rows = self._fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE remote_id = ? "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (remote_id,),
        )
        return self._decode(rows)[0] if rows else None

    def set_members(self, set_id: str) -> list[Job]:
        """The jobs of one compare set or batch, oldest first, hidden ones included.

        The set id lives in the job document only (no column, so no schema change): a LIKE
        on its JSON text narrows the rows, and the parsed job has the final word.
        """
        if not set_id:
            return []
        # Wildcards in an odd id only widen the match; the check below is exact.
        pattern = "%" + to_json({"set_id": set_id})[1:-1] + "%"
        rows = self._fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE doc LIKE ? ORDER BY created_at, rowid",
            (pattern,),
        )
        return [job for job in self._decode(rows) if job.set_id == set_id]

    def jobs(self, *, include_hidden: bool = False, limit: int | None = None) -> list[Job]:
        """Jobs newest first (by ``created_at``), without hidden ones unless asked."""
        if limit is not None and limit < 0:
            raise ValueError("limit must be None or >= 0")
        where = "" if include_hidden else "WHERE hidden = 0 "
        rows = self._fetch(
            f"SELECT {JOB_COLUMNS} FROM jobs {where}ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (-1 if limit is None else limit,),
        )
        return self._decode(rows)

    def unfinished(self) -> list[Job]:
        """Jobs to resume on start, oldest first, hidden ones included (they were paid for).

        That is every job not in a terminal state, and every completed job whose video is not
        on disk yet: download none, pending, failed, or active (a download the last run left
        unfinished).
        """
        rows = self._fetch(_UNFINISHED, _TERMINAL)
        return [job for job in self._decode(rows) if _resumable(job)]

    def events(self, local_id: str) -> list[JournalEvent]:
        """The job's events, oldest first."""
        rows = self._fetch(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE local_id = ? ORDER BY id", (local_id,)
        )
        return [_event(row) for row in rows]

    def remote_ids(self) -> set[str]:
        """Every gateway id the journal knows, hidden jobs included (no documents parsed)."""
        return {
            row[0] for row in self._fetch("SELECT remote_id FROM jobs WHERE remote_id IS NOT NULL")
        }

    def hidden_ids(self) -> set[str]:
        """Local ids of the jobs currently hidden from the list."""
        return {row[0] for row in self._fetch("SELECT local_id FROM jobs WHERE hidden = 1")}

    def count(self, *, include_hidden: bool = True) -> int:
        """How many jobs the journal holds."""
        where = "" if include_hidden else " WHERE hidden = 0"
        return int(self._fetch(f"SELECT count(*) FROM jobs{where}")[0][0])

    def integrity_ok(self) -> bool:
        """Whether SQLite's full ``integrity_check`` finds nothing wrong."""
        try:
            return self._fetch("PRAGMA integrity_check") == [("ok",)]
        except sqlite3.DatabaseError:
            return False

    # -- lifetime --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent); the last close checkpoints the WAL."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):  # closed already, or busy: a nicety
                self._conn.execute("PRAGMA optimize")
            self._conn.close()

    def __enter__(self) -> Journal:
        """Use the journal as a context manager that closes it."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close on leaving the ``with`` block."""
        self.close()
