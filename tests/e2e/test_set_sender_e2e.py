"""Sending linked sets over real HTTP: one create at a time, within the budget, stops that help."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.demo_gateway import DemoGateway
from core.engine import Engine
from core.job_sets import PlannedJob
from core.jobs import Cause, JobParams, JobState, SetKind
from core.poll_policy import RequestBudget
from core.set_sender import send_set
from tests.e2e.conftest import build_engine

pytestmark = pytest.mark.e2e


def planned(prompt: str, duration: int = 1) -> PlannedJob:
    return PlannedJob(
        JobParams(model="demo/test-pattern", prompt=prompt, duration=duration, aspect_ratio="16:9"),
        "Demo",
    )


@pytest.fixture
def tight_engine(tmp_path: Path, gateway: DemoGateway) -> Iterator[Engine]:
    """An engine allowed two calls at a time, 40 a second."""
    budget = RequestBudget(max_in_flight=2, per_second=40.0, burst=4)
    built = build_engine(tmp_path, gateway.base_url, budget=budget)
    yield built
    built.client.close()
    built.journal.close()


def test_twenty_prompt_batch_goes_one_create_at_a_time_within_the_request_budget(
    tight_engine: Engine, gateway: DemoGateway
) -> None:
    engine = tight_engine
    stop = threading.Event()

    def poll_meanwhile() -> None:  # what the window's poller does while a batch is sent
        while not stop.is_set():
            for job in engine.claim_due():
                engine.poll(job)
            stop.wait(0.02)

    poller = threading.Thread(target=poll_meanwhile)
    poller.start()
    try:
        plan = [planned(f"Prompt {n} [slow-create=0.05]") for n in range(20)]
        report = send_set(engine, plan, SetKind.BATCH)
    finally:
        stop.set()
        poller.join()
    stats = gateway.stats
    assert report.sent == 20 and report.unsent == 0 and report.stopped is None
    assert stats["create"] == 20
    assert stats["max_concurrent:create"] == 1
    # Creates and status reads share the budget: never more than two calls at once.
    assert stats["max_concurrent:api"] <= 2
    members = engine.journal.set_members(report.set_id)
    assert [job.params.prompt for job in members] == [job.params.prompt for job in plan]
    assert {(job.set_id, job.set_kind) for job in members} == {(report.set_id, SetKind.BATCH)}
    assert all(job.remote_id for job in members)


def test_a_create_refused_with_slow_down_waits_and_is_sent_again_linked(
    engine: Engine, gateway: DemoGateway
) -> None:
    report = send_set(engine, [planned("[create-429] A fox"), planned("A lake")], SetKind.BATCH)
    first, again, lake = report.jobs
    assert first.state is JobState.REJECTED and first.failure is not None
    assert first.failure.cause is Cause.RATE_LIMITED
    assert again.parent_id == first.local_id and again.remote_id is not None
    assert lake.remote_id is not None
    assert report.sent == 2 and report.unsent == 0
    assert {job.set_id for job in engine.journal.set_members(report.set_id)} == {report.set_id}
    assert len(engine.journal.set_members(report.set_id)) == 3
    assert gateway.stats["fault:create-429"] == 1


def test_out_of_credit_stops_the_batch_and_counts_what_was_not_sent(
    engine: Engine, gateway: DemoGateway
) -> None:
    plan = [planned("A"), planned("[funds] B"), planned("C"), planned("D")]
    report = send_set(engine, plan, SetKind.BATCH)
    assert [job.params.prompt for job in report.jobs] == ["A", "[funds] B"]
    assert report.stopped == "The account is out of credit."
    assert report.unsent == 2
    assert gateway.stats["create"] == 2
    assert "2 of 4 sent; stopped: The account is out of credit" in report.summary


def test_stopping_a_batch_sends_nothing_more(engine: Engine, tmp_path: Path) -> None:
    cancel = threading.Event()
    report = send_set(
        engine,
        [planned(f"P{n}") for n in range(5)],
        SetKind.COMPARE,
        cancel=cancel,
        on_sent=lambda job, sent, total: cancel.set() if sent == 2 else None,
    )
    assert report.cancelled and report.sent == 2 and report.unsent == 3
    assert {job.set_kind for job in report.jobs} == {SetKind.COMPARE}
    assert "stopped by you" in report.summary
