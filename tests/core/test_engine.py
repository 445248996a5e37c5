"""Engine decisions with a scripted fake client: what each create/poll/download outcome does."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.download import DownloadError, DownloadErrorKind
from core.engine import Engine
from core.errors import ErrorKind, GatewayError
from core.jobs import Cause, DownloadState, JobParams, JobState
from core.journal import Journal
from core.poll_policy import PollPolicy, RequestBudget
from core.wire import RemoteJob, parse_job

PARAMS = JobParams(model="demo/test-pattern", prompt="a lake", duration=2, aspect_ratio="16:9")


class FakeClient:
    """Answers each call from a script: a value to return or an exception to raise."""

    def __init__(self) -> None:
        self.create_answers: list[Any] = []
        self.get_answers: list[Any] = []
        self.calls: list[str] = []
        self.key: str | None = "k"

    def _next(self, answers: list[Any]) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def create(self, params: JobParams) -> RemoteJob:
        self.calls.append("create")
        return self._next(self.create_answers)  # type: ignore[no-any-return]

    def get(self, job_id: str) -> RemoteJob:
        self.calls.append("get")
        return self._next(self.get_answers)  # type: ignore[no-any-return]

    def iter_jobs(self, **_: Any) -> Iterator[RemoteJob]:
        self.calls.append("list")
        return iter(())

    def set_api_key(self, key: str | None) -> None:
        self.key = key

    @property
    def identity(self) -> str:
        return f"https://gw.test/v1#{self.key}"

    def open_content(self, job_id: str, index: int = 0) -> Any:
        raise GatewayError(kind=ErrorKind.NETWORK, message="offline")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Engine, FakeClient, Clock]]:
    journal = Journal.open(tmp_path / "journal.db")
    client = FakeClient()
    clock = Clock()
    engine = Engine(
        journal,
        client,  # type: ignore[arg-type]
        tmp_path / "videos",
        policy=PollPolicy(first_poll_after=5.0),
        budget=RequestBudget(max_in_flight=1, per_second=100.0, burst=100, clock=clock),
        clock=clock,
        rng=random.Random(1),
    )
    yield engine, client, clock
    journal.close()


def test_unreachable_gateway_at_create_is_not_sent_not_failed(setup: Any) -> None:
    engine, client, _ = setup
    client.create_answers = [GatewayError(kind=ErrorKind.NETWORK, message="refused")]
    job = engine.submit(PARAMS)
    assert job.state is JobState.REJECTED and job.status_text == "Not sent"
    assert job.failure is not None and job.failure.cause is Cause.NOT_SENT
    assert "nothing was sent" in job.failure.cause.explanation
    assert client.calls == ["create"]


@pytest.mark.parametrize(
    "error",
    [
        GatewayError(kind=ErrorKind.TIMEOUT, message="read timed out", ambiguous=True),
        GatewayError(kind=ErrorKind.TRANSIENT, message="bad gateway", status=502),
        GatewayError(kind=ErrorKind.UNEXPECTED, message="garbled 200", status=200),
    ],
)
def test_creates_that_may_have_happened_are_reconciled_never_resent(
    setup: Any, error: GatewayError
) -> None:
    engine, client, clock = setup
    client.create_answers = [error]
    job = engine.submit(PARAMS)
    assert job.state is JobState.SUBMIT_UNKNOWN and job.next_poll_at is not None
    for _ in range(10):
        clock.now += 600
        for claimed in engine.claim_due():
            engine.poll(claimed)
    assert client.calls.count("create") == 1
    assert client.calls.count("list") >= 1
    final = engine.job(job.local_id)
    assert final is not None and final.state is JobState.SUBMIT_UNKNOWN
    assert final.needs_review  # shown for a person, and still searched for slowly
    assert engine.next_wake() == pytest.approx(clock.now + 600, abs=1)


def test_429_at_create_is_not_sent(setup: Any) -> None:
    engine, client, _ = setup
    client.create_answers = [GatewayError(kind=ErrorKind.RATE_LIMITED, message="slow", status=429)]
    job = engine.submit(PARAMS)
    assert job.failure is not None and job.failure.cause is Cause.RATE_LIMITED


def test_refresh_works_even_when_the_budget_is_spent(setup: Any) -> None:
    engine, client, clock = setup
    client.create_answers = [parse_job({"id": "G-1", "status": "queued"})]
    client.get_answers = [
        parse_job({"id": "G-1", "status": "in_progress", "poll_after_seconds": 20})
    ]
    job = engine.submit(PARAMS)
    assert engine.budget.try_acquire()  # someone else holds the only slot
    refreshed = engine.poll_once(job.local_id)
    assert refreshed.state is JobState.PROCESSING
    assert refreshed.next_poll_at == pytest.approx(clock.now + 20, abs=2.1)
    engine.budget.release()


def test_revoked_key_pauses_every_job_until_a_new_key(setup: Any) -> None:
    engine, client, clock = setup
    client.create_answers = [parse_job({"id": "G-1", "status": "queued"})]
    client.get_answers = [
        GatewayError(kind=ErrorKind.AUTH, message="key revoked", status=401),
        parse_job({"id": "G-1", "status": "completed"}),
    ]
    job = engine.submit(PARAMS)
    clock.now += 10
    engine.poll(engine.claim_due()[0])
    assert engine.key_rejected is not None
    assert engine.job(job.local_id).auth_blocked  # type: ignore[union-attr]
    clock.now += 1000
    assert engine.claim_due() == [] and engine.next_wake() is None
    engine.set_api_key("new")
    assert client.key == "new"
    claimed = engine.claim_due()
    assert [c.local_id for c in claimed] == [job.local_id]
    assert engine.poll(claimed[0]).state is JobState.COMPLETED


def test_disk_full_download_waits_for_the_user(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, client, clock = setup
    client.create_answers = [parse_job({"id": "G-1", "status": "completed"})]
    job = engine.submit(PARAMS)
    assert job.wants_download

    def full(*_: Any, **__: Any) -> Any:
        raise DownloadError(DownloadErrorKind.NO_SPACE, "Not enough free space", retryable=False)

    monkeypatch.setattr("core.engine.downloads.download", full)
    [claimed] = engine.claim_downloads()
    failed = engine.download(claimed)
    assert failed.download is DownloadState.FAILED and "free space" in (
        failed.download_problem or ""
    )
    clock.now += 3600
    assert engine.claim_downloads() == [] and engine.next_wake() is None
    kinds = [
        event.note for event in engine.journal.events(job.local_id) if event.kind == "download"
    ]
    assert any("no_space" in (note or "") for note in kinds)


def test_network_failure_download_is_retried_later(setup: Any) -> None:
    engine, client, clock = setup
    client.create_answers = [parse_job({"id": "G-1", "status": "completed"})]
    engine.submit(PARAMS)
    [claimed] = engine.claim_downloads()
    failed = engine.download(claimed)
    assert failed.download is DownloadState.FAILED
    assert engine.claim_downloads() == []
    clock.now += 31
    assert len(engine.claim_downloads()) == 1
