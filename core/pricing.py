"""The gateway's price list (``GET /pricing/models``): meters, tier conditions, tolerant parsing.

Each model has meters such as ``output_video_seconds`` with a ``price_per_unit`` (a decimal
string), a ``unit_size`` and conditions that pick a tier, e.g. ``video_params.resolution eq
"720p"`` and ``video_params.audio eq true``. Conditions arrive as text or as objects
(``{path, op, value}``); a meter name may carry a tier too (``output_video_seconds.audio``).
Anything unreadable is skipped, never guessed: a meter whose conditions cannot be evaluated
does not apply.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.money import decimal_of

#: The usage dimension of per-second video meters, and of per-video ones.
SECONDS_METER = "output_video_seconds"
VIDEOS_METER = "output_videos"
_PER_VIDEO_UNITS = frozenset({"video", "videos", "generation", "generations", "output", "request"})
_CONDITION_TEXT = re.compile(r"^\s*([\w.\[\]]+)\s+(\w+|==|!=|>=|<=|>|<)\s+(.+?)\s*$")
_OP_ALIASES = {
    "=": "eq",
    "==": "eq",
    "equals": "eq",
    "!=": "ne",
    "neq": "ne",
    ">": "gt",
    ">=": "gte",
    "ge": "gte",
    "<": "lt",
    "<=": "lte",
    "le": "lte",
    "not_in": "nin",
}
_PARAM_ALIASES = {
    "seconds": "duration",
    "duration_seconds": "duration",
    "output_seconds": "duration",
    "generate_audio": "audio",
    "with_audio": "audio",
    "n": "sample_count",
    "samples": "sample_count",
}
_AUDIO_TOKENS = {"audio": True, "with_audio": True, "silent": False, "no_audio": False}
_RESOLUTION_TOKEN = re.compile(r"^(\d{3,4}p|[248]k)$", re.IGNORECASE)


def _norm(value: object) -> object:
    """Compare strings case-insensitively ("768P" is "768p") and numbers as Decimals."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true"
        number = decimal_of(text)
        return number if number is not None and text[:1].isdigit() else text
    if isinstance(value, int | float):
        return decimal_of(value)
    return value


@dataclass(frozen=True)
class Condition:
    """One tier condition: ``path op value`` over the request's ``video_params``."""

    path: str
    op: str
    value: object

    @property
    def param(self) -> str:
        """The parameter the condition reads (``video_params.`` dropped, aliases folded)."""
        name = self.path.strip().lower()
        for prefix in ("video_params.", "params.", "usage.", "request."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        return _PARAM_ALIASES.get(name, name)

    def test(self, params: Mapping[str, object]) -> bool | None:
        """True/False when it can be decided from ``params``; ``None`` when it cannot."""
        if self.param not in params or params[self.param] is None:
            return None
        have = _norm(params[self.param])
        op = _OP_ALIASES.get(self.op.lower(), self.op.lower())
        if op in ("in", "nin"):
            items = self.value if isinstance(self.value, list | tuple) else [self.value]
            found = have in [_norm(item) for item in items]
            return found if op == "in" else not found
        want = _norm(self.value)
        if op == "eq":
            return have == want
        if op == "ne":
            return have != want
        if isinstance(have, Decimal) and isinstance(want, Decimal):
            return {
                "gt": have > want,
                "gte": have >= want,
                "lt": have < want,
                "lte": have <= want,
            }.get(op)
        return None

    def describe(self) -> str:
        """Plain words for the rule text: ``720p``, ``with audio``, ``6 s``."""
        value = _norm(self.value)
        if self.param == "audio" and isinstance(value, bool):
            return "with audio" if value else "without audio"
        if self.param == "duration":
            return f"{self.value} s"
        return str(self.value)


def parse_condition(raw: object) -> Condition | None:
    """A condition from text (``video_params.audio eq true``) or an object; else ``None``."""
    if isinstance(raw, str):
        match = _CONDITION_TEXT.match(raw)
        if match is None:
            return None
        path, op, text = match.groups()
        try:
            value: object = json.loads(text)
        except ValueError:
            value = text.strip("'\"")
        return Condition(path, op, value)
    if isinstance(raw, Mapping):
        path = raw.get("path") or raw.get("field") or raw.get("param") or raw.get("key")
        op = raw.get("op") or raw.get("operator") or "eq"
        if not isinstance(path, str) or not isinstance(op, str) or "value" not in raw:
            return None
        return Condition(path, op, raw.get("value", raw.get("values")))
    return None


@dataclass(frozen=True)
class Meter:
    """One priced meter of a model: what a unit costs, and when this tier applies."""

    name: str
    unit: str
    unit_size: Decimal
    price: Decimal
    currency: str
    conditions: tuple[Condition, ...] = ()
    priority: int = 0

    @property
    def dimension(self) -> str | None:
        """``output_video_seconds``/``output_videos`` for video output meters, else ``None``."""
        base = self.name.split(".", 1)[0].lower()
        unit = self.unit.lower()
        if base.startswith("output_video_second") or (base == "output_video" and "sec" in unit):
            return SECONDS_METER
        if base in ("output_video", "output_videos", "video", "videos") or (
            base.startswith("output_video") and unit in _PER_VIDEO_UNITS
        ):
            return VIDEOS_METER
        return None

    def applies(self, params: Mapping[str, object]) -> bool:
        """Whether every condition holds for ``params`` (undecidable counts as not holding)."""
        return all(condition.test(params) is True for condition in self.conditions)


@dataclass(frozen=True)
class ModelPrices:
    """One model's meters on one provider route."""

    model: str
    provider: str | None
    meters: tuple[Meter, ...]


#: Model id (lower case) -> its price entries, one per provider route.
PriceList = dict[str, list[ModelPrices]]


def _name_conditions(name: str) -> tuple[Condition, ...]:
    """Tiers written into a meter's name: ``output_video_seconds.audio.1080p``."""
    found: list[Condition] = []
    for token in name.lower().split(".")[1:]:
        if token in _AUDIO_TOKENS:
            found.append(Condition("audio", "eq", _AUDIO_TOKENS[token]))
        elif _RESOLUTION_TOKEN.match(token):
            found.append(Condition("resolution", "eq", token))
    return tuple(found)


def parse_meter(name: object, raw: object) -> Meter | None:
    """A :class:`Meter` from one price-list entry; ``None`` if it has no usable price."""
    if not isinstance(raw, Mapping):
        return None
    name = raw.get("meter") or raw.get("name") or name
    price = decimal_of(raw.get("price_per_unit", raw.get("price")))
    if not isinstance(name, str) or price is None:
        return None
    unit_size = decimal_of(raw.get("unit_size", 1)) or Decimal(1)
    conditions: list[Condition] = []
    for key in ("conditions", "match", "when"):
        items = raw.get(key)
        items = [items] if isinstance(items, str | Mapping) else items
        for item in items if isinstance(items, list) else []:
            condition = parse_condition(item)
            if condition is None:
                return None  # a tier we cannot read must not be priced as if it had no limits
            conditions.append(condition)
    priority = raw.get("priority")
    return Meter(
        name=name,
        unit=str(raw.get("unit") or ""),
        unit_size=unit_size,
        price=price,
        currency=str(raw.get("currency") or "USD").upper(),
        conditions=(*_name_conditions(name), *conditions),
        priority=priority if isinstance(priority, int) and not isinstance(priority, bool) else 0,
    )


def _meters(raw: object) -> tuple[Meter, ...]:
    items: list[tuple[object, object]]
    if isinstance(raw, Mapping):
        items = list(raw.items())
    elif isinstance(raw, list):
        items = [(None, item) for item in raw]
    else:
        return ()
    meters = (parse_meter(name, item) for name, item in items)
    return tuple(meter for meter in meters if meter is not None)


def parse_price_list(document: object) -> PriceList:
    """Parse ``GET /pricing/models`` (``{models: [...]}``, ``{data: [...]}`` or a bare list)."""
    if isinstance(document, Mapping):
        items = document.get("models", document.get("data"))
    else:
        items = document
    prices: PriceList = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        model = item.get("model") or item.get("id")
        if not isinstance(model, str) or not model.strip():
            continue
        raw_meters: Any = item.get("meters", item.get("rules", item.get("pricing")))
        if isinstance(raw_meters, Mapping) and "meters" in raw_meters:
            raw_meters = raw_meters["meters"]
        provider = item.get("provider") or item.get("provider_id")
        entry = ModelPrices(
            model=model.strip(),
            provider=provider if isinstance(provider, str) else None,
            meters=_meters(raw_meters),
        )
        prices.setdefault(entry.model.lower(), []).append(entry)
    return prices
