"""A job's bill in plain words: settled, estimated, or not charged, from its typed fields.

Jobs journaled before the amounts had their own fields kept only the gateway's cost string and
billing state; those are read too, so an old history still shows and adds up its costs.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from core.jobs import Job, JobState
from core.money import format_usd, usd_to_nanos

NOT_CHARGED = "not charged"


class ChargeKind(StrEnum):
    """How far a job's bill has got."""

    SETTLED = "settled"
    ESTIMATED = "estimated"
    VOID = "void"
    NONE = "none"  # never created on the gateway, or no amount reported yet


class Charge(NamedTuple):
    """A job's bill: its kind and amount in nanos (0 for void, None when unknown).

    A named tuple rather than a dataclass: the ledger makes one per job of a long history.
    """

    kind: ChargeKind
    nanos: int | None = None

    @property
    def text(self) -> str:
        """For the cost column: ``$0.40``, ``~$0.40``, ``not charged`` or empty."""
        if self.kind is ChargeKind.VOID:
            return NOT_CHARGED
        if self.nanos is None:
            return ""
        if self.kind is ChargeKind.ESTIMATED:
            return f"~{format_usd(self.nanos)}"
        return format_usd(self.nanos)


@lru_cache(maxsize=1024)
def _cost_nanos(cost: str) -> int | None:
    """``usd_to_nanos`` of a stored cost string (a history repeats a few prices many times)."""
    return usd_to_nanos(cost)


def charge_of(
    state: JobState | str,
    billing_state: str | None,
    cost: str | None,
    estimated_nanos: int | None,
    settled_nanos: int | None,
) -> Charge:
    """The :class:`Charge` for these stored fields (shared by jobs and the spend ledger)."""
    billing = (billing_state or "").lower()
    if state in (JobState.SUBMITTING, JobState.REJECTED):
        return Charge(ChargeKind.NONE)  # nothing was created, nothing is owed
    if billing == "void":
        return Charge(ChargeKind.VOID, 0)
    if settled_nanos is not None:
        return Charge(ChargeKind.SETTLED, settled_nanos)
    legacy = _cost_nanos(cost) if isinstance(cost, str) else None
    settled_word = billing in ("settled", "charged")
    if legacy is not None and (settled_word or (not billing and state == JobState.COMPLETED)):
        return Charge(ChargeKind.SETTLED, legacy)
    if estimated_nanos is not None:
        return Charge(ChargeKind.ESTIMATED, estimated_nanos)
    if legacy is not None:
        return Charge(ChargeKind.ESTIMATED, legacy)
    return Charge(ChargeKind.NONE)


def job_charge(job: Job) -> Charge:
    """The bill of ``job``."""
    return charge_of(job.state, job.billing_state, job.cost, job.estimated_nanos, job.settled_nanos)
