"""The error answers that injected faults produce (create refusals and status-call failures)."""

from __future__ import annotations

from core.demo_gateway import errors
from core.demo_gateway.errors import ApiError, new_job_id

HTML_502_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
    b"<center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>"
)


def create_fault_error(kind: str, cost: str) -> ApiError:
    """The refusal for a create-time fault: ``disabled``, ``funds`` or ``policy``."""
    generation_id = new_job_id()
    if kind == "disabled":
        return ApiError(
            501,
            "not_implemented_yet",
            "The video API is not enabled for this account",
            reason="video_api_feature_disabled",
            origin="gateway",
            generation_id=generation_id,
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


def status_fault_error(
    kind: str, provider: str, job_id: str, retry_after: int, now: float
) -> ApiError:
    """The error for a status-GET fault (upstream, 429, 429-noretry, 500 or 503)."""
    if kind == "upstream":
        return errors.upstream_error(provider, job_id)
    if kind in ("429", "429-noretry"):
        return rate_limit_error(now, retry_after, job_id, header=kind == "429")
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
