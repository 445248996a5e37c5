"""The error answers that injected faults produce (create refusals and status-call failures)."""

from __future__ import annotations

from email.utils import formatdate

from core.demo_gateway import api_errors
from core.demo_gateway.api_errors import (
    ACCESS_DIAGNOSTICS,
    PERMISSION_MESSAGE,
    ApiError,
    new_job_id,
)

HTML_502_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    b"<center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
)


#: A failed job's ``error`` for each failure keyword, shaped like the provider's own.
FAILURE_ERRORS: dict[str, object] = {
    # Sora (OpenAI): an object, and the same refusal as a plain string.
    "moderation": {
        "code": "moderation_blocked",
        "message": "Your request was blocked by our moderation system.",
    },
    "moderation-string": "moderation_blocked: Your request was blocked by our moderation system.",
    # Veo (Vertex AI): the Responsible AI refusal as plain text.
    "rai": "The prompt could not be submitted. This prompt contains sensitive words that "
    "violate Google's Responsible AI practices. Try rephrasing the prompt. If you think this "
    "was an error, send feedback. Support codes: 17301594",
    # MiniMax: a numeric base_resp code.
    "sensitive": {"code": 1026, "message": "input new_sensitive"},
    "invalid-argument": {
        "code": "INVALID_ARGUMENT",
        "message": "Request contains an invalid argument: the requested frame rate is not "
        "supported for this model.",
    },
    "exhausted": {
        "code": "RESOURCE_EXHAUSTED",
        "message": "Quota exceeded for aiplatform.googleapis.com/"
        "online_prediction_requests_per_base_model with base model: veo-3.1. Please submit "
        "a quota increase request.",
    },
    "deadline": {
        "code": "DEADLINE_EXCEEDED",
        "message": "Deadline expired before operation could complete.",
    },
}


def video_api_off(state: str, generation_id: str | None = None) -> ApiError:
    """501 for a video API that is not enabled (``disabled``) or paused (``paused``)."""
    paused = state == "paused"
    return ApiError(
        501,
        "not_implemented_yet",
        "The video API is paused for the moment"
        if paused
        else "The video API is not enabled for this account",
        reason="video_api_temporarily_disabled" if paused else "video_api_feature_disabled",
        origin="gateway",
        generation_id=generation_id,
    )


def create_fault_error(kind: str, cost: str) -> ApiError:
    """The refusal for a create-time fault.

    ``kind`` is ``disabled``, ``paused``, ``permission``, ``funds`` or ``policy``.
    """
    generation_id = new_job_id()
    if kind in ("disabled", "paused"):
        return video_api_off(kind, generation_id)
    if kind == "permission":
        # The provider refuses the gateway's credentials: the envelope's ``error`` is an object.
        return ApiError(
            403,
            "PERMISSION_DENIED",
            "The provider refused the request",
            reason="provider_permission_denied",
            origin="upstream",
            generation_id=generation_id,
            extra={
                "error": {"code": "PERMISSION_DENIED", "message": PERMISSION_MESSAGE},
                "provider": "google-vertex",
                "upstream_status": 403,
                "upstream_error": {"code": "PERMISSION_DENIED", "message": PERMISSION_MESSAGE},
                "provider_failure_diagnostics": dict(ACCESS_DIAGNOSTICS),
            },
        )
    if kind == "funds":
        return ApiError(
            402,
            "insufficient_funds",
            "Your balance is too low for this request",
            reason="insufficient_balance",
            generation_id=generation_id,
            extra={"required": cost},
        )
    return ApiError(
        403,
        "guardrail_blocked",
        "The prompt was blocked by a content policy",
        reason="prompt_blocked_by_guardrail",
        generation_id=generation_id,
        extra={"guardrail": {"id": "demo-policy", "category": "demo"}},
    )


def rate_limit_error(
    now: float, retry_after: int = 1, generation_id: str | None = None, *, header: bool = True
) -> ApiError:
    """429 ``key_limit_exceeded`` ("slow down"), with ``Retry-After`` unless ``header`` is off.

    A create refused this way made no job (a fresh generation id is used then).
    """
    return ApiError(
        429,
        "key_limit_exceeded",
        "Too many requests for this key",
        reason="rate_limited",
        origin="gateway",
        generation_id=generation_id or new_job_id(),
        extra={"reset_at": int(now) + retry_after},
        headers={"Retry-After": str(retry_after)} if header else {},
    )


#: How far ahead ``[429-date]`` puts its ``Retry-After`` date.
DATED_RETRY_SECONDS = 30


def dated_rate_limit_error(now: float, generation_id: str) -> ApiError:
    """429 whose ``Retry-After`` is an HTTP date (RFC 9110 allows it) and no ``reset_at``."""
    error = rate_limit_error(now, DATED_RETRY_SECONDS, generation_id)
    error.extra.pop("reset_at", None)
    error.headers["Retry-After"] = formatdate(now + DATED_RETRY_SECONDS, usegmt=True)
    return error


def status_fault_error(
    kind: str, provider: str, job_id: str, retry_after: int, now: float
) -> ApiError:
    """The error for a status-GET fault (upstream, 429, 429-noretry, 429-date, 500 or 503)."""
    if kind == "upstream":
        return api_errors.upstream_error(provider, job_id)
    if kind in ("429", "429-noretry"):
        return rate_limit_error(now, retry_after, job_id, header=kind == "429")
    if kind == "429-date":
        return dated_rate_limit_error(now, job_id)
    if kind == "503":
        return ApiError(
            503,
            "service_unavailable",
            "The gateway is temporarily unavailable",
            reason="temporarily_unavailable",
            origin="gateway",
            generation_id=job_id,
        )
    return ApiError(
        500,
        "gateway_error",
        "Internal gateway error",
        reason="internal_error",
        origin="gateway",
        generation_id=job_id,
    )
