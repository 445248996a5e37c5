"""The full job loop over real loopback HTTP: create -> poll -> download, and every outcome."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway
from core.engine import Engine
from core.failure_class import FailureClass, verdict_for
from core.jobs import Cause, DownloadState, Job, JobParams, JobState

from .conftest import build_engine

pytestmark = pytest.mark.e2e

DEMO_MODEL = "demo/test-pattern"


def params(prompt: str, duration: int = 2, aspect: str = "16:9") -> JobParams:
    return JobParams(model=DEMO_MODEL, prompt=prompt, duration=duration, aspect_ratio=aspect)


def settle(engine: Engine, job: Job, timeout: float = 30.0) -> Job:
    """Drive the engine until the job is terminal and (if completed) downloaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        engine.run_due()
        current = engine.job(job.local_id)
        assert current is not None
        if (
            current.terminal
            and current.download is not DownloadState.ACTIVE
            and not (current.wants_download)
        ):
            return current
        if current.state is JobState.COMPLETED and current.download is DownloadState.FAILED:
            return current
        wake = engine.next_wake()
        time.sleep(min(max((wake or time.time() + 0.1) - time.time(), 0.02), 0.3))
    raise AssertionError(f"job did not settle: {engine.job(job.local_id)}")


def test_full_loop_saves_bytes_identical_to_the_server(
    engine: Engine, gateway: DemoGateway
) -> None:
    job = engine.submit(params("A cinematic sunrise over a mountain lake"))
    assert job.remote_id is not None and job.state is JobState.QUEUED
    # The id was committed the moment the create answered.
    assert engine.journal.get(job.local_id).remote_id == job.remote_id  # type: ignore[union-attr]
    done = settle(engine, job)
    assert done.state is JobState.COMPLETED and done.download is DownloadState.DONE
    data = Path(done.files[0]).read_bytes()
    assert data == gateway.job_bytes(done.remote_id)  # type: ignore[arg-type]
    assert data[4:8] == b"ftyp"
    kinds = [event.kind for event in engine.journal.events(job.local_id)]
    assert kinds[0] == "created" and "status" in kinds and kinds[-1] == "download"
    statuses = [e.state for e in engine.journal.events(job.local_id) if e.kind == "status"]
    assert statuses[-1] == "completed"
    assert gateway.stats["create"] == 1
    assert not list(Path(done.files[0]).parent.glob("*.part"))


def test_every_status_event_keeps_raw_json_http_status_and_request_id(engine: Engine) -> None:
    done = settle(engine, engine.submit(params("timeline")))
    events = [e for e in engine.journal.events(done.local_id) if e.kind == "status"]
    assert events, "status responses were journaled"
    for event in events:
        assert event.http_status == 200
        assert event.request_id == done.remote_id
        assert isinstance(event.raw, dict) and event.raw.get("id") == done.remote_id


@pytest.mark.parametrize(
    ("keyword", "state", "cause"),
    [
        ("[fail]", JobState.FAILED, Cause.PROVIDER),
        ("[fail-string]", JobState.FAILED, Cause.PROVIDER),
        ("[expire]", JobState.EXPIRED, Cause.EXPIRED),
        ("[cancelled]", JobState.CANCELLED, Cause.CANCELLED),
    ],
)
def test_terminal_failures_keep_provider_detail_and_request_id(
    engine: Engine, keyword: str, state: JobState, cause: Cause
) -> None:
    done = settle(engine, engine.submit(params(f"{keyword} a lake")))
    assert done.state is state
    assert done.failure is not None and done.failure.cause is cause
    assert done.request_id == done.remote_id
    if keyword.startswith("[fail"):
        assert done.failure.message
    assert done.download is DownloadState.NONE and not done.files


@pytest.mark.parametrize(
    ("keyword", "cause", "status"),
    [
        ("[policy]", Cause.POLICY, 403),
        ("[funds]", Cause.CREDIT, 402),
        ("[disabled]", Cause.INVALID, 501),
    ],
)
def test_rejected_creates_are_terminal_with_the_gateway_detail(
    engine: Engine, gateway: DemoGateway, keyword: str, cause: Cause, status: int
) -> None:
    job = engine.submit(params(f"{keyword} please"))
    assert job.state is JobState.REJECTED and job.terminal
    assert job.failure is not None and job.failure.cause is cause
    assert job.failure.http_status == status and job.failure.message
    assert engine.next_wake() is None  # nothing left to poll


def test_a_refused_create_keeps_both_ids_the_gateway_named(engine: Engine) -> None:
    """The refusal's ``generation_id`` (the gateway's id for the request) and ``request_id``."""
    job = engine.submit(params("[policy] please"))
    assert job.state is JobState.REJECTED and job.failure is not None
    raw = job.failure.raw
    assert isinstance(raw, dict) and isinstance(raw["body"], dict)
    generation_id, request_id = raw["body"]["generation_id"], raw["body"]["request_id"]
    assert generation_id.startswith("G-") and request_id.startswith("req_")
    stored = engine.journal.get(job.local_id)
    assert stored is not None
    assert generation_id in stored.request_ids and request_id in stored.request_ids


def test_a_create_answer_that_already_says_failed_ends_the_job_at_once(
    engine: Engine, gateway: DemoGateway
) -> None:
    job = engine.submit(params("a storm [create-failed][moderation]"))
    assert job.state is JobState.FAILED and job.remote_id is not None
    assert job.failure is not None and job.failure.code == "moderation_blocked"
    assert verdict_for(job).failure_class is FailureClass.POLICY
    assert job.billing_state == "void" and job.settled_nanos == 0
    assert engine.next_wake() is None  # nothing to poll, nothing to download
    assert gateway.stats["get"] == 0


def test_invalid_parameters_are_rejected_with_details(engine: Engine) -> None:
    job = engine.submit(JobParams(model=DEMO_MODEL, prompt="x", duration=999, aspect_ratio="16:9"))
    assert job.state is JobState.REJECTED
    assert job.failure is not None and job.failure.cause is Cause.INVALID
    assert "duration" in (job.failure.message or "")


@pytest.mark.parametrize(
    "keyword",
    [
        "[429]",
        "[429-noretry]",
        "[500]",
        "[503]",
        "[upstream]",
        "[malformed]",
        "[html]",
        "[unknown-status]",
    ],
)
def test_transient_faults_never_fail_the_job(
    engine: Engine, gateway: DemoGateway, keyword: str
) -> None:
    done = settle(engine, engine.submit(params(f"{keyword} sunrise")))
    assert done.state is JobState.COMPLETED and done.download is DownloadState.DONE
    assert Path(done.files[0]).read_bytes() == gateway.job_bytes(done.remote_id)  # type: ignore[arg-type]
    kinds = [event.kind for event in engine.journal.events(done.local_id)]
    if keyword != "[unknown-status]":
        assert "poll_failed" in kinds
    assert gateway.stats["create"] == 1


def test_unknown_status_is_shown_verbatim_while_polling(engine: Engine) -> None:
    job = engine.submit(params("[unknown-status] frames"))
    seen: list[str] = []
    engine.add_listener(lambda j: seen.append(j.status_text))
    settle(engine, job)
    assert "rendering_frames" in seen


def test_a_job_without_a_status_field_completes_by_its_lifecycle_status(
    engine: Engine, gateway: DemoGateway
) -> None:
    job = engine.submit(params("a harbour at night [no-status]"))
    done = settle(engine, job)
    assert done.state is JobState.COMPLETED and done.download is DownloadState.DONE
    assert done.remote_status == "succeeded"
    assert Path(done.files[0]).read_bytes() == gateway.job_bytes(done.remote_id)  # type: ignore[arg-type]


def test_a_retry_after_date_holds_the_key_until_that_moment(engine: Engine) -> None:
    """``Retry-After`` as an HTTP date (30 s ahead) pauses every job of the key that long."""
    job = engine.submit(params("a quiet street [429-date]"))
    deadline = time.monotonic() + 10
    while engine.key_paused_until is None and time.monotonic() < deadline:
        engine.run_due()
        time.sleep(0.05)
    paused_until = engine.key_paused_until
    assert paused_until is not None and 25.0 <= paused_until - time.time() <= 30.0
    assert engine.next_wake() is not None and engine.next_wake() >= paused_until  # type: ignore[operator]
    current = engine.job(job.local_id)
    assert current is not None and not current.terminal and current.failures == 1


def test_dropped_content_is_retried_from_zero(engine: Engine, gateway: DemoGateway) -> None:
    done = settle(engine, engine.submit(params("[drop-content] lake")))
    assert done.download is DownloadState.DONE
    assert Path(done.files[0]).read_bytes() == gateway.job_bytes(done.remote_id)  # type: ignore[arg-type]


def test_a_cut_off_download_without_content_length_is_retried_not_saved_short(
    engine: Engine, gateway: DemoGateway
) -> None:
    """No Content-Length, no chunks: a connection closed half way looks like the end."""
    done = settle(engine, engine.submit(params("[drop-content][close-delimited] lake")))
    assert done.download is DownloadState.DONE
    assert gateway.stats["fault:drop-content"] == 1
    assert Path(done.files[0]).read_bytes() == gateway.job_bytes(done.remote_id)  # type: ignore[arg-type]


def test_ambiguous_create_is_reconciled_not_resent(engine: Engine, gateway: DemoGateway) -> None:
    job = engine.submit(params("[drop-create] a lighthouse"))
    assert job.state is JobState.SUBMIT_UNKNOWN and job.remote_id is None
    done = settle(engine, job, timeout=40)
    assert gateway.stats["create"] == 1, "the create was never resent"
    assert done.state is JobState.COMPLETED and done.remote_id is not None
    kinds = [event.kind for event in engine.journal.events(job.local_id)]
    assert "create_ambiguous" in kinds and "reconciled" in kinds


def test_404_marks_gone_and_revoked_key_stops_polling(engine: Engine) -> None:
    job = engine.submit(params("[revoked] a key that dies"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and engine.key_rejected is None:
        engine.run_due()
        time.sleep(0.05)
    current = engine.job(job.local_id)
    assert engine.key_rejected is not None and current is not None and current.auth_blocked
    assert current.state in (JobState.QUEUED, JobState.PROCESSING)
    assert engine.claim_due(now=time.time() + 3600) == []  # polling paused with this key


def test_delete_then_not_found_does_not_lose_the_video(
    engine: Engine, gateway: DemoGateway
) -> None:
    done = settle(engine, engine.submit(params("delete me")))
    deleted = engine.delete_on_server(done.local_id)
    assert deleted.deleted_on_server and deleted.state is JobState.COMPLETED
    assert Path(deleted.files[0]).exists()


def test_signed_link_and_cancel(engine: Engine, gateway: DemoGateway) -> None:
    from core.errors import ErrorKind, GatewayError

    done = settle(engine, engine.submit(params("link")))
    link = engine.mint_link(done.local_id, ttl_seconds=120)
    assert link.url.startswith("http://127.0.0.1") and link.expires_at is not None
    assert "demo" not in link.url.split("?")[0].split("/")[-1]
    with pytest.raises(GatewayError) as caught:
        engine.cancel(done.local_id)
    assert caught.value.kind is ErrorKind.FEATURE_DISABLED
    assert "not available" in caught.value.message


def test_restart_resumes_unfinished_jobs(tmp_path: Path, gateway: DemoGateway) -> None:
    first = build_engine(tmp_path, gateway.base_url)
    job = first.submit(params("resume me"))
    first.client.close()
    first.journal.close()
    second = build_engine(tmp_path, gateway.base_url)
    try:
        assert [j.local_id for j in second.unfinished_jobs()] == [job.local_id]
        done = settle(second, job)
        assert done.state is JobState.COMPLETED and done.download is DownloadState.DONE
        assert gateway.stats["create"] == 1
    finally:
        second.client.close()
        second.journal.close()


def test_several_outputs_are_all_kept(engine: Engine, gateway: DemoGateway) -> None:
    from dataclasses import replace

    job = engine.submit(replace(params("two takes"), sample_count=2))
    if job.state is JobState.REJECTED:
        pytest.fail(f"demo model must accept sample_count: {job.failure}")
    done = settle(engine, job)
    assert len(done.files) == 2
    digests = {hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in done.files}
    assert len(digests) == 2
    for index, path in enumerate(done.files):
        assert Path(path).read_bytes() == gateway.job_bytes(done.remote_id, index)  # type: ignore[arg-type]


def test_several_outputs_are_all_kept_when_the_job_lists_no_outputs(
    engine: Engine, gateway: DemoGateway
) -> None:
    """``outputs: []`` means "use the top-level URLs", not "one video": both paid takes save."""
    from dataclasses import replace

    job = engine.submit(replace(params("two takes [no-outputs]"), sample_count=2))
    done = settle(engine, job)
    assert done.state is JobState.COMPLETED and done.download is DownloadState.DONE
    assert len(done.files) == 2
    for index, path in enumerate(done.files):
        assert Path(path).read_bytes() == gateway.job_bytes(done.remote_id, index)  # type: ignore[arg-type]


def test_the_key_never_reaches_the_disk(tmp_path: Path) -> None:
    key = "phaseo_v1_sk_E2ESECRETVALUE77"
    with DemoGateway(
        queued_seconds=0.1,
        processing_seconds=0.3,
        poll_after_seconds=1,
        video_scale=0.25,
        api_key=key,
    ) as gw:
        engine = build_engine(tmp_path, gw.base_url, key=key)
        settle(engine, engine.submit(params("secret check")))
        settle(engine, engine.submit(params("[fail] secret check")))
        engine.client.close()
        engine.journal.close()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_model_without_aspect_choice_is_sent_without_one(
    engine: Engine, gateway: DemoGateway
) -> None:
    job = engine.submit(JobParams(model="minimax/hailuo-02", prompt="a kite", duration=6))
    assert job.state is JobState.QUEUED, job.failure
    creates = [entry for entry in gateway.requests_log if entry[0] == "POST"]
    assert creates, "the create reached the gateway"
    assert "aspect_ratio" not in JobParams(model="m", prompt="p", duration=6).to_request()


def test_a_persistent_502_keeps_the_provider_words_and_is_no_unreachable_gateway(
    engine: Engine,
) -> None:
    job = engine.submit(params("[upstream=6] a lighthouse"))
    for _ in range(3):
        job = engine.poll_once(job.local_id)
    assert job.state is JobState.QUEUED and job.failures == 3
    assert job.refused and not job.unreachable and job.needs_review
    # The problem keeps the gateway's message and the provider's own words, not a bare code.
    assert job.problem is not None
    assert "The provider refused the status check" in job.problem
    assert "PERMISSION_DENIED: Permission denied on resource project" in job.problem
    verdict = verdict_for(job)
    assert verdict is not None and verdict.failure_class is FailureClass.ACCESS
    assert "cannot reach" not in (job.status_text + verdict.cause_line).lower()
    words = "\n".join(verdict.provider_words)
    assert "Provider diagnostics: provider_access_missing - " in words
    settled = settle(engine, job)
    assert settled.state is JobState.COMPLETED and settled.poll_error is None


def test_a_lost_create_is_found_when_the_gateways_clock_is_ten_minutes_ahead(
    tmp_path: Path,
) -> None:
    """The gateway stamps jobs (and its Date header) on a clock 600 s ahead of this machine's."""
    with DemoGateway(
        queued_seconds=0.2,
        processing_seconds=0.5,
        poll_after_seconds=1,
        video_scale=0.25,
        clock=lambda: time.time() + 600,
    ) as skewed:
        engine = build_engine(tmp_path, skewed.base_url)
        try:
            job = engine.submit(params("[drop-create] a lighthouse"))
            assert job.state is JobState.SUBMIT_UNKNOWN  # no answer came: nothing learnt yet
            done = settle(engine, job, timeout=40)
            assert abs(engine.client.clock_offset - 600) < 3  # type: ignore[attr-defined]
            assert skewed.stats["create"] == 1, "the create was never resent"
            assert done.state is JobState.COMPLETED and done.remote_id is not None
            assert Path(done.files[0]).read_bytes() == skewed.job_bytes(done.remote_id)
        finally:
            engine.client.close()  # type: ignore[attr-defined]
            engine.journal.close()
