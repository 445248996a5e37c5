"""Polling economy: status requests per job against the ideal ``duration / poll_after_seconds``.

50 jobs that each take 120 s on the demo gateway, which asks for a poll every 20 s, are run
by the real :class:`core.engine.Engine` over real loopback HTTP. Time is simulated: the
gateway, the engine and its request budget share one clock that the benchmark advances in
0.1 s steps, so two minutes of gateway time pass in a few seconds. The engine uses the
default :class:`core.poll_policy.PollPolicy` (the one used for the real, remote gateway).

Figures: status requests per job / ideal (6); status requests made for a job after it was
seen terminal (must be 0); and how long after the gateway finished a job the engine showed
it completed (must be within ``poll_after_seconds + 1`` s).
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchlib import DEMO_KEY, Figure, demo_params, say, scratch

JOBS = 50
QUEUED_SECONDS = 10.0
PROCESSING_SECONDS = 110.0
POLL_AFTER = 20
STEP = 0.1
_STATUS_PATH = re.compile(r"^/v1/videos/([^/?]+)$")


class SimClock:
    """A clock that only moves when told to (shared by gateway, engine and budget)."""

    def __init__(self, start: float) -> None:
        """Start at ``start`` (unix seconds)."""
        self.now = start

    def __call__(self) -> float:
        """The current simulated time."""
        return self.now


def _status_gets(log: list[tuple[str, str, dict[str, str]]]) -> Counter[str]:
    """Status GETs per remote job id in the gateway's request log."""
    counts: Counter[str] = Counter()
    for method, path, _headers in log:
        match = _STATUS_PATH.match(path)
        if method == "GET" and match and match.group(1) != "models":
            counts[match.group(1)] += 1
    return counts


def _simulate(folder: Path, jobs: int) -> dict[str, Any]:
    """Run ``jobs`` jobs to completion on the simulated clock; the raw observations."""
    from core.demo_gateway import DemoGateway
    from core.engine import Engine
    from core.gateway import GatewayClient
    from core.jobs import Job, JobState
    from core.journal import Journal
    from core.poll_policy import PollPolicy, RequestBudget

    clock = SimClock(1_800_000_000.0)
    gateway = DemoGateway(
        queued_seconds=QUEUED_SECONDS,
        processing_seconds=PROCESSING_SECONDS,
        poll_after_seconds=POLL_AFTER,
        clock=clock,
        video_scale=0.1,
    ).start()
    journal = Journal.open(folder / "journal.db")
    client = GatewayClient(gateway.base_url, DEMO_KEY)
    engine = Engine(
        journal,
        client,
        folder / "videos",
        policy=PollPolicy(),
        budget=RequestBudget(clock=clock),
        clock=clock,
        rng=random.Random(1),
    )
    seen_done: dict[str, float] = {}
    gets_when_done: dict[str, int] = {}

    def on_change(job: Job) -> None:
        if job.terminal and job.remote_id and job.remote_id not in seen_done:
            seen_done[job.remote_id] = clock()
            gets_when_done[job.remote_id] = _status_gets(gateway.requests_log)[job.remote_id]

    engine.add_listener(on_change)
    try:
        submitted = [engine.submit(demo_params(f"economy job {index}")) for index in range(jobs)]
        remote_ids = [job.remote_id for job in submitted if job.remote_id]
        end = clock.now + QUEUED_SECONDS + PROCESSING_SECONDS + 5 * POLL_AFTER
        wall = time.monotonic()
        while clock.now < end:
            clock.now += STEP
            for job in engine.claim_due(clock.now):
                engine.poll(job)
        wall = time.monotonic() - wall
        store = gateway._api.store  # the gateway's own record of when each job finished
        done_at = {rid: store.get(rid).done_at for rid in remote_ids}  # type: ignore[union-attr]
        states = Counter((engine.job(job.local_id) or job).state.value for job in submitted)
        gets = _status_gets(gateway.requests_log)
    finally:
        client.close()
        journal.close()
        gateway.stop()
    return {
        "remote_ids": remote_ids,
        "gets": {rid: gets[rid] for rid in remote_ids},
        "gets_when_done": gets_when_done,
        "latency": {rid: seen_done[rid] - done_at[rid] for rid in remote_ids if rid in seen_done},
        "states": dict(states),
        "completed": states.get(JobState.COMPLETED.value, 0),
        "wall_seconds": wall,
    }


def run(quick: bool) -> dict[str, Any]:
    """Simulate the jobs and turn the observations into three figures."""
    jobs = 20 if quick else JOBS
    say(f"{jobs} jobs x {QUEUED_SECONDS + PROCESSING_SECONDS:.0f} s, poll_after {POLL_AFTER} s")
    with scratch("polling") as folder:
        seen = _simulate(folder, jobs)
    ideal = (QUEUED_SECONDS + PROCESSING_SECONDS) / POLL_AFTER
    per_job = sum(seen["gets"].values()) / max(1, len(seen["remote_ids"]))
    ratio = per_job / ideal
    terminal = sum(
        seen["gets"][rid] - seen["gets_when_done"].get(rid, seen["gets"][rid])
        for rid in seen["remote_ids"]
    )
    latencies = list(seen["latency"].values())
    worst = max(latencies) if latencies else float("inf")
    all_done = seen["completed"] == jobs and len(latencies) == jobs
    spread = Counter(seen["gets"].values())
    figures = [
        Figure(
            name="polling economy",
            value=f"{ratio:.2f}x ideal",
            detail=f"{per_job:.2f} status requests/job vs {ideal:.0f}; per job {dict(spread)}",
            goal="<= 1.05x",
            passed=ratio <= 1.05 and all_done,
            ratio=ratio,
            data={
                "per_job": per_job,
                "ideal": ideal,
                "spread": {str(count): jobs for count, jobs in spread.items()},
                "jobs": jobs,
            },
        ),
        Figure(
            name="polling: terminal requests",
            value=f"{terminal}",
            detail=f"status requests after a job was seen finished; states {seen['states']}",
            goal="0",
            passed=terminal == 0 and all_done,
            data={"terminal_requests": terminal},
        ),
        Figure(
            name="polling: completion shown",
            value=f"{worst:.1f} s worst",
            detail=f"mean {sum(latencies) / max(1, len(latencies)):.1f} s after the gateway "
            f"finished (simulated; {seen['wall_seconds']:.1f} s real)",
            goal=f"<= {POLL_AFTER + 1} s",
            passed=worst <= POLL_AFTER + 1 and all_done,
            ratio=worst / (POLL_AFTER + 1),
            data={"latencies_s": sorted(latencies)},
        ),
    ]
    return {"figures": [figure.as_dict() for figure in figures]}
