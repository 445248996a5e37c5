"""The estimator against the tier rules: per second, per video, audio, sample count, no tier."""

from __future__ import annotations

from typing import Any

import pytest

from core.estimate import (
    UNKNOWN_TEXT,
    PriceQuery,
    calculate_body,
    estimate_from_calculation,
    estimate_from_list,
)
from core.jobs import JobParams
from core.pricing import parse_condition, parse_price_list


def meter(price: str, *conditions: Any, name: str = "output_video_seconds", **extra: Any) -> dict:
    return {
        "meter": name,
        "unit": "second" if "seconds" in name else "video",
        "unit_size": 1,
        "price_per_unit": price,
        "currency": "USD",
        "conditions": list(conditions),
        **extra,
    }


VEO_LITE = {
    "provider": "google-vertex",
    "model": "google/veo-3.1-lite-preview",
    "endpoint": "video.generate",
    "meters": [
        meter("0.05", 'video_params.resolution eq "720p"', "video_params.audio eq true"),
        meter("0.03", 'video_params.resolution eq "720p"', "video_params.audio eq false"),
        meter("0.08", 'video_params.resolution eq "1080p"', "video_params.audio eq true"),
        meter("0.05", 'video_params.resolution eq "1080p"', "video_params.audio eq false"),
        meter("0.02", name="input_image"),  # a side meter: never part of a video's price
    ],
}
SORA = {"provider": "openai", "model": "openai/sora-2", "meters": [meter("0.10")]}
HAILUO = {
    "provider": "minimax",
    "model": "minimax/hailuo-2.3",
    "meters": [
        meter(
            "0.28",
            {"path": "video_params.resolution", "op": "eq", "value": "768P"},
            {"path": "video_params.duration", "op": "eq", "value": 6},
            name="output_videos",
        ),
        meter(
            "0.56",
            {"path": "video_params.resolution", "op": "eq", "value": "768P"},
            {"path": "video_params.duration", "op": "eq", "value": 10},
            name="output_videos",
        ),
        meter(
            "0.49",
            {"path": "video_params.resolution", "op": "eq", "value": "1080P"},
            {"path": "video_params.duration", "op": "eq", "value": 6},
            name="output_videos",
        ),
    ],
}
PRICES = parse_price_list({"ok": True, "models": [VEO_LITE, SORA, HAILUO]})


def estimate(model: str, seconds: int, **query: Any) -> Any:
    return estimate_from_list(PRICES, PriceQuery(model, seconds, **query))


@pytest.mark.parametrize(
    ("resolution", "audio", "dollars", "tier"),
    [
        ("720p", True, "$0.40", "720p, with audio"),
        ("720p", False, "$0.24", "720p, without audio"),
        ("1080p", True, "$0.64", "1080p, with audio"),
        ("1080p", False, "$0.40", "1080p, without audio"),
    ],
)
def test_per_second_tiers_by_resolution_and_audio(
    resolution: str, audio: bool, dollars: str, tier: str
) -> None:
    found = estimate("google/veo-3.1-lite-preview", 8, resolution=resolution, audio=audio)
    assert found.text == f"about {dollars}"
    assert found.rule.startswith("8 s x $0.0") and found.rule.endswith(tier)
    assert found.source == "price list"


def test_sample_count_multiplies_per_second_and_per_video_prices() -> None:
    veo = estimate("google/veo-3.1-lite-preview", 8, resolution="720p", audio=True, samples=3)
    assert veo.nanos == 1_200_000_000 and veo.rule.startswith("3 x 8 s x $0.05/s")
    hailuo = estimate("minimax/hailuo-2.3", 6, resolution="768P", samples=2)
    assert hailuo.nanos == 560_000_000 and hailuo.rule.startswith("2 videos x $0.28")


def test_per_video_tier_by_resolution_and_duration_not_by_seconds() -> None:
    assert estimate("minimax/hailuo-2.3", 6, resolution="768P").text == "about $0.28"
    assert estimate("minimax/hailuo-2.3", 10, resolution="768p").text == "about $0.56"
    assert estimate("minimax/hailuo-2.3", 6, resolution="1080P").text == "about $0.49"


def test_flat_per_second_model_and_size_instead_of_resolution() -> None:
    found = estimate("openai/sora-2", 12, size="1280x720")
    assert found.text == "about $1.20" and found.rule == "12 s x $0.10/s"


def test_missing_tier_or_model_is_price_unknown_with_the_reason_never_a_guess() -> None:
    four_k = estimate("google/veo-3.1-lite-preview", 8, resolution="4k", audio=True)
    assert four_k.nanos is None and four_k.text == UNKNOWN_TEXT
    assert "no tier" in four_k.rule and "4k" in four_k.rule
    hailuo = estimate("minimax/hailuo-2.3", 10, resolution="1080P")
    assert hailuo.nanos is None and "1080P" in hailuo.rule
    unknown_model = estimate("acme/video-9", 8)
    assert unknown_model.nanos is None and "no entry" in unknown_model.rule
    # Resolution left to the model while the tiers depend on it: no tier can be chosen.
    assert estimate("google/veo-3.1-lite-preview", 8, audio=True).nanos is None


def test_audio_left_unset_takes_the_dearer_tier_and_says_so() -> None:
    found = estimate("google/veo-3.1-lite-preview", 8, resolution="720p")
    assert found.nanos == 400_000_000 and "higher tier" in found.rule
    params = JobParams(
        model="google/veo-3.1-lite-preview", prompt="p", duration=8, resolution="720p"
    )
    silent = estimate_from_list(PRICES, PriceQuery.of(params, audio_default=False))
    assert silent.nanos == 240_000_000
    unset = JobParams(model="google/veo-3.1-lite-preview", prompt="p", duration=8)
    query = PriceQuery.of(unset, audio_default=False, resolution_default="1080p")
    assert estimate_from_list(PRICES, query).nanos == 400_000_000  # the model's defaults


def test_a_meter_with_an_unreadable_condition_is_not_priced_as_unconditional() -> None:
    prices = parse_price_list(
        {"models": [{"model": "m", "meters": [meter("0.10", "video_params.resolution ~~")]}]}
    )
    assert estimate_from_list(prices, PriceQuery("m", 4, resolution="720p")).nanos is None


def test_tiers_written_into_meter_names_and_dict_shaped_meters_are_read() -> None:
    prices = parse_price_list(
        {
            "data": [
                {
                    "model": "google/veo-3.1-preview",
                    "pricing": {
                        "meters": {
                            "output_video_seconds.audio": {"price_per_unit": "0.40"},
                            "output_video_seconds.silent": {"price_per_unit": "0.20"},
                            "output_video_seconds.audio.4k": {"price_per_unit": "0.60"},
                        }
                    },
                }
            ]
        }
    )
    query = PriceQuery("google/veo-3.1-preview", 4, resolution="1080p", audio=False)
    assert estimate_from_list(prices, query).nanos == 800_000_000
    query = PriceQuery("google/veo-3.1-preview", 4, resolution="4k", audio=True)
    assert estimate_from_list(prices, query).nanos == 2_400_000_000  # the more specific tier


def test_two_provider_routes_with_different_prices_give_a_range() -> None:
    other = {
        "provider": "google-ai-studio",
        "model": "google/veo-3.1-lite-preview",
        "meters": [meter("0.05", 'video_params.resolution eq "720p"')],
    }
    prices = parse_price_list({"models": [VEO_LITE, other]})
    found = estimate_from_list(
        prices, PriceQuery("google/veo-3.1-lite-preview", 8, resolution="720p", audio=False)
    )
    assert found.nanos == 400_000_000 and found.low_nanos == 240_000_000
    assert found.text == "$0.24 to $0.40" and "provider" in found.rule


@pytest.mark.parametrize(
    ("text", "params", "holds"),
    [
        ('video_params.resolution eq "720p"', {"resolution": "720P"}, True),
        ("video_params.audio eq true", {"audio": False}, False),
        ("video_params.duration gte 6", {"duration": 8}, True),
        ("video_params.seconds lt 6", {"duration": 8}, False),
        ('video_params.resolution in ["720p", "1080p"]', {"resolution": "1080p"}, True),
        ("video_params.fps eq 24", {"resolution": "720p"}, None),
    ],
)
def test_conditions_are_decided_or_undecidable(
    text: str, params: dict[str, object], holds: bool | None
) -> None:
    condition = parse_condition(text)
    assert condition is not None and condition.test(params) is holds


def test_calculation_body_and_answer() -> None:
    query = PriceQuery("google/veo-3.1-lite-preview", 8, resolution="720p", audio=True, samples=2)
    body = calculate_body(query)
    assert body["endpoint"] == "video.generate"
    assert body["usage"]["output_video_seconds"] == 16
    assert body["usage"]["video_params"] == {
        "resolution": "720p",
        "audio": True,
        "duration": 8,
        "sample_count": 2,
    }
    answer = {
        "cost_usd": 0.8,
        "cost_usd_str": "0.800000000",
        "lines": [{"dimension": "output_video_seconds", "units": 16, "unit_price_usd": "0.05"}],
    }
    found = estimate_from_calculation(answer)
    assert found.nanos == 800_000_000 and found.rule == "16 s x $0.05/s"
    assert found.source == "gateway calculation"
    assert estimate_from_calculation({"lines": []}).nanos is None
    assert estimate_from_calculation("oops").text == UNKNOWN_TEXT
