"""The demo gateway's prices over real HTTP: the price list, the calculator, faults, the bill."""

from __future__ import annotations

import pytest
import requests

from core.demo_gateway import DemoGateway

from .conftest import FakeClock


def create(gw: DemoGateway, http: requests.Session, **body: object) -> dict:
    answer = http.post(f"{gw.base_url}/videos", json={"prompt": "a kite", **body}, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()


def pricing_url(gw: DemoGateway, endpoint: str) -> str:
    return f"{gw.base_url}/pricing/{endpoint}"


def test_price_list_has_the_real_tiers(gw: DemoGateway, http: requests.Session) -> None:
    answer = http.get(pricing_url(gw, "models"), timeout=5)
    assert answer.status_code == 200
    models = {item["model"]: item for item in answer.json()["models"]}
    lite = models["google/veo-3.1-lite-preview"]["meters"]
    prices = {(m["conditions"][0], m["conditions"][1]): m["price_per_unit"] for m in lite}
    assert prices[('video_params.resolution eq "720p"', "video_params.audio eq true")] == "0.05"
    assert prices[('video_params.resolution eq "720p"', "video_params.audio eq false")] == "0.03"
    assert prices[('video_params.resolution eq "1080p"', "video_params.audio eq true")] == "0.08"
    assert prices[('video_params.resolution eq "1080p"', "video_params.audio eq false")] == "0.05"
    hailuo = {m["price_per_unit"] for m in models["minimax/hailuo-2.3"]["meters"]}
    assert hailuo == {"0.28", "0.56", "0.49"}
    assert models["openai/sora-2"]["meters"][0]["price_per_unit"] == "0.10"
    # The catalogue's own pricing field is as empty for video as on the real gateway.
    catalogue = http.get(f"{gw.base_url}/videos/models", timeout=5).json()["data"]
    assert all(m["pricing"]["meters"]["output_video_seconds"] is None for m in catalogue)


def test_calculator_prices_a_usage_and_refuses_one_without_a_tier(
    gw: DemoGateway, http: requests.Session
) -> None:
    body = {
        "model": "google/veo-3.1-lite-preview",
        "endpoint": "video.generate",
        "usage": {
            "output_video_seconds": 8,
            "video_params": {"resolution": "1080p", "audio": True},
        },
    }
    answer = http.post(pricing_url(gw, "calculate"), json=body, timeout=5)
    assert answer.status_code == 200
    assert answer.json()["cost_usd_str"] == "0.640000000"
    body["usage"]["video_params"]["resolution"] = "4k"  # type: ignore[index]
    refused = http.post(pricing_url(gw, "calculate"), json=body, timeout=5)
    assert refused.status_code == 400


@pytest.mark.parametrize("fault", ["404", "501"])
def test_fault_switch_makes_both_pricing_endpoints_answer(
    gw: DemoGateway, http: requests.Session, fault: str
) -> None:
    gw.pricing_fault = fault
    assert http.get(pricing_url(gw, "models"), timeout=5).status_code == int(fault)
    calc = http.post(pricing_url(gw, "calculate"), json={"model": "openai/sora-2"}, timeout=5)
    assert calc.status_code == int(fault)
    gw.pricing_fault = "models-404"
    assert http.get(pricing_url(gw, "models"), timeout=5).status_code == 404
    calc = http.post(pricing_url(gw, "calculate"), json={"model": "openai/sora-2"}, timeout=5)
    assert calc.status_code == 200
    with pytest.raises(ValueError):
        gw.pricing_fault = "418"


def test_pricing_needs_the_key(gw: DemoGateway) -> None:
    assert requests.get(pricing_url(gw, "models"), timeout=5).status_code == 401


def test_bill_goes_estimated_then_settled_slightly_below_the_estimate(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job = create(
        gw,
        http,
        model="google/veo-3.1-lite-preview",
        duration=8,
        resolution="720p",
        generate_audio=True,
    )
    assert job["billing"]["state"] == "estimated"
    assert job["billing"]["estimated_user_cost"] == "0.40"
    running = http.get(f"{gw.base_url}/videos/{job['id']}", timeout=5).json()
    assert running["billing"]["state"] == "estimated" and running["usage"]["cost_usd"] == 0.4
    clock.advance(10)
    done = http.get(f"{gw.base_url}/videos/{job['id']}", timeout=5).json()
    assert done["status"] == "completed"
    billing = done["billing"]
    assert billing["state"] == "settled" and billing["settled_user_cost"] == "0.40"
    assert billing["total_nanos"] == 396_000_000  # billed on the seconds delivered
    assert done["usage"]["pricing_breakdown"]["total_usd_str"] == "0.396000000"


def test_failed_job_bill_is_void(gw: DemoGateway, http: requests.Session, clock: FakeClock) -> None:
    job = create(gw, http, model="minimax/hailuo-2.3", duration=6, prompt="a kite [fail]")
    clock.advance(10)
    failed = http.get(f"{gw.base_url}/videos/{job['id']}", timeout=5).json()
    assert failed["status"] == "failed"
    assert failed["billing"]["state"] == "void"
    assert failed["billing"]["settled_user_cost"] == "0.00"
    assert failed["billing"]["estimated_user_cost"] == "0.28"
