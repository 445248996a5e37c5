"""Tolerant readers of one stored job field each: the value, or None for "use the default".

A journal document may be old, new or odd; each reader accepts the shapes that field has
had and degrades anything else (see ``core.journal_codec``).
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from core.jobs import MAX_RATING, Cause, DownloadState, JobFailure, SetKind
from core.wire import JsonObject, as_int, as_str

E = TypeVar("E", bound=Enum)


def read_enum(kind: type[E], value: object, default: E) -> E:
    """``kind(value)`` for a known string value, else ``default``."""
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    return default


def read_flag(value: object) -> bool | None:
    """A bool from a bool or 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def read_str(value: object) -> str | None:
    """A string as is (empty included) or a number as text."""
    return value if isinstance(value, str) else as_str(value)


def read_text(value: object) -> str | None:
    """A string, empty ones included."""
    return value if isinstance(value, str) else None


def read_count(value: object) -> int | None:
    """A non-negative integer."""
    number = as_int(value)
    return number if number is not None and number >= 0 else None


def read_texts(value: object) -> tuple[str, ...] | None:
    """A tuple of strings from a list (odd items dropped) or a single string."""
    if isinstance(value, str):
        return (value,) if value else None
    if not isinstance(value, list | tuple):
        return None
    items = (read_str(item) for item in value)
    return tuple(item for item in items if item is not None)


def read_rating(value: object) -> int | None:
    """A rating 0-5 (0: not rated); anything else means "not rated"."""
    number = as_int(value)
    return number if number is not None and 0 <= number <= MAX_RATING else None


def read_extra(value: object) -> JsonObject | None:
    """A JSON object."""
    return value if isinstance(value, dict) else None


def read_download(value: object) -> DownloadState:
    """A download state; unknown values mean nothing is on disk yet."""
    return read_enum(DownloadState, value, DownloadState.NONE)


def read_set_kind(value: object) -> SetKind | None:
    """A set kind; an unknown one (from newer code) keeps the job's set without a kind."""
    if isinstance(value, str):
        try:
            return SetKind(value)
        except ValueError:
            return None
    return None


def failure_from_dict(value: object) -> JobFailure | None:
    """A :class:`JobFailure` from a stored dict; unknown cause -> ``UNKNOWN``, odd -> None."""
    if not isinstance(value, dict):
        return None
    return JobFailure(
        cause=read_enum(Cause, value.get("cause"), Cause.UNKNOWN),
        code=read_str(value.get("code")),
        message=read_str(value.get("message")),
        provider=read_str(value.get("provider")),
        http_status=as_int(value.get("http_status")),
        request_id=read_str(value.get("request_id")),
        raw=value.get("raw"),
    )
