"""Spend ledger at history scale: adding up 100,000 jobs, against listing them.

A journal of 100,000 synthetic jobs (a year of use, ``benchlib.synthetic_jobs``) is summed the
way the Spend view, the status bar and ``reelgate spend`` do it: ``core.ledger.read_records``
(the bill's own columns of the jobs table, on a read-only connection) plus
``summarize`` (today, week, month, all time, by model, the ten most expensive jobs). The
baseline, measured in the same run on the same file, is ``Journal.jobs()``: decoding every job,
which the window does once to list the history. Re-summing the records already in memory
(what follows each job change) is timed too.
"""

from __future__ import annotations

import time
from typing import Any

from benchlib import Figure, fill_journal, fmt_ms, median, say, scratch

JOBS = 100_000
QUICK_JOBS = 20_000
REPEATS = 3
GOAL_RATIO = 0.5


def _best_of(work: Any, repeats: int) -> tuple[float, Any]:
    """The fastest of ``repeats`` runs of ``work()`` and its last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


def run(quick: bool) -> dict[str, Any]:
    """Fill a journal, then time listing it, reading its bills, and summing them."""
    from core.journal import Journal
    from core.ledger import read_records, summarize

    count = QUICK_JOBS if quick else JOBS
    repeats = 2 if quick else REPEATS
    with scratch("spend") as folder:
        path = folder / "journal.db"
        say(f"filling a journal with {count:,} jobs")
        fill_journal(path, count, events_per_job=1)
        with Journal.open(path) as journal:
            listing, jobs = _best_of(journal.jobs, repeats)
        now = time.time()
        reading, records = _best_of(lambda: read_records(path), repeats)
        summing, summary = _best_of(lambda: summarize(records, now), repeats)
        resums = [_best_of(lambda: summarize(records, now, month="2026-01"), 1)[0]]
    total = reading + summing
    ratio = total / listing
    expected = sum(1 for job in jobs if job.state.value == "completed")
    counted = summary.periods["all"].settled_jobs
    say(f"listing {fmt_ms(listing)}, reading {fmt_ms(reading)}, summing {fmt_ms(summing)}")
    figures = [
        Figure(
            name="spend totals (100k jobs)" if not quick else f"spend totals ({count // 1000}k)",
            value=f"{ratio:.2f}x listing the history",
            detail=f"{fmt_ms(total)} vs {fmt_ms(listing)}; {counted:,} settled bills counted",
            goal=f"<= {GOAL_RATIO:.2f}x, every bill counted",
            passed=ratio <= GOAL_RATIO and counted == expected,
            ratio=ratio,
            data={"read": reading, "sum": summing, "list": listing, "jobs": count},
        ),
        Figure(
            name="spend re-sum after a change",
            value=f"{fmt_ms(median(resums))}",
            detail=f"{summing / listing:.2f}x listing the history",
            goal=f"<= {GOAL_RATIO:.2f}x listing",
            passed=summing / listing <= GOAL_RATIO,
            ratio=summing / listing,
        ),
    ]
    return {"figures": [figure.as_dict() for figure in figures]}
