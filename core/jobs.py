"""The job model: the pure ``apply(job, event)`` step, and one import for the whole model.

The parts live in their own modules: parameters (``core.job_params``), states and causes
(``core.job_states``), events (``core.job_events``) and the record (``core.job_record``).

A job's local state is Reelgate's own view: it adds ``submitting`` and ``submit_unknown``
(the create's outcome is not known yet), ``rejected`` (the gateway refused the create, so
nothing was made) and ``gone`` (the server no longer knows the job) to the gateway's
statuses. Network trouble never changes the state: it is counted in ``failures`` and
shown as "cannot reach the gateway" once ``failures`` passes a threshold, or as "status
checks refused" when the gateway itself answered those checks with an error.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.catalogue_model import MAX_SAMPLES
from core.job_events import (
    AuthRejected,
    BillingSeen,
    CreateAmbiguous,
    Created,
    CreateRejected,
    CreateSent,
    DeletedOnServer,
    DownloadChanged,
    Event,
    KeepChanged,
    KeyReplaced,
    NotFoundSeen,
    PollFailed,
    Rated,
    Reviewed,
    Scheduled,
    StatusSeen,
    Vanished,
)
from core.job_params import JobParams
from core.job_record import Job
from core.job_states import (
    BILL_CHECKS,
    MAX_PROMPT_CHARS,
    MAX_RATING,
    REVIEW_STATES,
    TERMINAL_STATES,
    UNREACHABLE_AFTER,
    Cause,
    DownloadState,
    JobFailure,
    JobState,
    SetKind,
)
from core.wire import RemoteJob, RemoteStatus

# Events, parameters, states and the record live in their own modules; they are part of this
# module's interface.
__all__ = [
    "BILL_CHECKS",
    "MAX_PROMPT_CHARS",
    "MAX_RATING",
    "REVIEW_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "UNREACHABLE_AFTER",
    "AuthRejected",
    "BillingSeen",
    "Cause",
    "CreateAmbiguous",
    "CreateRejected",
    "CreateSent",
    "Created",
    "DeletedOnServer",
    "DownloadChanged",
    "DownloadState",
    "Event",
    "Job",
    "JobFailure",
    "JobParams",
    "JobState",
    "KeepChanged",
    "KeyReplaced",
    "NotFoundSeen",
    "PollFailed",
    "Rated",
    "Reviewed",
    "Scheduled",
    "SetKind",
    "StatusSeen",
    "Vanished",
    "accepts",
    "apply",
    "cause_for",
    "clamp_rating",
    "with_marks_of",
]

_REMOTE_TO_STATE = {
    RemoteStatus.QUEUED: JobState.QUEUED,
    RemoteStatus.PROCESSING: JobState.PROCESSING,
    RemoteStatus.COMPLETED: JobState.COMPLETED,
    RemoteStatus.FAILED: JobState.FAILED,
    RemoteStatus.CANCELLED: JobState.CANCELLED,
    RemoteStatus.EXPIRED: JobState.EXPIRED,
    RemoteStatus.OTHER: JobState.WAITING,
}


# ---------------------------------------------------------------------------------------------
# Transitions: ``apply`` is the only place state changes (events: core.job_events).
#: Which events each state accepts. Anything else leaves the job unchanged: a late status
#: for a finished job, say, must not revive it.
_SERVER_EVENTS: frozenset[type] = frozenset(
    {StatusSeen, PollFailed, Vanished, NotFoundSeen, AuthRejected}
)
_ALWAYS: frozenset[type] = frozenset(
    {
        Scheduled,
        DownloadChanged,
        Reviewed,
        Rated,
        KeepChanged,
        DeletedOnServer,
        KeyReplaced,
        BillingSeen,
    }
)
TRANSITIONS: dict[JobState, frozenset[type]] = {
    JobState.SUBMITTING: frozenset({Created, CreateSent, CreateRejected, CreateAmbiguous})
    | _ALWAYS,
    JobState.SUBMIT_UNKNOWN: frozenset({Created, Vanished, PollFailed, AuthRejected}) | _ALWAYS,
    JobState.QUEUED: _SERVER_EVENTS | _ALWAYS,
    JobState.PROCESSING: _SERVER_EVENTS | _ALWAYS,
    JobState.WAITING: _SERVER_EVENTS | _ALWAYS,
    JobState.REJECTED: _ALWAYS,
    JobState.COMPLETED: frozenset({Vanished, NotFoundSeen}) | _ALWAYS,
    JobState.FAILED: _ALWAYS,
    JobState.CANCELLED: _ALWAYS,
    JobState.EXPIRED: _ALWAYS,
    # A job marked gone after repeated 404s still takes a later status: the server knows best.
    JobState.GONE: frozenset({StatusSeen}) | _ALWAYS,
}


def accepts(state: JobState, event: Event) -> bool:
    """Whether ``event`` may change a job in ``state`` (the explicit transition table)."""
    return type(event) in TRANSITIONS[state]


def _failure_from_remote(remote: RemoteJob, state: JobState) -> JobFailure | None:
    if state is JobState.FAILED:
        cause = Cause.PROVIDER
    elif state is JobState.EXPIRED:
        cause = Cause.EXPIRED
    elif state is JobState.CANCELLED:
        cause = Cause.CANCELLED
    else:
        return None
    error = remote.error
    return JobFailure(
        cause=cause,
        code=error.code if error else None,
        message=error.message if error else None,
        provider=remote.provider,
        request_id=remote.id,
        raw=error.raw if error else None,
    )


def _with_request_id(job: Job, request_id: str | None) -> tuple[str, ...]:
    if not request_id or request_id in job.request_ids:
        return job.request_ids
    return (*job.request_ids, request_id)


def _output_count(job: Job, remote: RemoteJob) -> int:
    """How many videos a completed job has: its ``outputs``, else the samples it was made with.

    An answer without ``outputs`` entries (only the top-level URLs) still holds every
    sample the person asked (and paid) for, each behind ``content?index=n``.
    """
    if remote.outputs:
        return remote.output_count
    asked = job.params.sample_count or 1
    return max(remote.output_count, min(asked, MAX_SAMPLES))


def _merged_ids(known: tuple[str, ...], *more: str | None) -> tuple[str, ...]:
    """``known`` followed by the new, non-empty ids of ``more``, each once."""
    return tuple(dict.fromkeys([*known, *(item for item in more if item)]))


def _foreign_ids(job: Job, remote: RemoteJob) -> tuple[str, ...]:
    """Ids that differ from the job's fixed gateway id, recorded and never adopted."""
    other = remote.id
    if job.remote_id is None or not other or other == job.remote_id or other in job.foreign_ids:
        return job.foreign_ids
    return (*job.foreign_ids, other)


def _bill_of(job: Job, remote: RemoteJob) -> dict[str, Any]:
    """The job's bill fields after ``remote``: what the answer says, else what was known."""
    return {
        "billing_state": remote.billing_state or job.billing_state,
        "cost": remote.cost or job.cost,
        "estimated_nanos": job.estimated_nanos
        if remote.estimated_nanos is None
        else remote.estimated_nanos,
        "settled_nanos": job.settled_nanos
        if remote.settled_nanos is None
        else remote.settled_nanos,
    }


def _apply_remote(job: Job, remote: RemoteJob, at: float, *, created: bool) -> Job:
    state = _REMOTE_TO_STATE[remote.status]
    if created and state is JobState.WAITING and remote.status_text is None:
        state = JobState.QUEUED  # a slim create answer without a status is still queued
    finished = at if state.terminal else None
    progress = remote.progress
    if state is JobState.COMPLETED:
        progress = 100
    elif progress is None:
        progress = job.progress
    return replace(
        job,
        state=state,
        # A job's gateway id is fixed once known: another id in a later answer is kept apart.
        remote_id=job.remote_id or remote.id,
        foreign_ids=_foreign_ids(job, remote),
        remote_status=remote.status_text or job.remote_status,
        progress=progress,
        submitted_at=job.submitted_at or (at if created else None),
        finished_at=finished,
        poll_after=remote.poll_after_seconds,
        failures=0,
        problem=None,
        poll_error=None,
        not_found=0,
        not_found_since=None,
        # A job that was marked gone and answers again sheds its "gone" failure.
        failure=_failure_from_remote(remote, state)
        or (None if job.state is JobState.GONE else job.failure),
        request_ids=_with_request_id(job, remote.id),
        **_bill_of(job, remote),
        outputs=_output_count(job, remote) if state is JobState.COMPLETED else job.outputs,
        download=DownloadState.PENDING
        if state is JobState.COMPLETED and job.download is DownloadState.NONE
        else job.download,
        updated_at=at,
    )


def apply(job: Job, event: Event) -> Job:
    """Return the job after ``event``; events the current state does not accept are ignored."""
    if not accepts(job.state, event):
        return job
    if isinstance(event, Created | CreateRejected | CreateAmbiguous):
        job = replace(job, params=job.params.stored())  # the body is sent: drop inline data
    match event:
        case Created(remote=remote, at=at):
            return _apply_remote(job, remote, at, created=True)
        case StatusSeen(remote=remote, at=at):
            return _apply_remote(job, remote, at, created=False)
        case CreateSent(at=at):
            return replace(job, submitted_at=at, updated_at=at)
        case BillingSeen(remote=remote, at=at):
            return replace(
                job, **_bill_of(job, remote), bill_checks=job.bill_checks + 1, updated_at=at
            )
        case CreateRejected(failure=failure, at=at, request_ids=ids):
            return replace(
                job,
                state=JobState.REJECTED,
                failure=failure,
                finished_at=at,
                request_ids=_merged_ids(job.request_ids, failure.request_id, *ids),
                updated_at=at,
            )
        case CreateAmbiguous(problem=problem, at=at):
            return replace(job, state=JobState.SUBMIT_UNKNOWN, problem=problem, updated_at=at)
        case PollFailed(problem=problem, at=at, request_id=request_id, evidence=evidence):
            return replace(
                job,
                failures=job.failures + 1,
                problem=problem,
                request_ids=_with_request_id(job, request_id),
                poll_error=evidence or None,
                updated_at=at,
            )
        case Vanished(failure=failure, at=at):
            if job.state is JobState.COMPLETED and job.download is DownloadState.DONE:
                # The video is safe on disk; the server copy going away is not a failure.
                return replace(job, deleted_on_server=True, updated_at=at)
            return replace(
                job,
                state=JobState.GONE,
                failure=failure,
                finished_at=at,
                request_ids=_with_request_id(job, failure.request_id),
                updated_at=at,
            )
        case NotFoundSeen(at=at, request_id=request_id):
            return replace(
                job,
                not_found=job.not_found + 1,
                not_found_since=job.not_found_since if job.not_found else at,
                request_ids=_with_request_id(job, request_id),
                updated_at=at,
            )
        case AuthRejected(problem=problem, at=at):
            return replace(job, auth_blocked=True, problem=problem, updated_at=at)
        case KeyReplaced(at=at, gateway=gateway):
            return replace(
                job,
                auth_blocked=False,
                failures=0,
                gateway=gateway or job.gateway,
                not_found=0,
                not_found_since=None,
                updated_at=at,
            )
        case Scheduled(next_poll_at=next_poll_at, at=at):
            return replace(job, next_poll_at=next_poll_at)
        case DownloadChanged(download=download, at=at, files=files, problem=problem):
            failed = download is DownloadState.FAILED
            done = download is DownloadState.DONE
            return replace(
                job,
                download=download,
                files=files or job.files,
                download_problem=problem,
                download_error=event.error if failed else (None if done else job.download_error),
                download_retryable=event.retryable if failed else True,
                download_attempts=job.download_attempts + 1
                if failed
                else (0 if done else job.download_attempts),
                download_retry_at=event.retry_at if failed else None,
                updated_at=at,
            )
        case Reviewed(reviewed=reviewed, note=note, at=at):
            return replace(job, reviewed=reviewed, review_note=note, updated_at=at)
        case Rated(rating=rating, at=at):
            return replace(job, rating=clamp_rating(rating), updated_at=at)
        case KeepChanged(kept=kept, at=at):
            return replace(job, kept=kept, updated_at=at)
        case DeletedOnServer(at=at):
            return replace(job, deleted_on_server=True, updated_at=at)
    return job  # pragma: no cover - every event type is matched above


def clamp_rating(rating: int) -> int:
    """A rating within 0 (not rated) and :data:`MAX_RATING`."""
    return max(0, min(MAX_RATING, int(rating)))


def with_marks_of(job: Job, other: Job) -> Job:
    """``job`` carrying ``other``'s rating and keep flag (a person's marks, never a server's)."""
    if job.rating == other.rating and job.kept == other.kept:
        return job
    return replace(job, rating=other.rating, kept=other.kept)


def cause_for(job: Job) -> Cause | None:
    """The plain-words cause to show for a job needing review, if any."""
    if job.failure is not None:
        return job.failure.cause
    if job.state is JobState.SUBMIT_UNKNOWN:
        return Cause.UNKNOWN
    if job.auth_blocked:
        return Cause.AUTH
    if job.unreachable:
        return Cause.NETWORK
    if job.state is JobState.GONE:
        return Cause.GONE
    return None
