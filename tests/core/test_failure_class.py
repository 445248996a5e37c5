"""The failure classifier, driven by a table of real-looking gateway and provider payloads."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.failure_class import FailureClass, classify, classify_failure
from core.failure_evidence import evidence_from_payload

POLICY, INVALID, ACCESS = FailureClass.POLICY, FailureClass.INVALID, FailureClass.ACCESS
LIMIT, PROVIDER, ENDED = FailureClass.LIMIT, FailureClass.PROVIDER, FailureClass.ENDED

VEO_RAI = (
    "The prompt could not be submitted. This prompt contains sensitive words that violate "
    "Google's Responsible AI practices. Try rephrasing the prompt. If you think this was an "
    "error, send feedback. Support codes: 17301594"
)
SORA_MODERATION = "Your request was blocked by our moderation system."
PERMISSION = "Permission denied on resource project reelgate-prod (or it may not exist)."


def upstream_envelope(**over: Any) -> dict[str, Any]:
    """A 502 ``upstream_error`` as the gateway sends it when the provider refuses."""
    body: dict[str, Any] = {
        "error": "upstream_error",
        "status_code": 502,
        "error_type": "upstream_error",
        "error_origin": "upstream",
        "reason": "provider_status_check_failed",
        "message": "The provider refused the status check",
        "details": [],
        "generation_id": "G-01KUPSTREAM",
        "request_id": "req_0123",
        "provider": "google-vertex",
        "upstream_status": 403,
        "upstream_error": {"code": "PERMISSION_DENIED", "message": PERMISSION},
        "provider_failure_diagnostics": {
            "category": "provider_access_missing",
            "hint": "The gateway's credentials lack access to this model.",
        },
    }
    body.update(over)
    return body


# (name, payload, HTTP status, job status, class, variant heading)
TABLE: list[tuple[str, object, int | None, str | None, FailureClass, str]] = [
    # -- blocked by a safety or content policy
    (
        "sora moderation, error object",
        {
            "id": "G-1",
            "status": "failed",
            "error": {"code": "moderation_blocked", "message": SORA_MODERATION},
        },
        None,
        "failed",
        POLICY,
        "Blocked by a safety or content policy",
    ),
    ("sora moderation, bare code string", "moderation_blocked", None, "failed", POLICY, ""),
    ("sora moderation, message string", SORA_MODERATION, None, "failed", POLICY, ""),
    ("veo RAI text as a plain string", VEO_RAI, None, "failed", POLICY, ""),
    (
        "veo operation error with gRPC code 3 and RAI reasons",
        {
            "code": 3,
            "message": "Video generation failed: raiMediaFilteredReasons: ['Unable to "
            "show generated videos that include children.']",
        },
        None,
        "failed",
        POLICY,
        "",
    ),
    (
        "google INVALID_ARGUMENT that is really a safety block",
        {
            "error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "The prompt violates our usage guidelines.",
            }
        },
        400,
        None,
        POLICY,
        "",
    ),
    (
        "gateway guardrail envelope",
        {
            "error": "guardrail_blocked",
            "status_code": 403,
            "error_origin": "gateway",
            "reason": "prompt_blocked_by_guardrail",
            "message": "Blocked",
        },
        403,
        None,
        POLICY,
        "",
    ),
    (
        "openai-style content_policy_violation",
        {
            "error": {
                "type": "invalid_request_error",
                "code": "content_policy_violation",
                "message": "Your prompt may contain content that is not allowed.",
            }
        },
        400,
        None,
        POLICY,
        "",
    ),
    (
        "minimax sensitive input (base_resp 1026)",
        {
            "task_id": "1",
            "status": "Fail",
            "base_resp": {"status_code": 1026, "status_msg": "input new_sensitive"},
        },
        None,
        None,
        POLICY,
        "",
    ),
    (
        "a 403 provider refusal without words",
        {"error": "provider_refused", "status_code": 403, "error_origin": "upstream"},
        403,
        None,
        POLICY,
        "",
    ),
    # -- invalid request
    (
        "gateway validation_error naming the parameter",
        {
            "error": "validation_error",
            "status_code": 400,
            "message": "Invalid request",
            "details": [{"path": ["duration"], "message": "must be one of 4, 6, 8"}],
        },
        400,
        None,
        INVALID,
        "The request was invalid",
    ),
    (
        "job error INVALID_ARGUMENT",
        {"code": "INVALID_ARGUMENT", "message": "Aspect ratio 21:9 is not available."},
        None,
        "failed",
        INVALID,
        "",
    ),
    (
        "google error object with status word",
        {
            "error": {
                "code": 400,
                "message": "Request contains an invalid argument.",
                "status": "INVALID_ARGUMENT",
            }
        },
        None,
        None,
        INVALID,
        "",
    ),
    (
        "minimax invalid params (2013)",
        {"base_resp": {"status_code": 2013, "status_msg": "invalid params, duration"}},
        None,
        None,
        INVALID,
        "",
    ),
    # -- provider access missing
    (
        "502 upstream PERMISSION_DENIED with diagnostics",
        upstream_envelope(),
        502,
        None,
        ACCESS,
        "Provider access missing",
    ),
    (
        "envelope whose error is an object, 403 PERMISSION_DENIED",
        {
            **upstream_envelope(status_code=403),
            "error": {"code": "PERMISSION_DENIED", "message": PERMISSION},
        },
        403,
        None,
        ACCESS,
        "Provider access missing",
    ),
    (
        "diagnostics category alone",
        {
            "error": "upstream_error",
            "status_code": 502,
            "provider_failure_diagnostics": {"category": "provider_access_missing"},
        },
        502,
        None,
        ACCESS,
        "",
    ),
    (
        "gateway 401",
        {"error": "unauthorised", "reason": "key revoked"},
        401,
        None,
        ACCESS,
        "API key refused",
    ),
    (
        "501 video API not enabled",
        {
            "error": "not_implemented_yet",
            "status_code": 501,
            "error_origin": "gateway",
            "reason": "video_api_feature_disabled",
            "message": "Not available",
        },
        501,
        None,
        ACCESS,
        "Video API not enabled",
    ),
    (
        "501 video API paused",
        {"error": "not_implemented_yet", "reason": "video_api_temporarily_disabled"},
        501,
        None,
        ACCESS,
        "Video API paused",
    ),
    # -- out of credit / rate limited
    (
        "402 insufficient funds",
        {"error": "insufficient_funds", "message": "Balance too low"},
        402,
        None,
        LIMIT,
        "Out of credit",
    ),
    (
        "429 key limit",
        {"error": "key_limit_exceeded", "reset_at": 1},
        429,
        None,
        LIMIT,
        "Rate limited",
    ),
    (
        "job error RESOURCE_EXHAUSTED",
        {
            "code": "RESOURCE_EXHAUSTED",
            "message": "Quota exceeded for aiplatform.googleapis.com/"
            "online_prediction_requests_per_base_model",
        },
        None,
        "failed",
        LIMIT,
        "Rate limited",
    ),
    (
        "minimax insufficient balance (1008)",
        {"base_resp": {"status_code": 1008, "status_msg": "insufficient balance"}},
        None,
        None,
        LIMIT,
        "Out of credit",
    ),
    (
        "502 upstream rate limited",
        upstream_envelope(
            upstream_status=429,
            upstream_error={"code": "429", "message": "slow"},
            provider_failure_diagnostics={"category": "rate_limited"},
        ),
        502,
        None,
        LIMIT,
        "",
    ),
    # -- provider fault or timeout
    (
        "job error DEADLINE_EXCEEDED",
        {
            "code": "DEADLINE_EXCEEDED",
            "message": "Deadline expired before operation could complete.",
        },
        None,
        "failed",
        PROVIDER,
        "Provider timeout",
    ),
    (
        "job error internal",
        {"code": "internal", "message": "Internal error encountered."},
        None,
        "failed",
        PROVIDER,
        "Provider fault",
    ),
    (
        "gateway 500",
        {"error": "gateway_error", "reason": "internal_error"},
        500,
        None,
        PROVIDER,
        "Provider fault",
    ),
    (
        "502 upstream server_error",
        upstream_envelope(
            upstream_status=500,
            upstream_error={"code": "INTERNAL", "message": "backend"},
            provider_failure_diagnostics={"category": "server_error"},
        ),
        502,
        None,
        PROVIDER,
        "",
    ),
    (
        "demo fail string",
        "provider_error: The provider failed to render the video.",
        None,
        "failed",
        PROVIDER,
        "Provider fault",
    ),
    (
        "gemini overloaded",
        {"error": {"code": 503, "status": "UNAVAILABLE", "message": "The model is overloaded."}},
        503,
        None,
        PROVIDER,
        "",
    ),
    # -- expired, cancelled, gone
    ("expired job", {"id": "G-1", "status": "expired"}, None, "expired", ENDED, "Expired"),
    ("cancelled job", {"id": "G-1", "status": "cancelled"}, None, "cancelled", ENDED, "Cancelled"),
    ("404 not found", {"error": "not_found"}, 404, None, ENDED, "Gone on the server"),
]


@pytest.mark.parametrize(
    ("name", "payload", "http", "status", "expected", "heading"),
    TABLE,
    ids=[row[0] for row in TABLE],
)
def test_table(
    name: str,
    payload: object,
    http: int | None,
    status: str | None,
    expected: FailureClass,
    heading: str,
) -> None:
    verdict = classify(evidence_from_payload(payload, http_status=http, status=status))
    assert verdict.failure_class is expected, name
    if heading:
        assert verdict.heading == heading
    assert verdict.cause and verdict.next_step


def test_policy_says_rephrase_and_that_resubmitting_unchanged_is_blocked() -> None:
    verdict = classify(evidence_from_payload(VEO_RAI, status="failed"))
    assert "Rephrase" in verdict.next_step and "unchanged" in verdict.next_step
    assert f"Message: {VEO_RAI}" in verdict.provider_words


def test_invalid_names_the_parameter_to_change() -> None:
    payload = {"error": "validation_error", "details": [{"field": "seconds", "message": "bad"}]}
    verdict = classify(evidence_from_payload(payload, http_status=400))
    assert verdict.next_step == "Change `seconds`, then resubmit."


def test_feature_disabled_never_says_check_the_allowed_values() -> None:
    verdict = classify_failure(
        None, "not_implemented_yet", "Not available", None, 501, reason="video_api_feature_disabled"
    )
    assert verdict.cause == "The video API is not enabled for this account."
    assert "allowed values" not in verdict.cause_line


def test_provider_words_are_kept_verbatim_beside_the_class() -> None:
    verdict = classify(evidence_from_payload(upstream_envelope(), http_status=502))
    words = "\n".join(verdict.provider_words)
    assert "Message: The provider refused the status check" in words
    assert f"Provider said (HTTP 403): PERMISSION_DENIED: {PERMISSION}" in words
    assert "Provider diagnostics: provider_access_missing - The gateway's credentials" in words
    assert "Reason: provider_status_check_failed" in words


def test_classify_failure_takes_the_five_fields_directly() -> None:
    verdict = classify_failure(
        "failed", "PERMISSION_DENIED", PERMISSION, {"category": "provider_access_missing"}, 403
    )
    assert verdict.failure_class is ACCESS
    assert classify_failure("failed", None, SORA_MODERATION).failure_class is POLICY
    assert classify_failure(None, None, None, None, 429).failure_class is LIMIT


def test_a_running_job_whose_checks_are_refused_is_not_called_failed() -> None:
    evidence = evidence_from_payload(upstream_envelope(), http_status=502, while_running=True)
    verdict = classify(evidence)
    assert verdict.failure_class is ACCESS
    assert "may still finish" in verdict.cause
    assert "cannot reach" not in verdict.cause_line.lower()


ODD_SHAPES: list[object] = [
    None,
    42,
    3.5,
    math.nan,
    True,
    [],
    [1, 2],
    "",
    " ",
    {},
    {"weird": {"nested": [1]}},
    {"error": 12},
    {"error": ["a", {"b": 1}]},
    {"error": {"code": {"x": 1}, "message": [1]}},
    {"status_code": "abc", "upstream_error": "plain text", "provider_failure_diagnostics": 7},
    {"details": "not a list", "upstream_status": "4o3", "base_resp": []},
    {"kind": "network", "body": {}},
    "x" * 100_000,
]


@pytest.mark.parametrize("payload", ODD_SHAPES, ids=[repr(p)[:30] for p in ODD_SHAPES])
def test_unknown_shapes_are_a_provider_fault_never_a_crash(payload: object) -> None:
    verdict = classify(evidence_from_payload(payload, status="failed"))
    assert verdict.failure_class is PROVIDER


def test_odd_types_in_the_direct_form_are_dropped() -> None:
    verdict = classify_failure(["x"], {"a": 1}, 42, "provider_access_missing", "502")  # type: ignore[arg-type]
    assert verdict.failure_class is ACCESS


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "error",
                    "code",
                    "message",
                    "status",
                    "status_code",
                    "reason",
                    "upstream_error",
                    "upstream_status",
                    "provider_failure_diagnostics",
                    "details",
                    "base_resp",
                    "body",
                    "kind",
                    "x",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(payload=JSON, http=st.none() | st.integers(-5, 700))
def test_any_json_gets_a_class(payload: object, http: int | None) -> None:
    verdict = classify(evidence_from_payload(payload, http_status=http))
    assert isinstance(verdict.failure_class, FailureClass)
    assert verdict.cause and verdict.heading
