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
import logging
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any

from core.image_inputs import images_from_value
from core.jobs import (
    DownloadState,
    Job,
    JobFailure,
    JobParams,
    JobState,
    SetKind,
)
from core.journal_fields import (
    failure_from_dict,
    read_count,
    read_download,
    read_enum,
    read_extra,
    read_flag,
    read_rating,
    read_set_kind,
    read_str,
    read_text,
    read_texts,
)
from core.journal_json import from_json, sqlite_text, to_json
from core.wire import JsonObject, as_float, as_int

#: Keys a job record must have; everything else is optional.
REQUIRED_KEYS = ("local_id", "params", "created_at")
#: Keys ``params`` must have (the create request's required fields).
REQUIRED_PARAMS = ("model", "prompt", "duration")

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


_OPTIONAL: dict[str, Callable[[object], object]] = {
    "remote_id": read_str,
    "remote_status": read_str,
    "progress": as_int,
    "submitted_at": as_float,
    "finished_at": as_float,
    "poll_after": as_float,
    "next_poll_at": as_float,
    "failures": read_count,
    "problem": read_str,
    "failure": failure_from_dict,
    "request_ids": read_texts,
    "billing_state": read_str,
    "cost": read_str,
    "estimated_nanos": read_count,
    "settled_nanos": read_count,
    "outputs": read_count,
    "download": read_download,
    "files": read_texts,
    "download_problem": read_str,
    "output_path": read_str,
    "parent_id": read_str,
    "set_id": read_str,
    "set_kind": read_set_kind,
    "reviewed": read_flag,
    "review_note": read_text,
    "auth_blocked": read_flag,
    "deleted_on_server": read_flag,
    "rating": read_rating,
    "kept": read_flag,
    "gateway": read_str,
    "not_found": read_count,
    "not_found_since": as_float,
    "reconcile_attempts": read_count,
    "reconciled": read_flag,
    "uncertain_match": read_flag,
    "foreign_ids": read_texts,
    "download_error": read_str,
    "download_retryable": read_flag,
    "download_attempts": read_count,
    "download_retry_at": as_float,
    "bill_checks": read_count,
    "gateway_label": read_str,
    "poll_error": read_extra,
    "export_error": read_str,
    "extra": read_extra,
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
    "aspect_ratio": read_text,
    "resolution": read_str,
    "negative_prompt": read_text,
    "seed": as_int,
    "generate_audio": lambda value: value if isinstance(value, bool) else None,
    "sample_count": as_int,
    "enhance_prompt": lambda value: value if isinstance(value, bool) else None,
    "size": read_str,
    "images": images_from_value,
    "image_field": read_str,
}
_PARAMS_HANDLED = {*_OPTIONAL_PARAMS, *REQUIRED_PARAMS}
_PARAMS_PASS_THROUGH = tuple(name for name in _PARAM_FIELDS if name not in _PARAMS_HANDLED)


def params_from_dict(value: object) -> JobParams:
    """Tolerant :class:`JobParams`; raises ValueError naming missing or unusable required keys."""
    if not isinstance(value, dict):
        raise ValueError("job record has no 'params' object")
    required: dict[str, Any] = {
        "model": read_text(value.get("model")),
        "prompt": read_text(value.get("prompt")),
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
    state = read_enum(JobState, data.get("state"), JobState.WAITING)
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
        *bill_columns(job),
    )


def bill_columns(job: Job) -> Row:
    """The bill's column values (``journal_schema.BILL_COLUMNS``): what the ledger reads."""
    return (
        None if job.billing_state is None else sqlite_text(job.billing_state),
        None if job.cost is None else sqlite_text(job.cost),
        _sqlite_int(job.estimated_nanos),
        _sqlite_int(job.settled_nanos),
        sqlite_text(job.gateway_label),
    )


def _sqlite_int(value: int | None) -> int | None:
    """``value`` if SQLite can store it as an integer, else ``None``.

    The row is still written either way; the document keeps the value.
    """
    if value is None or not -(2**63) <= value < 2**63:
        return None
    return value


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
        state=read_enum(JobState, state, JobState.WAITING),
        created_at=created,
        updated_at=float(updated_at) if isinstance(updated_at, int | float) else created,
        remote_id=remote_id if isinstance(remote_id, str) else None,
        problem=f"The journal record for this job could not be read ({reason}).",
        extra={"journal_unreadable_doc": doc},
    )
