"""The engine's gateway rules shared by its roles: answers, 404s and failed reads.

A job document from the gateway is journaled, then the next look at it is scheduled; a 404
marks a job gone only when its own gateway says so twice a minute apart; a failed read backs
off, unless the key was refused, which stops every read until a new key is entered.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from core.engine.table import JobTable
from core.errors import ErrorKind, GatewayError
from core.failure_evidence import poll_error_record, problem_text
from core.jobs import (
    AuthRejected,
    Cause,
    Created,
    Event,
    Job,
    JobFailure,
    NotFoundSeen,
    PollFailed,
    StatusSeen,
    Vanished,
    apply,
)
from core.poll_policy import next_after_create, next_after_failure, next_after_status
from core.wire import RemoteJob

logger = logging.getLogger(__name__)

_CAUSE_BY_KIND = {
    ErrorKind.AUTH: Cause.AUTH,
    ErrorKind.VALIDATION: Cause.INVALID,
    ErrorKind.INSUFFICIENT_FUNDS: Cause.CREDIT,
    ErrorKind.POLICY_BLOCK: Cause.POLICY,
    ErrorKind.FEATURE_DISABLED: Cause.INVALID,
    ErrorKind.NOT_FOUND: Cause.GONE,
    ErrorKind.NETWORK: Cause.NOT_SENT,
    ErrorKind.TIMEOUT: Cause.NOT_SENT,
    ErrorKind.INSECURE: Cause.NOT_SENT,
    ErrorKind.RATE_LIMITED: Cause.RATE_LIMITED,
}
#: A 404 marks a job gone only after this many ``not_found`` answers from its own gateway...
NOT_FOUND_CONFIRMATIONS = 2
#: ...at least this far apart (a gateway that lost its database for a moment, a replica that
#: has not seen the job yet, answers 404 once; a deleted job answers it every time).
NOT_FOUND_SPAN = 60.0


def failure_from_error(error: GatewayError, cause: Cause | None = None) -> JobFailure:
    """A job failure record built from a gateway error, keeping its body verbatim."""
    body = error.body
    provider = body.get("provider") if isinstance(body.get("provider"), str) else None
    message = error.message
    if error.details:
        message = f"{message} ({'; '.join(error.details)})"
    return JobFailure(
        cause=cause or _CAUSE_BY_KIND.get(error.kind, Cause.PROVIDER),
        code=error.code,
        message=message,
        provider=provider,
        http_status=error.status,
        request_id=error.request_id,
        raw=error.to_dict(),
    )


class EngineBase(JobTable):
    """The job table plus the gateway rules every role applies (see the module docstring)."""

    @property
    def key_rejected(self) -> GatewayError | None:
        """The 401 that stopped every call with the current key, if any."""
        return self.keys.rejected

    @property
    def key_paused_until(self) -> float | None:
        """Until when the key's own rate limit (429 ``key_limit_exceeded``) holds every job."""
        return self.keys.paused_until

    def _record_answer(
        self, job: Job, remote: RemoteJob, kind: str, *, created: bool, note: str | None = None
    ) -> Job:
        """Journal a job document from the gateway, then schedule the next look at it."""
        at = self.clock()
        if job.gateway is None:
            job = replace(job, gateway=self.identity)  # an older job: the gateway knows it
        if job.remote_id and remote.id and remote.id != job.remote_id:
            other = f"The answer named another id ({remote.id}); the job keeps {job.remote_id}."
            note = f"{note} {other}" if note else other
        event: Event = Created(remote, at) if created else StatusSeen(remote, at)
        job = self._commit(
            job, event, kind, http_status=200, request_id=remote.id, raw=remote.raw, note=note
        )
        if job.terminal:
            # A completed job whose bill is not settled yet is read again (BILL_CHECKS times).
            later = next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
            return self._schedule(job, later if job.awaiting_bill else None)
        if created:
            return self._schedule(job, next_after_create(at, self.policy, self.rng))
        return self._schedule(
            job, next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
        )

    def _not_found(self, job: Job, error: GatewayError, *, during: str = "status") -> Job:
        """A 404 from the job's own gateway: gone only once confirmed a minute later.

        Returns the job after the answer: gone (``Vanished``) on the confirming answer,
        otherwise with the 404 counted and a status check due when the minute is over.
        """
        at = self.clock()
        raw = error.body or error.body_excerpt
        counted = apply(job, NotFoundSeen(at, error.request_id))
        since = counted.not_found_since if counted.not_found_since is not None else at
        if counted.not_found >= NOT_FOUND_CONFIRMATIONS and at - since >= NOT_FOUND_SPAN:
            note = (
                f"{counted.not_found} not_found answers over {at - since:.0f} s from the "
                f"gateway that made the job ({during})."
            )
            return self._commit(
                job,
                Vanished(failure_from_error(error, Cause.GONE), at),
                "not_found",
                http_status=error.status,
                request_id=error.request_id,
                raw=raw,
                note=note,
            )
        job = self._commit(
            job,
            NotFoundSeen(at, error.request_id),
            "not_found_unconfirmed",
            http_status=error.status,
            request_id=error.request_id,
            raw=raw,
            note=f"The gateway said not_found ({during}); asking again in a minute before "
            "calling the job gone.",
        )
        return self._schedule(job, since + NOT_FOUND_SPAN * (1.0 + 0.1 * self.rng.random()))

    def _read_failed(
        self, job: Job, error: GatewayError, kind: str, *, auth_note: str, note: str | None
    ) -> Job:
        """A status read or a listing failed: a refused key stops all reads, else back off.

        The refusal is recorded on the job under the key lock, so a new key set meanwhile
        cannot slip in between and leave the job blocked with nothing to unblock it.
        """
        at = self.clock()
        raw = error.body or error.body_excerpt
        if error.kind is ErrorKind.AUTH:
            with self.keys.lock:
                if self.keys.refuse(error):
                    return self._commit(
                        job,
                        AuthRejected(error.summary, at),
                        "auth_rejected",
                        http_status=error.status,
                        request_id=error.request_id,
                        raw=raw,
                        note=auth_note,
                    )
        self.keys.note_limit(error)
        job = self._commit(
            job,
            PollFailed(problem_text(error), at, error.request_id, poll_error_record(error)),
            kind,
            http_status=error.status,
            request_id=error.request_id,
            raw=raw,
            note=note,
        )
        when = next_after_failure(
            at, job.failures, error.kind, error.retry_after, self.policy, self.rng
        )
        return self._schedule(job, when)
