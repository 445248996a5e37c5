"""The failure class each demo-gateway answer must get: an oracle independent of the classifier.

The demo gateway's failure keywords and refusals each stand for one real provider or gateway
answer; this table says, by hand, which class a person must see for it. The fault matrix
judges every failed or refused job against it (``wrong classes``, goal 0), and the scenario
tests in ``test_failure_classes.py`` use the same table.
"""

from __future__ import annotations

from core.demo_gateway.fault_errors import FAILURE_ERRORS
from core.failure_class import FailureClass, verdict_for
from core.jobs import Job, JobState
from core.journal import JournalEvent

POLICY, INVALID, ACCESS = FailureClass.POLICY, FailureClass.INVALID, FailureClass.ACCESS
LIMIT, PROVIDER, ENDED = FailureClass.LIMIT, FailureClass.PROVIDER, FailureClass.ENDED

#: A failed job's error, by the demo keyword that produced it.
FAILED_CLASS: dict[str, FailureClass] = {
    "moderation": POLICY,
    "moderation-string": POLICY,
    "rai": POLICY,
    "sensitive": POLICY,
    "invalid-argument": INVALID,
    "exhausted": LIMIT,
    "deadline": PROVIDER,
}
#: A refused create, by the demo's (HTTP status, error code or reason).
REFUSED_CLASS: dict[tuple[int, str], FailureClass] = {
    (403, "guardrail_blocked"): POLICY,
    (403, "PERMISSION_DENIED"): ACCESS,
    (402, "insufficient_funds"): LIMIT,
    (501, "video_api_feature_disabled"): ACCESS,
    (501, "video_api_temporarily_disabled"): ACCESS,
    (429, "key_limit_exceeded"): LIMIT,
    (401, "unauthorised"): ACCESS,
}


def _failed_error(events: list[JournalEvent]) -> object:
    """The ``error`` of the gateway answer that said the job failed."""
    for event in reversed(events):
        if event.state == "failed" and isinstance(event.raw, dict) and "error" in event.raw:
            return event.raw["error"]
    return None


def _error_class(error: object) -> FailureClass | None:
    for kind, payload in FAILURE_ERRORS.items():
        if payload == error:
            return FAILED_CLASS[kind]
    generic = isinstance(error, dict) and error.get("code") == "provider_error"
    if generic or (isinstance(error, str) and error.startswith("provider_error:")):
        return PROVIDER
    return None  # a shape the fault proxy rewrote: no oracle


def _refusal_class(job: Job) -> FailureClass | None:
    failure = job.failure
    if failure is None or failure.http_status is None or not isinstance(failure.raw, dict):
        return None
    body = failure.raw.get("body")
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    code = error.get("code") if isinstance(error, dict) else error
    for word in (body.get("reason"), code):
        if isinstance(word, str) and (failure.http_status, word) in REFUSED_CLASS:
            return REFUSED_CLASS[failure.http_status, word]
    return None


def expected_class(job: Job, events: list[JournalEvent]) -> FailureClass | None:
    """The class a person must see for ``job``; ``None`` when the answer is not the demo's."""
    if job.state in (JobState.EXPIRED, JobState.CANCELLED, JobState.GONE):
        return ENDED
    if job.state is JobState.FAILED:
        return _error_class(_failed_error(events))
    if job.state is JobState.REJECTED:
        return _refusal_class(job)
    return None


def judge_class(job: Job, events: list[JournalEvent]) -> tuple[str | None, str | None]:
    """``(class checked, problem)`` for one job: what it was expected to be, and any mismatch."""
    expected = expected_class(job, events)
    if expected is None:
        return None, None
    verdict = verdict_for(job)
    shown = verdict.failure_class if verdict is not None else None
    if shown is not expected:
        name = job.remote_id or job.local_id[:8]
        return expected.value, f"{name}: shown as {shown} but the answer was {expected.value}"
    return expected.value, None
