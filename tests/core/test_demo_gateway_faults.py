"""Demo gateway fault injection: every prompt keyword and the random FaultProfile."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from core.demo_gateway import DemoGateway, FaultProfile

from .conftest import AUTH, FakeClock


def create(http: requests.Session, gw: DemoGateway, prompt: str, **extra: Any) -> requests.Response:
    body = {"model": "demo/test-pattern", "prompt": prompt, "duration": 1, **extra}
    return http.post(gw.base_url + "/videos", json=body, timeout=10)


def make(http: requests.Session, gw: DemoGateway, prompt: str, **extra: Any) -> str:
    response = create(http, gw, prompt, **extra)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    return job_id


def status(http: requests.Session, gw: DemoGateway, job_id: str) -> requests.Response:
    return http.get(f"{gw.base_url}/videos/{job_id}", timeout=10)


# -- job outcome --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "final"),
    [
        ("[fail]", "failed"),
        ("[FAIL-STRING]", "failed"),
        ("[expire]", "expired"),
        ("[cancelled]", "cancelled"),
    ],
)
def test_terminal_outcomes(
    gw: DemoGateway, http: requests.Session, clock: FakeClock, keyword: str, final: str
) -> None:
    job_id = make(http, gw, f"a fox {keyword}")
    clock.advance(10)
    body = status(http, gw, job_id).json()
    assert body["status"] == final and body["billing"]["state"] == "void"
    assert body["download_url"] is None and body["asset"] is None
    if keyword == "[fail]":
        assert body["error"] == {"code": "provider_error", "message": body["error"]["message"]}
    elif final == "failed":
        assert isinstance(body["error"], str) and body["error"]
    content = http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10)
    assert content.status_code == 409 and content.json()["error"] == "not_ready"
    assert gw.stats[f"fault:{final}"] == 1


@pytest.mark.parametrize(
    ("keyword", "error"),
    [
        (
            "[moderation]",
            {
                "code": "moderation_blocked",
                "message": "Your request was blocked by our moderation system.",
            },
        ),
        (
            "[moderation-string]",
            "moderation_blocked: Your request was blocked by our moderation system.",
        ),
        ("[sensitive]", {"code": 1026, "message": "input new_sensitive"}),
        (
            "[deadline]",
            {
                "code": "DEADLINE_EXCEEDED",
                "message": "Deadline expired before operation could complete.",
            },
        ),
    ],
)
def test_failure_kinds_carry_the_providers_error_shape(
    gw: DemoGateway, http: requests.Session, clock: FakeClock, keyword: str, error: object
) -> None:
    job_id = make(http, gw, f"a fox {keyword}")
    clock.advance(10)
    body = status(http, gw, job_id).json()
    assert body["status"] == "failed" and body["error"] == error
    assert gw.stats[f"fault:{keyword[1:-1]}"] == 1


@pytest.mark.parametrize(
    ("keyword", "words"),
    [
        ("[rai]", "violate Google's Responsible AI practices"),
        ("[invalid-argument]", "INVALID_ARGUMENT"),
        ("[exhausted]", "RESOURCE_EXHAUSTED"),
    ],
)
def test_failure_kinds_name_the_providers_code_or_words(
    gw: DemoGateway, http: requests.Session, clock: FakeClock, keyword: str, words: str
) -> None:
    job_id = make(http, gw, f"a fox {keyword}")
    clock.advance(10)
    assert words in json.dumps(status(http, gw, job_id).json()["error"])


def test_unknown_status_then_completes(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = make(http, gw, "a fox [unknown-status]")
    clock.advance(2)
    assert status(http, gw, job_id).json()["status"] == "rendering_frames"
    clock.advance(5)
    assert status(http, gw, job_id).json()["status"] == "completed"


# -- create faults ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "code", "error", "reason"),
    [
        ("[policy]", 403, "guardrail_blocked", "prompt_blocked_by_guardrail"),
        ("[funds]", 402, "insufficient_funds", "insufficient_balance"),
        ("[disabled]", 501, "not_implemented_yet", "video_api_feature_disabled"),
        ("[paused]", 501, "not_implemented_yet", "video_api_temporarily_disabled"),
    ],
)
def test_create_refusals_create_nothing(
    gw: DemoGateway, http: requests.Session, keyword: str, code: int, error: str, reason: str
) -> None:
    response = create(http, gw, f"a fox {keyword}")
    assert response.status_code == code
    body = response.json()
    assert (body["error"], body["reason"]) == (error, reason)
    assert body["generation_id"].startswith("G-01K") and body["request_id"].startswith("req_")
    assert http.get(gw.base_url + "/videos", timeout=10).json()["data"] == []


def test_permission_refusal_is_an_envelope_whose_error_is_an_object(
    gw: DemoGateway, http: requests.Session
) -> None:
    response = create(http, gw, "a fox [permission]")
    assert response.status_code == 403
    body = response.json()
    assert body["error"]["code"] == "PERMISSION_DENIED" and body["error"]["message"]
    assert body["error_origin"] == "upstream" and body["upstream_status"] == 403
    assert body["upstream_error"]["code"] == "PERMISSION_DENIED"
    assert body["provider_failure_diagnostics"]["category"] == "provider_access_missing"
    assert body["provider_failure_diagnostics"]["hint"]
    assert http.get(gw.base_url + "/videos", timeout=10).json()["data"] == []


def test_drop_create_creates_the_job_but_never_answers(
    gw: DemoGateway, http: requests.Session
) -> None:
    with pytest.raises(requests.ConnectionError):
        create(http, gw, "a fox [drop-create]")
    listed = http.get(gw.base_url + "/videos", timeout=10).json()["data"]
    assert len(listed) == 1 and listed[0]["status"] == "queued"
    assert gw.stats["fault:drop-create"] == 1


def test_slow_create_answers_late_with_the_job(gw: DemoGateway, http: requests.Session) -> None:
    started = time.perf_counter()
    response = create(http, gw, "a fox [slow-create=0.3]")
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200 and gw.job_ids() == [response.json()["id"]]


# -- status faults ------------------------------------------------------------------------


def test_upstream_fails_twice_then_recovers(gw: DemoGateway, http: requests.Session) -> None:
    job_id = make(http, gw, "a fox [upstream]")
    for _ in range(2):
        response = status(http, gw, job_id)
        assert response.status_code == 502
        body = response.json()
        assert body["error"] == "upstream_error" and body["error_origin"] == "upstream"
        assert body["provider_failure_diagnostics"]["category"] == "provider_access_missing"
        assert body["upstream_error"]["code"] == "PERMISSION_DENIED"
        assert body["provider"] and body["upstream_status"] == 403
    assert status(http, gw, job_id).status_code == 200
    assert gw.stats["fault:upstream"] == 2


def test_429_with_and_without_retry_after(gw: DemoGateway, http: requests.Session) -> None:
    with_retry = make(http, gw, "a fox [429]")
    response = status(http, gw, with_retry)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert response.json()["error"] == "key_limit_exceeded" and "reset_at" in response.json()
    assert status(http, gw, with_retry).status_code == 200
    without = make(http, gw, "a fox [429-noretry]")
    response = status(http, gw, without)
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert gw.stats["fault:429"] == 1 and gw.stats["fault:429-noretry"] == 1


@pytest.mark.parametrize(("keyword", "code"), [("[500]", 500), ("[503]", 503)])
def test_server_errors_once(
    gw: DemoGateway, http: requests.Session, keyword: str, code: int
) -> None:
    job_id = make(http, gw, f"a fox {keyword}")
    response = status(http, gw, job_id)
    assert response.status_code == code and response.json()["error_origin"] == "gateway"
    assert status(http, gw, job_id).status_code == 200


def test_malformed_and_html_answers(gw: DemoGateway, http: requests.Session) -> None:
    malformed = make(http, gw, "a fox [malformed]")
    response = status(http, gw, malformed)
    assert response.status_code == 200 and response.text.startswith('{"id": "G-')
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert status(http, gw, malformed).json()["id"] == malformed
    html = make(http, gw, "a fox [html]")
    response = status(http, gw, html)
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text
    assert status(http, gw, html).status_code == 200


def test_faults_chain_in_prompt_order_with_counts(gw: DemoGateway, http: requests.Session) -> None:
    job_id = make(http, gw, "a fox [429=2] [503]")
    codes = [status(http, gw, job_id).status_code for _ in range(4)]
    assert codes == [429, 429, 503, 200]


def test_slow_status_delays_only_the_first_call(gw: DemoGateway, http: requests.Session) -> None:
    job_id = make(http, gw, "a fox [slow-status=0.3]")
    started = time.perf_counter()
    assert status(http, gw, job_id).status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert status(http, gw, job_id).status_code == 200
    assert time.perf_counter() - started < 0.3


def test_revoked_key_answers_401_from_then_on(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = make(http, gw, "a fox [revoked]")
    clock.advance(10)
    for _ in range(2):
        response = status(http, gw, job_id)
        assert response.status_code == 401
        assert (response.json()["error"], response.json()["reason"]) == (
            "unauthorised",
            "key revoked",
        )
    assert http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10).status_code == 401


# -- content faults -----------------------------------------------------------------------


def test_drop_content_chunked_is_a_protocol_error_then_works(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = make(http, gw, "a fox [drop-content] [size=4MiB]")
    clock.advance(10)
    url = f"{gw.base_url}/videos/{job_id}/content"
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(url, timeout=10).content  # noqa: B018
    whole = http.get(url, timeout=10)
    assert len(whole.content) == gw.job_size(job_id) == 4 * 1024 * 1024
    assert gw.stats["fault:drop-content"] == 1


def test_drop_content_close_delimited_is_silently_short(
    gw: DemoGateway, http: requests.Session, clock: FakeClock
) -> None:
    job_id = make(http, gw, "a fox [drop-content] [close-delimited]")
    clock.advance(10)
    short = http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10)
    assert short.status_code == 200 and len(short.content) == gw.job_size(job_id) // 2
    assert http.get(f"{gw.base_url}/videos/{job_id}/content", timeout=10).content == gw.job_bytes(
        job_id
    )


# -- FaultProfile -------------------------------------------------------------------------


def test_profile_429_always_and_counted(clock: FakeClock) -> None:
    profile = FaultProfile(status_429=1.0)
    with (
        DemoGateway(fault_profile=profile, clock=clock, video_scale=0.125) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        job_id = make(http, gateway, "a fox")
        for _ in range(3):
            response = status(http, gateway, job_id)
            assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        assert gateway.stats["fault:429"] == 3


def _status_codes(seed: int) -> list[int]:
    profile = FaultProfile(status_429=0.2, status_5xx=0.2, status_502=0.2, seed=seed)
    with (
        DemoGateway(fault_profile=profile, video_scale=0.125) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        job_id = make(http, gateway, "a fox")
        return [status(http, gateway, job_id).status_code for _ in range(30)]


def test_profile_is_deterministic_per_seed() -> None:
    first = _status_codes(7)
    assert first == _status_codes(7)
    assert {200, 429, 502} <= set(first) and set(first) <= {200, 429, 500, 502, 503}


def test_profile_fail_rate_create_drop_and_content_drop(clock: FakeClock) -> None:
    profile = FaultProfile(fail_rate=1.0, create_drop=1.0)
    with (
        DemoGateway(fault_profile=profile, clock=clock, video_scale=0.125) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        with pytest.raises(requests.ConnectionError):
            create(http, gateway, "a fox")
        (job_id,) = gateway.job_ids()
        clock.advance(10)
        assert status(http, gateway, job_id).json()["status"] == "failed"
    dropping = FaultProfile(content_drop=1.0)
    with (
        DemoGateway(fault_profile=dropping, clock=clock, video_scale=0.125) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        job_id = make(http, gateway, "a fox [close-delimited]")
        clock.advance(10)
        body = http.get(f"{gateway.base_url}/videos/{job_id}/content", timeout=10).content
        assert len(body) == gateway.job_size(job_id) // 2


def test_profile_rejects_bad_probabilities() -> None:
    with pytest.raises(ValueError):
        FaultProfile(status_429=1.5)


def test_profile_fail_kinds_pick_the_error_of_random_failures(clock: FakeClock) -> None:
    profile = FaultProfile(fail_rate=1.0, fail_kinds=("moderation", "exhausted"), seed=3)
    with (
        DemoGateway(fault_profile=profile, clock=clock, video_scale=0.125) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        ids = [make(http, gateway, f"fox {n}") for n in range(12)]
        clock.advance(10)
        codes = {status(http, gateway, job_id).json()["error"]["code"] for job_id in ids}
    assert codes == {"moderation_blocked", "RESOURCE_EXHAUSTED"}
    assert gateway.stats["fault:moderation"] + gateway.stats["fault:exhausted"] == 12


@pytest.mark.parametrize(
    ("state", "reason"),
    [("disabled", "video_api_feature_disabled"), ("paused", "video_api_temporarily_disabled")],
)
def test_profile_video_api_off_answers_501_on_every_video_route(state: str, reason: str) -> None:
    with (
        DemoGateway(fault_profile=FaultProfile(video_api=state), video_scale=0.125) as gateway,
        requests.Session() as http,
    ):
        http.headers.update(AUTH)
        answers = [
            create(http, gateway, "a fox"),
            http.get(gateway.base_url + "/videos", timeout=10),
            http.get(gateway.base_url + "/videos/models", timeout=10),
            http.get(gateway.base_url + "/videos/G-01KNOPE", timeout=10),
        ]
    for response in answers:
        assert response.status_code == 501
        assert (response.json()["error"], response.json()["reason"]) == (
            "not_implemented_yet",
            reason,
        )


@pytest.mark.parametrize(
    "bad", [{"fail_kinds": ("nope",)}, {"video_api": "off"}, {"fail_rate": 1.5}]
)
def test_profile_rejects_unknown_kinds_and_states(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="FaultProfile"):
        FaultProfile(**bad)
