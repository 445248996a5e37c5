"""Error classification: every status/code of API.md lands in the right kind."""

from __future__ import annotations

import pytest

from core.errors import ErrorKind, error_from_response, parse_retry_after


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (
            400,
            {"error": "validation_error", "details": [{"path": "duration", "message": "bad"}]},
            ErrorKind.VALIDATION,
        ),
        (400, {"error": "unsupported_model_or_endpoint"}, ErrorKind.VALIDATION),
        (401, {"error": "unauthorised", "reason": "key revoked"}, ErrorKind.AUTH),
        (402, {"error": "insufficient_funds"}, ErrorKind.INSUFFICIENT_FUNDS),
        (403, {"error": "guardrail_blocked"}, ErrorKind.POLICY_BLOCK),
        (403, {"error": "provider_refused"}, ErrorKind.POLICY_BLOCK),
        (404, {"error": "not_found"}, ErrorKind.NOT_FOUND),
        (409, {"error": "not_ready"}, ErrorKind.NOT_READY),
        (429, {"error": "key_limit_exceeded"}, ErrorKind.RATE_LIMITED),
        (
            501,
            {"error": "not_implemented_yet", "reason": "video_cancellation_disabled"},
            ErrorKind.FEATURE_DISABLED,
        ),
        (
            502,
            {
                "error": "upstream_error",
                "provider_failure_diagnostics": {"category": "provider_access_missing"},
            },
            ErrorKind.TRANSIENT,
        ),
        (500, {"error": "gateway_error"}, ErrorKind.TRANSIENT),
        (503, {}, ErrorKind.TRANSIENT),
        (504, {}, ErrorKind.TRANSIENT),
        (418, {}, ErrorKind.UNEXPECTED),
    ],
)
def test_classification(status: int, body: dict[str, object], kind: ErrorKind) -> None:
    assert error_from_response(status, body).kind is kind


def test_details_name_the_field_when_the_path_is_a_list_of_keys() -> None:
    """Schema validators report where as a list (``["input_references", 0, "image_url"]``)."""
    error = error_from_response(
        400,
        {
            "error": "validation_error",
            "details": [
                {"path": ["input_references", 0, "image_url", "url"], "message": "must use https"},
                {"path": [], "message": "Unrecognized key(s) in object: 'metadata'"},
            ],
        },
    )
    assert error.details == (
        "input_references.0.image_url.url: must use https",
        "Unrecognized key(s) in object: 'metadata'",
    )
    assert "input_references.0.image_url.url: must use https" in error.summary


def test_details_given_as_a_map_of_fields_name_each_field() -> None:
    """``details`` as ``{field: [messages]}``, or a schema's ``{formErrors, fieldErrors}``."""
    flat = error_from_response(
        400, {"error": "validation_error", "details": {"duration": ["must be 4, 6 or 8"]}}
    )
    assert flat.details == ("duration: must be 4, 6 or 8",)
    nested = error_from_response(
        400,
        {
            "error": "validation_error",
            "details": {"formErrors": [], "fieldErrors": {"aspect_ratio": ["Invalid enum value"]}},
        },
    )
    assert nested.details == ("aspect_ratio: Invalid enum value",)
    assert "aspect_ratio: Invalid enum value" in nested.summary


def test_error_object_form_and_request_ids() -> None:
    error = error_from_response(
        400,
        {
            "error": {"code": "validation_error", "message": "duration must be 4, 6 or 8"},
            "generation_id": "G-9",
        },
    )
    assert error.code == "validation_error"
    assert error.message == "duration must be 4, 6 or 8"
    assert error.request_id == "G-9"


def test_details_and_summary_are_plain_words() -> None:
    error = error_from_response(
        400,
        {
            "error": "validation_error",
            "details": [{"path": "duration", "message": "must be 4, 6 or 8"}],
        },
    )
    assert error.details == ("duration: must be 4, 6 or 8",)
    assert error.summary.startswith("The gateway rejected the request's parameters")
    assert "duration: must be 4, 6 or 8" in error.summary


def test_upstream_diagnostics_become_reason() -> None:
    error = error_from_response(
        502,
        {
            "error": "upstream_error",
            "provider_failure_diagnostics": {"category": "provider_access_missing"},
        },
    )
    assert error.reason == "provider_access_missing" and error.retryable


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_reset_at_in_body_gives_a_delay() -> None:
    import time

    error = error_from_response(
        429, {"error": "key_limit_exceeded", "reset_at": int(time.time()) + 30}
    )
    assert error.retry_after is not None and 25 <= error.retry_after <= 31


def test_the_summary_gives_the_gateways_words_not_a_machine_reason() -> None:
    coded = error_from_response(
        501,
        {
            "error": "not_implemented_yet",
            "reason": "video_api_feature_disabled",
            "message": "The video API is not enabled for this account.",
        },
    )
    assert "The video API is not enabled for this account." in coded.summary
    assert "video_api_feature_disabled" not in coded.summary
    worded = error_from_response(401, {"error": "unauthorised", "reason": "key revoked"})
    assert worded.summary.endswith("key revoked")
