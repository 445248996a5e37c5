"""The spend ledger: what the jobs in the journal cost, by period and model, as totals or CSV.

Read straight from the journal file on its own read-only connection, pulling four fields out of
each job document inside SQLite, so it works offline and adds up 100,000 jobs in well under a
second without building Job objects. Settled bills and still-estimated ones are kept apart;
void bills count as "not charged". Days and weeks are the person's local calendar (weeks
start on Monday).
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from core.billing import Charge, ChargeKind, charge_of, job_charge
from core.files import write_text_atomic
from core.gc_pause import collector_paused
from core.jobs import Job
from core.money import cents_text

#: How many of the most expensive jobs a summary lists.
TOP_JOBS = 10
PERIODS = ("today", "week", "month", "all")
PERIOD_LABELS = {"today": "Today", "week": "This week", "month": "This month", "all": "All time"}
#: The bill's own columns (journal schema 3): no JSON document is parsed per job.
_QUERY = (
    "SELECT local_id, created_at, model, substr(prompt, 1, 120), state, "
    "billing_state, cost, estimated_nanos, settled_nanos, gateway_label FROM jobs"
)
#: The same from a journal not yet opened by this version (schema 2): read from the documents.
_DOCUMENT_QUERY = (
    "SELECT local_id, created_at, model, substr(prompt, 1, 120), state, "
    "json_extract(doc, '$.billing_state'), json_extract(doc, '$.cost'), "
    "json_extract(doc, '$.estimated_nanos'), json_extract(doc, '$.settled_nanos'), "
    # Records written before ``gateway_label`` was a field keep the label in ``extra``.
    "coalesce(json_extract(doc, '$.gateway_label'), json_extract(doc, '$.extra.gateway')) "
    "FROM jobs WHERE json_valid(doc)"
)


class CostRecord(NamedTuple):
    """One job's bill, as the ledger needs it (a named tuple: one per job of the history)."""

    local_id: str
    created_at: float
    model: str
    prompt: str
    state: str
    charge: Charge
    gateway: str = "default"


@dataclass
class Totals:
    """Money and job counts of one slice of the history, in nanos."""

    settled: int = 0
    estimated: int = 0
    jobs: int = 0
    settled_jobs: int = 0
    estimated_jobs: int = 0
    void_jobs: int = 0

    @property
    def total(self) -> int:
        """Settled plus still-estimated spend."""
        return self.settled + self.estimated

    def add(self, charge: Charge) -> None:
        """Count one job's bill."""
        self.jobs += 1
        if charge.kind is ChargeKind.SETTLED and charge.nanos is not None:
            self.settled += charge.nanos
            self.settled_jobs += 1
        elif charge.kind is ChargeKind.ESTIMATED and charge.nanos is not None:
            self.estimated += charge.nanos
            self.estimated_jobs += 1
        elif charge.kind is ChargeKind.VOID:
            self.void_jobs += 1


@dataclass
class SpendSummary:
    """Totals per period, per model (in the chosen span) and the most expensive jobs."""

    periods: dict[str, Totals] = field(default_factory=dict)
    by_model: dict[str, Totals] = field(default_factory=dict)
    top: list[CostRecord] = field(default_factory=list)
    span: Totals = field(default_factory=Totals)
    span_label: str = "All time"


def record_of(job: Job) -> CostRecord:
    """The ledger's record of a job as the engine reports it (no journal read)."""
    return CostRecord(
        local_id=job.local_id,
        created_at=job.created_at,
        model=job.params.model,
        prompt=job.params.prompt[:120],
        state=job.state.value,
        charge=job_charge(job),
        gateway=job.gateway_label,
    )


def months_of(records: Iterable[CostRecord]) -> list[str]:
    """The months (``YYYY-MM``, newest first) in which billed jobs were made."""
    found = {
        datetime.fromtimestamp(r.created_at).strftime("%Y-%m")
        for r in records
        if r.charge.kind is not ChargeKind.NONE
    }
    return sorted(found, reverse=True)


def _record(row: tuple[object, ...]) -> CostRecord | None:
    local_id, created_at, model, prompt, state, billing, cost, estimated, settled, gateway = row
    charge = charge_of(
        str(state),
        billing if isinstance(billing, str) else None,
        cost if isinstance(cost, str) else None,
        estimated if isinstance(estimated, int) and estimated >= 0 else None,
        settled if isinstance(settled, int) and settled >= 0 else None,
    )
    return CostRecord(
        local_id=str(local_id),
        created_at=float(created_at) if isinstance(created_at, int | float) else 0.0,
        model=str(model),
        prompt=str(prompt),
        state=str(state),
        charge=charge,
        gateway=gateway if isinstance(gateway, str) else "default",
    )


def read_records(
    journal_path: Path, *, gateway: str | None = None, busy_timeout: float = 5.0
) -> list[CostRecord]:
    """Every job's bill from the journal file (hidden jobs too: they were paid for).

    ``gateway`` keeps only jobs made on that gateway (``"demo"`` or ``"default"``).
    A journal that does not exist yet has no spend.
    """
    if not Path(journal_path).exists():
        return []
    uri = Path(journal_path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, check_same_thread=False)
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(jobs)")}
        query = _QUERY if "settled_nanos" in columns else _DOCUMENT_QUERY
        rows = conn.execute(query).fetchall() if columns else []
    finally:
        conn.close()
    with collector_paused():  # see core.gc_pause
        records = (_record(row) for row in rows)
        return [r for r in records if r is not None and (gateway is None or r.gateway == gateway)]


def period_starts(now: float) -> dict[str, float]:
    """Unix times where today, this week (Monday) and this month began, in local time."""
    moment = datetime.fromtimestamp(now).astimezone()
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    return {
        "today": day.timestamp(),
        "week": week.timestamp(),
        "month": month.timestamp(),
        "all": float("-inf"),
    }


def month_span(month: str) -> tuple[float, float]:
    """``YYYY-MM`` as ``(start, end)`` unix times in local time; ValueError if malformed."""
    try:
        start = datetime.strptime(month, "%Y-%m").astimezone()
    except ValueError:
        raise ValueError(f"{month!r} is not a month like 2026-12") from None
    following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start.timestamp(), following.timestamp()


def summarize(
    records: Iterable[CostRecord],
    now: float,
    *,
    month: str | None = None,
    top: int = TOP_JOBS,
) -> SpendSummary:
    """Totals for today, this week, this month and all time.

    By model and the top jobs within ``month`` (``YYYY-MM``) when given, else within all
    time.
    """
    starts = period_starts(now)
    low, high = month_span(month) if month else (float("-inf"), float("inf"))
    summary = SpendSummary(
        periods={name: Totals() for name in PERIODS},
        span_label=month or PERIOD_LABELS["all"],
    )
    costly: list[CostRecord] = []
    for record in records:
        charge = record.charge
        if charge.kind is ChargeKind.NONE:
            continue  # never created, or no bill reported: nothing to add up
        for name, start in starts.items():
            if record.created_at >= start:
                summary.periods[name].add(charge)
        if not low <= record.created_at < high:
            continue
        summary.span.add(charge)
        summary.by_model.setdefault(record.model, Totals()).add(charge)
        if charge.nanos:
            costly.append(record)
    costly.sort(key=lambda r: (r.charge.nanos or 0, r.created_at), reverse=True)
    summary.top = costly[:top]
    summary.by_model = dict(
        sorted(summary.by_model.items(), key=lambda item: item[1].total, reverse=True)
    )
    return summary


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_HEADER = ("job", "created", "model", "status", "bill", "amount_usd", "prompt")


def to_csv(records: Iterable[CostRecord], *, month: str | None = None) -> str:
    """One row per job with a bill (oldest first), amounts as plain dollars with 2 places."""
    low, high = month_span(month) if month else (float("-inf"), float("inf"))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for record in sorted(records, key=lambda r: r.created_at):
        charge = record.charge
        if charge.kind is ChargeKind.NONE or not low <= record.created_at < high:
            continue
        created = datetime.fromtimestamp(record.created_at).astimezone()
        writer.writerow(
            (
                record.local_id,
                created.isoformat(timespec="seconds"),
                _cell(record.model),
                record.state,
                charge.kind.value,
                cents_text(charge.nanos or 0),
                _cell(record.prompt),
            )
        )
    return out.getvalue()


def save_text(path: Path, text: str) -> None:
    """Write the CSV ``text`` to ``path`` atomically, line endings as written; OSError."""
    write_text_atomic(path, text, newline="")
