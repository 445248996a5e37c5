"""The engine's search for lost creates: find the job a create made when its answer was lost.

A create that may have reached the gateway is never resent. Its job is looked for in the
account's job list: a few fast searches, then a slow one (every ``SLOW_RECONCILE_EVERY``
seconds for ``SLOW_RECONCILE_FOR`` after the create) while the app runs, and a new round at
every restart and ``resume``. A listing that fails (the network, a 5xx, a refused key) is not
a search: only a listing that answered and held no match counts as an attempt.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from core.engine.base import EngineBase
from core.engine.matching import (
    RECONCILE_ATTEMPTS,
    SLOW_RECONCILE_EVERY,
    SLOW_RECONCILE_FOR,
    Matcher,
    contested,
    find_match,
    next_reconcile_at,
    time_alone,
)
from core.errors import GatewayError
from core.jobs import Job, JobState, Scheduled

_reconcile_lock = threading.Lock()


class ReconcileRole(EngineBase):
    """Searches the gateway's job list for lost creates (see the module docstring)."""

    def _reconcilable(self, job: Job) -> bool:
        if job.state is JobState.SUBMITTING:  # orphaned by a stopped run (see _interrupted)
            return job.local_id not in self._submitting and job.next_poll_at is not None
        return (
            job.state is JobState.SUBMIT_UNKNOWN
            and not job.auth_blocked
            and job.next_poll_at is not None
        )

    def next_search_at(self, job: Job, at: float) -> float | None:
        """When a lost create that was not found in the list at ``at`` is searched again.

        Fast at first (it may not be listed yet), then every ``SLOW_RECONCILE_EVERY`` until
        ``SLOW_RECONCILE_FOR`` after the create; ``None`` after that (a person reviews it,
        and the next restart or ``resume`` searches again).
        """
        if job.reconcile_attempts < RECONCILE_ATTEMPTS:
            return next_reconcile_at(at, job.reconcile_attempts, self.rng)
        if at + SLOW_RECONCILE_EVERY <= job.created_at + SLOW_RECONCILE_FOR:
            return at + SLOW_RECONCILE_EVERY
        return None

    def _reconcile(self, job: Job) -> Job:
        # One reconcile at a time (in every engine of this process): two lost creates
        # searched in parallel would both see the same unadopted gateway job and both adopt
        # it (one paid video, two local rows).
        with _reconcile_lock:
            return self._reconcile_locked(job)

    def _matcher(self) -> Matcher:
        offset = getattr(self.client, "clock_offset", 0.0)
        return Matcher(
            canonical=self.canonical_model,
            create_timeout=self.create_timeout,
            clock_offset=offset if isinstance(offset, int | float) else 0.0,
        )

    def _reconcile_locked(self, job: Job) -> Job:
        try:
            known = self.journal.remote_ids()
            # Other creates whose outcome is unknown too: a listed job nearer in time to one
            # of them is theirs, not this one's (see find_match).
            rivals = [
                j
                for j in self.journal.unfinished()
                if j.remote_id is None
                and j.state in (JobState.SUBMITTING, JobState.SUBMIT_UNKNOWN)
                and self.owns(j)
            ]
            listed = list(self.client.iter_jobs(max_pages=5))
            matcher = self._matcher()  # after the listing: its answers tell the clock offset
            match = find_match(job, listed, known, rivals, matcher)
        except GatewayError as error:
            return self._listing_failed(job, error)
        at = self.clock()
        if match is not None:
            note = "Found the job the lost create made; nothing was resent."
            # Lost creates matched earlier are neighbours too: if one of them took this job's
            # gateway job by mistake, this match is no surer than that one.
            matched = [
                j
                for j in self.journal.jobs(include_hidden=True, limit=1000)
                if j.reconciled and j.local_id != job.local_id
            ]
            job = replace(job, reconciled=True)
            if contested(job, match, rivals + matched, matcher):
                job = replace(job, uncertain_match=True)
                note += (
                    " Matched by creation time only: another submission whose outcome is "
                    "unknown was sent around the same time, so this video may be that one's. "
                    "Check it."
                )
            elif time_alone(job, match):
                job = replace(job, uncertain_match=True)
                note += (
                    " The gateway's list shows no prompt, duration or size for it: matched "
                    "on model and creation time only. Check it."
                )
            return self._record_answer(job, match, "reconciled", created=True, note=note)
        job = replace(job, reconcile_attempts=job.reconcile_attempts + 1, failures=0, problem=None)
        when = self.next_search_at(job, at)
        if job.reconcile_attempts <= RECONCILE_ATTEMPTS:
            note = (
                f"No matching job on the gateway yet (search {job.reconcile_attempts} "
                f"of {RECONCILE_ATTEMPTS})."
            )
        elif when is not None:
            note = "No matching job yet; searching again every 10 minutes."
        else:
            note = "No matching job after a day of searching; restart or resume searches again."
        job = self._commit(job, Scheduled(None, at), "reconcile_none", note=note)
        return self._schedule(job, when)

    def _listing_failed(self, job: Job, error: GatewayError) -> Job:
        """The list could not be read: not a search, so it does not count as an attempt."""
        return self._read_failed(
            job,
            error,
            "reconcile_failed",
            auth_note="The search for the lost create waits for a new API key.",
            note="The job list could not be read; this does not count as a search.",
        )
