"""The job model: parameters, local states, events, and the pure ``apply(job, event)`` step.

A job's local state is Reelgate's own view: it adds ``submitting`` and ``submit_unknown``
(the create's outcome is not known yet), ``rejected`` (the gateway refused the create, so
nothing was made) and ``gone`` (the server no longer knows the job) to the gateway's
statuses. Network trouble never changes the state: it is counted in ``failures`` and
shown as "cannot reach the gateway" once ``failures`` passes a threshold, or as "status
checks refused" when the gateway itself answered those checks with an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

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
from core.wire import JsonObject, RemoteJob, RemoteStatus

# Events and parameters live in their own modules; they are part of this module's interface.
__all__ = [
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
    "StatusSeen",
    "Vanished",
    "accepts",
    "apply",
    "cause_for",
]

MAX_PROMPT_CHARS = 32_000
#: Ratings a person can give a job: 0 means "not rated", 1-5 are stars.
MAX_RATING = 5
#: Consecutive failed polls after which a job needs review ("cannot reach the gateway").
UNREACHABLE_AFTER = 3
#: Status reads of a completed job whose bill is not settled yet, before Reelgate stops asking.
BILL_CHECKS = 5


class JobState(StrEnum):
    """Where a job stands, as Reelgate knows it."""

    SUBMITTING = "submitting"
    SUBMIT_UNKNOWN = "submit_unknown"
    REJECTED = "rejected"
    QUEUED = "queued"
    PROCESSING = "processing"
    WAITING = "waiting"  # the gateway reported a status Reelgate does not know; shown verbatim
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    GONE = "gone"

    @property
    def terminal(self) -> bool:
        """Whether the job can change no further on the server."""
        return self in TERMINAL_STATES

    @property
    def label(self) -> str:
        """Human label for tables and summaries."""
        return _LABELS[self]


TERMINAL_STATES = frozenset(
    {
        JobState.REJECTED,
        JobState.COMPLETED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
        JobState.GONE,
    }
)
#: States a person should look at (plus any job the gateway cannot be reached for).
REVIEW_STATES = frozenset(
    {
        JobState.REJECTED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
        JobState.GONE,
        JobState.SUBMIT_UNKNOWN,
    }
)
_LABELS = {
    JobState.SUBMITTING: "Submitting",
    JobState.SUBMIT_UNKNOWN: "Submission unknown",
    JobState.REJECTED: "Rejected",
    JobState.QUEUED: "Queued",
    JobState.PROCESSING: "Processing",
    JobState.WAITING: "Waiting",
    JobState.COMPLETED: "Completed",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
    JobState.EXPIRED: "Expired",
    JobState.GONE: "Gone on the server",
}
_REMOTE_TO_STATE = {
    RemoteStatus.QUEUED: JobState.QUEUED,
    RemoteStatus.PROCESSING: JobState.PROCESSING,
    RemoteStatus.COMPLETED: JobState.COMPLETED,
    RemoteStatus.FAILED: JobState.FAILED,
    RemoteStatus.CANCELLED: JobState.CANCELLED,
    RemoteStatus.EXPIRED: JobState.EXPIRED,
    RemoteStatus.OTHER: JobState.WAITING,
}


class SetKind(StrEnum):
    """What links the jobs of a set: one prompt sent to several models, or many prompts."""

    COMPARE = "compare"
    BATCH = "batch"

    @property
    def label(self) -> str:
        """Human label ("Compare set", "Batch")."""
        return "Compare set" if self is SetKind.COMPARE else "Batch"


class DownloadState(StrEnum):
    """Whether a completed job's bytes are on this machine."""

    NONE = "none"
    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    FAILED = "failed"


class Cause(StrEnum):
    """The plain-words cause of a job that needs review."""

    POLICY = "policy"
    INVALID = "invalid"
    AUTH = "auth"
    CREDIT = "credit"
    PROVIDER = "provider"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    NETWORK = "network"
    NOT_SENT = "not_sent"
    RATE_LIMITED = "rate_limited"
    GONE = "gone"
    UNKNOWN = "unknown"

    @property
    def explanation(self) -> str:
        """One sentence for the review panel."""
        return _CAUSE_TEXT[self]


_CAUSE_TEXT = {
    Cause.POLICY: "The request was blocked by a content policy. Rephrase the prompt.",
    Cause.INVALID: "The gateway rejected the parameters. Check the model's allowed values.",
    Cause.AUTH: "The API key was not accepted. Check or replace the key in Settings.",
    Cause.CREDIT: "The account is out of credit. Top up, then resubmit.",
    Cause.PROVIDER: "The video provider failed to generate this video.",
    Cause.EXPIRED: "The job expired before a video was delivered.",
    Cause.CANCELLED: "The job was cancelled.",
    Cause.NETWORK: "The gateway could not be reached; the job may still be running.",
    Cause.NOT_SENT: "The gateway could not be reached, so nothing was sent or charged. "
    "Resubmit when the connection is back.",
    Cause.RATE_LIMITED: "The gateway asked to slow down before creating the job; nothing was "
    "created. Resubmit in a moment.",
    Cause.GONE: "The gateway no longer knows this job (deleted or purged).",
    Cause.UNKNOWN: "The submission's outcome is unknown: it may or may not have been created.",
}


@dataclass(frozen=True)
class JobFailure:
    """Why a job ended badly: the cause in plain words plus the gateway's detail verbatim."""

    cause: Cause
    code: str | None = None
    message: str | None = None
    provider: str | None = None
    http_status: int | None = None
    request_id: str | None = None
    raw: Any = None

    def to_dict(self) -> JsonObject:
        """JSON-safe form for the journal."""
        return {
            "cause": self.cause.value,
            "code": self.code,
            "message": self.message,
            "provider": self.provider,
            "http_status": self.http_status,
            "request_id": self.request_id,
            "raw": self.raw,
        }

    @classmethod
    def from_dict(cls, data: JsonObject) -> JobFailure:
        """Rebuild from :meth:`to_dict`; an unknown cause becomes ``UNKNOWN``."""
        try:
            cause = Cause(str(data.get("cause")))
        except ValueError:
            cause = Cause.UNKNOWN
        return cls(
            cause=cause,
            code=data.get("code"),
            message=data.get("message"),
            provider=data.get("provider"),
            http_status=data.get("http_status"),
            request_id=data.get("request_id"),
            raw=data.get("raw"),
        )


@dataclass(frozen=True)
class Job:
    """One generation job as the journal keeps it (immutable; ``apply`` returns a new one)."""

    local_id: str
    params: JobParams
    state: JobState
    created_at: float
    updated_at: float
    remote_id: str | None = None
    remote_status: str | None = None
    progress: int | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    poll_after: float | None = None
    next_poll_at: float | None = None
    failures: int = 0
    problem: str | None = None
    failure: JobFailure | None = None
    request_ids: tuple[str, ...] = ()
    billing_state: str | None = None
    cost: str | None = None
    #: The gateway's estimate (credit reserved at create), in nanos of USD (core.money).
    estimated_nanos: int | None = None
    #: The settled bill in nanos once billing is ``settled``; 0 when ``void`` (not charged).
    settled_nanos: int | None = None
    outputs: int = 1
    download: DownloadState = DownloadState.NONE
    files: tuple[str, ...] = ()
    download_problem: str | None = None
    output_path: str | None = None
    parent_id: str | None = None
    #: The compare set or batch this job belongs to (a job is in at most one set).
    set_id: str | None = None
    set_kind: SetKind | None = None
    reviewed: bool = False
    review_note: str = ""
    auth_blocked: bool = False
    deleted_on_server: bool = False
    #: The gateway and account that made the job: its base URL and a fingerprint of the key
    #: (never the key). Only that identity polls the job, and only its 404s count.
    gateway: str | None = None
    #: Which kind of gateway made it: ``"demo"`` (nothing billed) or ``"default"`` (the
    #: configured one). Spend totals keep them apart; jobs older than ``gateway`` go by it.
    gateway_label: str = "default"
    #: ``not_found`` answers in a row from that gateway, and when the first of them came.
    not_found: int = 0
    not_found_since: float | None = None
    #: Searches of the job list for a lost create that answered without finding it.
    reconcile_attempts: int = 0
    #: A lost create matched to a gateway job, and whether that match needs a person's check.
    reconciled: bool = False
    uncertain_match: bool = False
    #: Other ids later answers gave for this job: recorded, never adopted.
    foreign_ids: tuple[str, ...] = ()
    #: Why the last download failed (a ``DownloadErrorKind`` value) and whether retrying helps.
    download_error: str | None = None
    download_retryable: bool = True
    #: Failed download attempts in a row, and when the loop may try again on its own.
    download_attempts: int = 0
    download_retry_at: float | None = None
    #: Status reads of a completed job made for its bill alone (see ``awaiting_bill``).
    bill_checks: int = 0
    #: What the last failed status read got (``core.failure_evidence.poll_error_record``);
    #: cleared by the next answer.
    poll_error: JsonObject | None = None
    #: Why the video could not be copied to ``output_path`` (the command line's ``--output``).
    export_error: str | None = None
    #: The creator's rating: 0 (not rated) or 1-5 stars.
    rating: int = 0
    #: The creator keeps this clip (a pick among takes or a compare set).
    kept: bool = False
    extra: JsonObject = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        """Whether the server side is settled."""
        return self.state.terminal

    @property
    def troubled(self) -> bool:
        """True after repeated failed status checks: the job may still be running."""
        return not self.terminal and self.failures >= UNREACHABLE_AFTER

    @property
    def refused(self) -> bool:
        """Troubled, and the last check got the gateway's own error answer (it is reachable)."""
        return self.troubled and _answered(self.poll_error)

    @property
    def unreachable(self) -> bool:
        """Troubled because the gateway could not be reached (or read): "cannot reach"."""
        return self.troubled and not _answered(self.poll_error)

    @property
    def needs_review(self) -> bool:
        """Whether the job belongs in the "Needs review" filter.

        That includes a lost create matched to a gateway job by time alone, or when another
        lost create was sent at the same moment (``uncertain_match``, see the engine), and a
        completed job whose download stopped for good (its bytes are not on this machine).
        """
        flagged = self.state in REVIEW_STATES or self.troubled or self.auth_blocked
        stuck = self.download is DownloadState.FAILED and not self.download_retryable
        return (flagged or self.uncertain_match or stuck) and not self.reviewed

    @property
    def awaiting_bill(self) -> bool:
        """A completed job whose bill is not settled yet: its status is read a few more times."""
        return (
            self.state is JobState.COMPLETED
            and self.remote_id is not None
            and (self.billing_state or "").lower() in ("pending", "estimated")
            and not self.deleted_on_server
            and not self.auth_blocked
            and self.bill_checks < BILL_CHECKS
        )

    @property
    def pollable(self) -> bool:
        """Whether the scheduler should poll this job at all."""
        return (
            self.remote_id is not None
            and self.state not in TERMINAL_STATES
            and self.state is not JobState.SUBMITTING
            and not self.auth_blocked
        )

    @property
    def status_text(self) -> str:
        """The status as shown to a person: the gateway's own word for unknown statuses."""
        if self.state is JobState.WAITING and self.remote_status:
            return self.remote_status
        if self.unreachable:
            return f"{self.state.label} (cannot reach gateway)"
        if self.refused:
            return f"{self.state.label} (status checks refused)"
        if self.auth_blocked:
            return f"{self.state.label} (API key refused)"
        if (
            self.state is JobState.REJECTED
            and self.failure is not None
            and self.failure.cause in (Cause.NOT_SENT, Cause.RATE_LIMITED)
        ):
            return "Not sent"
        return self.state.label

    @property
    def request_id(self) -> str | None:
        """The gateway request id to quote: the job id, else the newest error request id."""
        if self.failure and self.failure.request_id:
            return self.failure.request_id
        return self.remote_id or (self.request_ids[-1] if self.request_ids else None)

    @property
    def wants_download(self) -> bool:
        """A completed job whose bytes are not yet on disk (an interrupted download included)."""
        return self.state is JobState.COMPLETED and self.download is not DownloadState.DONE


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


def _answered(record: object) -> bool:
    """Whether a poll-error record is the gateway's JSON error answer (see PollFailed)."""
    if not isinstance(record, dict):
        return False
    status = record.get("http_status")
    return isinstance(status, int) and status >= 400 and bool(record.get("body"))


def _with_request_id(job: Job, request_id: str | None) -> tuple[str, ...]:
    if not request_id or request_id in job.request_ids:
        return job.request_ids
    return (*job.request_ids, request_id)


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
        outputs=remote.output_count if state is JobState.COMPLETED else job.outputs,
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
        case CreateRejected(failure=failure, at=at):
            return replace(
                job,
                state=JobState.REJECTED,
                failure=failure,
                finished_at=at,
                request_ids=_with_request_id(job, failure.request_id),
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
