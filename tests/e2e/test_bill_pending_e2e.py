"""A bill the gateway settles (or voids) after the job finished: read again until it does, a
bounded number of times, over real HTTP with one hand-moved clock for the engine and the
gateway."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.billing import ChargeKind, job_charge
from core.demo_gateway import DEMO_API_KEY, DemoGateway
from core.engine import Engine
from core.gateway import GatewayClient
from core.jobs import BILL_CHECKS, JobParams, JobState
from core.journal import Journal
from core.poll_policy import RequestBudget

from .conftest import FAST_POLICY

pytestmark = pytest.mark.e2e

T0 = 1_790_000_000.0


class Clock:
    """One clock the test moves by hand, shared by the engine and the demo gateway."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def rig(tmp_path: Path, clock: Clock) -> Iterator[tuple[DemoGateway, Engine]]:
    with DemoGateway(
        queued_seconds=1.0,
        processing_seconds=2.0,
        poll_after_seconds=2,
        video_scale=0.25,
        clock=clock,
    ) as gateway:
        engine = Engine(
            Journal.open(tmp_path / "journal.db"),
            GatewayClient(gateway.base_url, DEMO_API_KEY),
            tmp_path / "videos",
            policy=FAST_POLICY,
            budget=RequestBudget(max_in_flight=8, per_second=50.0, burst=50),
            clock=clock,
            rng=random.Random(7),
        )
        yield gateway, engine
        engine.client.close()
        engine.journal.close()


def step(engine: Engine, clock: Clock, seconds: float, times: int = 1) -> None:
    """Move the clock on and let the engine do what is due, ``times`` over."""
    for _ in range(times):
        clock.now += seconds
        engine.run_due()


def lake(prompt: str) -> JobParams:
    return JobParams(
        model="google/veo-3.1-lite-preview",
        prompt=prompt,
        duration=4,
        resolution="720p",
        generate_audio=True,
    )


def test_a_bill_still_pending_at_completion_is_read_again_until_settled(
    rig: tuple[DemoGateway, Engine], clock: Clock
) -> None:
    gateway, engine = rig
    job = engine.submit(lake("a lake [unsettled=10]"))
    step(engine, clock, 2.0, times=3)
    done = engine.job(job.local_id)
    assert done is not None and done.state is JobState.COMPLETED
    assert done.billing_state == "pending" and done.settled_nanos is None
    assert done.estimated_nanos == 200_000_000 and done.awaiting_bill
    assert any(item.local_id == job.local_id for item in engine.unfinished_jobs())
    step(engine, clock, 12.0)  # the gateway settles 10 s after completion
    step(engine, clock, 3.0, times=2)
    settled = engine.job(job.local_id)
    assert settled is not None and settled.billing_state == "settled"
    assert settled.settled_nanos == 196_000_000 and not settled.awaiting_bill
    assert not any(item.local_id == job.local_id for item in engine.unfinished_jobs())
    assert "billing" in [event.kind for event in engine.journal.events(job.local_id)]
    reads = gateway.stats["get"]
    step(engine, clock, 60.0, times=3)
    assert gateway.stats["get"] == reads  # settled: never asked again


def test_a_bill_that_never_settles_is_asked_about_a_bounded_number_of_times(
    rig: tuple[DemoGateway, Engine], clock: Clock
) -> None:
    _gateway, engine = rig
    job = engine.submit(lake("a lake [unsettled=250]"))
    step(engine, clock, 2.0, times=3)
    step(engine, clock, 20.0, times=BILL_CHECKS + 4)  # 180 s: still pending
    final = engine.journal.get(job.local_id)
    assert final is not None and final.billing_state == "pending"
    assert final.bill_checks == BILL_CHECKS and not final.awaiting_bill
    assert not any(item.local_id == job.local_id for item in engine.unfinished_jobs())
    kinds = [event.kind for event in engine.journal.events(job.local_id)]
    assert kinds.count("billing") == BILL_CHECKS


def test_a_failed_job_whose_reservation_is_not_voided_yet_is_read_until_void(
    rig: tuple[DemoGateway, Engine], clock: Clock
) -> None:
    """A failed job is never charged: an ``estimated`` bill at failure is read until ``void``."""
    gateway, engine = rig
    job = engine.submit(lake("a lake [fail][unsettled=10]"))
    step(engine, clock, 2.0, times=3)
    failed = engine.job(job.local_id)
    assert failed is not None and failed.state is JobState.FAILED
    assert failed.billing_state == "estimated" and job_charge(failed).kind is ChargeKind.ESTIMATED
    assert failed.awaiting_bill
    step(engine, clock, 12.0)  # the gateway voids the reservation 10 s after the failure
    step(engine, clock, 3.0, times=2)
    voided = engine.journal.get(job.local_id)
    assert voided is not None and voided.billing_state == "void"
    assert job_charge(voided) == (ChargeKind.VOID, 0) and not voided.awaiting_bill
    assert job_charge(voided).text == "not charged"
    reads = gateway.stats["get"]
    step(engine, clock, 60.0, times=3)
    assert gateway.stats["get"] == reads  # void: never asked again
