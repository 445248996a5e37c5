"""Tolerant parsing of the gateway's JSON into typed values, keeping everything it sent.

The video API is beta: fields appear and disappear, statuses grow new values, times come
as unix seconds or ISO strings and errors as strings or objects. Every function here
accepts arbitrary JSON (or bytes) and never raises on odd shapes: unknown or malformed
values degrade to ``None`` and the raw document is always kept for diagnostics.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.money import parse_billing

JsonObject = dict[str, Any]
#: The most outputs one job can have (the API's ``sample_count`` range is 1-4).
_MAX_SAMPLES = 4


class RemoteStatus(StrEnum):
    """The gateway's job status, normalised; ``OTHER`` keeps polling with the raw text shown."""

    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    OTHER = "other"


_STATUS_ALIASES: dict[str, RemoteStatus] = {
    "queued": RemoteStatus.QUEUED,
    "submitted": RemoteStatus.QUEUED,
    "processing": RemoteStatus.PROCESSING,
    "in_progress": RemoteStatus.PROCESSING,
    "pending": RemoteStatus.PROCESSING,
    "running": RemoteStatus.PROCESSING,
    "completed": RemoteStatus.COMPLETED,
    "succeeded": RemoteStatus.COMPLETED,
    "failed": RemoteStatus.FAILED,
    "cancelled": RemoteStatus.CANCELLED,
    "canceled": RemoteStatus.CANCELLED,
    "expired": RemoteStatus.EXPIRED,
}


def parse_status(value: object) -> RemoteStatus:
    """Map a raw status (any JSON value) to a :class:`RemoteStatus`; unknown -> ``OTHER``."""
    if isinstance(value, str):
        return _STATUS_ALIASES.get(value.strip().lower(), RemoteStatus.OTHER)
    return RemoteStatus.OTHER


def as_str(value: object) -> str | None:
    """Return a non-empty string, or a number rendered as text; anything else -> ``None``."""
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def as_int(value: object) -> int | None:
    """Return an int from an int, an integral float or a numeric string; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return int(number) if math.isfinite(number) else None
    return None


def as_float(value: object) -> float | None:
    """Return a finite float from a number or numeric string; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an int beyond float range (JSON allows any length)
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def parse_time(value: object) -> float | None:
    """Parse unix seconds (int/float/numeric string, ms tolerated) or ISO-8601 into unix seconds."""
    number = as_float(value)
    if number is not None:
        if number > 1e11:  # milliseconds
            number /= 1000.0
        return number if 0 <= number < 1e11 else None
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.timestamp()
        except (OverflowError, OSError, ValueError):
            return None
    return None


def as_bool(value: object) -> bool | None:
    """``True``/``False`` from a JSON boolean, ``"true"``/``"false"`` or 1/0; else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def as_object(value: object) -> JsonObject:
    """Return the value if it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class RemoteError:
    """A job-level error as the gateway reported it: code and message, raw kept verbatim."""

    code: str | None
    message: str | None
    raw: object

    @property
    def text(self) -> str:
        """The provider's detail verbatim, for display."""
        if self.code and self.message:
            return f"{self.code}: {self.message}"
        return self.message or self.code or json.dumps(self.raw, ensure_ascii=False)


def parse_error(value: object) -> RemoteError | None:
    """Parse a job's ``error`` field: a string, an object ``{code, message}``, or absent."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, str):
        return RemoteError(code=None, message=value, raw=value)
    if isinstance(value, dict):
        code = as_str(value.get("code")) or as_str(value.get("type"))
        message = as_str(value.get("message")) or as_str(value.get("detail"))
        return RemoteError(code=code, message=message, raw=value)
    return RemoteError(code=None, message=as_str(value), raw=value)


@dataclass(frozen=True)
class RemoteOutput:
    """One generated output (``outputs[]`` entry, or synthesised from top-level URLs)."""

    index: int
    mime_type: str | None = None
    bytes_available: int | None = None
    content_url: str | None = None
    download_url: str | None = None
    expires_at: float | None = None


@dataclass(frozen=True)
class RemoteJob:
    """A video job as one gateway response described it; ``raw`` keeps the whole document."""

    id: str | None
    status: RemoteStatus
    status_text: str | None
    progress: int | None = None
    model: str | None = None
    provider: str | None = None
    seconds: float | None = None
    size: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    poll_after_seconds: float | None = None
    content_url: str | None = None
    download_url: str | None = None
    expires_at: float | None = None
    outputs: tuple[RemoteOutput, ...] = ()
    error: RemoteError | None = None
    billing_state: str | None = None
    cost: str | None = None
    estimated_nanos: int | None = None
    settled_nanos: int | None = None
    asset_bytes: int | None = None
    asset_duration: float | None = None
    raw: JsonObject = field(default_factory=dict)

    @property
    def output_count(self) -> int:
        """How many outputs to download (at least one once completed).

        An empty ``outputs`` means "use the top-level URLs", not "one video": a job made with
        ``sample_count`` n still has outputs 0..n-1 behind ``content?index=n``.
        """
        if self.outputs:
            return len(self.outputs)
        return max(1, self.sample_count or 1)

    @property
    def sample_count(self) -> int | None:
        """The ``sample_count`` the job document echoes (1-4), if any."""
        count = as_int(self.raw.get("sample_count"))
        return count if count is not None and 1 <= count <= _MAX_SAMPLES else None


def _parse_output(value: object, position: int) -> RemoteOutput | None:
    item = as_object(value)
    if not item:
        return None
    index = as_int(item.get("index"))
    return RemoteOutput(
        index=index if index is not None and index >= 0 else position,
        mime_type=as_str(item.get("mime_type")),
        bytes_available=as_int(item.get("bytes_available")),
        content_url=as_str(item.get("content_url")),
        download_url=as_str(item.get("download_url")),
        expires_at=parse_time(item.get("expires_at")),
    )


def _cost(document: JsonObject) -> tuple[str | None, str | None]:
    billing = as_object(document.get("billing"))
    usage = as_object(document.get("usage"))
    state = as_str(billing.get("state"))
    for candidate in (
        billing.get("settled_user_cost"),
        billing.get("cost"),
        billing.get("total_cost"),
        billing.get("estimated_user_cost"),
        billing.get("estimated_cost"),
        usage.get("cost"),
        usage.get("total_cost"),
    ):
        text = as_str(candidate)
        if text is not None:
            return state, text
    return state, None


def parse_job(document: object) -> RemoteJob:
    """Turn any JSON value into a :class:`RemoteJob`; never raises.

    A non-object yields a job with no id and status ``OTHER``; callers decide whether a
    missing id is acceptable (it is not, for a create response).
    """
    doc = as_object(document)
    raw_status = doc.get("status")
    if as_str(raw_status) is None:
        # ``status`` missing (fields come and go): the lifecycle word says the same thing.
        raw_status = doc.get("lifecycle_status")
    status_text = as_str(raw_status)
    progress = as_int(doc.get("progress"))
    if progress is not None:
        progress = min(100, max(0, progress))
    poll_after = as_float(doc.get("poll_after_seconds"))
    if poll_after is not None and poll_after < 0:
        poll_after = None
    outputs_raw = doc.get("outputs")
    outputs: list[RemoteOutput] = []
    if isinstance(outputs_raw, list):
        for position, item in enumerate(outputs_raw):
            parsed = _parse_output(item, position)
            if parsed is not None:
                outputs.append(parsed)
    asset = as_object(doc.get("asset"))
    billing_state, cost = _cost(doc)
    bill = parse_billing(doc)
    job_id = as_str(doc.get("id")) or as_str(doc.get("generation_id"))
    return RemoteJob(
        id=job_id,
        status=parse_status(raw_status),
        status_text=status_text,
        progress=progress,
        model=as_str(doc.get("model")),
        provider=as_str(doc.get("provider")),
        seconds=as_float(doc.get("seconds")),
        size=as_str(doc.get("size")),
        created_at=parse_time(doc.get("created_at")),
        started_at=parse_time(doc.get("started_at")),
        completed_at=parse_time(doc.get("completed_at")),
        poll_after_seconds=poll_after,
        content_url=as_str(doc.get("content_url")),
        download_url=as_str(doc.get("download_url")),
        expires_at=parse_time(doc.get("expires_at")),
        outputs=tuple(outputs),
        error=parse_error(doc.get("error")),
        billing_state=billing_state,
        cost=cost,
        estimated_nanos=bill.estimated_nanos,
        settled_nanos=bill.settled_nanos,
        asset_bytes=as_int(asset.get("bytes")),
        asset_duration=as_float(asset.get("duration_seconds")),
        raw=doc,
    )


@dataclass(frozen=True)
class JobPage:
    """One page of ``GET /videos``."""

    jobs: tuple[RemoteJob, ...]
    has_more: bool
    last_id: str | None
    raw: JsonObject = field(default_factory=dict)


def parse_job_page(document: object) -> JobPage:
    """Parse a list response; tolerate a bare list or missing fields."""
    if isinstance(document, list):
        items: list[object] = list(document)
        doc: JsonObject = {}
    else:
        doc = as_object(document)
        data = doc.get("data")
        items = list(data) if isinstance(data, list) else []
    jobs = tuple(parse_job(item) for item in items if isinstance(item, dict))
    last_id = as_str(doc.get("last_id")) or (jobs[-1].id if jobs else None)
    has_more = as_bool(doc.get("has_more")) is True
    return JobPage(jobs=jobs, has_more=has_more, last_id=last_id, raw=doc)


def decode_json(body: bytes) -> tuple[object | None, str | None]:
    """Decode a body as JSON: ``(value, None)`` on success, ``(None, reason)`` otherwise."""
    if not body:
        return None, "empty body"
    try:
        return json.loads(body.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "body is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return None, f"body is not valid JSON ({exc.msg} at position {exc.pos})"
    except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit limit
        return None, f"body is not usable JSON ({exc})"
    except RecursionError:
        return None, "body nests too deeply"
