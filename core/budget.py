"""The monthly budget guard: would this submit take the month's spend over the budget?

The month's spend is its settled bills plus the estimates of bills not settled yet (credit the
gateway has reserved). A request whose price is unknown cannot be checked: it passes while the
month is under budget (the caller says so), and is refused once the budget is used up.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.ledger import Totals
from core.money import NANOS_PER_USD, format_usd, usd_to_nanos


@dataclass(frozen=True)
class BudgetVerdict:
    """The guard's answer, with the numbers behind it and a sentence that shows them."""

    allowed: bool
    budget: int | None
    settled: int
    pending: int
    request: int | None
    message: str

    @property
    def projected(self) -> int:
        """The month's spend if this request goes ahead (its price counted when known)."""
        return self.settled + self.pending + (self.request or 0)

    @property
    def suggested_budget(self) -> int:
        """A round budget (whole dollars) that would let this request through."""
        dollars = -(-self.projected // NANOS_PER_USD)  # ceiling
        return max(dollars, 1) * NANOS_PER_USD


def dollars_setting(text: str) -> int | None:
    """A dollars setting ("2.00") in nanos; ``None`` when empty or not an amount (off)."""
    return usd_to_nanos(text) if text.strip() else None


def _spent_text(month: Totals) -> str:
    return f"{format_usd(month.settled)} settled + {format_usd(month.estimated)} still estimated"


def check_budget(budget: int | None, month: Totals, request: int | None) -> BudgetVerdict:
    """Whether a request costing ``request`` nanos (None: unknown) fits this month's budget."""
    if budget is None:
        return BudgetVerdict(True, None, month.settled, month.estimated, request, "")
    spent = month.total
    if request is None:
        allowed = spent < budget
        message = (
            f"The price of this request is unknown, so it cannot be checked against your "
            f"monthly budget of {format_usd(budget)} ({_spent_text(month)} so far)."
            if allowed
            else f"This month's spend ({_spent_text(month)}) has reached your monthly budget "
            f"of {format_usd(budget)}, and the price of this request is unknown."
        )
        return BudgetVerdict(allowed, budget, month.settled, month.estimated, None, message)
    projected = spent + request
    if projected <= budget:
        return BudgetVerdict(True, budget, month.settled, month.estimated, request, "")
    message = (
        f"This request (about {format_usd(request)}) would take this month's spend to "
        f"{format_usd(projected)}: {_spent_text(month)} + {format_usd(request)}, over your "
        f"monthly budget of {format_usd(budget)}."
    )
    return BudgetVerdict(False, budget, month.settled, month.estimated, request, message)
