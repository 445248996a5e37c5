"""The spend ledger over a real journal file, and the monthly budget guard."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from core.billing import ChargeKind
from core.budget import check_budget
from core.jobs import Job, JobParams, JobState
from core.journal import SCHEMA_VERSION, Journal
from core.journal_schema import BILL_COLUMNS
from core.ledger import Totals, month_span, read_records, summarize, to_csv

NOW = datetime(2026, 12, 5, 15, 0).astimezone().timestamp()  # a Saturday afternoon
DAY = 86_400.0


def job(
    local_id: str,
    at: float,
    *,
    model: str = "google/veo-3.1-lite-preview",
    state: JobState = JobState.COMPLETED,
    billing: str | None = "settled",
    estimated: int | None = None,
    settled: int | None = None,
    cost: str | None = None,
    gateway: str = "default",
    prompt: str = "a lake",
) -> Job:
    return Job(
        local_id=local_id,
        params=JobParams(model=model, prompt=prompt, duration=8),
        state=state,
        created_at=at,
        updated_at=at,
        remote_id=f"G-{local_id}",
        billing_state=billing,
        estimated_nanos=estimated,
        settled_nanos=settled,
        cost=cost,
        gateway_label=gateway,
    )


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    path = tmp_path / "journal.db"
    jobs = [
        job("today", NOW - 3600, estimated=400_000_000, settled=396_000_000),
        job(
            "running",
            NOW - 60,
            state=JobState.PROCESSING,
            billing="estimated",
            estimated=640_000_000,
            model="openai/sora-2",
        ),
        job("monday", NOW - 4 * DAY, settled=1_200_000_000, model="openai/sora-2"),
        job(
            "failed",
            NOW - 2 * DAY,
            state=JobState.FAILED,
            billing="void",
            estimated=280_000_000,
            settled=0,
            model="minimax/hailuo-2.3",
        ),
        job("lastmonth", NOW - 10 * DAY, settled=500_000_000),
        job("old", NOW - 400 * DAY, billing="settled", cost="0.15"),  # journaled before nanos
        job("rejected", NOW - 5, state=JobState.REJECTED, billing=None),
        job(
            "demo",
            NOW - 30,
            settled=40_000_000,
            gateway="demo",
            model="demo/test-pattern",
            prompt="=HYPERLINK(1)",
        ),
    ]
    with Journal.open(path) as journal:
        for item in jobs:
            journal.insert(item)
        journal.set_hidden("monday", True)  # hidden from the list, still paid for
    return path


def test_totals_by_period_settled_apart_from_estimated(journal_path: Path) -> None:
    summary = summarize(read_records(journal_path, gateway="default"), NOW)
    today, week, month, every = (
        summary.periods[name] for name in ("today", "week", "month", "all")
    )
    assert (today.settled, today.estimated) == (396_000_000, 640_000_000)
    assert week.settled == 396_000_000 + 1_200_000_000 and week.void_jobs == 1
    assert month.settled == week.settled  # 10 days ago was November
    assert every.settled == week.settled + 500_000_000 + 150_000_000
    assert every.total == every.settled + 640_000_000
    assert every.jobs == 6  # the rejected job was never created: nothing to count


def test_by_model_and_most_expensive_jobs(journal_path: Path) -> None:
    summary = summarize(read_records(journal_path, gateway="default"), NOW, top=3)
    assert next(iter(summary.by_model)) == "openai/sora-2"
    assert summary.by_model["openai/sora-2"].total == 1_840_000_000
    assert summary.by_model["minimax/hailuo-2.3"].void_jobs == 1
    assert [r.local_id for r in summary.top] == ["monday", "running", "lastmonth"]


def test_a_month_span_and_the_demo_gateway_kept_apart(journal_path: Path) -> None:
    november = summarize(read_records(journal_path, gateway="default"), NOW, month="2026-11")
    assert november.span.settled == 500_000_000 and list(november.by_model) == [
        "google/veo-3.1-lite-preview"
    ]
    demo = read_records(journal_path, gateway="demo")
    assert [r.local_id for r in demo] == ["demo"]
    with pytest.raises(ValueError, match="not a month"):
        month_span("2026-13")


def test_csv_export_is_one_row_per_billed_job_and_safe_to_open(journal_path: Path) -> None:
    text = to_csv(read_records(journal_path))
    rows = list(csv.DictReader(io.StringIO(text)))
    by_id = {row["job"]: row for row in rows}
    assert "rejected" not in by_id
    assert by_id["today"]["amount_usd"] == "0.40" and by_id["today"]["bill"] == "settled"
    assert by_id["running"]["bill"] == "estimated"
    assert by_id["failed"]["bill"] == "void" and by_id["failed"]["amount_usd"] == "0.00"
    assert by_id["demo"]["prompt"] == "'=HYPERLINK(1)"  # not run as a formula
    assert next(row["job"] for row in rows) == "old"  # oldest first


def test_records_degrade_safely_for_odd_documents(tmp_path: Path) -> None:
    assert read_records(tmp_path / "missing.db") == []
    path = tmp_path / "journal.db"
    with Journal.open(path) as journal:
        journal.insert(job("odd", NOW, settled=None, billing="settled", cost="not money"))
    (record,) = read_records(path)
    assert record.charge.kind is ChargeKind.NONE


def test_a_job_journaled_before_the_label_was_a_field_keeps_its_gateway(tmp_path: Path) -> None:
    """A schema-2 journal (bills only in documents, an old job's label in ``extra``) adds up
    the same before this version opens it and after it moved the bills into columns."""
    path = tmp_path / "journal.db"
    with Journal.open(path) as journal:
        journal.insert(job("new-demo", NOW, settled=40_000_000, gateway="demo"))
        journal.insert(job("old-demo", NOW, settled=40_000_000))
    with sqlite3.connect(path) as conn:  # as older versions wrote it
        for column in BILL_COLUMNS:
            conn.execute(f"ALTER TABLE jobs DROP COLUMN {column}")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        (doc,) = conn.execute("SELECT doc FROM jobs WHERE local_id = 'old-demo'").fetchone()
        data = json.loads(doc)
        del data["gateway_label"]
        data["extra"] = {"gateway": "demo"}
        conn.execute("UPDATE jobs SET doc = ? WHERE local_id = 'old-demo'", (json.dumps(data),))
    conn.close()
    for opened_by_this_version in (False, True):
        if opened_by_this_version:
            with Journal.open(path) as journal:  # migrates: the bills get their columns
                assert journal.schema_version == SCHEMA_VERSION
                old = journal.get("old-demo")
            assert old is not None and old.gateway_label == "demo" and old.extra == {}
        demo = read_records(path, gateway="demo")
        assert sorted(r.local_id for r in demo) == ["new-demo", "old-demo"]
        assert {r.charge.nanos for r in demo} == {40_000_000}
        assert read_records(path, gateway="default") == []


def month(settled: int, estimated: int) -> Totals:
    return Totals(settled=settled, estimated=estimated)


def test_budget_guard_refuses_over_budget_with_the_numbers() -> None:
    verdict = check_budget(20_000_000_000, month(19_100_000_000, 580_000_000), 640_000_000)
    assert not verdict.allowed
    assert verdict.projected == 20_320_000_000
    assert verdict.message == (
        "This request (about $0.64) would take this month's spend to $20.32: $19.10 settled + "
        "$0.58 still estimated + $0.64, over your monthly budget of $20.00."
    )
    assert verdict.suggested_budget == 21_000_000_000


def test_budget_guard_allows_within_budget_and_when_off() -> None:
    assert check_budget(20_000_000_000, month(19_000_000_000, 0), 1_000_000_000).allowed
    assert check_budget(None, month(10**12, 0), 10**12).allowed


def test_budget_guard_with_an_unknown_price() -> None:
    under = check_budget(20_000_000_000, month(5_000_000_000, 0), None)
    assert under.allowed and "cannot be checked" in under.message
    spent = check_budget(20_000_000_000, month(19_000_000_000, 1_000_000_000), None)
    assert not spent.allowed and "has reached" in spent.message
