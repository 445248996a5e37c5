"""Property tests: whatever body a status answer carries, the client returns or raises typed."""

from __future__ import annotations

import io
import json
from typing import Any

import requests
import urllib3
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter, HTTPAdapter

from core.errors import GatewayError
from core.gateway import GatewayClient
from core.jobs import JobParams
from core.wire import JobPage, RemoteJob

STATUSES = [200, 201, 202, 204, 304, 400, 401, 402, 403, 404, 409, 410, 418, 422, 429,
            500, 501, 502, 503, 504]  # fmt: skip
PARAMS = JobParams(model="m", prompt="p", duration=4, aspect_ratio="16:9")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
# Bodies shaped like jobs and errors, with arbitrary values in the fields the client reads.
JOB_KEYS = ["id", "status", "progress", "seconds", "created_at", "completed_at", "outputs",
            "error", "billing", "usage", "asset", "expires_at", "poll_after_seconds", "reason",
            "details", "message", "request_id", "generation_id", "reset_at", "data", "has_more",
            "last_id", "upstream_error", "provider_failure_diagnostics", "deleted",
            "download_url"]  # fmt: skip
shaped = st.dictionaries(st.sampled_from(JOB_KEYS), json_values, max_size=8)
bodies = st.one_of(
    shaped.map(lambda doc: json.dumps(doc).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
    shaped.map(lambda doc: json.dumps(doc).encode()).flatmap(
        lambda whole: st.integers(0, len(whole)).map(lambda cut: whole[:cut])
    ),
)
retry_after = (
    st.none()
    | st.sampled_from(["1", "-3", "1e400", "nan", "soon"])
    | st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
)


class FixedAdapter(BaseAdapter):
    """Answers every request with the scripted status, headers and body."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body = b""

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(self.body),
            headers=self.headers,
            status=self.status,
            preload_content=False,
            decode_content=False,
        )
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


ADAPTER = FixedAdapter()
_SESSION = requests.Session()
_SESSION.mount("https://", ADAPTER)
CLIENT = GatewayClient("https://gw.test/v1", "phaseo_v1_sk_PROPERTY", session=_SESSION)


def serve(status: int, body: bytes, retry: str | None) -> None:
    ADAPTER.status = status
    ADAPTER.body = b"" if status in (204, 304) else body  # HTTP forbids a body on these
    ADAPTER.headers = {"Content-Type": "application/json"}
    if retry is not None:
        ADAPTER.headers["Retry-After"] = retry


FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.sampled_from(STATUSES), bodies, retry_after)
# Regressions: an int beyond float range, and one past Python's 4300-digit parsing limit.
@example(200, b'{"id": "G-1", "seconds": 1' + b"0" * 400 + b"}", None)
@example(200, b"1" * 5000, None)
@example(502, b'{"error": "upstream_error", "reset_at": 1' + b"0" * 400 + b"}", "1e400")
def test_get_returns_a_job_or_raises_gateway_error(
    status: int, body: bytes, retry: str | None
) -> None:
    serve(status, body, retry)
    try:
        job = CLIENT.get("G-1")
    except GatewayError as error:
        assert error.status == status
        assert error.body_excerpt is None or len(error.body_excerpt) <= 2000
        error.to_dict()  # the journal serialises it
        assert error.summary
    else:
        assert isinstance(job, RemoteJob) and job.id is not None and 200 <= status < 300


@FAST
@given(st.sampled_from(STATUSES), bodies, retry_after)
def test_every_call_returns_or_raises_gateway_error(
    status: int, body: bytes, retry: str | None
) -> None:
    serve(status, body, retry)
    calls = {
        "create": lambda: CLIENT.create(PARAMS),
        "list": lambda: CLIENT.list(),
        "delete": lambda: CLIENT.delete("G-1"),
        "download_url": lambda: CLIENT.download_url("G-1"),
        "models": CLIENT.models,
        "cancel": lambda: CLIENT.cancel("G-1"),
    }
    for name, call in calls.items():
        try:
            result = call()
        except GatewayError:
            continue
        assert 200 <= status < 300, name
        if name == "list":
            assert isinstance(result, JobPage)
        if name == "create":
            assert isinstance(result, RemoteJob) and result.id is not None
