"""Flat JSON error envelopes shaped like the Phaseo gateway's, plus id generators."""

from __future__ import annotations

import secrets
import string
from typing import Any

_ID_ALPHABET = string.ascii_uppercase + string.digits

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    410: "permission_error",
    429: "rate_limit_error",
    501: "not_implemented_error",
    502: "upstream_error",
}


def new_job_id() -> str:
    """A gateway id like ``G-01K`` followed by 23 random uppercase letters and digits."""
    return "G-01K" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(23))


def new_request_id() -> str:
    """A fresh gateway request id (``req_`` + 24 hex digits)."""
    return "req_" + secrets.token_hex(12)


class ApiError(Exception):
    """An error answer: HTTP status, error code and the rest of the flat envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        reason: str | None = None,
        description: str | None = None,
        details: list[dict[str, Any]] | None = None,
        origin: str = "user",
        generation_id: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Describe the error; nothing is sent until the handler renders `body()`."""
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.reason = reason
        self.description = description or message
        self.details = details or []
        self.origin = origin
        self.generation_id = generation_id
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        """The flat JSON envelope, stamped with this response's request id."""
        default_type = "gateway_error" if self.status >= 500 else "invalid_request_error"
        envelope: dict[str, Any] = {
            "error": self.code,
            "status_code": self.status,
            "error_type": _ERROR_TYPES.get(self.status, default_type),
            "error_origin": self.origin,
            "reason": self.reason,
            "message": self.message,
            "description": self.description,
            "details": self.details,
            "generation_id": self.generation_id,
            "request_id": request_id,
        }
        envelope.update(self.extra)
        return envelope


def unauthorised(reason: str, generation_id: str | None = None) -> ApiError:
    """401 ``unauthorised`` (British spelling, as the gateway writes it)."""
    return ApiError(
        401,
        "unauthorised",
        "Invalid or missing API key",
        reason=reason,
        description=f"The request was not authorised: {reason}.",
        generation_id=generation_id,
    )


def not_found(what: str, generation_id: str | None = None) -> ApiError:
    """404 ``not_found``."""
    return ApiError(
        404, "not_found", f"{what} not found", reason="not_found", generation_id=generation_id
    )


def schema_path(field: str) -> list[str | int]:
    """A dotted field name as a schema validator's path: ``a.0.b`` -> ``["a", 0, "b"]``."""
    return [int(part) if part.isdigit() else part for part in field.split(".")]


def validation_error(field: str, message: str, reason: str = "invalid_request") -> ApiError:
    """400 ``validation_error`` whose details name the offending field (and its path)."""
    return ApiError(
        400,
        "validation_error",
        f"Invalid request: {field}: {message}",
        reason=reason,
        details=[{"field": field, "path": schema_path(field), "message": message}],
    )


def not_supported(model: str, what: str, field: str) -> ApiError:
    """400 ``not_supported``: ``what`` (a parameter or an input) is not offered by ``model``."""
    return ApiError(
        400,
        "not_supported",
        f"{what} is not supported by {model}",
        reason="param_not_supported",
        details=[{"field": field, "path": [field], "message": f"not supported by {model}"}],
    )


PERMISSION_MESSAGE = "Permission denied on resource project reelgate-demo (or it may not exist)."
ACCESS_DIAGNOSTICS = {
    "category": "provider_access_missing",
    "hint": "The gateway's provider credentials lack access to this model; this can persist "
    "until the provider grants access.",
}


def upstream_error(provider: str, generation_id: str) -> ApiError:
    """502 ``upstream_error``: the live status check with the provider was refused."""
    return ApiError(
        502,
        "upstream_error",
        "The provider refused the status check",
        reason="provider_status_check_failed",
        origin="upstream",
        generation_id=generation_id,
        extra={
            "provider": provider,
            "upstream_status": 403,
            "upstream_error": {"code": "PERMISSION_DENIED", "message": PERMISSION_MESSAGE},
            "provider_failure_diagnostics": dict(ACCESS_DIAGNOSTICS),
        },
    )
