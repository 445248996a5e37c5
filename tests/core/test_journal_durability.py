"""The journal under stress: SIGKILL, threads, old and new schemas, damaged files."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from core.jobs import DownloadState, Job, JobParams, JobState
from core.journal import (
    SCHEMA_VERSION,
    Journal,
    JournalCorruptError,
    JournalTooNewError,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
V1_FIXTURE = FIXTURES / "journal_v1.db"
CORRUPT_NAME = re.compile(r"^journal\.db\.corrupt-\d{8}-\d{6}(\.\d+)?$")


def make_job(local_id: str = "L-1", created_at: float = 1_000.0, **changes: object) -> Job:
    """A minimal valid job, with ``changes`` applied."""
    job = Job(
        local_id=local_id,
        params=JobParams(model="veo-3", prompt="a red kite " * 20, duration=8, aspect_ratio="1:1"),
        state=JobState.SUBMITTING,
        created_at=created_at,
        updated_at=created_at,
    )
    return replace(job, **changes)  # type: ignore[arg-type]


def run_child(code: str, *args: str) -> subprocess.Popen[str]:
    """Start a Python child running ``code`` with the repository importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def schema_of(path: Path) -> dict[str, set[str]]:
    """Column, index and trigger names of a journal file."""
    conn = sqlite3.connect(path)
    try:
        shape = {
            table: {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for table in ("meta", "jobs", "events")
        }
        shape["objects"] = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') "
                "AND name NOT LIKE 'sqlite_%'"
            )
        }
    finally:
        conn.close()
    return shape


# -- crash safety ------------------------------------------------------------------------------

_INSERT_THEN_DIE = """
import os, signal, sys
from pathlib import Path
from core.jobs import Job, JobParams, JobState
from core.journal import Journal

journal = Journal.open(Path(sys.argv[1]))
job = Job(
    local_id="L-killed",
    params=JobParams(model="veo-3", prompt="survives", duration=8, aspect_ratio="16:9"),
    state=JobState.SUBMITTING,
    created_at=1.0,
    updated_at=1.0,
)
journal.insert(job)
os.kill(os.getpid(), signal.SIGKILL)  # right after insert returned: no close, no checkpoint
"""

_SAVE_UNTIL_KILLED = """
import sys
from dataclasses import replace
from pathlib import Path
from core.jobs import Job, JobParams, JobState
from core.journal import Journal

journal = Journal.open(Path(sys.argv[1]))
job = Job(
    local_id="L-busy",
    params=JobParams(model="veo-3", prompt="busy", duration=8, aspect_ratio="16:9"),
    state=JobState.QUEUED,
    created_at=1.0,
    updated_at=1.0,
)
journal.insert(job)
number = 0
while True:
    number += 1
    journal.save(replace(job, progress=number % 100, updated_at=1.0 + number), "status",
                  raw={"n": number})
    print(number, flush=True)  # only after save returned, i.e. committed
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_job_inserted_right_before_sigkill_survives(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    child = run_child(_INSERT_THEN_DIE, str(path))
    _, err = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL, err
    assert path.with_name("journal.db-wal").exists()  # the row lives only in the WAL so far
    with Journal.open(path) as journal:
        assert journal.recovered_from is None
        job = journal.get("L-killed")
        assert job is not None and job.params.prompt == "survives"
        assert job.state is JobState.SUBMITTING
        assert [j.local_id for j in journal.unfinished()] == ["L-killed"]
        assert journal.integrity_ok()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_every_save_reported_done_survives_sigkill_mid_stream(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    child = run_child(_SAVE_UNTIL_KILLED, str(path))
    assert child.stdout is not None
    confirmed = 0
    for line in child.stdout:
        confirmed = int(line)
        if confirmed >= 200:
            break
    child.kill()  # SIGKILL on POSIX, in the middle of further saves
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    with Journal.open(path) as journal:
        events = journal.events("L-busy")
        assert len(events) >= confirmed
        assert [e.raw for e in events] == [{"n": n} for n in range(1, len(events) + 1)]
        job = journal.get("L-busy")
        assert job is not None and job.updated_at == 1.0 + len(events)  # row and events agree
        assert journal.integrity_ok()


# -- threads -----------------------------------------------------------------------------------


def _hammer(journal: Journal, name: str, rounds: int, errors: list[BaseException]) -> None:
    """Save ``rounds`` events for the thread's own job and for a shared one."""
    try:
        job = make_job(name)
        journal.insert(job)
        for number in range(rounds):
            job = replace(job, progress=number, updated_at=2_000.0 + number)
            journal.save(job, "status", raw={"thread": name, "n": number})
            journal.save(make_job("L-shared", updated_at=float(number)), "status", note=name)
            if number % 10 == 0:
                journal.jobs()
                journal.unfinished()
    except BaseException as exc:  # collected and asserted on by the test
        errors.append(exc)


def test_concurrent_saves_from_8_threads_lose_nothing(tmp_path: Path) -> None:
    rounds = 40
    errors: list[BaseException] = []
    with Journal.open(tmp_path / "journal.db") as journal:
        journal.insert(make_job("L-shared"))
        threads = [
            threading.Thread(target=_hammer, args=(journal, f"T-{n}", rounds, errors))
            for n in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        for n in range(8):
            events = journal.events(f"T-{n}")
            assert [e.raw for e in events] == [{"thread": f"T-{n}", "n": i} for i in range(rounds)]
            job = journal.get(f"T-{n}")
            assert job is not None and job.progress == rounds - 1
        shared = journal.events("L-shared")
        assert len(shared) == 8 * rounds
        assert sorted(e.note or "" for e in shared) == sorted(
            f"T-{n}" for n in range(8) for _ in range(rounds)
        )
        assert journal.count() == 9
        assert journal.integrity_ok()


def test_two_connections_to_one_file_wait_instead_of_failing(tmp_path: Path) -> None:
    rounds = 30
    errors: list[BaseException] = []
    path = tmp_path / "journal.db"
    first = Journal.open(path)
    second = Journal.open(path)
    try:
        first.insert(make_job("L-shared"))
        threads = [
            threading.Thread(
                target=_hammer, args=(first if n % 2 else second, f"T-{n}", rounds, errors)
            )
            for n in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []  # in particular no "database is locked"
        assert len(first.events("L-shared")) == len(second.events("L-shared")) == 8 * rounds
        assert first.count() == 9
    finally:
        first.close()
        second.close()


# -- migration from version 1 ------------------------------------------------------------------


def test_checked_in_fixture_matches_its_generator(tmp_path: Path) -> None:
    sys.path.insert(0, str(FIXTURES))
    try:
        import make_journal_v1
    finally:
        sys.path.remove(str(FIXTURES))
    fresh = tmp_path / "journal_v1.db"
    make_journal_v1.build(fresh)
    checked_in = tmp_path / "checked_in.db"
    shutil.copyfile(V1_FIXTURE, checked_in)
    dumps = []
    for path in (checked_in, fresh):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dumps.append(list(conn.iterdump()))
        conn.close()
    assert dumps[0] == dumps[1]
    assert V1_FIXTURE.stat().st_size < 32 * 1024
    assert V1_FIXTURE.read_bytes()[18:20] == b"\x01\x01"  # rollback mode: no side files


def test_migrates_the_v1_fixture(tmp_path: Path) -> None:
    original = hashlib.sha256(V1_FIXTURE.read_bytes()).hexdigest()
    path = tmp_path / "journal.db"
    shutil.copyfile(V1_FIXTURE, path)
    with Journal.open(path) as journal:
        assert journal.schema_version == SCHEMA_VERSION == 3
        assert journal.recovered_from is None
        assert journal.backup_path == tmp_path / "journal.db.v1-backup"
        jobs = {job.local_id: job for job in journal.jobs()}  # none hidden after migration
        assert set(jobs) == {"L-processing", "L-completed", "L-failed"}
        assert [j.local_id for j in journal.jobs()] == ["L-failed", "L-completed", "L-processing"]

        processing = jobs["L-processing"]
        assert processing.state is JobState.PROCESSING
        assert (processing.remote_id, processing.remote_status) == (
            "G-01V1PROCESSING",
            "in_progress",
        )
        assert processing.progress == 40 and processing.request_ids == ("G-01V1PROCESSING",)
        completed = jobs["L-completed"]
        assert completed.state is JobState.COMPLETED and completed.download is DownloadState.PENDING
        assert completed.cost == "0.40" and "v1_scratch" not in completed.extra
        failed = jobs["L-failed"]
        assert failed.failure is not None and failed.failure.code == "provider_error"
        for job in jobs.values():  # keys version 1 never wrote take their defaults
            assert job.params.model == "veo-3" and job.params.duration == 8
            assert (job.reviewed, job.review_note, job.parent_id) == (False, "", None)
            assert (job.auth_blocked, job.deleted_on_server, job.output_path) == (
                False,
                False,
                None,
            )

        assert [j.local_id for j in journal.unfinished()] == ["L-processing", "L-completed"]
        assert journal.find_remote("G-01V1FAILED") == failed
        events = journal.events("L-completed")
        assert [(e.kind, e.state, e.http_status) for e in events] == [
            ("created", "queued", 202),
            ("poll_failed", "queued", 503),
            ("status", "completed", 200),
        ]
        assert events[1].raw == "Service Unavailable" and events[1].note is None
        assert [len(journal.events(i)) for i in ("L-processing", "L-failed")] == [2, 2]

        journal.set_hidden("L-failed", True)  # the new columns work
        journal.save(replace(processing, progress=80, updated_at=2e9), "status", note="after")
        assert journal.events("L-processing")[-1].note == "after"
        assert journal.integrity_ok()

    fresh = tmp_path / "fresh.db"
    Journal.open(fresh).close()
    assert schema_of(path) == schema_of(fresh)  # migrated layout == fresh layout

    backup = tmp_path / "journal.db.v1-backup"
    conn = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
    assert conn.execute("SELECT count(*) FROM jobs").fetchone() == (3,)
    assert "hidden" not in {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
    conn.close()

    with Journal.open(path) as again:  # a second open neither migrates nor backs up again
        assert again.backup_path is None and again.hidden_ids() == {"L-failed"}
    assert sorted(p.name for p in tmp_path.glob("journal.db.v1-backup*")) == [
        "journal.db.v1-backup"
    ]
    assert hashlib.sha256(V1_FIXTURE.read_bytes()).hexdigest() == original


def test_failed_migration_leaves_the_file_at_version_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import journal_schema

    path = tmp_path / "journal.db"
    shutil.copyfile(V1_FIXTURE, path)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE jobs ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0")
        raise RuntimeError("power cut, say")

    monkeypatch.setitem(journal_schema.MIGRATIONS, 1, broken)
    with pytest.raises(RuntimeError):
        Journal.open(path)
    monkeypatch.undo()
    assert "hidden" not in schema_of(path)["jobs"]  # rolled back as a whole
    with Journal.open(path) as journal:
        assert journal.schema_version == SCHEMA_VERSION and journal.count() == 3


# -- newer and damaged files -------------------------------------------------------------------


def test_too_new_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    with Journal.open(path) as journal:
        journal.insert(make_job())
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(JournalTooNewError, match=r"newer Reelgate.*99.*not been changed") as raised:
        Journal.open(path)
    assert isinstance(
        raised.value, JournalCorruptError
    )  # callers handling JournalCorruptError refuse too
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.db"]


def _assert_moved_aside(journal: Journal, path: Path, original: bytes) -> Path:
    """The damaged bytes sit untouched at ``recovered_from`` and a usable journal at ``path``."""
    moved = journal.recovered_from
    assert moved is not None and moved.parent == path.parent
    assert CORRUPT_NAME.match(moved.name), moved.name
    assert moved.read_bytes() == original
    assert journal.recovery_message is not None and str(moved) in journal.recovery_message
    assert journal.schema_version == SCHEMA_VERSION and journal.integrity_ok()
    journal.insert(make_job("L-new"))
    assert journal.get("L-new") is not None
    return moved


def test_garbage_file_is_moved_aside_and_a_fresh_journal_started(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    garbage = bytes(range(256)) * 40
    path.write_bytes(garbage)
    path.with_name("journal.db-wal").write_bytes(b"stale wal")
    with Journal.open(path) as journal:
        moved = _assert_moved_aside(journal, path, garbage)
        assert journal.count() == 1  # only the job inserted just now
        assert "not an SQLite database" in (journal.recovery_message or "")
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"stale wal"  # kept with it


@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_truncated_journal_is_moved_aside_and_what_remains_is_recovered(
    tmp_path: Path, keep: float
) -> None:
    path = tmp_path / "journal.db"
    originals = {}
    with Journal.open(path) as journal:
        for number in range(300):
            job = make_job(f"L-{number:03d}", created_at=float(number), state=JobState.QUEUED)
            journal.insert(job)
            journal.save(job, "status", raw={"n": number})
            originals[job.local_id] = job
    data = path.read_bytes()
    truncated = data[: int(len(data) * keep)]
    path.write_bytes(truncated)
    with Journal.open(path) as journal:
        _assert_moved_aside(journal, path, truncated)
        assert 0 < journal.salvaged_jobs < 300
        assert f"{journal.salvaged_jobs} job(s) could be recovered" in (
            journal.recovery_message or ""
        )
        for job in journal.jobs():
            if job.local_id != "L-new":
                assert job == originals[job.local_id]  # recovered intact, or not at all


def test_truncated_header_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    Journal.open(path).close()
    stub = path.read_bytes()[:50]
    path.write_bytes(stub)
    with Journal.open(path) as journal:
        _assert_moved_aside(journal, path, stub)
        assert "truncated" in (journal.recovery_message or "")


def test_foreign_sqlite_database_is_moved_aside_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (name TEXT)")
    conn.commit()
    conn.close()
    original = path.read_bytes()
    with Journal.open(path) as journal:
        _assert_moved_aside(journal, path, original)


def test_empty_file_becomes_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    path.write_bytes(b"")
    with Journal.open(path) as journal:
        assert journal.recovered_from is None and journal.count() == 0


def test_two_damaged_files_in_the_same_second_get_distinct_names(tmp_path: Path) -> None:
    from core.journal_schema import move_aside

    path = tmp_path / "journal.db"
    path.write_bytes(b"first")
    first = move_aside(path, stamp=1_800_000_000.0)
    path.write_bytes(b"second")
    second = move_aside(path, stamp=1_800_000_000.0)
    assert first != second and second.name == first.name + ".1"
    assert (first.read_bytes(), second.read_bytes()) == (b"first", b"second")


def test_unmovable_damaged_file_raises_with_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "journal.db"
    path.write_bytes(b"\x00garbage" * 100)

    def refuse(source: object, target: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(JournalCorruptError, match=r"could not be moved aside.*Rename or move it"):
        Journal.open(path)
    monkeypatch.undo()
    assert path.read_bytes() == b"\x00garbage" * 100
