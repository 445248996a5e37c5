"""Tolerant parsing: odd shapes degrade, never crash; everything the gateway sent is kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.wire import (
    RemoteStatus,
    decode_json,
    parse_error,
    parse_job,
    parse_job_page,
    parse_status,
    parse_time,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
JOB_KEYS = [
    "id", "status", "progress", "created_at", "started_at", "completed_at", "seconds",
    "poll_after_seconds", "outputs", "error", "billing", "usage", "asset", "download_url",
    "expires_at", "content_url", "model", "provider",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_parse_job_never_raises_on_any_json(value: Any) -> None:
    job = parse_job(value)
    assert isinstance(job.status, RemoteStatus)
    assert job.progress is None or 0 <= job.progress <= 100


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({}, optional={key: json_values for key in JOB_KEYS}))
def test_parse_job_never_raises_on_job_shaped_objects(value: dict[str, Any]) -> None:
    job = parse_job(value)
    assert job.raw == value
    assert job.output_count >= 1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decode_json_never_raises_on_bytes(body: bytes) -> None:
    value, reason = decode_json(body)
    assert (reason is None) or value is None


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_parse_job_page_never_raises(value: Any) -> None:
    page = parse_job_page(value)
    assert isinstance(page.has_more, bool)


def test_status_aliases_and_unknown() -> None:
    assert parse_status("in_progress") is RemoteStatus.PROCESSING
    assert parse_status("PENDING") is RemoteStatus.PROCESSING
    assert parse_status("canceled") is RemoteStatus.CANCELLED
    assert parse_status("rendering") is RemoteStatus.OTHER
    assert parse_status(42) is RemoteStatus.OTHER


def test_times_as_int_iso_and_null() -> None:
    assert parse_time(1_764_000_000) == 1_764_000_000
    assert parse_time("2026-08-01T12:00:00Z") == parse_time("2026-08-01T12:00:00+00:00")
    assert parse_time("2026-08-01T12:00:00.123Z") is not None
    assert parse_time(1_764_000_000_000) == 1_764_000_000  # milliseconds
    assert parse_time(None) is None and parse_time("soon") is None


def test_error_as_string_object_and_absent() -> None:
    assert parse_error("boom") is not None and parse_error("boom").message == "boom"  # type: ignore[union-attr]
    err = parse_error({"code": "content_policy", "message": "Refused"})
    assert (
        err is not None and err.code == "content_policy" and err.text == "content_policy: Refused"
    )
    assert parse_error(None) is None and parse_error({}) is None


def test_seconds_string_or_number_and_outputs() -> None:
    job = parse_job(
        {
            "id": "G-1",
            "status": "completed",
            "seconds": "8",
            "outputs": [{"index": 1, "mime_type": "video/mp4", "bytes_available": "2048"}, "junk"],
            "billing": {"state": "settled", "cost": "0.15"},
            "brand_new_field": {"x": 1},
        }
    )
    assert job.seconds == 8.0
    assert len(job.outputs) == 1 and job.outputs[0].index == 1
    assert job.outputs[0].bytes_available == 2048
    assert job.cost == "0.15" and job.billing_state == "settled"
    assert job.raw["brand_new_field"] == {"x": 1}


def test_empty_outputs_fall_back_to_one_output() -> None:
    job = parse_job({"id": "G-1", "status": "completed", "outputs": []})
    assert job.outputs == () and job.output_count == 1


def test_empty_outputs_with_several_samples_count_every_sample() -> None:
    job = parse_job({"id": "G-1", "status": "completed", "outputs": [], "sample_count": "3"})
    assert job.output_count == 3
    listed = parse_job(
        {"id": "G-1", "status": "completed", "sample_count": 3, "outputs": [{"index": 0}]}
    )
    assert listed.output_count == 1  # the outputs listed win over the echoed count


def test_a_missing_status_is_read_from_lifecycle_status() -> None:
    assert (
        parse_job({"id": "G-1", "lifecycle_status": "succeeded"}).status is RemoteStatus.COMPLETED
    )
    job = parse_job({"id": "G-1", "status": "", "lifecycle_status": "running"})
    assert job.status is RemoteStatus.PROCESSING and job.status_text == "running"
    both = parse_job({"id": "G-1", "status": "queued", "lifecycle_status": "succeeded"})
    assert both.status is RemoteStatus.QUEUED  # ``status`` wins when it is there


@pytest.mark.parametrize("flag", [True, "true", "TRUE", 1])
def test_has_more_as_a_string_or_number_still_pages_on(flag: object) -> None:
    page = parse_job_page({"data": [{"id": "G-1"}], "has_more": flag})
    assert page.has_more and page.last_id == "G-1"


@pytest.mark.parametrize("flag", [False, "false", 0, None, "maybe", 2])
def test_has_more_false_or_unreadable_stops(flag: object) -> None:
    assert not parse_job_page({"data": [{"id": "G-1"}], "has_more": flag}).has_more


def test_truncated_json_is_reported_not_raised() -> None:
    value, reason = decode_json(b'{"id": "G-')
    assert value is None and reason is not None and "not valid JSON" in reason
    value, reason = decode_json(json.dumps({"a": 1}).encode())
    assert value == {"a": 1} and reason is None
