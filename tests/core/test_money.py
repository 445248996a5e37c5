"""Money parsing and the job's bill: decimal strings, nanos, and the billing lifecycle."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.billing import NOT_CHARGED, ChargeKind, charge_of
from core.jobs import JobState
from core.money import format_usd, parse_billing, usd_to_nanos
from core.wire import parse_job


def test_decimal_strings_numbers_and_junk() -> None:
    assert usd_to_nanos("0.40") == 400_000_000
    assert usd_to_nanos("$1.20") == 1_200_000_000
    assert usd_to_nanos(0.1) == 100_000_000  # no float noise: 0.1 stays 0.1
    assert usd_to_nanos("0.396000001") == 396_000_001
    assert usd_to_nanos(Decimal("0.72")) == 720_000_000 and usd_to_nanos(Decimal("NaN")) is None
    for junk in (None, True, "", "abc", "-1", "NaN", float("inf"), [1], {"usd": 1}):
        assert usd_to_nanos(junk) is None
    assert format_usd(400_000_000) == "$0.40"
    assert format_usd(395_000_000) == "$0.40"  # half up
    assert format_usd(2_000_000) == "$0.002"  # under a cent still shows it costs something
    assert format_usd(0) == "$0.00"


def test_estimated_right_after_create() -> None:
    bill = parse_billing(
        {
            "billing": {
                "state": "estimated",
                "estimated_user_cost": "0.40",
                "estimated_nanos": 400_000_000,
                "reserved_nanos": 400_000_000,
            },
            "usage": {"cost_usd": 0.4},
        }
    )
    assert bill.state == "estimated" and bill.estimated_nanos == 400_000_000
    assert bill.settled_nanos is None


def test_settled_prefers_exact_nanos_when_they_agree_with_the_bill() -> None:
    bill = parse_billing(
        {
            "billing": {
                "state": "settled",
                "estimated_nanos": 400_000_000,
                "settled_user_cost": "0.40",
                "total_nanos": 396_000_000,
            },
            "usage": {"cost_usd": 0.396},
        }
    )
    assert bill.settled_nanos == 396_000_000 and bill.estimated_nanos == 400_000_000
    disagreeing = parse_billing(
        {"billing": {"state": "settled", "settled_user_cost": "0.55", "total_nanos": 396_000_000}}
    )
    assert disagreeing.settled_nanos == 550_000_000  # the user's bill wins


def test_settled_from_usage_when_billing_has_no_amount() -> None:
    nanos = parse_billing(
        {"billing": {"state": "settled"}, "usage": {"cost_nanos": 120_000_001, "cost_usd": 0.12}}
    )
    assert nanos.settled_nanos == 120_000_001
    breakdown = parse_billing(
        {
            "billing": {"state": "settled"},
            "usage": {"pricing_breakdown": {"total_usd_str": "0.123456789"}},
        }
    )
    assert breakdown.settled_nanos == 123_456_789


def test_void_is_a_zero_bill_and_pending_is_not_settled() -> None:
    void = parse_billing(
        {"billing": {"state": "void", "settled_user_cost": "0.00", "estimated_user_cost": "0.64"}}
    )
    assert void.settled_nanos == 0 and void.estimated_nanos == 640_000_000
    pending = parse_billing(
        {"billing": {"state": "pending", "settled_user_cost": None}, "usage": {"cost_usd": 0.4}}
    )
    assert pending.settled_nanos is None and pending.estimated_nanos == 400_000_000
    # usage.cost_usd is only an estimate before settlement, never a bill by itself
    assert parse_billing({"usage": {"cost_usd": 0.4}}).settled_nanos is None


def test_status_document_carries_the_amounts() -> None:
    job = parse_job(
        {
            "id": "G-1",
            "status": "completed",
            "billing": {"state": "settled", "settled_user_cost": "1.20"},
        }
    )
    assert job.settled_nanos == 1_200_000_000 and job.billing_state == "settled"
    assert job.cost == "1.20"


def test_charge_settled_estimate_void_and_old_records() -> None:
    settled = charge_of(JobState.COMPLETED, "settled", None, 400_000_000, 396_000_000)
    assert settled.kind is ChargeKind.SETTLED and settled.text == "$0.40"
    running = charge_of(JobState.PROCESSING, "estimated", None, 640_000_000, None)
    assert running.text == "~$0.64"
    void = charge_of(JobState.FAILED, "void", "0.00", 640_000_000, 0)
    assert void.kind is ChargeKind.VOID and void.text == NOT_CHARGED
    rejected = charge_of(JobState.REJECTED, None, None, None, None)
    assert rejected.kind is ChargeKind.NONE and rejected.text == ""
    old = charge_of(JobState.COMPLETED, "settled", "0.15", None, None)  # journaled before nanos
    assert old.kind is ChargeKind.SETTLED and old.nanos == 150_000_000


@given(
    st.dictionaries(
        st.sampled_from(["billing", "usage"]),
        st.dictionaries(
            st.text(max_size=20),
            st.none() | st.text(max_size=8) | st.integers() | st.floats() | st.booleans(),
        ),
    )
)
def test_any_billing_shape_parses_without_raising(document: dict) -> None:
    bill = parse_billing(document)
    for amount in (bill.estimated_nanos, bill.settled_nanos):
        assert amount is None or amount >= 0


def test_billing_seen_settles_a_completed_job_and_bounds_the_checks() -> None:
    from dataclasses import replace

    from core.jobs import BILL_CHECKS, BillingSeen, Job, JobParams, StatusSeen, apply

    job = Job(
        local_id="L-1",
        params=JobParams(model="m", prompt="p", duration=8),
        state=JobState.PROCESSING,
        created_at=1.0,
        updated_at=1.0,
        remote_id="G-1",
    )
    pending = {"billing": {"state": "pending", "estimated_user_cost": "0.40"}}
    done = apply(job, StatusSeen(parse_job({"id": "G-1", "status": "completed", **pending}), 2.0))
    assert done.state is JobState.COMPLETED and done.awaiting_bill
    # A later status of a finished job is ignored, except for its bill.
    settled_doc = {
        "id": "G-1",
        "status": "completed",
        "billing": {"state": "settled", "settled_user_cost": "0.39"},
    }
    assert apply(done, StatusSeen(parse_job(settled_doc), 3.0)) == done
    settled = apply(done, BillingSeen(parse_job(settled_doc), 3.0))
    assert settled.state is JobState.COMPLETED and settled.settled_nanos == 390_000_000
    assert not settled.awaiting_bill and settled.bill_checks == 1
    tired = replace(done, bill_checks=BILL_CHECKS)
    assert not tired.awaiting_bill  # asked enough: the estimate stays as it is
    assert not replace(done, deleted_on_server=True).awaiting_bill


def test_usage_cost_without_a_billing_object_is_shown_as_an_estimate() -> None:
    """A completed job whose answer has ``usage.cost_usd`` but no ``billing``: "~$0.40"."""
    remote = parse_job({"id": "G-1", "status": "completed", "usage": {"cost_usd": 0.4}})
    assert remote.estimated_nanos == 400_000_000 and remote.settled_nanos is None
    charge = charge_of(
        JobState.COMPLETED, remote.billing_state, remote.cost, remote.estimated_nanos, None
    )
    assert charge.kind is ChargeKind.ESTIMATED and charge.nanos == 400_000_000
