"""The demo gateway's prices: the real tiers of API.md, ``/pricing/*`` and each job's bill.

Tiers for the models API.md lists are the real ones (Veo 3.1 Lite per second by resolution,
with and without audio; Sora 2 per second; Hailuo 2.3 per video by resolution and duration).
The other demo models carry the demo's own prices, and some combinations (Veo 4k, Hailuo
1080P 10 s) have no tier at all, as on the real price list. ``fault`` makes the pricing
endpoints answer 404 or 501 (``"models-404"`` breaks only the list, ``"calculate-501"`` only
the calculator).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.demo_gateway.api_errors import ApiError, validation_error

NANOS = Decimal(1_000_000_000)
FAULTS = ("404", "501", "models-404", "models-501", "calculate-404", "calculate-501")
#: The demo renders a few frames short of the asked length and bills what it delivered.
SETTLE_TRIM_SECONDS = Decimal("0.08")


@dataclass(frozen=True)
class Tier:
    """One meter row: a price per unit when every condition holds."""

    meter: str  # "output_video_seconds" or "output_videos"
    price: str
    resolution: str | None = None
    audio: bool | None = None
    duration: int | None = None

    def conditions(self) -> list[str]:
        """The conditions as the real price list writes them."""
        found = []
        if self.resolution is not None:
            found.append(f'video_params.resolution eq "{self.resolution}"')
        if self.audio is not None:
            found.append(f"video_params.audio eq {'true' if self.audio else 'false'}")
        if self.duration is not None:
            found.append(f"video_params.duration eq {self.duration}")
        return found

    def matches(self, resolution: str | None, audio: bool, duration: int) -> bool:
        """Whether this tier prices a job with these values."""
        return (
            (self.resolution is None or self.resolution.lower() == (resolution or "").lower())
            and (self.audio is None or self.audio == audio)
            and (self.duration is None or self.duration == duration)
        )


SECONDS, VIDEOS = "output_video_seconds", "output_videos"


def _per_second(with_audio: dict[str, str], without: dict[str, str]) -> tuple[Tier, ...]:
    tiers = [Tier(SECONDS, price, res, True) for res, price in with_audio.items()]
    return (*tiers, *(Tier(SECONDS, price, res, False) for res, price in without.items()))


_HAILUO = (
    Tier(VIDEOS, "0.28", "768P", None, 6),
    Tier(VIDEOS, "0.56", "768P", None, 10),
    Tier(VIDEOS, "0.49", "1080P", None, 6),
)
TIERS: dict[str, tuple[str, tuple[Tier, ...]]] = {
    "demo/test-pattern": ("reelgate-demo", (Tier(SECONDS, "0.01"),)),
    "google/veo-3.1-lite-preview": (
        "google-vertex",
        _per_second({"720p": "0.05", "1080p": "0.08"}, {"720p": "0.03", "1080p": "0.05"}),
    ),
    "google/veo-3.1-fast-preview": (
        "google-vertex",
        _per_second({"720p": "0.15", "1080p": "0.15"}, {"720p": "0.10", "1080p": "0.10"}),
    ),
    "google/veo-3.1-preview": (
        "google-vertex",
        _per_second({"720p": "0.40", "1080p": "0.40"}, {"720p": "0.20", "1080p": "0.20"}),
    ),
    "openai/sora-2": ("openai", (Tier(SECONDS, "0.10"),)),
    "openai/sora-2-pro": ("openai", (Tier(SECONDS, "0.30"),)),
    "minimax/hailuo-02": ("minimax", _HAILUO),
    "minimax/hailuo-2.3": ("minimax", _HAILUO),
}


def price_nanos(
    model: str, resolution: str | None, audio: bool, seconds: int, samples: int
) -> int | None:
    """The job's price in nanos by the tiers, or ``None`` when no tier prices it."""
    entry = TIERS.get(model)
    if entry is None:
        return None
    total = Decimal(0)
    for meter in (SECONDS, VIDEOS):
        tiers = [t for t in entry[1] if t.meter == meter and t.matches(resolution, audio, seconds)]
        if tiers:
            best = max(tiers, key=lambda tier: len(tier.conditions()))
            quantity = seconds * samples if meter == SECONDS else samples
            total += Decimal(best.price) * quantity
    if total == 0 and not any(t.matches(resolution, audio, seconds) for t in entry[1]):
        return None
    return int(total * NANOS)


def settled_nanos(
    model: str, resolution: str | None, audio: bool, seconds: int, samples: int
) -> int | None:
    """What the demo bills once done: per-second models bill the seconds delivered."""
    estimate = price_nanos(model, resolution, audio, seconds, samples)
    entry = TIERS.get(model)
    if estimate is None or entry is None or seconds <= 0:
        return estimate
    if all(tier.meter == VIDEOS for tier in entry[1]):
        return estimate
    delivered = (Decimal(seconds) - SETTLE_TRIM_SECONDS) / seconds
    return int((estimate * delivered).to_integral_value(rounding=ROUND_HALF_UP))


def usd(nanos: int, places: int = 2) -> str:
    """Nanos as the gateway's decimal string (2 places for costs, 9 for breakdowns)."""
    quantum = Decimal(1).scaleb(-places)
    return str((Decimal(nanos) / NANOS).quantize(quantum, rounding=ROUND_HALF_UP))


def price_list() -> dict[str, Any]:
    """``GET /pricing/models``: every meter of every demo model."""
    models = []
    for model, (provider, tiers) in TIERS.items():
        meters = [
            {
                "meter": tier.meter,
                "unit": "second" if tier.meter == SECONDS else "video",
                "unit_size": 1,
                "price_per_unit": tier.price,
                "currency": "USD",
                "conditions": tier.conditions(),
            }
            for tier in tiers
        ]
        models.append(
            {
                "provider": provider,
                "model": model,
                "endpoint": "video.generate",
                "pricing_plan": "standard",
                "meters": meters,
            }
        )
    return {"ok": True, "object": "list", "models": models}


def _number(usage: dict[str, Any], key: str, default: int) -> int:
    value = usage.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise validation_error(f"usage.{key}", "Expected a non-negative number")
    return int(value)


def calculate(body_bytes: bytes) -> dict[str, Any]:
    """``POST /pricing/calculate``: price one usage by the tiers; 400 when nothing prices it."""
    try:
        body = json.loads(body_bytes or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(
            400, "invalid_json", "Body is not valid JSON", reason="invalid_json"
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        raise validation_error("model", "Required")
    raw_usage = body.get("usage")
    usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
    raw_params = usage.get("video_params")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    entry = TIERS.get(body["model"])
    if entry is None:
        raise ApiError(404, "not_found", f"No pricing for {body['model']}", reason="model_unpriced")
    samples = _number(usage, "output_videos", 1) or 1
    seconds = _number(usage, "output_video_seconds", 0) // samples
    duration = params.get("duration", seconds)
    resolution = params.get("resolution")
    audio = params.get("audio") is True
    lines: list[dict[str, Any]] = []
    total = 0
    for meter in (SECONDS, VIDEOS):
        tiers = [
            t
            for t in entry[1]
            if t.meter == meter
            and t.matches(resolution if isinstance(resolution, str) else None, audio, duration)
        ]
        if not tiers:
            continue
        best = max(tiers, key=lambda tier: len(tier.conditions()))
        units = seconds * samples if meter == SECONDS else samples
        nanos = int(Decimal(best.price) * units * NANOS)
        total += nanos
        lines.append(
            {
                "dimension": meter,
                "units": units,
                "unit_price_usd": usd(int(Decimal(best.price) * NANOS), 9),
                "total_nanos": nanos,
                "total_usd_str": usd(nanos, 9),
            }
        )
    if not lines:
        raise validation_error("usage.video_params", "No price tier matches", "no_matching_tier")
    return {
        "cost_usd": float(Decimal(total) / NANOS),
        "cost_usd_str": usd(total, 9),
        "currency": "USD",
        "lines": lines,
    }


def fault_error(fault: str | None, endpoint: str) -> ApiError | None:
    """The error ``fault`` makes ``endpoint`` ("models"/"calculate") answer, if any."""
    if fault is None:
        return None
    scope, _, status = fault.rpartition("-")
    if scope and scope != endpoint:
        return None
    if status == "404":
        return ApiError(404, "not_found", "Route not found", reason="route_not_found")
    return ApiError(
        501,
        "not_implemented_yet",
        "Pricing is not available on this deployment",
        reason="pricing_api_disabled",
        origin="gateway",
    )


def job_billing(
    kind: str, model: str, resolution: str | None, audio: bool, seconds: int, samples: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(usage, billing)`` for a job in phase ``kind``, moved along as API.md describes.

    ``unsettled`` is a completed job whose bill the gateway has not settled yet (``pending``);
    ``unreleased`` a failed, cancelled or expired one whose reservation is not voided yet
    (still ``estimated``).
    """
    estimate = price_nanos(model, resolution, audio, seconds, samples)
    billing: dict[str, Any] = {"currency": "usd", "estimated_nanos": estimate}
    billing["estimated_user_cost"] = None if estimate is None else usd(estimate)
    billing["reserved_nanos"] = estimate
    if kind in ("failed", "cancelled", "expired"):
        billing.update(state="void", settled_user_cost="0.00", total_nanos=None, billable=False)
        return {"cost_usd": 0}, billing
    if kind in ("completed", "unsettled"):
        settled = settled_nanos(model, resolution, audio, seconds, samples)
        if settled is None or kind == "unsettled":
            billing.update(state="pending", settled_user_cost=None, total_nanos=None)
            return {"cost_usd": None}, billing
        billing.update(
            state="settled", settled_user_cost=usd(settled), total_nanos=settled, billable=True
        )
        usage = {
            "cost_usd": float(Decimal(settled) / NANOS),
            "output_video_seconds": seconds * samples,
            "pricing_breakdown": {"total_usd_str": usd(settled, 9)},
        }
        return usage, billing
    billing.update(state="estimated" if estimate is not None else "pending")
    return {"cost_usd": None if estimate is None else float(Decimal(estimate) / NANOS)}, billing
