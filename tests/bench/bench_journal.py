"""Journal write cost: the time to record one status event, against a bare durable SQLite commit.

The journal's ``save`` (row upsert + event insert, one ``synchronous=FULL`` WAL transaction)
is timed for each of 10,000 status events of one job, as the engine records them. The
baseline is the cheapest durable write SQLite offers on the same disk: one small INSERT per
committed WAL/FULL transaction. The durability settings are read back from the journal's own
connection, so a "fix" that trades away fsync shows up here.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchlib import Figure, fmt_ms, median, percentile, say, scratch, status_document

GOAL_SECONDS = 0.001


def _bare_commits(path: Path, count: int, payload: str) -> list[float]:
    """Seconds per durable single-row commit with plain sqlite3 (WAL, synchronous=FULL)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at REAL, doc TEXT)")
    times = []
    try:
        for index in range(count):
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (at, doc) VALUES (?, ?)", (index, payload))
            conn.execute("COMMIT")
            times.append(time.perf_counter() - started)
    finally:
        conn.close()
    return times


def _journal_saves(path: Path, count: int) -> tuple[list[float], dict[str, Any]]:
    """Seconds per ``Journal.save`` of a status event, and the connection's settings."""
    from core.jobs import Job, JobParams, JobState, StatusSeen, apply
    from core.journal import Journal
    from core.wire import parse_job

    journal = Journal.open(path)
    now = time.time()
    job = Job(
        local_id="bench-journal-job",
        params=JobParams(
            model="openai/sora-2",
            prompt="A cinematic sunrise over a mountain lake, slow drone push-in, golden light",
            duration=8,
            aspect_ratio="16:9",
        ),
        state=JobState.SUBMITTING,
        created_at=now,
        updated_at=now,
    )
    times = []
    try:
        journal.insert(job)
        for index in range(count):
            at = now + index * 20
            remote = parse_job(
                status_document("G-bench0000000000000000", "processing", at, index % 100)
            )
            job = apply(job, StatusSeen(remote, at))
            started = time.perf_counter()
            journal.save(job, "status", http_status=200, request_id=remote.id, raw=remote.raw)
            times.append(time.perf_counter() - started)
        conn = journal._conn  # read back the durability settings actually in force
        settings = {
            "journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
            "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0],
            "events": len(journal.events(job.local_id)),
        }
    finally:
        journal.close()
    return times, settings


def run(quick: bool) -> dict[str, Any]:
    """Time ``count`` journal saves and as many bare commits, interleaved in two halves."""
    count = 2_000 if quick else 10_000
    payload = json.dumps(status_document("G-bench", "processing", time.time(), 50))
    with scratch("journal") as folder:
        say(f"bare SQLite commits x{count // 2}")
        bare = _bare_commits(folder / "bare-1.db", count // 2, payload)
        say(f"journal saves x{count}")
        saves, settings = _journal_saves(folder / "journal.db", count)
        say(f"bare SQLite commits x{count // 2}")
        bare += _bare_commits(folder / "bare-2.db", count // 2, payload)
    save_median, bare_median = median(saves), median(bare)
    durable = str(settings["journal_mode"]).lower() == "wal" and settings["synchronous"] == 2
    passed = save_median < GOAL_SECONDS and durable and settings["events"] == count
    mode = "WAL, synchronous=FULL" if durable else f"{settings} (durability lost!)"
    figure = Figure(
        name="journal write cost",
        value=f"{fmt_ms(save_median)} median",
        detail=(
            f"{save_median / bare_median:.2f}x a bare SQLite commit {fmt_ms(bare_median)}; "
            f"p99 {fmt_ms(percentile(saves, 0.99))}; {mode}"
        ),
        goal="< 1 ms median, WAL+FULL",
        passed=passed,
        ratio=save_median / bare_median,
        data={
            "events": count,
            "median_s": save_median,
            "p95_s": percentile(saves, 0.95),
            "p99_s": percentile(saves, 0.99),
            "max_s": max(saves),
            "bare_median_s": bare_median,
            "bare_p99_s": percentile(bare, 0.99),
            "settings": settings,
        },
    )
    return {"figures": [figure.as_dict()]}
