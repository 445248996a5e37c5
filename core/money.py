"""Money as exact integer nanos (1e-9 USD): the gateway's decimal strings and numbers, and display.

The gateway writes costs as decimal strings with two places (``"0.40"``), exact amounts as
integer nanos (``total_nanos``), and ``usage.cost_usd`` as a JSON number. Reelgate keeps every
amount as an ``int`` of nanos: exact, JSON-native, and quick to add up over a long history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

NANOS_PER_USD = 1_000_000_000
_NANO = Decimal(NANOS_PER_USD)
_CENT = Decimal("0.01")
#: Anything above this is not a video's price but a malformed value (a billion dollars).
MAX_NANOS = 10**18


def decimal_of(value: object) -> Decimal | None:
    """A finite, non-negative Decimal from a decimal string, JSON number or Decimal, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = repr(value)  # the shortest text that round-trips: 0.1 stays 0.1
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().lstrip("$").strip()
        if not text or len(text) > 40:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite() or number < 0:
        return None
    return number


def usd_to_nanos(value: object) -> int | None:
    """Nanos from a dollar amount (``"0.40"``, ``0.4``, ``"$1.20"``); ``None`` if unusable."""
    number = decimal_of(value)
    if number is None:
        return None
    nanos = int((number * _NANO).to_integral_value(rounding=ROUND_HALF_UP))
    return nanos if nanos <= MAX_NANOS else None


def nanos_of(value: object) -> int | None:
    """Nanos from a ``*_nanos`` field (an integer, or a numeric string); ``None`` if unusable."""
    number = decimal_of(value)
    if number is None:
        return None
    nanos = int(number.to_integral_value(rounding=ROUND_HALF_UP))
    return nanos if nanos <= MAX_NANOS else None


def format_usd(nanos: int) -> str:
    """``$0.40``: rounded half up to cents; amounts under a cent keep their first digits."""
    amount = Decimal(nanos) / _NANO
    if 0 < nanos < 5_000_000:  # would show as $0.00 although it costs something
        return f"${amount.normalize():f}"
    return f"${amount.quantize(_CENT, rounding=ROUND_HALF_UP)}"


def format_unit_price(price: Decimal) -> str:
    """A unit price as the price list writes it, with at least two places: ``$0.05``, ``$0.045``."""
    text = f"{price.normalize():f}"
    whole, _, fraction = text.partition(".")
    return f"${whole}.{fraction.ljust(2, '0')}"


def cents_text(nanos: int) -> str:
    """The amount as a plain decimal string with two places, for CSV files: ``0.40``."""
    return str((Decimal(nanos) / _NANO).quantize(_CENT, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Billing:
    """What one job document says about its bill: the state and the two amounts, in nanos."""

    state: str | None = None
    estimated_nanos: int | None = None
    settled_nanos: int | None = None


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(*candidates: int | None) -> int | None:
    return next((value for value in candidates if value is not None), None)


def _exact_or_stated(exact: int | None, stated: int | None) -> int | None:
    """The exact nanos when they agree with the 2-place string, else the string (the bill)."""
    if exact is None:
        return stated
    if stated is None:
        return exact
    rounded = int((Decimal(exact) / _NANO).quantize(_CENT, rounding=ROUND_HALF_UP) * _NANO)
    return exact if rounded == stated else stated


def parse_billing(document: object) -> Billing:
    """The job's ``billing``/``usage`` fields as a :class:`Billing`; never raises.

    Estimated: ``estimated_nanos``/``estimated_user_cost``, else ``reserved_nanos``, else
    (before settlement, or with no ``billing.state`` at all) ``usage.cost_usd``. Settled,
    only once ``state`` is ``settled``: ``total_nanos``/``settled_user_cost``, else
    ``usage.cost_nanos``/``cost_usd``/``pricing_breakdown.total_usd_str``. ``void`` is a
    settled zero ("not charged"). Older shapes (a bare ``cost`` string) are read too.
    """
    doc = _object(document)
    billing = _object(doc.get("billing"))
    usage = _object(doc.get("usage"))
    raw_state = billing.get("state")
    state = raw_state.strip().lower() if isinstance(raw_state, str) and raw_state.strip() else None
    breakdown = _object(usage.get("pricing_breakdown"))
    usage_cost = _first(
        nanos_of(usage.get("cost_nanos")),
        usd_to_nanos(usage.get("cost_usd")),
        usd_to_nanos(breakdown.get("total_usd_str")),
        usd_to_nanos(usage.get("cost")),
    )
    legacy = _first(usd_to_nanos(billing.get("cost")), usd_to_nanos(billing.get("total_cost")))
    estimated = _first(
        _exact_or_stated(
            nanos_of(billing.get("estimated_nanos")),
            usd_to_nanos(billing.get("estimated_user_cost")),
        ),
        nanos_of(billing.get("reserved_nanos")),
        usd_to_nanos(billing.get("estimated_cost")),
        # No billing state at all: usage.cost_usd may be the estimate or the cost, so it is
        # shown as an estimate ("~$0.40"), never as settled.
        usage_cost if state in ("estimated", "pending", None) else None,
        legacy if state in ("estimated", "pending") else None,
    )
    settled: int | None = None
    if state == "void":
        settled = 0
    elif state == "settled":
        settled = _first(
            _exact_or_stated(
                nanos_of(billing.get("total_nanos")),
                usd_to_nanos(billing.get("settled_user_cost")),
            ),
            usage_cost,
            legacy,
        )
    return Billing(state=state, estimated_nanos=estimated, settled_nanos=settled)
