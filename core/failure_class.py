"""Tells failures apart: one pure classifier from the gateway's evidence to a failure class.

Every way a job can go wrong lands in one :class:`FailureClass`, because the next step
differs: a prompt blocked by a safety filter must be rephrased, an invalid parameter changed,
missing provider access needs another model, an empty balance a top-up, a provider fault
just a resubmit. :func:`classify_failure` reads whatever the gateway or the provider said
(an error object or a plain string, a gateway envelope with ``upstream_error`` and
``provider_failure_diagnostics``, Veo, Sora and MiniMax wording, gRPC and MiniMax numeric
codes) and never raises: evidence it cannot place is a provider fault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from core.failure_evidence import (
    FailureEvidence,
    evidence_from_fields,
    evidence_from_payload,
)
from core.failure_words import words_for
from core.jobs import Cause, Job, JobFailure, JobState


class FailureClass(StrEnum):
    """Which kind of failure a job had; decides the cause line and the next step shown."""

    POLICY = "policy"
    INVALID = "invalid"
    ACCESS = "access"
    LIMIT = "limit"
    PROVIDER = "provider"
    ENDED = "ended"

    @property
    def label(self) -> str:
        """The class in a few words, for headings and the job filter."""
        return _CLASS_LABELS[self]


_CLASS_LABELS = {
    FailureClass.POLICY: "Blocked by a safety or content policy",
    FailureClass.INVALID: "Invalid request",
    FailureClass.ACCESS: "Access missing",
    FailureClass.LIMIT: "Out of credit or rate limited",
    FailureClass.PROVIDER: "Provider fault or timeout",
    FailureClass.ENDED: "Expired, cancelled, gone or unknown",
}


@dataclass(frozen=True)
class FailureVerdict:
    """A failure's class, its heading, cause in plain words, next step and the verbatim words."""

    failure_class: FailureClass
    heading: str
    cause: str
    next_step: str
    provider_words: tuple[str, ...] = ()

    @property
    def cause_line(self) -> str:
        """The cause and the next step in one line (CLI, tooltips, notifications)."""
        return f"{self.cause} {self.next_step}".strip()

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form, for diagnostics."""
        return {
            "class": self.failure_class.value,
            "label": self.failure_class.label,
            "heading": self.heading,
            "cause": self.cause,
            "next_step": self.next_step,
            "provider_words": list(self.provider_words),
        }


# -- evidence patterns ------------------------------------------------------------------------
# Matched against codes, reasons, categories and messages after lower-casing them and turning
# ``_ - . /`` into spaces (``PERMISSION_DENIED`` -> ``permission denied``). Hints are not
# matched: they give advice ("check the access policy") rather than say what happened.

_POLICY = re.compile(
    r"polic(y|ies)|safety|\brai\b|raimediafiltered|responsible ai|moderat|guardrail|"
    r"\bsensitive\b|\bfiltered\b|content filter|usage guidelines|\bviolat|prohibited|"
    r"\bnsfw\b|\bharmful\b|(prompt|content|input|output|image|video) (was )?blocked|"
    r"blocked by (our|the|a)\b"
)
_KEY = re.compile(
    r"\bunauthori[sz]ed\b|invalid api key|api key (is )?(invalid|expired|revoked|missing)|"
    r"key revoked"
)
_FEATURE = re.compile(r"video api (feature|temporarily) disabled|not enabled for")
_PAUSED = re.compile(r"temporarily disabled|paused")
_ACCESS = re.compile(
    r"permission denied|access (is )?missing|access denied|\bunauthenticated\b|"
    r"does not have (access|permission)|not allowlisted|"
    r"not (available|supported) (in|for) (your|this) (region|location|country)"
)
_CREDIT = re.compile(
    r"insufficient (funds|balance|credit)|out of credit|payment required|"
    r"\bbalance\b.*\b(low|insufficient)\b"
)
_RATE = re.compile(
    r"resource exhausted|\bquota\b|rate limit|too many requests|limit exceeded|throttl|"
    r"insufficient quota|concurrency limit"
)
_INVALID = re.compile(
    r"invalid (argument|request|param\w*|value|input|json|duration|size|aspect|resolution|"
    r"prompt|model)|validation error|unsupported|not supported|bad request|out of range|"
    r"\bmust be\b"
)
_TIMEOUT = re.compile(r"deadline|timed? ?out|timeout")
_SEPARATORS = re.compile(r"[_\-./]+")

#: MiniMax ``base_resp.status_code`` values (4 digits, never an HTTP status).
_MINIMAX_CODES: dict[int, tuple[FailureClass, str]] = {
    1026: (FailureClass.POLICY, "policy"),
    1027: (FailureClass.POLICY, "policy"),
    1008: (FailureClass.LIMIT, "credit"),
    1002: (FailureClass.LIMIT, "rate"),
    1039: (FailureClass.LIMIT, "rate"),
    2013: (FailureClass.INVALID, "invalid"),
    1004: (FailureClass.ACCESS, "access"),
    2049: (FailureClass.ACCESS, "access"),
}
#: google.rpc numeric codes (a Veo operation's ``error.code``).
_GRPC_CODES: dict[int, tuple[FailureClass, str]] = {
    3: (FailureClass.INVALID, "invalid"),
    4: (FailureClass.PROVIDER, "timeout"),
    7: (FailureClass.ACCESS, "access"),
    8: (FailureClass.LIMIT, "rate"),
    13: (FailureClass.PROVIDER, "fault"),
    14: (FailureClass.PROVIDER, "fault"),
    16: (FailureClass.ACCESS, "access"),
}
_LOCAL_VARIANTS = ("expired", "cancelled", "gone", "unknown", "not_sent", "network")
_ENDED_STATUSES = {
    "expired": "expired",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "gone": "gone",
}


def _normalise(*parts: str | None) -> str:
    return " ".join(_SEPARATORS.sub(" ", part.lower()) for part in parts if part)


def _number(code: str | None) -> int | None:
    if code is None or not code.strip().isdigit():
        return None
    return int(code.strip())


def _by_words(evidence: FailureEvidence) -> tuple[FailureClass, str] | None:
    """The class the codes and messages name, most specific first."""
    codes = _normalise(evidence.code, evidence.upstream_code, evidence.reason, evidence.category)
    text = f"{codes} {_normalise(evidence.message, evidence.upstream_message)}"
    if _POLICY.search(text):
        return FailureClass.POLICY, "policy"
    if _FEATURE.search(text):
        return FailureClass.ACCESS, "paused" if _PAUSED.search(text) else "feature"
    if _KEY.search(codes) and evidence.origin != "upstream":
        return FailureClass.ACCESS, "key"
    if _ACCESS.search(text) or _KEY.search(text):
        return FailureClass.ACCESS, "access"
    if _CREDIT.search(text):
        return FailureClass.LIMIT, "credit"
    if _RATE.search(text):
        return FailureClass.LIMIT, "rate"
    if _INVALID.search(text):
        return FailureClass.INVALID, "invalid"
    return None


def _by_numbers(evidence: FailureEvidence) -> tuple[FailureClass, str] | None:
    """The class numeric provider codes name (MiniMax, gRPC, an HTTP status as a code)."""
    for code in (evidence.upstream_code, evidence.code):
        number = _number(code)
        if number is None:
            continue
        if number in _MINIMAX_CODES:
            return _MINIMAX_CODES[number]
        if number in _GRPC_CODES:
            return _GRPC_CODES[number]
        if 400 <= number < 600:
            found = _by_http(number, evidence.origin)
            if found is not None:
                return found
    return None


def _by_http(status: int | None, origin: str | None) -> tuple[FailureClass, str] | None:
    """The class an HTTP status alone suggests (the gateway's, or the provider's upstream)."""
    if status is None:
        return None
    if status in (400, 422):
        return FailureClass.INVALID, "invalid"
    if status == 401:
        return FailureClass.ACCESS, "access" if origin == "upstream" else "key"
    if status == 402:
        return FailureClass.LIMIT, "credit"
    if status == 403:  # the gateway's guardrail, or a provider refusal (API.md)
        return FailureClass.POLICY, "policy"
    if status == 404:
        return FailureClass.ENDED, "gone"
    if status == 429:
        return FailureClass.LIMIT, "rate"
    if status == 501:
        return FailureClass.ACCESS, "feature"
    if status >= 500:
        return FailureClass.PROVIDER, "fault"
    return None


def _decide(evidence: FailureEvidence, fallback: str) -> tuple[FailureClass, str]:
    status = (evidence.status or "").strip().lower()
    if status in _ENDED_STATUSES:
        return FailureClass.ENDED, _ENDED_STATUSES[status]
    found = (
        _by_words(evidence)
        or _by_numbers(evidence)
        or _by_http(evidence.upstream_status, "upstream")
        or _by_http(evidence.http_status, evidence.origin)
    )
    if found is None and fallback != "fault":
        return VARIANT_CLASS.get(fallback, FailureClass.PROVIDER), fallback
    if found is None or found == (FailureClass.PROVIDER, "fault"):
        text = _normalise(evidence.code, evidence.upstream_code, evidence.category)
        text += " " + _normalise(evidence.message, evidence.upstream_message)
        return FailureClass.PROVIDER, "timeout" if _TIMEOUT.search(text) else "fault"
    return found


@lru_cache(maxsize=4096)
def classify(evidence: FailureEvidence, fallback: str = "fault") -> FailureVerdict:
    """The verdict for ``evidence``: pure, cached, and never raises.

    ``fallback`` names the variant to use when the evidence says nothing (a provider fault
    unless the caller knows better, e.g. from the HTTP error kind recorded at the time).
    """
    failure_class, variant = _decide(evidence, fallback)
    words = words_for(variant, evidence.while_running)
    next_step = words.next_step
    if failure_class is FailureClass.INVALID and evidence.parameter:
        next_step = f"Change `{evidence.parameter}`, then resubmit."
    return FailureVerdict(
        failure_class=failure_class,
        heading=words.heading,
        cause=words.cause,
        next_step=next_step,
        provider_words=evidence.provider_words,
    )


def classify_failure(
    status: str | None,
    code: str | None,
    message: str | None,
    diagnostics: object = None,
    http_status: int | None = None,
    **more: object,
) -> FailureVerdict:
    """Classify one failure from the job status, error code and message, the gateway's
    ``provider_failure_diagnostics`` (any JSON) and the HTTP status.

    ``more`` takes the other envelope fields by name (``reason``, ``origin``, ``provider``,
    ``upstream_status``, ``upstream_code``, ``upstream_message``, ``parameter``,
    ``while_running``); unknown names and odd types are ignored.
    """
    return classify(evidence_from_fields(status, code, message, diagnostics, http_status, more))


#: Which class each variant belongs to.
VARIANT_CLASS: dict[str, FailureClass] = {
    "policy": FailureClass.POLICY,
    "invalid": FailureClass.INVALID,
    "access": FailureClass.ACCESS,
    "key": FailureClass.ACCESS,
    "feature": FailureClass.ACCESS,
    "paused": FailureClass.ACCESS,
    "credit": FailureClass.LIMIT,
    "rate": FailureClass.LIMIT,
    "fault": FailureClass.PROVIDER,
    "timeout": FailureClass.PROVIDER,
    **{variant: FailureClass.ENDED for variant in _LOCAL_VARIANTS},
}
#: Causes decided locally (not by what the provider said), and the stored cause's variant
#: when the evidence names nothing.
_LOCAL_CAUSES = {
    Cause.EXPIRED: "expired",
    Cause.CANCELLED: "cancelled",
    Cause.GONE: "gone",
    Cause.UNKNOWN: "unknown",
    Cause.NOT_SENT: "not_sent",
    Cause.NETWORK: "network",
}
_CAUSE_FALLBACK = {
    Cause.POLICY: "policy",
    Cause.INVALID: "invalid",
    Cause.AUTH: "key",
    Cause.CREDIT: "credit",
    Cause.RATE_LIMITED: "rate",
    Cause.PROVIDER: "fault",
}


def _local(variant: str, words: tuple[str, ...] = ()) -> FailureVerdict:
    text = words_for(variant)
    return FailureVerdict(VARIANT_CLASS[variant], text.heading, text.cause, text.next_step, words)


def failure_evidence(failure: JobFailure, status: str | None = None) -> FailureEvidence:
    """The evidence a job's failure record holds (its raw error or error answer, verbatim)."""
    return evidence_from_payload(
        failure.raw,
        http_status=failure.http_status,
        status=status,
        code=failure.code,
        provider=failure.provider,
        # The recorded message is the fuller one (the engine appends the error's details).
        override={"message": failure.message} if failure.message else None,
    )


#: Verdicts of recorded failures by their content: a long history repeats the same few
#: errors, and the job table asks once per job when it (re)builds its filters.
_FAILURE_VERDICTS: dict[tuple[object, ...], FailureVerdict] = {}
_FAILURE_VERDICTS_MAX = 20_000


def _failure_verdict(failure: JobFailure, state: JobState) -> FailureVerdict:
    raw = failure.raw
    key = (
        state,
        failure.cause,
        failure.code,
        failure.message,
        failure.http_status,
        failure.provider,
        raw if isinstance(raw, str) or raw is None else repr(raw),
    )
    verdict = _FAILURE_VERDICTS.get(key)
    if verdict is None:
        evidence = failure_evidence(failure, state.value)
        local = _LOCAL_CAUSES.get(failure.cause)
        if local is not None:
            verdict = _local(local, evidence.provider_words)
        else:
            verdict = classify(evidence, _CAUSE_FALLBACK.get(failure.cause, "fault"))
        if len(_FAILURE_VERDICTS) >= _FAILURE_VERDICTS_MAX:
            _FAILURE_VERDICTS.clear()
        _FAILURE_VERDICTS[key] = verdict
    return verdict


def verdict_for(job: Job) -> FailureVerdict | None:
    """The verdict for a job that went wrong or needs a look; ``None`` when all is well."""
    failure = job.failure
    if failure is not None:
        return _failure_verdict(failure, job.state)
    if job.state is JobState.SUBMIT_UNKNOWN:
        return _local("unknown")
    if job.auth_blocked:
        return _local("key")
    if job.troubled:
        if not job.refused:
            return _local("network")
        item = job.poll_error or {}
        evidence = evidence_from_payload(
            item.get("body"),
            http_status=item.get("http_status")
            if isinstance(item.get("http_status"), int)
            else None,
            while_running=True,
            code=item.get("code"),
            message=item.get("message"),
        )
        return classify(evidence)
    return _TERMINAL_FALLBACK.get(job.state)


#: A finished job with no failure record (an old journal, say) still gets its class.
_TERMINAL_FALLBACK = {
    JobState.GONE: _local("gone"),
    JobState.EXPIRED: _local("expired"),
    JobState.CANCELLED: _local("cancelled"),
    JobState.FAILED: _local("fault"),
    JobState.REJECTED: _local("fault"),
}
