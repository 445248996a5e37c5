"""Prices and bills over real HTTP: estimates from the gateway, and a job's estimate, settled
cost and void cost kept in the journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.billing import ChargeKind, job_charge
from core.demo_gateway import DEMO_API_KEY, DemoGateway
from core.engine import Engine
from core.estimate import PriceQuery
from core.gateway import GatewayClient
from core.jobs import JobParams, JobState
from core.journal import Journal
from core.pricing_client import PriceSource

from .test_engine_e2e import settle

pytestmark = pytest.mark.e2e

LITE = "google/veo-3.1-lite-preview"
LITE_720_AUDIO = PriceQuery(LITE, 8, "720p", audio=True)


@pytest.fixture
def prices(gateway: DemoGateway) -> PriceSource:
    return PriceSource(GatewayClient(gateway.base_url, DEMO_API_KEY))


def test_estimate_comes_from_the_price_list_fetched_once(
    prices: PriceSource, gateway: DemoGateway
) -> None:
    first = prices.estimate(LITE_720_AUDIO)
    assert first.text == "about $0.40" and first.rule == "8 s x $0.05/s, 720p, with audio"
    assert prices.estimate(PriceQuery(LITE, 8, "1080p", audio=False)).text == "about $0.40"
    assert prices.estimate(PriceQuery("minimax/hailuo-2.3", 10, "768P")).text == "about $0.56"
    assert gateway.stats["pricing_models"] == 1  # cached with a time limit
    assert gateway.stats.get("pricing_calculate", 0) == 0


def test_calculator_answers_when_the_price_list_is_missing(
    prices: PriceSource, gateway: DemoGateway
) -> None:
    gateway.pricing_fault = "models-404"
    found = prices.estimate(LITE_720_AUDIO)
    assert found.nanos == 400_000_000 and found.source == "gateway calculation"
    assert gateway.stats["pricing_calculate"] == 1


@pytest.mark.parametrize("fault", ["404", "501"])
def test_price_unknown_when_neither_endpoint_answers(
    prices: PriceSource, gateway: DemoGateway, fault: str
) -> None:
    gateway.pricing_fault = fault
    found = prices.estimate(LITE_720_AUDIO)
    assert found.nanos is None and found.text == "price unknown"
    assert f"HTTP {fault}" in found.rule
    again = prices.estimate(PriceQuery(LITE, 4, "720p", audio=True))
    assert again.nanos is None
    assert gateway.stats["pricing_models"] == 1  # a missing endpoint is not asked every time


def test_job_keeps_its_estimate_then_its_settled_cost(engine: Engine, tmp_path: Path) -> None:
    job = engine.submit(
        JobParams(model=LITE, prompt="a lake", duration=4, resolution="720p", generate_audio=True)
    )
    assert job.estimated_nanos == 200_000_000 and job.billing_state == "estimated"
    assert job_charge(job).text == "~$0.20"
    done = settle(engine, job)
    assert done.state is JobState.COMPLETED
    assert done.billing_state == "settled"
    assert done.estimated_nanos == 200_000_000
    assert done.settled_nanos == 196_000_000  # settled slightly below the estimate
    assert job_charge(done).kind is ChargeKind.SETTLED and job_charge(done).text == "$0.20"
    engine.journal.close()
    with Journal.open(tmp_path / "journal.db") as reopened:
        stored = reopened.get(job.local_id)
    assert stored is not None and stored.settled_nanos == 196_000_000


def test_failed_job_is_void_and_not_charged(engine: Engine) -> None:
    job = engine.submit(
        JobParams(model="minimax/hailuo-2.3", prompt="storm [fail]", duration=6, resolution="768P")
    )
    assert job.estimated_nanos == 280_000_000
    done = settle(engine, job)
    assert done.state is JobState.FAILED and done.billing_state == "void"
    assert done.settled_nanos == 0 and job_charge(done).text == "not charged"
