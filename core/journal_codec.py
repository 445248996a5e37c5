"""Job <-> JSON-safe dict for the journal, tolerant of records written by older or newer code.

The journal stores each job as one JSON document (``jobs.doc``). Reading must never fail
on a document that is merely old, new or odd: unknown keys are ignored, missing optional
keys take their defaults, wrong-typed optional values degrade to the default, and unknown
enum values map to a safe choice (an unknown state becomes ``WAITING`` so the job is polled
again and the server tells the truth). Only a record without the three things a job cannot
exist without (``local_id``, ``params`` with its required fields, ``created_at``) is
refused, with a :class:`ValueError` that says what is missing.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, TypeVar

from core.image_inputs import images_from_value
from core.jobs import (
    MAX_RATING,
    Cause,
    DownloadState,
    Job,
    JobFailure,
    JobParams,
    JobState,
    SetKind,
)
from core.wire import JsonObject, as_float, as_int, as_str

#: Keys a job record must have; everything else is optional.
REQUIRED_KEYS = ("local_id", "params", "created_at")
#: Keys ``params`` must have (the create request's required fields).
REQUIRED_PARAMS = ("model", "prompt", "duration")

E = TypeVar("E", bound=Enum)

logger = logging.getLogger(__name__)

_JOB_FIELDS = tuple(f.name for f in dataclasses.fields(Job))
_PARAM_FIELDS = tuple(f.name for f in dataclasses.fields(JobParams))


# ---------------------------------------------------------------------------------------------
# Encoding


def _encode(value: object) -> object:
    """One Job field value in JSON-safe form."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, JobParams | JobFailure):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    return value


def job_to_dict(job: Job) -> JsonObject:
    """A JSON-safe dict of every field of ``job`` (enums as strings, tuples as lists).

    Fields are enumerated from the dataclass, so a field added to :class:`Job` later is
    written too instead of being silently dropped.
    """
    return {name: _encode(getattr(job, name)) for name in _JOB_FIELDS}


def _json_default(value: object) -> object:
    """Best-effort JSON form of values ``json`` cannot write (bytes, sets, dataclasses...)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, set | frozenset):
        return [_json_safe(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_safe(dataclasses.asdict(value))
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return _json_safe(to_dict())
    return repr(value)


def _json_safe(value: object, depth: int = 0) -> object:
    """A deep copy of ``value`` that ``json.dumps`` accepts (string keys, no cycles)."""
    if depth > 64:
        return repr(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_safe(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item, depth + 1) for item in value]
    return _json_safe(_json_default(value), depth + 1)


def sqlite_text(text: str) -> str:
    """``text`` as SQLite can store it: lone surrogates (which UTF-8 cannot encode) replaced.

    They do occur: ``json.loads`` turns a ``"\\ud800"`` escape in a response into one.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def to_json(value: object) -> str:
    """Serialise any value to JSON text that SQLite can store; never raises."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    except (TypeError, ValueError, RecursionError):
        try:
            text = json.dumps(_json_safe(value), ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            text = json.dumps(repr(value))
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates only occur inside JSON strings, where "\\udxxx" is exactly their
        # JSON escape: the text stays valid JSON and parses back to the same value.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def from_json(text: str | None) -> object:
    """Parse JSON text written by :func:`to_json`; text that is not JSON is returned as is."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


# ---------------------------------------------------------------------------------------------
# Tolerant decoding: each decoder returns the value, or None for "use the field's default".


def _enum(kind: type[E], value: object, default: E) -> E:
    """``kind(value)`` for a known string value, else ``default``."""
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    return default


def _flag(value: object) -> bool | None:
    """A bool from a bool or 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _str(value: object) -> str | None:
    """A string as is (empty included) or a number as text."""
    return value if isinstance(value, str) else as_str(value)


def _text(value: object) -> str | None:
    """A string, empty ones included."""
    return value if isinstance(value, str) else None


def _count(value: object) -> int | None:
    """A non-negative integer."""
    number = as_int(value)
    return number if number is not None and number >= 0 else None


def _texts(value: object) -> tuple[str, ...] | None:
    """A tuple of strings from a list (odd items dropped) or a single string."""
    if isinstance(value, str):
        return (value,) if value else None
    if not isinstance(value, list | tuple):
        return None
    items = (_str(item) for item in value)
    return tuple(item for item in items if item is not None)


def _rating(value: object) -> int | None:
    """A rating 0-5 (0: not rated); anything else means "not rated"."""
    number = as_int(value)
    return number if number is not None and 0 <= number <= MAX_RATING else None


def _extra(value: object) -> JsonObject | None:
    """A JSON object."""
    return value if isinstance(value, dict) else None


def _download(value: object) -> DownloadState:
    """A download state; unknown values mean nothing is on disk yet."""
    return _enum(DownloadState, value, DownloadState.NONE)


def _set_kind(value: object) -> SetKind | None:
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
        cause=_enum(Cause, value.get("cause"), Cause.UNKNOWN),
        code=_str(value.get("code")),
        message=_str(value.get("message")),
        provider=_str(value.get("provider")),
        http_status=as_int(value.get("http_status")),
        request_id=_str(value.get("request_id")),
        raw=value.get("raw"),
    )


_OPTIONAL: dict[str, Callable[[object], object]] = {
    "remote_id": _str,
    "remote_status": _str,
    "progress": as_int,
    "submitted_at": as_float,
    "finished_at": as_float,
    "poll_after": as_float,
    "next_poll_at": as_float,
    "failures": _count,
    "problem": _str,
    "failure": failure_from_dict,
    "request_ids": _texts,
    "billing_state": _str,
    "cost": _str,
    "estimated_nanos": _count,
    "settled_nanos": _count,
    "outputs": _count,
    "download": _download,
    "files": _texts,
    "download_problem": _str,
    "output_path": _str,
    "parent_id": _str,
    "set_id": _str,
    "set_kind": _set_kind,
    "reviewed": _flag,
    "review_note": _text,
    "auth_blocked": _flag,
    "deleted_on_server": _flag,
    "rating": _rating,
    "kept": _flag,
    "gateway": _str,
    "not_found": _count,
    "not_found_since": as_float,
    "reconcile_attempts": _count,
    "reconciled": _flag,
    "uncertain_match": _flag,
    "foreign_ids": _texts,
    "download_error": _str,
    "download_retryable": _flag,
    "download_attempts": _count,
    "download_retry_at": as_float,
    "bill_checks": _count,
    "gateway_label": _str,
    "poll_error": _extra,
    "export_error": _str,
    "extra": _extra,
}
#: ``extra`` keys older versions kept for what are typed fields now -> the field each went to.
_LEGACY_EXTRA_KEYS = {
    "reconcile_attempts": "reconcile_attempts",
    "reconciled": "reconciled",
    "uncertain_match": "uncertain_match",
    "download_error": "download_error",
    "download_retryable": "download_retryable",
    "gateway": "gateway_label",
    "poll_error": "poll_error",
    "export_error": "export_error",
}
_HANDLED = {*_OPTIONAL, "local_id", "params", "state", "created_at", "updated_at"}
#: Job fields this module has no decoder for (added after it was written): passed through.
_PASS_THROUGH = tuple(name for name in _JOB_FIELDS if name not in _HANDLED)

_OPTIONAL_PARAMS: dict[str, Callable[[object], object]] = {
    "aspect_ratio": _text,
    "resolution": _str,
    "negative_prompt": _text,
    "seed": as_int,
    "generate_audio": lambda value: value if isinstance(value, bool) else None,
    "sample_count": as_int,
    "enhance_prompt": lambda value: value if isinstance(value, bool) else None,
    "size": _str,
    "images": images_from_value,
    "image_field": _str,
}
_PARAMS_HANDLED = {*_OPTIONAL_PARAMS, *REQUIRED_PARAMS}
_PARAMS_PASS_THROUGH = tuple(name for name in _PARAM_FIELDS if name not in _PARAMS_HANDLED)


def params_from_dict(value: object) -> JobParams:
    """Tolerant :class:`JobParams`; raises ValueError naming missing or unusable required keys."""
    if not isinstance(value, dict):
        raise ValueError("job record has no 'params' object")
    required: dict[str, Any] = {
        "model": _text(value.get("model")),
        "prompt": _text(value.get("prompt")),
        "duration": as_int(value.get("duration")),
    }
    bad = [name for name, item in required.items() if item is None]
    if bad:
        raise ValueError(f"job record params lack a usable {', '.join(bad)}")
    for name, decode in _OPTIONAL_PARAMS.items():
        required[name] = decode(value.get(name))
    for name in _PARAMS_PASS_THROUGH:
        if name in value:
            required[name] = value[name]
    return JobParams(**required)


def job_from_dict(data: Mapping[str, Any]) -> Job:
    """Rebuild a :class:`Job` from :func:`job_to_dict` output or any older/newer variant.

    Raises ``ValueError`` (with a message naming the problem) only when ``local_id``,
    ``params`` (model, prompt, duration) or ``created_at`` is missing or unusable.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"a job record must be a JSON object, not {type(data).__name__}")
    local_id = data.get("local_id")
    if not isinstance(local_id, str) or not local_id:
        raise ValueError("job record has no 'local_id' (a non-empty string)")
    created_at = as_float(data.get("created_at"))
    if created_at is None:
        raise ValueError(f"job record {local_id!r} has no usable 'created_at' (unix seconds)")
    try:
        params = params_from_dict(data.get("params"))
    except ValueError as exc:
        raise ValueError(f"job record {local_id!r}: {exc}") from None
    updated_at = as_float(data.get("updated_at"))
    # An unknown or missing state is polled again, and the server says what it is.
    state = _enum(JobState, data.get("state"), JobState.WAITING)
    values: dict[str, Any] = {
        "local_id": local_id,
        "params": params,
        "state": state,
        "created_at": created_at,
        "updated_at": created_at if updated_at is None else updated_at,
    }
    for name, decode in _OPTIONAL.items():
        raw = data.get(name)
        if raw is not None:
            value = decode(raw)
            if value is not None:
                values[name] = value
    for name in _PASS_THROUGH:
        if name in data:
            values[name] = data[name]
    _read_legacy_extra(values, {name for name in _LEGACY_EXTRA_KEYS.values() if name not in values})
    return Job(**values)


def _read_legacy_extra(values: dict[str, Any], missing: Iterable[str]) -> None:
    """Move the ``extra`` keys older versions used into the typed fields that replace them.

    Only fields the record lacks (``missing``) take the old value: a typed value written by
    a newer version wins. The old keys leave ``extra`` either way.
    """
    extra = values.get("extra")
    if not isinstance(extra, dict) or not any(key in extra for key in _LEGACY_EXTRA_KEYS):
        return
    lacking = set(missing)
    extra = dict(extra)
    for key, name in _LEGACY_EXTRA_KEYS.items():
        if key not in extra:
            continue
        raw = extra.pop(key)
        decoded = _OPTIONAL[name](raw) if raw is not None else None
        if decoded is not None and name in lacking:
            values[name] = decoded
    values["extra"] = extra


# ---------------------------------------------------------------------------------------------
# Stored documents. Those written by this module carry a mark; for them a fast path builds the
# Job without per-field checks (listing 100,000 jobs is dominated by this step), and any
# surprise in one falls back to the tolerant :func:`job_from_dict`.

#: Key and value marking a document written by :func:`job_to_doc` of this codec.
CODEC_KEY = "_codec"
CODEC = 2
_DOC_KEYS = frozenset({*_JOB_FIELDS, CODEC_KEY})
#: Fields added after codec 2 was first written: documents from before lack them and still
#: take the fast path, with the field's default.
_LATER_KEYS = frozenset(
    {
        "estimated_nanos",
        "settled_nanos",
        "rating",
        "kept",
        "gateway",
        "not_found",
        "not_found_since",
        "reconcile_attempts",
        "reconciled",
        "uncertain_match",
        "foreign_ids",
        "download_error",
        "download_retryable",
        "download_attempts",
        "download_retry_at",
        "bill_checks",
        "gateway_label",
        "poll_error",
        "export_error",
    }
)
_EARLIER_KEYS = _DOC_KEYS - _LATER_KEYS
_LATER_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Job) if f.name in _LATER_KEYS}
_PARAM_NAMES = frozenset(_PARAM_FIELDS)
_PARAM_REQUIRED = frozenset(REQUIRED_PARAMS)
_PARAM_DEFAULTS = {
    f.name: f.default for f in dataclasses.fields(JobParams) if f.default is not dataclasses.MISSING
}


def _plain(cls: type) -> bool:
    """Whether instances of a dataclass are fully described by their ``__dict__``."""
    return not hasattr(cls, "__post_init__") and not hasattr(cls, "__slots__")


#: The fast path needs to know every field and that construction does nothing else; if Job
#: or JobParams grow a field or a ``__post_init__``, it switches itself off.
_FAST = not _PASS_THROUGH and not _PARAMS_PASS_THROUGH and _plain(Job) and _plain(JobParams)


def job_to_doc(job: Job) -> str:
    """The JSON document stored for ``job``: :func:`job_to_dict` plus the codec mark."""
    data = job_to_dict(job)
    data[CODEC_KEY] = CODEC
    return to_json(data)


def _trusted(data: dict[str, Any]) -> Job | None:
    """A job from a document this codec wrote, or None if it does not look exactly like one.

    Instances are filled the way ``pickle`` restores a dataclass (``__new__`` plus
    ``__dict__``): about three times faster than calling the frozen constructor.
    """
    given = data.get("params")
    keys = data.keys()
    if keys != _DOC_KEYS and not (_EARLIER_KEYS <= keys <= _DOC_KEYS):
        return None
    if not isinstance(given, dict):
        return None
    if not (_PARAM_REQUIRED <= given.keys() <= _PARAM_NAMES):
        return None
    params = object.__new__(JobParams)
    params.__dict__.update(_PARAM_DEFAULTS)
    params.__dict__.update(given)
    if "images" in given:
        params.__dict__["images"] = images_from_value(given["images"])
    failure = data["failure"]
    if len(keys) != len(_DOC_KEYS):
        values = {**_LATER_DEFAULTS, **data}
        _read_legacy_extra(values, _DOC_KEYS - keys)
    else:
        values = dict(data)
    del values[CODEC_KEY]
    values["params"] = params
    values["state"] = JobState(data["state"])
    values["download"] = DownloadState(data["download"])
    values["request_ids"] = tuple(data["request_ids"])
    values["files"] = tuple(data["files"])
    values["foreign_ids"] = tuple(values["foreign_ids"])
    values["failure"] = None if failure is None else failure_from_dict(failure)
    set_kind = data["set_kind"]
    values["set_kind"] = None if set_kind is None else SetKind(set_kind)
    job = object.__new__(Job)
    job.__dict__.update(values)
    return job


def job_from_json(text: object) -> Job:
    """A job from a stored JSON document; ValueError if it is not a usable job record."""
    if not isinstance(text, str):
        raise ValueError(f"job record is {type(text).__name__}, not JSON text")
    data = from_json(text)
    if not isinstance(data, dict):
        raise ValueError("job record is not a JSON object")
    if _FAST and data.get(CODEC_KEY) == CODEC:
        try:
            job = _trusted(data)
        except (TypeError, ValueError):
            job = None  # edited or odd after all: the tolerant path decides
        if job is not None:
            return job
    return job_from_dict(data)


# ---------------------------------------------------------------------------------------------
# Jobs-table rows: the queryable columns derived from a job, and a job read back from a row.

#: A database row, as sqlite3 returns it.
Row = tuple[Any, ...]


def job_row(job: Job) -> Row:
    """The values for ``JOB_VALUES`` (journal_schema) in its column order."""
    remote_id = job.remote_id
    return (
        sqlite_text(job.local_id),
        None if remote_id is None else sqlite_text(remote_id),
        job.state.value,
        job.created_at,
        job.updated_at,
        sqlite_text(job.params.prompt),
        sqlite_text(job.params.model),
        int(job.reviewed),
        job.download.value,
        job_to_doc(job),
    )


def stand_in(row: Row, reason: str) -> Job:
    """A job rebuilt from a ``STAND_IN_COLUMNS`` row when its document is unreadable.

    It still appears in lists and is still polled if its remote id is known; saving it keeps
    the old document under ``extra["journal_unreadable_doc"]``.
    """
    doc, local_id, remote_id, state, created_at, updated_at, prompt, model = row
    logger.warning("journal record %s is unreadable (%s); using its columns", local_id, reason)
    created = float(created_at) if isinstance(created_at, int | float) else 0.0
    return Job(
        local_id=str(local_id),
        params=JobParams(model=str(model), prompt=str(prompt), duration=0, aspect_ratio=None),
        state=_enum(JobState, state, JobState.WAITING),
        created_at=created,
        updated_at=float(updated_at) if isinstance(updated_at, int | float) else created,
        remote_id=remote_id if isinstance(remote_id, str) else None,
        problem=f"The journal record for this job could not be read ({reason}).",
        extra={"journal_unreadable_doc": doc},
    )
