"""Everything that can happen to a job, as frozen event records for ``core.jobs.apply``."""

from __future__ import annotations

from dataclasses import dataclass

from core.job_states import DownloadState, JobFailure
from core.wire import JsonObject, RemoteJob


@dataclass(frozen=True)
class Created:
    """The create call answered with a job (also used when a lost create is reconciled)."""

    remote: RemoteJob
    at: float


@dataclass(frozen=True)
class CreateSent:
    """The create leaves now (it may have waited for another create of the same identity)."""

    at: float


@dataclass(frozen=True)
class CreateRejected:
    """The gateway refused the create outright: nothing was made, nothing is charged."""

    failure: JobFailure
    at: float
    #: Every id the refusal named (its ``request_id`` and ``generation_id``).
    request_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreateAmbiguous:
    """The create may or may not have reached the server (timeout or dropped connection)."""

    problem: str
    at: float


@dataclass(frozen=True)
class StatusSeen:
    """A status response arrived."""

    remote: RemoteJob
    at: float


@dataclass(frozen=True)
class BillingSeen:
    """A status response for a finished job: only its bill is taken from it."""

    remote: RemoteJob
    at: float


@dataclass(frozen=True)
class PollFailed:
    """A status read failed for a transient reason; the job keeps its state."""

    problem: str
    at: float
    request_id: str | None = None
    #: The gateway's error answer (``core.failure_evidence.poll_error_record``); ``None``
    #: when nothing answered.
    evidence: JsonObject | None = None


@dataclass(frozen=True)
class Vanished:
    """The gateway answered 404 for the job, or a lost create was not found."""

    failure: JobFailure
    at: float


@dataclass(frozen=True)
class NotFoundSeen:
    """The job's own gateway answered 404 once more; not yet proof that the job is gone."""

    at: float
    request_id: str | None = None


@dataclass(frozen=True)
class AuthRejected:
    """The key was refused while polling: stop polling until a new key arrives."""

    problem: str
    at: float


@dataclass(frozen=True)
class KeyReplaced:
    """A new API key replaced a refused one: polling resumes under the new key's identity."""

    at: float
    gateway: str | None = None


@dataclass(frozen=True)
class Scheduled:
    """The engine decided when the job is next due (by the poll policy)."""

    next_poll_at: float | None
    at: float


@dataclass(frozen=True)
class DownloadChanged:
    """The local download moved on: started, finished (with files) or failed.

    A failure says why (``error``, a ``DownloadErrorKind`` value), whether trying again may
    help (``retryable``) and when the loop may try on its own (``retry_at``; ``None`` waits
    for the person).
    """

    download: DownloadState
    at: float
    files: tuple[str, ...] = ()
    problem: str | None = None
    error: str | None = None
    retryable: bool = True
    retry_at: float | None = None


@dataclass(frozen=True)
class Reviewed:
    """A person marked the job reviewed (or not) with a note."""

    reviewed: bool
    note: str
    at: float


@dataclass(frozen=True)
class Rated:
    """A person rated the job: 1-5 stars, or 0 to clear the rating."""

    rating: int
    at: float


@dataclass(frozen=True)
class KeepChanged:
    """A person marked the job as one to keep (or no longer)."""

    kept: bool
    at: float


@dataclass(frozen=True)
class DeletedOnServer:
    """The job's server copy was deleted at the user's request."""

    at: float


Event = (
    Created
    | CreateSent
    | CreateRejected
    | CreateAmbiguous
    | StatusSeen
    | BillingSeen
    | PollFailed
    | Vanished
    | NotFoundSeen
    | AuthRejected
    | KeyReplaced
    | Scheduled
    | DownloadChanged
    | Reviewed
    | Rated
    | KeepChanged
    | DeletedOnServer
)
