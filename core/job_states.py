"""A job's local states, set kinds, download states and failure causes, and their limits."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.wire import JsonObject

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
