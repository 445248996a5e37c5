"""Typed errors raised by the gateway client, with a classification the rest of the app acts on."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from core.wire import JsonObject, as_int, as_object, as_str


class ErrorKind(StrEnum):
    """What kind of trouble a gateway call ran into; decides retry and where it is shown."""

    AUTH = "auth"
    VALIDATION = "validation"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    POLICY_BLOCK = "policy_block"
    NOT_FOUND = "not_found"
    NOT_READY = "not_ready"
    RATE_LIMITED = "rate_limited"
    FEATURE_DISABLED = "feature_disabled"
    TRANSIENT = "transient"
    NETWORK = "network"
    TIMEOUT = "timeout"
    UNEXPECTED = "unexpected"
    INSECURE = "insecure"
    LINK_EXPIRED = "link_expired"


#: Kinds worth retrying for reads (status, list, content): the job may still be running.
RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.RATE_LIMITED,
        ErrorKind.TRANSIENT,
        ErrorKind.NETWORK,
        ErrorKind.TIMEOUT,
        ErrorKind.UNEXPECTED,
        ErrorKind.NOT_READY,
        ErrorKind.LINK_EXPIRED,
    }
)

_PLAIN_WORDS: dict[ErrorKind, str] = {
    ErrorKind.AUTH: "The gateway did not accept the API key",
    ErrorKind.VALIDATION: "The gateway rejected the request's parameters",
    ErrorKind.INSUFFICIENT_FUNDS: "The account is out of credit",
    ErrorKind.POLICY_BLOCK: "The request was blocked by a content policy",
    ErrorKind.NOT_FOUND: "The job no longer exists on the gateway",
    ErrorKind.NOT_READY: "The video is not ready yet",
    ErrorKind.RATE_LIMITED: "The gateway asked to slow down",
    ErrorKind.FEATURE_DISABLED: "This feature is not enabled for the account",
    ErrorKind.TRANSIENT: "The gateway or provider had a temporary problem",
    ErrorKind.NETWORK: "Cannot reach the gateway",
    ErrorKind.TIMEOUT: "The gateway did not answer in time",
    ErrorKind.UNEXPECTED: "The gateway sent a response Reelgate could not read",
    ErrorKind.INSECURE: "Refusing to send the API key over an unencrypted connection",
    ErrorKind.LINK_EXPIRED: "The signed download link expired",
}

#: A 501 on any video route names what is off; none of them is fixed by other parameters.
_DISABLED_WORDS = {
    "video_api_feature_disabled": "The video API is not enabled for this account",
    "video_api_temporarily_disabled": "The gateway has paused its video API for the moment",
    "video_cancellation_disabled": "Cancelling is not available on this gateway",
}


@dataclass(frozen=True)
class GatewayError(Exception):
    """A failed gateway call: HTTP status, error code, reason, message and the request id."""

    kind: ErrorKind
    message: str
    status: int | None = None
    code: str | None = None
    reason: str | None = None
    details: tuple[str, ...] = ()
    request_id: str | None = None
    retry_after: float | None = None
    body: JsonObject = field(default_factory=dict)
    body_excerpt: str | None = None
    #: True when a create may have reached the server (timeout or drop after sending).
    ambiguous: bool = False

    def __str__(self) -> str:
        """The one-line summary."""
        return self.summary

    @property
    def request_ids(self) -> tuple[str, ...]:
        """Every gateway id the answer names: ``request_id`` and ``generation_id`` (both kept)."""
        found = (
            self.request_id,
            as_str(self.body.get("request_id")),
            as_str(self.body.get("generation_id")),
        )
        return tuple(dict.fromkeys(text for text in found if text))

    @property
    def retryable(self) -> bool:
        """Whether a read that failed this way may simply be tried again later."""
        return self.kind in RETRYABLE_KINDS

    @property
    def plain_words(self) -> str:
        """A one-line cause a person understands."""
        if self.kind is ErrorKind.FEATURE_DISABLED and self.reason in _DISABLED_WORDS:
            return _DISABLED_WORDS[self.reason]
        return _PLAIN_WORDS[self.kind]

    @property
    def summary(self) -> str:
        """Plain words followed by the gateway's own detail, for status lines and dialogs."""
        parts = [self.plain_words]
        detail = self.reason or self.message
        if self.message and self.reason and " " not in self.reason.strip():
            detail = self.message  # a machine reason (video_api_feature_disabled): the words
        if detail and detail != self.plain_words:
            parts.append(detail)
        if self.details:
            parts.append("; ".join(self.details))
        return ": ".join(parts[:2]) + (f" ({parts[2]})" if len(parts) > 2 else "")

    def to_dict(self) -> JsonObject:
        """A JSON-safe record of the error for the journal and diagnostics."""
        return {
            "kind": self.kind.value,
            "message": self.message,
            "status": self.status,
            "code": self.code,
            "reason": self.reason,
            "details": list(self.details),
            "request_id": self.request_id,
            "retry_after": self.retry_after,
            "body": self.body,
            "body_excerpt": self.body_excerpt,
            "ambiguous": self.ambiguous,
        }


_frozen_setattr = GatewayError.__setattr__


def _exception_setattr(self: GatewayError, name: str, value: object) -> None:
    """Keep the fields frozen but let Python set ``__traceback__``, ``__notes__`` and the like.

    A plain frozen dataclass refuses every attribute, so ``contextlib`` (which assigns
    ``__traceback__``) and ``add_note`` would raise FrozenInstanceError instead of the error.
    """
    if name.startswith("__") and name.endswith("__"):
        Exception.__setattr__(self, name, value)
    else:
        _frozen_setattr(self, name, value)


GatewayError.__setattr__ = _exception_setattr  # type: ignore[method-assign,assignment]

_CODE_KINDS: dict[str, ErrorKind] = {
    "unauthorised": ErrorKind.AUTH,
    "unauthorized": ErrorKind.AUTH,
    "validation_error": ErrorKind.VALIDATION,
    "invalid_json": ErrorKind.VALIDATION,
    "unsupported_model_or_endpoint": ErrorKind.VALIDATION,
    "not_supported": ErrorKind.VALIDATION,
    "insufficient_funds": ErrorKind.INSUFFICIENT_FUNDS,
    "guardrail_blocked": ErrorKind.POLICY_BLOCK,
    "not_found": ErrorKind.NOT_FOUND,
    "not_ready": ErrorKind.NOT_READY,
    "key_limit_exceeded": ErrorKind.RATE_LIMITED,
    "rate_limited": ErrorKind.RATE_LIMITED,
    "not_implemented_yet": ErrorKind.FEATURE_DISABLED,
    "upstream_error": ErrorKind.TRANSIENT,
    "gateway_error": ErrorKind.TRANSIENT,
    "link_expired": ErrorKind.LINK_EXPIRED,
}

_STATUS_KINDS: dict[int, ErrorKind] = {
    400: ErrorKind.VALIDATION,
    401: ErrorKind.AUTH,
    402: ErrorKind.INSUFFICIENT_FUNDS,
    403: ErrorKind.POLICY_BLOCK,
    404: ErrorKind.NOT_FOUND,
    409: ErrorKind.NOT_READY,
    410: ErrorKind.LINK_EXPIRED,
    # The body was refused whole (the gateway caps JSON bodies at 16 MiB): nothing was made.
    413: ErrorKind.VALIDATION,
    422: ErrorKind.VALIDATION,
    429: ErrorKind.RATE_LIMITED,
    501: ErrorKind.FEATURE_DISABLED,
}


def classify(status: int, code: str | None) -> ErrorKind:
    """Decide the kind of an HTTP error from its status and ``error`` code."""
    if code is not None and code.lower() in _CODE_KINDS:
        kind = _CODE_KINDS[code.lower()]
        # A provider refusal on 403 keeps its code but is still a policy block.
        return kind
    if status in _STATUS_KINDS:
        return _STATUS_KINDS[status]
    if status >= 500:
        return ErrorKind.TRANSIENT
    return ErrorKind.UNEXPECTED


def _path_text(value: object) -> str | None:
    """A detail's ``path``: text as given, or a list of keys and indexes (``a.0.b``) joined."""
    if isinstance(value, list):
        parts = [text for part in value[:20] if (text := as_str(part)) is not None]
        return ".".join(parts) or None
    return as_str(value)


def _field_messages(value: dict[object, object], depth: int = 0) -> list[str]:
    """``{field: message | [messages] | {...}}`` (a field-to-errors map) as ``field: message``."""
    out: list[str] = []
    for key, item in list(value.items())[:20]:
        if isinstance(item, dict) and depth < 2:
            out.extend(_field_messages(item, depth + 1))
            continue
        texts = [as_str(part) for part in item[:5]] if isinstance(item, list) else [as_str(item)]
        out.extend(f"{key}: {text}" for text in texts if text)
    return out


def _details(value: object) -> tuple[str, ...]:
    """The ``details`` of an error body as lines: a list of issues, a field map, or text."""
    if isinstance(value, dict):
        return tuple(_field_messages(value)[:20])
    if isinstance(value, list):
        out: list[str] = []
        for item in value[:20]:
            if isinstance(item, dict):
                where = (
                    _path_text(item.get("path"))
                    or as_str(item.get("field"))
                    or as_str(item.get("param"))
                )
                what = as_str(item.get("message")) or as_str(item.get("msg")) or str(item)
                out.append(f"{where}: {what}" if where else what)
            elif (text := as_str(item)) is not None:
                out.append(text)
        return tuple(out)
    text = as_str(value)
    return (text,) if text else ()


def error_from_response(
    status: int,
    document: object,
    *,
    retry_after: float | None = None,
    body_excerpt: str | None = None,
) -> GatewayError:
    """Build a :class:`GatewayError` from an HTTP error status and its (parsed) body."""
    body = as_object(document)
    raw_error = body.get("error")
    code: str | None
    inner_message: str | None = None
    if isinstance(raw_error, dict):
        code = as_str(raw_error.get("code")) or as_str(raw_error.get("type"))
        inner_message = as_str(raw_error.get("message"))
    else:
        code = as_str(raw_error)
    upstream = as_object(body.get("upstream_error"))
    diagnostics = as_object(body.get("provider_failure_diagnostics"))
    reason = as_str(body.get("reason")) or as_str(diagnostics.get("category"))
    message = (
        as_str(body.get("message"))
        or inner_message
        or as_str(body.get("description"))
        or as_str(upstream.get("message"))
        or (body_excerpt[:200] if body_excerpt else None)
        or f"HTTP {status}"
    )
    if retry_after is None:
        retry_after = _reset_delay(body)
    kind = classify(status, code)
    if kind is ErrorKind.UNEXPECTED and not body and status < 500:
        kind = classify(status, None)
    return GatewayError(
        kind=kind,
        message=message,
        status=status,
        code=code,
        reason=reason,
        details=_details(body.get("details")),
        request_id=as_str(body.get("request_id")) or as_str(body.get("generation_id")),
        retry_after=retry_after,
        body=body,
        body_excerpt=body_excerpt,
    )


#: The longest wait a ``Retry-After`` or ``reset_at`` is read as (a day): honoured as given.
_MAX_WAIT = 86_400


def _reset_delay(body: JsonObject) -> float | None:
    """Seconds until ``reset_at`` when the body carries one (unix seconds), else ``None``."""
    import time

    from core.wire import parse_time

    reset_at = parse_time(body.get("reset_at"))
    if reset_at is None:
        return None
    delay = reset_at - time.time()
    return delay if 0 < delay <= _MAX_WAIT else None


def parse_retry_after(value: str | None) -> float | None:
    """Parse a ``Retry-After`` header (delta seconds or an HTTP date) into seconds."""
    if not value:
        return None
    seconds = as_int(value)
    if seconds is not None:
        return float(max(0, min(seconds, _MAX_WAIT)))
    from email.utils import parsedate_to_datetime

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, min(moment.timestamp() - time.time(), float(_MAX_WAIT)))
