"""The job journal's API on real SQLite files: rows, events, selection, hiding, reopening."""

from __future__ import annotations

import dataclasses
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from core.jobs import Cause, DownloadState, Job, JobFailure, JobParams, JobState, SetKind
from core.journal import SCHEMA_VERSION, Journal, JournalEvent


def make_job(local_id: str = "L-1", created_at: float = 1_000.0, **changes: object) -> Job:
    """A minimal valid job, with ``changes`` applied."""
    job = Job(
        local_id=local_id,
        params=JobParams(model="veo-3", prompt="a red kite", duration=8, aspect_ratio="16:9"),
        state=JobState.SUBMITTING,
        created_at=created_at,
        updated_at=created_at,
    )
    return replace(job, **changes)  # type: ignore[arg-type]


def full_job() -> Job:
    """A job with every field set to something other than its default."""
    return Job(
        local_id="L-full",
        params=JobParams(
            model="veo-3",
            prompt="A lighthouse at dusk — waves, spray, gulls 🐦",
            duration=8,
            aspect_ratio="9:16",
            resolution="1080p",
            negative_prompt="no text",
            seed=42,
            generate_audio=True,
            sample_count=2,
            enhance_prompt=False,
            size="1280x720",
        ),
        state=JobState.COMPLETED,
        created_at=1_763_900_000.25,
        updated_at=1_763_900_300.5,
        remote_id="G-01FULL",
        remote_status="succeeded",
        progress=100,
        submitted_at=1_763_900_001.0,
        finished_at=1_763_900_299.0,
        poll_after=20.0,
        next_poll_at=1_763_900_320.0,
        failures=2,
        problem="timed out once",
        failure=JobFailure(
            cause=Cause.PROVIDER,
            code="provider_error",
            message="partial output",
            provider="veo",
            http_status=502,
            request_id="G-01ERR",
            raw={"error": {"code": "provider_error", "details": [1, 2.5, None, "x"]}},
        ),
        request_ids=("G-01FULL", "G-01ERR"),
        billing_state="charged",
        cost="0.40",
        estimated_nanos=400_000_000,
        settled_nanos=396_000_000,
        outputs=2,
        download=DownloadState.FAILED,
        files=("/videos/a.mp4", "/videos/b.mp4"),
        download_problem="disk full",
        output_path="/videos",
        parent_id="L-parent",
        set_id="S-compare",
        set_kind=SetKind.COMPARE,
        reviewed=True,
        review_note="checked by hand",
        auth_blocked=True,
        deleted_on_server=True,
        gateway="https://gw.example/v1#0123456789abcdef",
        not_found=1,
        not_found_since=1_763_900_310.0,
        reconcile_attempts=3,
        reconciled=True,
        uncertain_match=True,
        foreign_ids=("G-01OTHER",),
        download_error="network",
        download_retryable=False,
        download_attempts=4,
        download_retry_at=1_763_900_400.0,
        bill_checks=2,
        gateway_label="demo",
        poll_error={"http_status": 502, "body": {"error": {"code": "provider_error"}}},
        export_error="Could not save into /videos: it is a file",
        rating=4,
        kept=True,
        extra={"webhook": None, "nested": {"list": [1, "two", {"three": 3.0}]}},
    )


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    """A fresh journal in a temporary folder (closed after the test)."""
    opened = Journal.open(tmp_path / "data" / "journal.db")
    yield opened  # type: ignore[misc]
    opened.close()


def test_open_creates_folders_file_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "journal.db"
    with Journal.open(path) as journal:
        assert path.is_file()
        assert journal.path == path
        assert journal.schema_version == SCHEMA_VERSION == 3
        assert journal.recovered_from is None
        assert journal.recovery_message is None
        assert journal.count() == 0
        assert journal.integrity_ok()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_full_job_round_trips_every_field(journal: Journal) -> None:
    job = full_job()
    for field in dataclasses.fields(Job):
        if field.default is not dataclasses.MISSING:
            assert getattr(job, field.name) != field.default, f"{field.name} is not populated"
    journal.insert(job)
    assert journal.get(job.local_id) == job


def test_minimal_job_round_trips(journal: Journal) -> None:
    job = make_job()
    journal.insert(job)
    assert journal.get("L-1") == job
    assert journal.get("missing") is None


def test_insert_refuses_a_duplicate_local_id(journal: Journal) -> None:
    journal.insert(make_job())
    with pytest.raises(ValueError, match="already in the journal"):
        journal.insert(make_job(remote_id="other"))
    assert journal.count() == 1


def test_save_updates_row_and_appends_events_in_order(journal: Journal) -> None:
    job = make_job()
    journal.insert(job)
    queued = replace(job, state=JobState.QUEUED, remote_id="G-1", updated_at=1_001.0)
    journal.save(queued, "created", http_status=202, request_id="G-1", raw={"id": "G-1"})
    failed_poll = replace(queued, failures=1, problem="timeout", updated_at=1_020.0)
    journal.save(failed_poll, "poll_failed", raw="<html>Bad gateway</html>", note="timeout")
    running = replace(failed_poll, state=JobState.PROCESSING, progress=30, updated_at=1_040.0)
    journal.save(running, "status", http_status=200, request_id="G-1", raw=[1, {"a": None}])

    assert journal.get("L-1") == running
    events = journal.events("L-1")
    assert [e.kind for e in events] == ["created", "poll_failed", "status"]
    assert [e.at for e in events] == [1_001.0, 1_020.0, 1_040.0]
    assert [e.state for e in events] == ["queued", "queued", "processing"]
    assert events[0] == JournalEvent(
        id=events[0].id,
        local_id="L-1",
        at=1_001.0,
        kind="created",
        state="queued",
        http_status=202,
        request_id="G-1",
        raw={"id": "G-1"},
        note=None,
    )
    assert events[1].raw == "<html>Bad gateway</html>"  # text stays text
    assert events[1].note == "timeout"
    assert events[2].raw == [1, {"a": None}]
    assert events[0].id < events[1].id < events[2].id
    assert journal.events("unknown") == []


def test_save_is_atomic_a_failed_event_leaves_the_row_unchanged(journal: Journal) -> None:
    job = make_job()
    journal.insert(job)
    changed = replace(job, state=JobState.QUEUED, remote_id="G-1", updated_at=1_001.0)
    with pytest.raises(sqlite3.Error):  # the event cannot be bound: after the row was written
        journal.save(changed, "created", http_status=object())  # type: ignore[arg-type]
    assert journal.get("L-1") == job
    assert journal.events("L-1") == []
    journal.save(changed, "created")  # the connection is usable afterwards
    assert journal.get("L-1") == changed


def test_raw_values_json_cannot_express_are_kept_as_text(journal: Journal) -> None:
    journal.insert(make_job())
    journal.save(make_job(), "status", raw=b"\xffnot json bytes")
    journal.save(make_job(), "status", raw={1: {"set"}, "self": object})
    first, second = journal.events("L-1")
    assert first.raw == "\ufffdnot json bytes"
    assert isinstance(second.raw, dict) and second.raw["1"] == ["set"]


def test_lone_surrogates_from_odd_json_are_stored_not_fatal(journal: Journal) -> None:
    job = make_job(remote_id="G-\udc80", params=replace(make_job().params, prompt="a \ud800 b"))
    journal.insert(job)
    journal.save(job, "status\udfff", raw={"status": "odd \ud83d"}, note="n\ud800")
    assert journal.get("L-1") == job  # the document keeps them exactly
    (event,) = journal.events("L-1")
    assert event.raw == {"status": "odd \ud83d"}
    assert event.kind == "status?" and event.note == "n?"  # plain columns: replaced


def test_save_and_update_write_a_row_that_is_missing(journal: Journal) -> None:
    journal.save(make_job("L-a"), "created")
    journal.update(make_job("L-b"))
    assert journal.get("L-a") == make_job("L-a")
    assert journal.get("L-b") == make_job("L-b")
    assert len(journal.events("L-a")) == 1


def test_update_changes_the_row_without_an_event(journal: Journal) -> None:
    job = make_job(state=JobState.QUEUED, remote_id="G-1")
    journal.insert(job)
    later = replace(job, next_poll_at=1_234.5)
    journal.update(later)
    assert journal.get("L-1") == later
    assert journal.events("L-1") == []


def test_events_and_jobs_cannot_be_deleted_or_rewritten(journal: Journal) -> None:
    journal.insert(make_job())
    journal.save(make_job(), "status")
    conn = sqlite3.connect(journal.path)
    for statement in (
        "DELETE FROM events",
        "UPDATE events SET kind = 'x'",
        "DELETE FROM jobs",
    ):
        with pytest.raises(sqlite3.DatabaseError, match=r"append-only|never deleted"):
            conn.execute(statement)
    conn.close()
    assert journal.count() == 1
    assert [e.kind for e in journal.events("L-1")] == ["status"]


def test_jobs_newest_first_with_limit(journal: Journal) -> None:
    for number, created in enumerate([30.0, 10.0, 20.0, 20.0]):
        journal.insert(make_job(f"L-{number}", created_at=created))
    assert [j.local_id for j in journal.jobs()] == ["L-0", "L-3", "L-2", "L-1"]
    assert [j.local_id for j in journal.jobs(limit=2)] == ["L-0", "L-3"]
    assert journal.jobs(limit=0) == []
    with pytest.raises(ValueError):
        journal.jobs(limit=-1)


def test_hidden_jobs_leave_the_list_but_are_kept_and_can_return(journal: Journal) -> None:
    journal.insert(make_job("L-1", created_at=1.0))
    journal.insert(make_job("L-2", created_at=2.0, remote_id="G-2"))
    journal.set_hidden("L-2", True)
    assert [j.local_id for j in journal.jobs()] == ["L-1"]
    assert [j.local_id for j in journal.jobs(include_hidden=True)] == ["L-2", "L-1"]
    assert journal.hidden_ids() == {"L-2"}
    assert journal.get("L-2") is not None
    assert journal.find_remote("G-2") is not None
    assert journal.count() == 2
    assert journal.count(include_hidden=False) == 1
    journal.set_hidden("L-2", False)  # undo
    assert [j.local_id for j in journal.jobs()] == ["L-2", "L-1"]
    with pytest.raises(KeyError):
        journal.set_hidden("nope", True)


def test_saving_a_hidden_job_keeps_it_hidden(journal: Journal) -> None:
    journal.insert(make_job())
    journal.set_hidden("L-1", True)
    journal.save(make_job(state=JobState.QUEUED), "created")
    journal.update(make_job(state=JobState.PROCESSING))
    assert journal.jobs() == []
    assert journal.hidden_ids() == {"L-1"}


def test_find_remote(journal: Journal) -> None:
    journal.insert(make_job("L-1", remote_id="G-1"))
    journal.insert(make_job("L-2"))
    journal.save(make_job("L-2", state=JobState.QUEUED, remote_id="G-2"), "created")
    found = journal.find_remote("G-2")
    assert found is not None and found.local_id == "L-2"
    assert journal.find_remote("G-404") is None
    journal.set_hidden("L-1", True)
    assert journal.remote_ids() == {"G-1", "G-2"}  # hidden jobs included


def test_unfinished_selects_what_must_resume(journal: Journal) -> None:
    d = DownloadState
    cases = {
        "submitting": (JobState.SUBMITTING, d.NONE, True),
        "submit_unknown": (JobState.SUBMIT_UNKNOWN, d.NONE, True),
        "queued": (JobState.QUEUED, d.NONE, True),
        "processing": (JobState.PROCESSING, d.NONE, True),
        "waiting": (JobState.WAITING, d.NONE, True),
        "completed_pending": (JobState.COMPLETED, d.PENDING, True),
        "completed_none": (JobState.COMPLETED, d.NONE, True),
        "completed_failed": (JobState.COMPLETED, d.FAILED, True),
        "completed_interrupted": (JobState.COMPLETED, d.ACTIVE, True),
        "completed_done": (JobState.COMPLETED, d.DONE, False),
        "failed": (JobState.FAILED, d.NONE, False),
        "rejected": (JobState.REJECTED, d.NONE, False),
        "cancelled": (JobState.CANCELLED, d.NONE, False),
        "expired": (JobState.EXPIRED, d.NONE, False),
        "gone": (JobState.GONE, d.NONE, False),
    }
    for number, (name, (state, download, _)) in enumerate(cases.items()):
        journal.insert(make_job(name, created_at=float(number), state=state, download=download))
    journal.set_hidden("processing", True)  # hidden jobs still resume: they were paid for
    expected = [name for name, (_, _, resumes) in cases.items() if resumes]
    assert [job.local_id for job in journal.unfinished()] == expected  # oldest first


def test_unfinished_includes_a_state_written_by_a_newer_version(journal: Journal) -> None:
    journal.insert(make_job())
    conn = sqlite3.connect(journal.path)
    doc = conn.execute("SELECT doc FROM jobs").fetchone()[0].replace("submitting", "paused")
    conn.execute("UPDATE jobs SET state = 'paused', doc = ?", (doc,))
    conn.commit()
    conn.close()
    (job,) = journal.unfinished()
    assert job.state is JobState.WAITING  # polled again; the server says what it is


def test_unreadable_document_still_lists_the_job_from_its_columns(journal: Journal) -> None:
    journal.insert(make_job("L-1", remote_id="G-1", state=JobState.QUEUED))
    journal.insert(make_job("L-2", created_at=2_000.0))
    conn = sqlite3.connect(journal.path)
    conn.execute("UPDATE jobs SET doc = '{broken' WHERE local_id = 'L-1'")
    conn.commit()
    conn.close()
    job = journal.get("L-1")
    assert job is not None
    assert (job.remote_id, job.state, job.params.prompt) == ("G-1", JobState.QUEUED, "a red kite")
    assert job.extra["journal_unreadable_doc"] == "{broken"
    assert job.problem is not None and "could not be read" in job.problem
    assert [j.local_id for j in journal.jobs()] == ["L-2", "L-1"]
    assert [j.local_id for j in journal.unfinished()] == ["L-1", "L-2"]


def test_reopen_after_close_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    job = full_job()
    with Journal.open(path) as journal:
        journal.insert(job)
        journal.save(replace(job, progress=99), "status", http_status=200, raw={"p": 99})
        journal.insert(make_job("L-hidden"))
        journal.set_hidden("L-hidden", True)
    assert not path.with_name("journal.db-wal").exists()  # closed cleanly, WAL checkpointed
    with Journal.open(path) as journal:
        assert journal.recovered_from is None
        assert journal.get(job.local_id) == replace(job, progress=99)
        assert [e.raw for e in journal.events(job.local_id)] == [{"p": 99}]
        assert journal.hidden_ids() == {"L-hidden"}
        assert journal.count() == 2
        assert journal.integrity_ok()


def test_close_is_idempotent(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "journal.db")
    journal.close()
    journal.close()
    with pytest.raises(sqlite3.ProgrammingError):
        journal.count()
