"""The job record: one generation job as the journal keeps it, with its derived flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.job_params import JobParams
from core.job_states import (
    BILL_CHECKS,
    REVIEW_STATES,
    TERMINAL_STATES,
    UNREACHABLE_AFTER,
    Cause,
    DownloadState,
    JobFailure,
    JobState,
    SetKind,
)
from core.wire import JsonObject

#: Finished states whose bill the gateway may still be settling (or voiding).
_BILLED_STATES = frozenset(
    {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED}
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
    #: Status reads of a finished job made for its bill alone (see ``awaiting_bill``).
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
        """A finished job whose bill is not final yet: its status is read a few more times.

        The bill trails the status: a completed job's may still be ``pending``, and a failed,
        cancelled or expired job's reservation may still read ``estimated`` before the
        gateway voids it (it is never charged; counting it as spend would be wrong).
        """
        return (
            self.state in _BILLED_STATES
            and self.remote_id is not None
            and (self.billing_state or "").lower() in ("pending", "estimated")
            and not self.deleted_on_server
            and not self.auth_blocked
            and self.bill_checks < BILL_CHECKS
        )

    @property
    def pollable(self) -> bool:
        """Whether the engine should poll this job at all."""
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


def _answered(record: object) -> bool:
    """Whether a poll-error record is the gateway's JSON error answer (see PollFailed)."""
    if not isinstance(record, dict):
        return False
    status = record.get("http_status")
    return isinstance(status, int) and status >= 400 and bool(record.get("body"))
