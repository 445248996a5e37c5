"""The journal's SQLite schema: versions, migrations, and the checks made before opening a file.

Version history:

1. ``jobs(local_id, remote_id, state, created_at, updated_at, prompt, model, doc)`` with
   indexes on remote_id and created_at; ``events`` without ``note``; ``meta`` with the version.
2. ``jobs`` gains ``hidden``, ``reviewed`` and ``download`` (so resuming and filtering need no
   JSON parsing) and an index on ``state``; ``events`` gains ``note``; triggers make events
   append-only and jobs undeletable.
3. ``jobs`` gains the bill: ``billing_state``, ``cost``, ``estimated_nanos``,
   ``settled_nanos`` and ``gateway_label``, so the spend ledger adds up a long history
   without parsing a JSON document per job.

A migration backs the file up first (SQLite's online backup, so un-checkpointed WAL content is
included) and runs every step in one transaction: it either happens completely or not at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.files import fsync_dir
from core.journal_codec import Row, bill_columns, job_from_json, job_row

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3
SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm", "-journal")


class JournalCorruptError(Exception):
    """The journal cannot be used as it is; the message says what the person should do."""


class JournalTooNewError(JournalCorruptError):
    """The journal was written by a newer Reelgate; this version refuses it and leaves it as is."""


class JournalUnavailableError(JournalCorruptError):
    """The journal file exists but cannot be opened right now (permissions, locked, disk)."""


_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # Numeric columns stay nullable: a job row must never fail to be written.
    """CREATE TABLE IF NOT EXISTS jobs (
        local_id TEXT PRIMARY KEY,
        remote_id TEXT,
        state TEXT NOT NULL,
        created_at REAL,
        updated_at REAL,
        prompt TEXT NOT NULL,
        model TEXT NOT NULL,
        hidden INTEGER NOT NULL DEFAULT 0,
        reviewed INTEGER NOT NULL DEFAULT 0,
        download TEXT,
        doc TEXT NOT NULL,
        billing_state TEXT,
        cost TEXT,
        estimated_nanos INTEGER,
        settled_nanos INTEGER,
        gateway_label TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        local_id TEXT NOT NULL REFERENCES jobs(local_id),
        at REAL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        http_status INTEGER,
        request_id TEXT,
        raw TEXT,
        note TEXT
    )""",
)
#: Indexes and guards shared by a fresh version-2 file and a migrated one.
_V2_EXTRAS = (
    "CREATE INDEX IF NOT EXISTS jobs_remote_id ON jobs(remote_id)",
    "CREATE INDEX IF NOT EXISTS jobs_created_at ON jobs(created_at)",
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state)",
    "CREATE INDEX IF NOT EXISTS events_local_id ON events(local_id, id)",
    """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
       BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
       BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS jobs_no_delete BEFORE DELETE ON jobs
       BEGIN SELECT RAISE(ABORT, 'journal jobs are never deleted; hide them instead'); END""",
)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (autocommit connections only)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def derived_columns(doc: object) -> tuple[int, str | None]:
    """``(reviewed, download)`` column values for a stored document; unusable -> ``(0, None)``."""
    try:
        job = job_from_json(doc)
    except ValueError:
        return 0, None
    return int(job.reviewed), job.download.value


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    """Add hidden/reviewed/download to jobs, note to events, the state index and the guards."""
    conn.execute("ALTER TABLE jobs ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE jobs ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE jobs ADD COLUMN download TEXT")
    conn.execute("ALTER TABLE events ADD COLUMN note TEXT")
    rows = conn.execute("SELECT local_id, doc FROM jobs").fetchall()
    for local_id, doc in rows:
        reviewed, download = derived_columns(doc)
        conn.execute(
            "UPDATE jobs SET reviewed = ?, download = ? WHERE local_id = ?",
            (reviewed, download, local_id),
        )
    for statement in _V2_EXTRAS:
        conn.execute(statement)


#: The bill's columns and their types, in ``journal_codec.bill_columns`` order.
BILL_COLUMNS = {
    "billing_state": "TEXT",
    "cost": "TEXT",
    "estimated_nanos": "INTEGER",
    "settled_nanos": "INTEGER",
    "gateway_label": "TEXT",
}


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    """Add the bill's columns to jobs and fill them from each job's document."""
    for name, kind in BILL_COLUMNS.items():
        conn.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
    assignments = ", ".join(f"{name} = ?" for name in BILL_COLUMNS)
    for local_id, doc in conn.execute("SELECT local_id, doc FROM jobs").fetchall():
        try:
            job = job_from_json(doc)
        except ValueError:
            continue  # an unreadable document keeps empty columns (no bill is known)
        conn.execute(
            f"UPDATE jobs SET {assignments} WHERE local_id = ?", (*bill_columns(job), local_id)
        )


#: ``MIGRATIONS[n]`` turns a version-n file into a version-(n+1) file.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
}


def read_version(conn: sqlite3.Connection) -> int | None:
    """The file's schema version: 0 for an empty database, None if it is not a journal."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return 0
    if "meta" not in tables:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    try:
        return int(row[0]) if row is not None else None
    except (TypeError, ValueError):
        return None


def _write_version(conn: sqlite3.Connection, version: int) -> None:
    """Record the schema version in ``meta``."""
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (str(version),),
    )


def unique_path(base: Path) -> Path:
    """``base`` if neither it nor its side files exist, else ``base.1``, ``base.2``..."""
    candidate, number = base, 0
    while candidate.exists() or any(
        candidate.with_name(candidate.name + side).exists() for side in SIDE_FILES
    ):
        number += 1
        candidate = base.with_name(f"{base.name}.{number}")
    return candidate


def backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the open database to ``<name>.v<version>-backup`` before migrating it."""
    target = unique_path(path.with_name(f"{path.name}.v{version}-backup"))
    copy = sqlite3.connect(str(target))
    try:
        conn.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        copy.close()
    fsync_dir(path.parent)
    return target


def prepare(conn: sqlite3.Connection, path: Path) -> tuple[int, Path | None]:
    """Create a fresh schema or migrate an old one; returns (version, backup path or None)."""
    version = read_version(conn)
    if version == SCHEMA_VERSION:
        return version, None
    changed = JournalCorruptError(
        f"{path} changed while it was being opened; start Reelgate again."
    )
    if version is None or version > SCHEMA_VERSION:
        raise changed  # the probe refuses these, so another process changed the file
    backup_path = backup(conn, path, version) if version > 0 else None
    with transaction(conn):
        version = read_version(conn)  # another process may have migrated meanwhile
        if version is None or version > SCHEMA_VERSION:
            raise changed
        if version == 0:  # a new file gets today's layout directly
            for statement in (*_TABLES, *_V2_EXTRAS):
                conn.execute(statement)
        else:
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
                logger.info("journal %s migrated from version %d to %d", path, step, step + 1)
        if version != SCHEMA_VERSION:
            _write_version(conn, SCHEMA_VERSION)
    return SCHEMA_VERSION, backup_path


# ---------------------------------------------------------------------------------------------
# Before opening: a read-only look that changes nothing, and moving a damaged file aside.


@dataclass(frozen=True)
class Probe:
    """What a read-only look at a journal file found."""

    version: int | None  # 0: new or empty; None: not a Reelgate journal
    problem: str | None = None  # set when the file is damaged


def is_corruption(exc: sqlite3.Error) -> bool:
    """Whether an SQLite error means the file is damaged (not merely busy or unreadable)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def read_only(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A read-only connection: it never checkpoints the WAL or otherwise writes the file."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=busy_timeout)


def _unavailable(path: Path, exc: BaseException) -> JournalUnavailableError:
    """The error for a journal that exists but cannot be read now."""
    return JournalUnavailableError(
        f"The job journal {path} cannot be read right now ({exc}). Check the file's "
        "permissions and that the disk is available, close other copies of Reelgate, "
        "then start Reelgate again."
    )


def probe(path: Path, busy_timeout: float) -> Probe:
    """Look at ``path`` without changing it; raises JournalUnavailableError if it cannot be read."""
    if not path.exists():
        return Probe(version=0)
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise _unavailable(path, exc) from exc
    # An empty file is left to SQLite: after a crash its content may still be in the -wal.
    if header and not SQLITE_MAGIC.startswith(header[:16]):
        return Probe(version=None, problem="the file is not an SQLite database")
    if header and len(header) < 100:
        return Probe(version=None, problem="the file is truncated (incomplete header)")
    try:
        if path.with_name(path.name + "-wal").exists():
            # Read-only: closing must not checkpoint that WAL into a file that may be damaged.
            conn = read_only(path, busy_timeout)
        else:
            # Nothing to checkpoint, and unlike a read-only connection this one removes the
            # -wal/-shm it creates when it closes, so a refused file is left exactly as found.
            conn = sqlite3.connect(str(path), timeout=busy_timeout)
    except sqlite3.Error as exc:
        raise _unavailable(path, exc) from exc
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        if rows != [("ok",)]:
            detail = "; ".join(str(row[0]) for row in rows[:3])
            return Probe(version=None, problem=f"SQLite integrity check failed: {detail}")
        return Probe(version=read_version(conn))
    except sqlite3.Error as exc:
        if is_corruption(exc):
            return Probe(version=None, problem=f"SQLite reports: {exc}")
        raise _unavailable(path, exc) from exc
    finally:
        conn.close()


def move_aside(path: Path, stamp: float | None = None) -> Path:
    """Rename a damaged journal (and its -wal/-shm) to ``<name>.corrupt-<time>``; never deletes.

    Raises JournalCorruptError, saying what to do, when the rename is impossible.
    """
    moment = time.strftime("%Y%m%d-%H%M%S", time.localtime(stamp))
    target = unique_path(path.with_name(f"{path.name}.corrupt-{moment}"))
    moved: list[tuple[Path, Path]] = []
    try:
        # Side files first: a -wal left behind at the old name would be replayed into the
        # fresh journal created there. The main file goes last, so on failure it still sits
        # at its old name, and the side files already moved are put back.
        for side in (*SIDE_FILES, ""):
            source = path.with_name(path.name + side)
            if side and not source.exists():
                continue
            destination = target.with_name(target.name + side)
            os.replace(source, destination)
            moved.append((source, destination))
    except OSError as exc:
        for source, destination in reversed(moved):
            with contextlib.suppress(OSError):
                os.replace(destination, source)
        raise JournalCorruptError(
            f"The job journal {path} is damaged and could not be moved aside ({exc}). "
            f"Rename or move it (and any {path.name}-wal / -shm next to it) yourself, keep the "
            "copy (it holds your job records), then start Reelgate again."
        ) from exc
    fsync_dir(path.parent)
    return target


def _collect(conn: sqlite3.Connection, sql: str, into: list[Row]) -> None:
    """Append the rows of ``sql`` until the damaged file stops yielding them."""
    try:
        for row in conn.execute(sql):
            into.append(tuple(row))
    except sqlite3.Error as exc:
        logger.warning("salvage stopped after %d rows of %r: %s", len(into), sql, exc)


def salvage(damaged: Path, busy_timeout: float) -> tuple[list[Row], list[Row]]:
    """Whatever ``(doc, hidden)`` job rows and event rows a damaged journal still yields.

    Read-only and best effort: a file SQLite cannot read at all yields nothing. Jobs are read
    twice, in table order and through the created_at index, so rows stored after a damaged
    page can still be reached; duplicates are harmless (restoring is an upsert).
    """
    jobs: list[Row] = []
    events: list[Row] = []
    try:
        conn = read_only(damaged, busy_timeout)
    except sqlite3.Error:
        return jobs, events
    try:
        # Lets SQLite read a file shorter than its header says (truncated) instead of
        # refusing it outright; the connection is read-only, so nothing is written.
        conn.execute("PRAGMA writable_schema=ON")
        job_columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
        event_columns = {row[1] for row in conn.execute("PRAGMA table_info(events)")}
    except sqlite3.Error as exc:
        logger.warning("nothing can be salvaged from %s: %s", damaged, exc)
        conn.close()
        return jobs, events
    try:
        if "doc" in job_columns:
            select = "SELECT doc, " + ("hidden" if "hidden" in job_columns else "0") + " FROM jobs"
            _collect(conn, select, jobs)
            _collect(conn, f"{select} ORDER BY created_at DESC", jobs)
        if "local_id" in event_columns:
            note = "note" if "note" in event_columns else "NULL"
            _collect(
                conn,
                f"SELECT id, local_id, at, kind, state, http_status, request_id, raw, {note} "
                "FROM events",
                events,
            )
    finally:
        conn.close()
    return jobs, events


# ---------------------------------------------------------------------------------------------
# Statements on today's layout (shared by the journal and recovery).

#: Columns read to rebuild a job: the document, and the rowid to find the row again.
JOB_COLUMNS = "doc, rowid"
#: Columns that stand in for a document that cannot be read.
STAND_IN_COLUMNS = "doc, local_id, remote_id, state, created_at, updated_at, prompt, model"
#: Column list and placeholders matching ``journal_codec.job_row``.
JOB_VALUES = (
    "(local_id, remote_id, state, created_at, updated_at, prompt, model, reviewed, download, doc, "
    "billing_state, cost, estimated_nanos, settled_nanos, gateway_label)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_JOB = f"INSERT INTO jobs {JOB_VALUES}"
#: An upsert, so saving a job whose row is somehow missing writes it instead of losing it.
#: A record whose video is saved is never written back to "not saved": another process
#: (the window, the command line) may have saved it since this copy was read, and its
#: record is the newer one (the engine re-reads it before downloading).
UPSERT_JOB = (
    f"INSERT INTO jobs {JOB_VALUES} ON CONFLICT(local_id) DO UPDATE SET "
    "remote_id = excluded.remote_id, state = excluded.state, created_at = excluded.created_at, "
    "updated_at = excluded.updated_at, prompt = excluded.prompt, model = excluded.model, "
    "reviewed = excluded.reviewed, download = excluded.download, doc = excluded.doc, "
    "billing_state = excluded.billing_state, cost = excluded.cost, "
    "estimated_nanos = excluded.estimated_nanos, settled_nanos = excluded.settled_nanos, "
    "gateway_label = excluded.gateway_label "
    "WHERE NOT (jobs.download = 'done' AND excluded.download <> 'done')"
)
EVENT_COLUMNS = "id, local_id, at, kind, state, http_status, request_id, raw, note"
APPEND_EVENT = (
    "INSERT INTO events (local_id, at, kind, state, http_status, request_id, raw, note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def restore(conn: sqlite3.Connection, jobs: list[Row], events: list[Row]) -> int:
    """Copy salvaged ``(doc, hidden)`` rows and their events into a fresh journal."""
    restored: set[str] = set()
    with transaction(conn):
        for doc, hidden in jobs:
            try:
                job = job_from_json(doc)
            except ValueError as exc:
                logger.warning("a damaged journal record could not be recovered: %s", exc)
                continue
            conn.execute(UPSERT_JOB, job_row(job))
            if hidden:
                conn.execute("UPDATE jobs SET hidden = 1 WHERE local_id = ?", (job.local_id,))
            restored.add(job.local_id)
        for event in events:
            if event[1] in restored:
                conn.execute(
                    f"INSERT OR IGNORE INTO events ({EVENT_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    event,
                )
    return len(restored)
