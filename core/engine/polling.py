"""The engine's polling: which jobs are due, reading their status, and the bill of a done one.

Status reads follow the poll policy's timetable (core.poll_policy), never more than the request
budget allows at once; a lost create is handed to the reconcile role instead, a completed
job whose bill is still pending is read a few more times for the bill alone, and a failed
read backs off (a refused key stops every read; a 404 counts towards "gone").
"""

from __future__ import annotations

import logging
from dataclasses import replace

from core.engine.downloads import DownloadRole
from core.engine.reconcile import ReconcileRole
from core.errors import ErrorKind, GatewayError
from core.jobs import BillingSeen, CreateAmbiguous, Job, JobState
from core.poll_policy import due_jobs, earliest_due, next_after_status

logger = logging.getLogger(__name__)


class PollingRole(ReconcileRole, DownloadRole):
    """Claims due jobs and reads them from the gateway (see the module docstring)."""

    def claim_due(
        self, now: float | None = None, limit: int | None = None, only: set[str] | None = None
    ) -> list[Job]:
        """Jobs due for a status read or a reconcile now, marked busy so nobody polls twice.

        Each claimed job holds a request-budget slot; :meth:`poll` releases it. ``only``
        limits the claim to those jobs (the command line drives just its own).
        """
        now = self.clock() if now is None else now
        if self.keys.blocked(now):
            return []
        with self._lock:
            candidates = due_jobs(self._free_jobs(only), now, wants=self._wants_read)
            claimed: list[Job] = []
            for job in candidates:
                if limit is not None and len(claimed) >= limit:
                    break
                if not self.budget.try_acquire():
                    break
                self._busy.add(job.local_id)
                claimed.append(job)
            return claimed

    def next_wake(
        self, now: float | None = None, *, downloads: bool = True, only: set[str] | None = None
    ) -> float | None:
        """When the next poll, reconcile or download retry is due (``None``: nothing to do).

        ``downloads=False`` leaves out downloads (they wait for the user's Download action).
        While the key's rate limit holds, nothing is due before it ends.
        """
        now = self.clock() if now is None else now
        if self.key_rejected is not None:
            return None
        with self._lock:
            free = self._free_jobs(only)
            reads = earliest_due(free, now, wants=self._wants_read)
            times = [] if reads is None else [reads]
            if downloads:
                times.extend(
                    due_at
                    for job in free
                    if job.wants_download
                    and not self._wants_read(job)
                    and (due_at := self._download_due_at(job)) is not None
                )
            paused = self.key_paused_until
        if not times:
            return None
        wake = max(now, min(times))
        return max(wake, paused) if paused is not None else wake

    def poll(self, job: Job, *, budgeted: bool = True, refresh: bool = False) -> Job:
        """Read one claimed job's status (or reconcile a lost create) and record the answer.

        ``budgeted`` says the caller holds a request-budget slot (from :meth:`claim_due`),
        which is released here. ``refresh`` (a person asked) also reads a job marked gone.
        """
        self.keys.begin_call()
        try:
            current = self.job(job.local_id) or job
            if current.state is JobState.SUBMITTING and self._reconcilable(current):
                current = self._commit(
                    current,
                    CreateAmbiguous(
                        "Reelgate stopped before the create's answer arrived", self.clock()
                    ),
                    "create_ambiguous",
                    note="The create may have reached the gateway; it is reconciled, not resent.",
                )
            if current.state is JobState.SUBMIT_UNKNOWN:
                if not self.owns(current) or current.auth_blocked:
                    return current
                return self._reconcile(current)
            if refresh and current.state is JobState.GONE and current.remote_id:
                return self._poll_status(current) if self.owns(current) else current
            if current.awaiting_bill and self.owns(current):
                return self._poll_bill(current)
            if not current.pollable or not self.owns(current):
                return current
            return self._poll_status(current)
        finally:
            self._release(job.local_id)
            if budgeted:
                self.budget.release()

    def _free_jobs(self, only: set[str] | None) -> list[Job]:
        """Jobs no call is working on (``only``: just those); the caller holds the lock."""
        return [
            job
            for job in self._jobs.values()
            if job.local_id not in self._busy and (only is None or job.local_id in only)
        ]

    def _poll_status(self, job: Job) -> Job:
        assert job.remote_id is not None
        try:
            remote = self.client.get(job.remote_id)
        except GatewayError as error:
            return self._poll_error(job, error)
        return self._record_answer(job, remote, "status", created=False)

    def _wants_read(self, job: Job) -> bool:
        """Whether the loop reads ``job`` from the gateway when it is due."""
        return job.pollable or job.awaiting_bill or self._reconcilable(job)

    def _poll_bill(self, job: Job) -> Job:
        """Read a completed job again for its bill only; trouble just waits for the next try."""
        assert job.remote_id is not None
        at = self.clock()
        try:
            remote = self.client.get(job.remote_id)
        except GatewayError as error:
            logger.info("Bill check for %s failed: %s", job.remote_id, error.summary)
            job = replace(job, bill_checks=job.bill_checks + 1)
            return self._schedule(job, next_after_status(at, None, self.policy, self.rng))
        job = self._commit(
            job,
            BillingSeen(remote, at),
            "billing",
            http_status=200,
            request_id=remote.id,
            raw=remote.raw,
        )
        later = next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
        return self._schedule(job, later if job.awaiting_bill else None)

    def _poll_error(self, job: Job, error: GatewayError) -> Job:
        if error.kind is ErrorKind.NOT_FOUND and not self.keys.stale_refusal():
            if job.state is JobState.GONE:  # a Refresh of a gone job: still gone
                raw = error.body or error.body_excerpt
                self.journal.save(job, "not_found", http_status=error.status, raw=raw)
                return job
            return self._not_found(job, error)
        return self._read_failed(
            job,
            error,
            "poll_failed",
            auth_note="Polling stopped until a new API key is entered.",
            note=error.kind.value,
        )

    def poll_once(self, local_id: str) -> Job:
        """Poll one job now, whatever its schedule (the "Refresh" action; gone jobs too)."""
        job, claimed = self._claim(local_id)
        if not claimed:
            return job
        # A person asked: go now even when the budget is spent, but hold a slot if one is free.
        return self.poll(job, budgeted=self.budget.try_acquire(), refresh=True)
