"""Reads failure evidence out of any error payload: job errors, gateway envelopes, records.

The gateway's error answers are one flat object (``error``, ``status_code``, ``error_origin``,
``reason``, ``message``, ``details``, ``provider``, ``upstream_status``,
``upstream_error{code,message}``, ``provider_failure_diagnostics{category,hint}``) where
``error`` may itself be an object; a failed job's ``error`` is an object ``{code, message}``
or a plain string; providers add their own shapes (a Google error's ``status``, a MiniMax
``base_resp``). Everything here accepts any JSON value and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import GatewayError
from core.wire import JsonObject, as_int, as_object, as_str

#: A bare identifier (``moderation_blocked``, ``PERMISSION_DENIED``, ``1026``) is a code;
#: anything with spaces is a message.
_CODE_LIKE = re.compile(r"[A-Za-z0-9_.:\-]{1,80}")
#: The envelope fields a status-check failure keeps with the job (see :func:`poll_error_record`).
_ENVELOPE_KEYS = (
    "error",
    "status_code",
    "error_type",
    "error_origin",
    "reason",
    "message",
    "description",
    "details",
    "provider",
    "upstream_status",
    "upstream_error",
    "provider_failure_diagnostics",
    "generation_id",
    "request_id",
)
_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class FailureEvidence:
    """Everything the gateway said about one failure, flattened (hashable, JSON-free)."""

    status: str | None = None
    code: str | None = None
    message: str | None = None
    http_status: int | None = None
    category: str | None = None
    hint: str | None = None
    reason: str | None = None
    origin: str | None = None
    provider: str | None = None
    upstream_status: int | None = None
    upstream_code: str | None = None
    upstream_message: str | None = None
    parameter: str | None = None
    #: The job still runs: this came from its status checks, not from the job itself.
    while_running: bool = False

    @property
    def provider_words(self) -> tuple[str, ...]:
        """The gateway's and provider's own words, verbatim, one labelled line each."""
        lines: list[str] = []
        if self.code:
            lines.append(f"Code: {self.code}")
        if self.message:
            lines.append(f"Message: {self.message}")
        if self.reason and self.reason != self.code:
            lines.append(f"Reason: {self.reason}")
        if self.upstream_code or self.upstream_message:
            said = ": ".join(bit for bit in (self.upstream_code, self.upstream_message) if bit)
            status = f" (HTTP {self.upstream_status})" if self.upstream_status else ""
            lines.append(f"Provider said{status}: {said}")
        if self.category or self.hint:
            text = " - ".join(bit for bit in (self.category, self.hint) if bit)
            lines.append(f"Provider diagnostics: {text}")
        if self.provider:
            lines.append(f"Provider: {self.provider}")
        if self.http_status is not None:
            lines.append(f"HTTP status: {self.http_status}")
        return tuple(lines)


def _text(value: object) -> str | None:
    text = as_str(value)
    if text is None:
        return None
    text = text.strip()
    return text[:_TEXT_LIMIT] if text else None


def _http(value: object) -> int | None:
    number = as_int(value) if not isinstance(value, str) or value.strip().isdigit() else None
    return number if number is not None and 100 <= number <= 599 else None


def _is_code(text: str) -> bool:
    return _CODE_LIKE.fullmatch(text) is not None


def _parameter(details: object) -> str | None:
    """The parameter the first detail names (``field``, ``param`` or ``path``)."""
    items = details if isinstance(details, list) else [details]
    for item in items[:20]:
        if not isinstance(item, dict):
            continue
        for key in ("field", "param", "parameter", "path", "loc"):
            value = item.get(key)
            if isinstance(value, list):
                value = ".".join(str(bit) for bit in value if isinstance(bit, str | int))
            name = _text(value)
            if name and name != "body":
                return name
    return None


def _error_fields(error: object) -> dict[str, Any]:
    """Code, message and HTTP status from an ``error`` field: a string or an object."""
    if isinstance(error, str):
        text = _text(error)
        if text is None:
            return {}
        return {"code": text} if _is_code(text) else {"message": text}
    item = as_object(error)
    if not item:
        return {}
    raw_code = item.get("code")
    # A Google error says ``{code: 403, status: "PERMISSION_DENIED"}``: the word is the code.
    code = _text(item.get("status")) if isinstance(item.get("status"), str) else None
    code = code or _text(raw_code) or _text(item.get("type"))
    found: dict[str, Any] = {
        "code": code,
        "message": _text(item.get("message")) or _text(item.get("detail")),
    }
    if code != _text(raw_code):
        found["http_status"] = _http(raw_code)
    return found


def _fields(payload: object) -> dict[str, Any]:
    """The evidence fields of one payload (see the module docstring for the shapes)."""
    if isinstance(payload, str):
        return _error_fields(payload)
    doc = as_object(payload)
    if not doc:
        return {}
    if isinstance(doc.get("body"), dict) and "kind" in doc:  # a recorded GatewayError
        inner = _fields(doc["body"])
        for key, value in (
            ("code", _text(doc.get("code"))),
            ("message", _text(doc.get("message"))),
            ("reason", _text(doc.get("reason"))),
            ("http_status", _http(doc.get("status")) or _http(doc.get("http_status"))),
        ):
            if inner.get(key) is None:
                inner[key] = value
        return inner
    found = _error_fields(doc.get("error"))
    if not found.get("code"):
        found["code"] = _text(doc.get("code")) or _text(doc.get("type"))
    message = (
        _text(doc.get("message"))
        or _text(doc.get("description"))
        or _text(doc.get("detail"))
        or _text(doc.get("error_message"))
    )
    if message and found.get("message") and message != found["message"]:
        message = f"{message} ({found['message']})"
    found["message"] = message or found.get("message")
    minimax = as_object(doc.get("base_resp"))
    if minimax and as_int(minimax.get("status_code")) not in (None, 0):
        found["code"] = found.get("code") or _text(minimax.get("status_code"))
        found["message"] = found.get("message") or _text(minimax.get("status_msg"))
    status = doc.get("status")
    found["status"] = _text(status) if isinstance(status, str) else None
    found["http_status"] = (
        found.get("http_status") or _http(doc.get("status_code")) or _http(doc.get("http_status"))
    )
    if found["http_status"] is None and isinstance(status, int):
        found["http_status"] = _http(status)
    upstream = doc.get("upstream_error")
    upstream_fields = _error_fields(upstream) if upstream is not None else {}
    diagnostics = doc.get("provider_failure_diagnostics")
    found.update(
        reason=_text(doc.get("reason")),
        origin=_text(doc.get("error_origin")),
        provider=_text(doc.get("provider")),
        upstream_status=_http(doc.get("upstream_status")),
        upstream_code=upstream_fields.get("code"),
        upstream_message=upstream_fields.get("message"),
        category=_text(as_object(diagnostics).get("category")) or _text(diagnostics),
        hint=_text(as_object(diagnostics).get("hint")),
        parameter=_parameter(doc.get("details")),
    )
    return found


def evidence_from_payload(
    payload: object,
    *,
    http_status: int | None = None,
    status: str | None = None,
    while_running: bool = False,
    override: Mapping[str, object] | None = None,
    **known: object,
) -> FailureEvidence:
    """Evidence from any error payload.

    ``known`` fields (e.g. ``code``) fill what it lacks and ``override`` fields replace what
    it says.
    """
    try:
        found = _fields(payload)
    except (RecursionError, TypeError, ValueError):  # a hostile shape: keep what is known
        found = {}
    for key, value in known.items():
        if found.get(key) is None:
            found[key] = value
    if override:
        found.update(override)
    return _build(
        found,
        http_status=http_status if http_status is not None else found.get("http_status"),
        status=status if status is not None else found.get("status"),
        while_running=while_running,
    )


def evidence_from_fields(
    status: object,
    code: object,
    message: object,
    diagnostics: object,
    http_status: object,
    more: Mapping[str, object],
) -> FailureEvidence:
    """Evidence from separate fields of any JSON type (odd types are dropped)."""
    upstream = _error_fields(more.get("upstream_error"))
    found: dict[str, Any] = {
        "code": _text(code),
        "message": _text(message),
        "category": _text(as_object(diagnostics).get("category")) or _text(diagnostics),
        "hint": _text(as_object(diagnostics).get("hint")),
        "upstream_code": _text(more.get("upstream_code")) or upstream.get("code"),
        "upstream_message": _text(more.get("upstream_message")) or upstream.get("message"),
    }
    for key in ("reason", "origin", "provider", "parameter"):
        found[key] = _text(more.get(key))
    found["upstream_status"] = _http(more.get("upstream_status"))
    return _build(
        found,
        http_status=_http(http_status),
        status=_text(status),
        while_running=more.get("while_running") is True,
    )


def _build(
    found: Mapping[str, Any], *, http_status: object, status: object, while_running: bool
) -> FailureEvidence:
    def text(key: str) -> str | None:
        return _text(found.get(key))

    return FailureEvidence(
        status=_text(status),
        code=text("code"),
        message=text("message"),
        http_status=_http(http_status),
        category=text("category"),
        hint=text("hint"),
        reason=text("reason"),
        origin=text("origin"),
        provider=text("provider"),
        upstream_status=_http(found.get("upstream_status")),
        upstream_code=text("upstream_code"),
        upstream_message=text("upstream_message"),
        parameter=text("parameter"),
        while_running=while_running,
    )


def poll_error_record(error: GatewayError) -> JsonObject | None:
    """What a failed status check keeps with the job: the gateway's error answer, if any.

    ``None`` for a transport failure (nothing answered); otherwise the HTTP status, code,
    message and the envelope's fields, verbatim (the provider's words included).
    """
    if error.status is None:
        return None
    return {
        "http_status": error.status,
        "code": error.code,
        "message": error.message,
        "body": {key: error.body[key] for key in _ENVELOPE_KEYS if key in error.body},
    }


def problem_text(error: GatewayError) -> str:
    """A failed call in plain words plus the gateway's and the provider's own words.

    ``GatewayError.summary`` shows the reason code alone when there is one; a status check
    the provider keeps refusing must also show its message and the provider's.
    """
    parts = [error.summary]
    if error.message and error.message not in parts[0]:
        parts.append(error.message)
    upstream = _error_fields(error.body.get("upstream_error"))
    said = ": ".join(bit for bit in (upstream.get("code"), upstream.get("message")) if bit)
    if said:
        parts.append(f"provider said: {said}")
    category = _text(as_object(error.body.get("provider_failure_diagnostics")).get("category"))
    if category and category not in parts[0]:
        parts.append(f"diagnostics: {category}")
    return "; ".join(parts)
