"""Job <-> journal document: exact round trips, and tolerance of old, new and odd records."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.jobs import Cause, DownloadState, Job, JobFailure, JobParams, JobState, SetKind
from core.journal import job_from_dict, job_to_dict
from core.journal_codec import CODEC_KEY, REQUIRED_KEYS, job_from_json, job_to_doc
from core.journal_json import from_json, to_json

MINIMAL: dict[str, Any] = {
    "local_id": "L-1",
    "params": {"model": "veo-3", "prompt": "a kite", "duration": 8, "aspect_ratio": "16:9"},
    "created_at": 1_000.0,
}
OPTIONAL_KEYS = sorted({f.name for f in dataclasses.fields(Job)} - set(REQUIRED_KEYS))

json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
json_scalars |= st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.text(max_size=30)
maybe_text = st.none() | texts
maybe_float = st.none() | st.floats(allow_nan=False, allow_infinity=False)
maybe_int = st.none() | st.integers(min_value=-(2**62), max_value=2**62)

failures = st.builds(
    JobFailure,
    cause=st.sampled_from(Cause),
    code=maybe_text,
    message=maybe_text,
    provider=maybe_text,
    http_status=maybe_int,
    request_id=maybe_text,
    raw=json_values,
)
params = st.builds(
    JobParams,
    model=texts,
    prompt=texts,
    duration=st.integers(min_value=0, max_value=600),
    aspect_ratio=texts,
    resolution=maybe_text,
    negative_prompt=maybe_text,
    seed=maybe_int,
    generate_audio=st.none() | st.booleans(),
    sample_count=maybe_int,
    enhance_prompt=st.none() | st.booleans(),
)
jobs = st.builds(
    Job,
    local_id=st.text(min_size=1, max_size=20),
    params=params,
    state=st.sampled_from(JobState),
    created_at=st.floats(allow_nan=False, allow_infinity=False),
    updated_at=st.floats(allow_nan=False, allow_infinity=False),
    remote_id=st.none() | st.text(min_size=1, max_size=20),
    remote_status=st.none() | st.text(min_size=1, max_size=20),
    progress=maybe_int,
    submitted_at=maybe_float,
    finished_at=maybe_float,
    poll_after=maybe_float,
    next_poll_at=maybe_float,
    failures=st.integers(min_value=0, max_value=10_000),
    problem=st.none() | st.text(min_size=1, max_size=20),
    failure=st.none() | failures,
    request_ids=st.lists(st.text(min_size=1, max_size=10), max_size=3).map(tuple),
    billing_state=st.none() | st.text(min_size=1, max_size=10),
    cost=st.none() | st.text(min_size=1, max_size=10),
    estimated_nanos=st.none() | st.integers(min_value=0, max_value=10**15),
    settled_nanos=st.none() | st.integers(min_value=0, max_value=10**15),
    outputs=st.integers(min_value=0, max_value=8),
    download=st.sampled_from(DownloadState),
    files=st.lists(st.text(min_size=1, max_size=10), max_size=3).map(tuple),
    download_problem=st.none() | st.text(min_size=1, max_size=20),
    output_path=st.none() | st.text(min_size=1, max_size=20),
    parent_id=st.none() | st.text(min_size=1, max_size=20),
    set_id=st.none() | st.text(min_size=1, max_size=20),
    set_kind=st.none() | st.sampled_from(SetKind),
    reviewed=st.booleans(),
    review_note=texts,
    auth_blocked=st.booleans(),
    deleted_on_server=st.booleans(),
    rating=st.integers(min_value=0, max_value=5),
    kept=st.booleans(),
    gateway_label=st.sampled_from(("default", "demo")),
    poll_error=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    export_error=st.none() | st.text(min_size=1, max_size=20),
    # Not the keys older versions used for what are typed fields now (they move on reading).
    extra=st.dictionaries(
        st.text(max_size=8).filter(lambda key: key not in ("gateway", "poll_error")),
        json_values,
        max_size=3,
    ),
)


def test_every_job_field_has_a_decoder() -> None:
    from core import journal_codec

    assert journal_codec._PASS_THROUGH == ()  # a new Job field needs a tolerant decoder
    assert journal_codec._PARAMS_PASS_THROUGH == ()
    assert journal_codec._FAST


@settings(max_examples=200)
@given(jobs)
def test_round_trip_through_dict_and_stored_document(job: Job) -> None:
    data = job_to_dict(job)
    text = json.dumps(data, allow_nan=False)  # JSON-safe: plain JSON, enums as strings
    assert job_from_dict(json.loads(text)) == job
    assert data["state"] == job.state.value and data["download"] == job.download.value
    assert job_from_json(job_to_doc(job)) == job  # the fast path


def test_a_document_from_before_the_bill_fields_reads_fast_with_no_amounts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core import journal_codec

    job = Job(
        local_id="L-old",
        params=JobParams(model="veo-3", prompt="a kite", duration=8),
        state=JobState.COMPLETED,
        created_at=1_000.0,
        updated_at=1_000.0,
        billing_state="settled",
        cost="0.40",
    )
    data = json.loads(job_to_doc(job))
    for later in ("estimated_nanos", "settled_nanos", "rating", "kept"):
        del data[later]  # as codec 2 wrote it before these fields
    slow = journal_codec.job_from_dict

    def refuse(data: object) -> Job:
        raise AssertionError("an older codec-2 document took the slow path")

    monkeypatch.setattr(journal_codec, "job_from_dict", refuse)
    read = job_from_json(json.dumps(data))
    assert read == job and read.estimated_nanos is None and read.settled_nanos is None
    monkeypatch.setattr(journal_codec, "job_from_dict", slow)
    assert job_from_dict(data) == job


LEGACY_EXTRA = {
    "gateway": "demo",
    "poll_error": {"http_status": 502, "body": {"error": {"code": "provider_error"}}},
    "export_error": "Could not save into /videos: it is a file",
    "reconciled": True,
    "uncertain_match": True,
    "reconcile_attempts": 2,
    "download_error": "network",
    "download_retryable": False,
    "webhook": "kept",
}


def legacy_document() -> dict[str, Any]:
    """A codec-2 document as versions before the typed fields wrote it: state in ``extra``."""
    data = json.loads(job_to_doc(job_from_dict(MINIMAL)))
    for field in (
        "gateway_label",
        "poll_error",
        "export_error",
        "reconciled",
        "uncertain_match",
        "reconcile_attempts",
        "download_error",
        "download_retryable",
    ):
        del data[field]
    data["extra"] = dict(LEGACY_EXTRA)
    return data


@pytest.mark.parametrize("marked", [True, False])
def test_state_older_versions_kept_in_extra_is_read_into_typed_fields(marked: bool) -> None:
    data = legacy_document()
    if not marked:
        del data["_codec"]  # the tolerant path reads it the same way
    job = job_from_json(json.dumps(data))
    assert job.gateway_label == "demo"
    assert job.poll_error == LEGACY_EXTRA["poll_error"]
    assert job.export_error == LEGACY_EXTRA["export_error"]
    assert (job.reconciled, job.uncertain_match, job.reconcile_attempts) == (True, True, 2)
    assert (job.download_error, job.download_retryable) == ("network", False)
    assert job.extra == {"webhook": "kept"}  # the old keys leave extra
    assert job_from_json(job_to_doc(job)) == job  # and are written as fields from now on


def test_a_typed_value_wins_over_a_leftover_extra_key() -> None:
    data = legacy_document()
    data["gateway_label"] = "default"
    data["download_retryable"] = True
    for job in (job_from_dict(data), job_from_json(json.dumps(data))):
        assert job.gateway_label == "default" and job.download_retryable
        assert "gateway" not in job.extra and "download_retryable" not in job.extra


def test_minimal_record_takes_every_default() -> None:
    job = job_from_dict(MINIMAL)
    assert job == Job(
        local_id="L-1",
        params=JobParams(model="veo-3", prompt="a kite", duration=8, aspect_ratio="16:9"),
        state=JobState.WAITING,  # no state recorded: poll and let the server say
        created_at=1_000.0,
        updated_at=1_000.0,
    )


def test_unknown_keys_and_enum_values_are_handled_safely() -> None:
    job = job_from_dict(
        {
            **MINIMAL,
            "state": "paused_by_a_future_version",
            "download": "teleported",
            "failure": {"cause": "cosmic_rays", "code": 7, "http_status": "503"},
            "brand_new_field": {"x": 1},
            "params": {**MINIMAL["params"], "camera": "dolly", "seed": "12"},
        }
    )
    assert job.state is JobState.WAITING
    assert job.download is DownloadState.NONE
    assert job.failure == JobFailure(cause=Cause.UNKNOWN, code="7", http_status=503)
    assert job.params.seed == 12
    assert not hasattr(job, "brand_new_field")


def test_wrong_types_fall_back_to_defaults() -> None:
    job = job_from_dict(
        {
            **MINIMAL,
            "created_at": "1000.5",
            "updated_at": "yesterday",
            "failures": -3,
            "outputs": "two",
            "request_ids": "G-1",
            "files": [1, None, "a.mp4", {"x": 1}],
            "reviewed": "yes",
            "auth_blocked": 1,
            "extra": ["not", "an", "object"],
            "failure": "it broke",
            "review_note": None,
        }
    )
    assert (job.created_at, job.updated_at) == (1000.5, 1000.5)
    assert (job.failures, job.outputs) == (0, 1)
    assert job.request_ids == ("G-1",)
    assert job.files == ("1", "a.mp4")
    assert (job.reviewed, job.auth_blocked) == (False, True)
    assert (job.extra, job.failure, job.review_note) == ({}, None, "")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"params": MINIMAL["params"], "created_at": 1.0}, "local_id"),
        ({**MINIMAL, "local_id": ""}, "local_id"),
        ({**MINIMAL, "created_at": None}, "created_at"),
        ({**MINIMAL, "created_at": "soon"}, "created_at"),
        ({**MINIMAL, "params": "veo-3"}, "params"),
        ({**MINIMAL, "params": {"model": "veo-3", "prompt": "x"}}, "lack a usable duration"),
        ({**MINIMAL, "params": {**MINIMAL["params"], "duration": "long"}}, "duration"),
    ],
)
def test_missing_required_keys_raise_a_clear_value_error(
    broken: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        job_from_dict(broken)


def test_non_objects_raise_value_error() -> None:
    for value in (None, [], "job", 3):
        with pytest.raises(ValueError):
            job_from_dict(value)  # type: ignore[arg-type]
    for text in ("not json", "[1, 2]", "null"):
        with pytest.raises(ValueError):
            job_from_json(text)


@settings(max_examples=300)
@given(
    optional=st.dictionaries(st.sampled_from(OPTIONAL_KEYS) | st.text(max_size=10), json_values),
    params_extra=st.dictionaries(
        st.sampled_from(["resolution", "negative_prompt", "seed", "generate_audio", "sample_count"])
        | st.text(max_size=10),
        json_values,
    ),
    marked=st.booleans(),
)
def test_arbitrary_optional_values_never_crash(
    optional: dict[str, Any], params_extra: dict[str, Any], marked: bool
) -> None:
    data = {**optional, **MINIMAL}
    data["params"] = {**params_extra, **MINIMAL["params"]}
    if marked:
        data[CODEC_KEY] = 2  # claims to be written by this codec: the fast path must cope
    job = job_from_dict(data)
    assert (job.local_id, job.created_at, job.params.prompt) == ("L-1", 1_000.0, "a kite")
    assert isinstance(job.state, JobState) and isinstance(job.download, DownloadState)
    assert isinstance(job.request_ids, tuple) and isinstance(job.extra, dict)
    via_json = job_from_json(json.dumps(data))
    assert via_json.local_id == "L-1" and isinstance(via_json.state, JobState)


@settings(max_examples=300)
@given(
    data=st.dictionaries(st.sampled_from([*REQUIRED_KEYS, *OPTIONAL_KEYS]), json_values),
)
def test_any_record_either_decodes_or_raises_value_error(data: dict[str, Any]) -> None:
    try:
        job = job_from_dict(data)
    except ValueError as exc:
        assert str(exc)  # says what is missing
    else:
        assert isinstance(job.local_id, str) and job.local_id
        assert math.isfinite(job.created_at)


def test_to_json_never_raises_and_from_json_keeps_text() -> None:
    circular: list[object] = []
    circular.append(circular)
    for value in (b"\xff\x00", {1: "int key", (1, 2): "tuple key"}, {1, 2}, circular, object()):
        assert isinstance(json.loads(to_json(value)), object)
    assert from_json(to_json("plain text")) == "plain text"
    assert from_json("not json at all") == "not json at all"
    assert from_json(None) is None


#: Text with the awkward characters over-represented: lone surrogates, quotes, backslashes.
any_text = st.text(
    alphabet=st.sampled_from(["a", "é", "\\", '"', "\ud800", "\udfff", "\ud83d", "🐦", "\x00"])
    | st.characters(exclude_categories=()),
    max_size=30,
)


@settings(max_examples=200)
@given(
    st.recursive(
        any_text | json_scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
        max_leaves=8,
    )
)
def test_to_json_output_is_storable_and_parses_back_exactly(value: object) -> None:
    text = to_json(value)
    text.encode("utf-8")  # SQLite needs valid UTF-8, lone surrogates included
    assert from_json(text) == value
