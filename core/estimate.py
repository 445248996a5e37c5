"""What a video will cost before it is sent: the tier rules applied to one request.

Per-second models bill ``seconds x sample_count`` at the price of the tier whose conditions
match (resolution, audio, ...); per-video models bill ``sample_count`` videos. When no tier
matches, the answer is "price unknown" with the reason, never a guess. When the request leaves
audio unset and the price depends on it, the estimate is the higher of the two ("up to").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.jobs import JobParams
from core.money import (
    NANOS_PER_USD,
    decimal_of,
    format_unit_price,
    format_usd,
    nanos_of,
    usd_to_nanos,
)
from core.pricing import SECONDS_METER, Meter, ModelPrices, PriceList
from core.wire import JsonObject

UNKNOWN_TEXT = "price unknown"
ENDPOINT = "video.generate"
_SIZE = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*$")


@dataclass(frozen=True)
class PriceQuery:
    """The parts of a create request that decide its price."""

    model: str
    seconds: int
    resolution: str | None = None
    size: str | None = None
    audio: bool | None = None
    samples: int = 1
    aspect_ratio: str | None = None

    @classmethod
    def of(
        cls,
        params: JobParams,
        *,
        audio_default: bool | None = None,
        resolution_default: str | None = None,
    ) -> PriceQuery:
        """The query for a job's parameters (``size`` read when the params carry one).

        The defaults are the model's (from the catalogue), used for what the request leaves
        unset: the gateway fills in the same values.
        """
        size = getattr(params, "size", None)
        return cls(
            model=params.model,
            seconds=params.duration,
            resolution=params.resolution or (None if size else resolution_default),
            size=size if isinstance(size, str) else None,
            audio=params.generate_audio if params.generate_audio is not None else audio_default,
            samples=params.sample_count or 1,
            aspect_ratio=params.aspect_ratio,
        )

    @property
    def effective_resolution(self) -> str | None:
        """The resolution asked for, or the one a ``WIDTHxHEIGHT`` size implies (its short side)."""
        if self.resolution:
            return self.resolution
        match = _SIZE.match(self.size or "")
        return f"{min(int(match[1]), int(match[2]))}p" if match else None

    def video_params(self, audio: bool | None) -> dict[str, object]:
        """The ``video_params`` the tier conditions are tested against."""
        values: dict[str, object] = {
            "resolution": self.effective_resolution,
            "size": self.size,
            "audio": audio,
            "duration": self.seconds,
            "sample_count": self.samples,
            "aspect_ratio": self.aspect_ratio,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class Estimate:
    """A price before submitting: nanos (``None``: unknown), the rule used, where it came from."""

    nanos: int | None
    rule: str
    source: str = ""
    low_nanos: int | None = None

    @property
    def known(self) -> bool:
        """Whether there is a price at all."""
        return self.nanos is not None

    @property
    def text(self) -> str:
        """``about $0.40``, ``$0.24 to $0.40`` or ``price unknown``."""
        if self.nanos is None:
            return UNKNOWN_TEXT
        if self.low_nanos is not None and self.low_nanos != self.nanos:
            return f"{format_usd(self.low_nanos)} to {format_usd(self.nanos)}"
        return f"about {format_usd(self.nanos)}"

    @classmethod
    def unknown(cls, reason: str) -> Estimate:
        """No price, and why."""
        return cls(None, reason)


def _nanos(amount: Decimal) -> int:
    return int((amount * NANOS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP))


def _best(meters: list[Meter]) -> Meter:
    """The most specific matching tier (most conditions), then the highest priority."""
    return max(meters, key=lambda meter: (len(meter.conditions), meter.priority))


def _line(meter: Meter, query: PriceQuery) -> tuple[int, str]:
    """One meter's cost for the query and its rule text."""
    tier = ", ".join(condition.describe() for condition in meter.conditions)
    tier = f", {tier}" if tier else ""
    unit = format_unit_price(meter.price)
    per = "" if meter.unit_size == 1 else f" per {meter.unit_size.normalize():f}"
    samples = f"{query.samples} x " if query.samples > 1 else ""
    if meter.dimension == SECONDS_METER:
        amount = meter.price * query.seconds * query.samples / meter.unit_size
        return _nanos(amount), f"{samples}{query.seconds} s x {unit}/s{per}{tier}"
    amount = meter.price * query.samples / meter.unit_size
    noun = "videos" if query.samples > 1 else "video"
    return _nanos(amount), f"{query.samples} {noun} x {unit}{per}{tier}"


def _price_route(entry: ModelPrices, query: PriceQuery, audio: bool | None) -> tuple[int, str]:
    """Total nanos and rule for one provider route; raises LookupError when no tier fits."""
    params = query.video_params(audio)
    by_dimension: dict[str, list[Meter]] = {}
    for meter in entry.meters:
        dimension = meter.dimension
        if dimension is not None and meter.currency == "USD" and meter.applies(params):
            by_dimension.setdefault(dimension, []).append(meter)
    if not by_dimension:
        raise LookupError
    lines = [_line(_best(by_dimension[name]), query) for name in sorted(by_dimension)]
    return sum(nanos for nanos, _ in lines), " + ".join(text for _, text in lines)


def _no_tier_reason(query: PriceQuery) -> str:
    wanted = ", ".join(
        part
        for part in (
            query.effective_resolution,
            f"{query.seconds} s",
            None if query.audio is None else ("with audio" if query.audio else "without audio"),
        )
        if part
    )
    return f"the price list has no tier for {query.model} at {wanted}"


def estimate_from_list(prices: PriceList, query: PriceQuery) -> Estimate:
    """Apply the price list's tier rules to ``query``; unknown (with the reason) if none fits."""
    entries = prices.get(query.model.strip().lower())
    if not entries:
        return Estimate.unknown(f"the price list has no entry for {query.model}")
    audios: tuple[bool | None, ...] = (query.audio,) if query.audio is not None else (True, False)
    found: list[tuple[int, str]] = []
    for entry in entries:
        priced: list[tuple[int, str]] = []
        for audio in audios:
            try:
                priced.append(_price_route(entry, query, audio))
            except LookupError:
                continue
        if priced:  # audio unset: the dearer of the two tiers is the honest upper bound
            found.append(max(priced, key=lambda item: item[0]))
    if not found:
        return Estimate.unknown(_no_tier_reason(query))
    high = max(found, key=lambda item: item[0])
    low = min(nanos for nanos, _ in found)
    rule = high[1]
    if len(entries) > 1 and low != high[0]:
        rule += " (the price depends on the provider the gateway picks)"
    elif query.audio is None and any("audio" in text for _, text in found):
        rule += " (audio not chosen: the higher tier)"
    return Estimate(high[0], rule, "price list", low if low != high[0] else None)


def calculate_body(query: PriceQuery, provider: str | None = None) -> JsonObject:
    """The ``POST /pricing/calculate`` body for ``query``."""
    video_params: dict[str, Any] = {
        key: value
        for key, value in query.video_params(query.audio).items()
        if key in ("resolution", "audio", "duration", "sample_count", "size")
    }
    body: JsonObject = {
        "model": query.model,
        "endpoint": ENDPOINT,
        "usage": {
            "output_video_seconds": query.seconds * query.samples,
            "output_videos": query.samples,
            "video_params": video_params,
        },
    }
    if provider:
        body["provider"] = provider
    return body


def _lines_text(lines: object) -> str:
    texts: list[str] = []
    for line in lines if isinstance(lines, list) else []:
        if not isinstance(line, dict):
            continue
        name = line.get("dimension") or line.get("meter")
        quantity = line.get("units", line.get("quantity"))
        price = line.get("unit_price_usd", line.get("price_per_unit"))
        number = decimal_of(price)
        if isinstance(name, str) and quantity is not None and number is not None:
            shown = format_unit_price(number)
            if "second" in name:
                texts.append(f"{quantity} s x {shown}/s")
            else:
                texts.append(f"{quantity} {'video' if quantity == 1 else 'videos'} x {shown}")
    return " + ".join(texts)


def estimate_from_calculation(document: object) -> Estimate:
    """An :class:`Estimate` from a ``POST /pricing/calculate`` answer; unknown if unusable."""
    if not isinstance(document, dict):
        return Estimate.unknown("the gateway's price calculation was not readable")
    nanos = nanos_of(document.get("total_nanos"))
    if nanos is None:
        nanos = usd_to_nanos(document.get("cost_usd_str"))
    if nanos is None:
        nanos = usd_to_nanos(document.get("cost_usd"))
    if nanos is None:
        return Estimate.unknown("the gateway's price calculation gave no amount")
    rule = _lines_text(document.get("lines")) or "calculated by the gateway"
    return Estimate(nanos, rule, "gateway calculation")
