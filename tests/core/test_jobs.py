"""The job model: transition table, ``apply`` for every event, and derived flags."""

from __future__ import annotations

import pytest

from core.jobs import (
    UNREACHABLE_AFTER,
    AuthRejected,
    Cause,
    CreateAmbiguous,
    Created,
    CreateRejected,
    DownloadChanged,
    DownloadState,
    Job,
    JobFailure,
    JobParams,
    JobState,
    KeyReplaced,
    PollFailed,
    Reviewed,
    StatusSeen,
    Vanished,
    apply,
    cause_for,
)
from core.wire import parse_job

PARAMS = JobParams(
    model="google/veo-3.1-lite-preview", prompt="A lake", duration=8, aspect_ratio="16:9"
)


def make_job(state: JobState = JobState.SUBMITTING, **changes: object) -> Job:
    job = Job(local_id="L1", params=PARAMS, state=state, created_at=100.0, updated_at=100.0)
    from dataclasses import replace

    return replace(job, **changes)  # type: ignore[arg-type]


def remote(status: str, **extra: object) -> object:
    return parse_job({"id": "G-01KTEST", "status": status, **extra})


def test_request_body_has_only_set_fields() -> None:
    body = PARAMS.to_request()
    assert body == {
        "model": "google/veo-3.1-lite-preview",
        "prompt": "A lake",
        "duration": 8,
        "aspect_ratio": "16:9",
    }
    assert "duration_seconds" not in body


def test_params_round_trip_ignores_unknown_keys() -> None:
    data = {**PARAMS.to_dict(), "seed": 7, "surprise": True}
    assert JobParams.from_dict(data) == JobParams(**{**PARAMS.to_dict(), "seed": 7})


@pytest.mark.parametrize(
    ("status", "state", "terminal"),
    [
        ("queued", JobState.QUEUED, False),
        ("in_progress", JobState.PROCESSING, False),
        ("processing", JobState.PROCESSING, False),
        ("pending", JobState.PROCESSING, False),
        ("running", JobState.PROCESSING, False),
        ("rendering_frames", JobState.WAITING, False),
        ("completed", JobState.COMPLETED, True),
        ("failed", JobState.FAILED, True),
        ("cancelled", JobState.CANCELLED, True),
        ("expired", JobState.EXPIRED, True),
    ],
)
def test_status_responses_map_to_states(status: str, state: JobState, terminal: bool) -> None:
    job = apply(make_job(JobState.QUEUED, remote_id="G-01KTEST"), StatusSeen(remote(status), 5.0))  # type: ignore[arg-type]
    assert job.state is state
    assert job.terminal is terminal
    assert job.remote_status == status


def test_unknown_status_is_shown_verbatim_and_stays_pollable() -> None:
    job = apply(
        make_job(JobState.QUEUED, remote_id="G-1"), StatusSeen(remote("rendering_frames"), 5.0)
    )  # type: ignore[arg-type]
    assert job.status_text == "rendering_frames"
    assert job.pollable


def test_created_commits_id_and_queues() -> None:
    job = apply(make_job(), Created(parse_job({"id": "G-01KABC", "status": "queued"}), 101.0))
    assert job.remote_id == "G-01KABC"
    assert job.state is JobState.QUEUED
    assert job.submitted_at == 101.0
    assert "G-01KABC" in job.request_ids


def test_slim_create_answer_without_status_is_queued() -> None:
    job = apply(make_job(), Created(parse_job({"id": "G-01KABC"}), 101.0))
    assert job.state is JobState.QUEUED


def test_rejected_create_keeps_failure_and_request_id() -> None:
    failure = JobFailure(Cause.POLICY, code="guardrail_blocked", message="no", request_id="req_1")
    job = apply(make_job(), CreateRejected(failure, 102.0))
    assert job.state is JobState.REJECTED
    assert job.terminal and job.needs_review
    assert job.request_id == "req_1"
    assert cause_for(job) is Cause.POLICY


def test_ambiguous_create_is_submit_unknown_and_needs_review() -> None:
    job = apply(make_job(), CreateAmbiguous("timed out", 102.0))
    assert job.state is JobState.SUBMIT_UNKNOWN
    assert not job.terminal and job.needs_review
    assert cause_for(job) is Cause.UNKNOWN


def test_network_trouble_never_fails_a_job() -> None:
    job = make_job(JobState.PROCESSING, remote_id="G-1")
    for attempt in range(10):
        job = apply(job, PollFailed("Cannot reach the gateway", 200.0 + attempt))
    assert job.state is JobState.PROCESSING
    assert job.failures == 10
    assert job.unreachable and job.needs_review
    assert cause_for(job) is Cause.NETWORK
    assert "cannot reach gateway" in job.status_text


def test_unreachable_threshold_and_reset_on_success() -> None:
    job = make_job(JobState.PROCESSING, remote_id="G-1")
    for _ in range(UNREACHABLE_AFTER - 1):
        job = apply(job, PollFailed("x", 1.0))
    assert not job.unreachable
    job = apply(job, PollFailed("x", 1.0))
    assert job.unreachable
    job = apply(job, StatusSeen(remote("processing"), 2.0))  # type: ignore[arg-type]
    assert job.failures == 0 and not job.unreachable and job.problem is None


def test_refused_status_checks_are_not_an_unreachable_gateway() -> None:
    """A 502 the gateway keeps answering means the provider refuses, not "cannot reach"."""
    record = {
        "http_status": 502,
        "code": "upstream_error",
        "message": "The provider refused the status check",
        "body": {"error": "upstream_error", "upstream_error": {"code": "PERMISSION_DENIED"}},
    }
    job = make_job(JobState.PROCESSING, remote_id="G-1")
    for attempt in range(UNREACHABLE_AFTER):
        job = apply(job, PollFailed("refused", 10.0 + attempt, "req-1", record))
    assert job.refused and job.troubled and job.needs_review
    assert not job.unreachable
    assert "cannot reach" not in job.status_text
    assert job.status_text == "Processing (status checks refused)"
    assert cause_for(job) is None
    assert job.poll_error == record
    # A transport failure next is "cannot reach" again; a status answer clears it all.
    job = apply(job, PollFailed("Cannot reach the gateway", 20.0))
    assert job.unreachable and job.poll_error is None
    job = apply(job, PollFailed("refused", 21.0, None, record))
    job = apply(job, StatusSeen(remote("processing"), 22.0))  # type: ignore[arg-type]
    assert not job.troubled and job.poll_error is None


def test_failed_job_keeps_provider_detail_object_and_string() -> None:
    as_object = apply(
        make_job(JobState.PROCESSING, remote_id="G-1"),
        StatusSeen(
            remote("failed", error={"code": "provider_error", "message": "GPU fell over"}), 3.0
        ),  # type: ignore[arg-type]
    )
    assert as_object.failure is not None
    assert as_object.failure.code == "provider_error"
    assert as_object.failure.message == "GPU fell over"
    assert as_object.failure.cause is Cause.PROVIDER
    as_string = apply(
        make_job(JobState.PROCESSING, remote_id="G-1"),
        StatusSeen(remote("failed", error="Upstream said no"), 3.0),  # type: ignore[arg-type]
    )
    assert as_string.failure is not None and as_string.failure.message == "Upstream said no"


def test_terminal_jobs_ignore_late_statuses() -> None:
    done = apply(
        make_job(JobState.PROCESSING, remote_id="G-1"), StatusSeen(remote("completed"), 3.0)
    )  # type: ignore[arg-type]
    again = apply(done, StatusSeen(remote("processing"), 4.0))  # type: ignore[arg-type]
    assert again is done
    assert not done.pollable


def test_completion_requests_download_and_404_after_download_is_not_gone() -> None:
    done = apply(
        make_job(JobState.PROCESSING, remote_id="G-1"), StatusSeen(remote("completed"), 3.0)
    )  # type: ignore[arg-type]
    assert done.download is DownloadState.PENDING and done.wants_download
    saved = apply(done, DownloadChanged(DownloadState.DONE, 4.0, ("/tmp/a.mp4",)))
    assert not saved.wants_download and saved.files == ("/tmp/a.mp4",)
    after = apply(saved, Vanished(JobFailure(Cause.GONE), 5.0))
    assert after.state is JobState.COMPLETED and after.deleted_on_server


def test_404_while_running_marks_gone() -> None:
    job = apply(make_job(JobState.QUEUED, remote_id="G-1"), Vanished(JobFailure(Cause.GONE), 5.0))
    assert job.state is JobState.GONE and job.needs_review


def test_auth_rejection_pauses_until_key_replaced() -> None:
    job = apply(make_job(JobState.QUEUED, remote_id="G-1"), AuthRejected("revoked", 5.0))
    assert job.auth_blocked and not job.pollable and job.state is JobState.QUEUED
    job = apply(job, KeyReplaced(6.0))
    assert job.pollable


def test_review_clears_needs_review() -> None:
    job = apply(make_job(), CreateAmbiguous("t", 1.0))
    job = apply(job, Reviewed(True, "checked the dashboard", 2.0))
    assert job.reviewed and not job.needs_review and job.review_note == "checked the dashboard"


def test_submitting_ignores_status_events() -> None:
    job = make_job()
    assert apply(job, StatusSeen(remote("completed"), 1.0)) is job  # type: ignore[arg-type]
