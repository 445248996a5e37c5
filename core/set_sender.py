"""Sends the jobs of a compare set or batch: one create at a time, within the request budget.

Every job goes through ``Engine.submit`` (journaled before its create is sent, never resent
automatically once it may have been created). Each create first takes a slot of the engine's
request budget, shared with polling, so a 100-prompt batch never floods the gateway. Sending
stops early when going on cannot help: the key was refused, the account is out of credit, the
video API is not enabled for the account (or paused), or the gateway cannot be reached; the
jobs not sent are counted and said so. A create refused with "slow down" (nothing was made)
waits as asked and is sent again as a new, linked job.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.engine import Engine
from core.failure_class import verdict_for
from core.job_sets import PlannedJob, new_set_id
from core.jobs import Cause, Job, JobState, SetKind
from core.wire import as_float

logger = logging.getLogger(__name__)

#: Causes after which the rest of a set would be refused the same way: stop sending.
STOP_CAUSES = frozenset({Cause.AUTH, Cause.CREDIT, Cause.NOT_SENT})
#: A create refused with this HTTP status: the video API is off for the account (every model).
VIDEO_API_OFF = 501
#: How often one job is sent again after "slow down" answers before sending stops.
RATE_LIMIT_RETRIES = 3
#: The wait after a "slow down" answer that named no time.
RATE_LIMIT_WAIT = 10.0
#: How often the budget is looked at while waiting for a free slot.
BUDGET_POLL_SECONDS = 0.05

#: ``on_sent(job, sent_count, total)`` after each create (from the sending thread).
SentListener = Callable[[Job, int, int], None]


@dataclass
class SendReport:
    """How sending a set went."""

    set_id: str
    kind: SetKind
    total: int
    jobs: list[Job] = field(default_factory=list)
    #: Each sent job's place in the plan, by local id.
    plan_index: dict[str, int] = field(default_factory=dict)
    #: Planned jobs sent at least once (a "slow down" resend adds a job, not a plan).
    sent: int = 0
    #: Why sending stopped before the end (None: everything was sent, or cancelled).
    stopped: str | None = None
    cancelled: bool = False

    @property
    def unsent(self) -> int:
        """Planned jobs that were never sent (nothing journaled, nothing charged)."""
        return self.total - self.sent

    def not_sent(self, plan: Sequence[PlannedJob]) -> list[PlannedJob]:
        """The planned jobs of ``plan`` (the one sent) that were never sent, in order."""
        sent = set(self.plan_index.values())
        return [job for index, job in enumerate(plan) if index not in sent]

    @property
    def summary(self) -> str:
        """One sentence for a status bar or the command line."""
        text = f"{self.kind.label}: {self.sent} of {self.total} sent"
        if self.cancelled:
            text += "; stopped by you, the rest were not sent"
        elif self.stopped:
            text += f"; stopped: {self.stopped}"
        return text + "."


def _take_slot(engine: Engine, cancel: threading.Event) -> bool:
    """Wait for a request-budget slot; False if cancelled first."""
    while not engine.budget.try_acquire():
        if cancel.wait(BUDGET_POLL_SECONDS):
            return False
    return True


def _stops(job: Job) -> bool:
    """Whether a refused create means the rest of the set would be refused the same way."""
    failure = job.failure
    if failure is None:
        return False
    return failure.cause in STOP_CAUSES or failure.http_status == VIDEO_API_OFF


def _retry_after(job: Job) -> float:
    raw = job.failure.raw if job.failure is not None else None
    wait = as_float(raw.get("retry_after")) if isinstance(raw, dict) else None
    return wait if wait is not None and 0 < wait <= 300 else RATE_LIMIT_WAIT


def send_set(
    engine: Engine,
    plan: Sequence[PlannedJob],
    kind: SetKind,
    *,
    set_id: str | None = None,
    cancel: threading.Event | None = None,
    on_sent: SentListener | None = None,
    between: Callable[[], object] | None = None,
) -> SendReport:
    """Send every planned job as one linked set, in order; blocking (call off the GUI thread).

    ``between()`` runs after each create (the command line polls and downloads there).
    """
    cancel = cancel or threading.Event()
    report = SendReport(set_id or new_set_id(), kind, len(plan))
    for index, planned in enumerate(plan):
        parent_id: str | None = None
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            if cancel.is_set() or not _take_slot(engine, cancel):
                report.cancelled = True
                return report
            try:
                job = engine.submit(
                    planned.params,
                    output_path=planned.output_path,
                    parent_id=parent_id,
                    set_id=report.set_id,
                    set_kind=kind,
                )
            finally:
                engine.budget.release()
            report.jobs.append(job)
            report.plan_index[job.local_id] = index
            report.sent += attempt == 0
            if on_sent is not None:
                on_sent(job, index + 1, len(plan))
            if between is not None:
                between()
            cause = job.failure.cause if job.failure is not None else None
            if job.state is not JobState.REJECTED or cause is not Cause.RATE_LIMITED:
                break
            if attempt == RATE_LIMIT_RETRIES:
                report.stopped = "the gateway kept asking to slow down"
                return report
            parent_id = job.local_id
            if cancel.wait(_retry_after(job)):
                report.cancelled = True
                return report
        if engine.key_rejected is not None or (job.state is JobState.REJECTED and _stops(job)):
            verdict = verdict_for(job)
            report.stopped = verdict.cause if verdict is not None else Cause.AUTH.explanation
            return report
    return report
