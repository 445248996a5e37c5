"""The gateway client against the demo gateway over real loopback HTTP: the contract, proven."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from core.demo_gateway import DEMO_API_KEY, DemoGateway
from core.errors import ErrorKind, GatewayError
from core.gateway import GatewayClient
from core.jobs import JobParams
from core.wire import RemoteJob, RemoteStatus

pytestmark = pytest.mark.e2e

MODEL = "demo/test-pattern"
TERMINAL = {RemoteStatus.COMPLETED, RemoteStatus.FAILED, RemoteStatus.CANCELLED,
            RemoteStatus.EXPIRED}  # fmt: skip


@pytest.fixture
def gw() -> Iterator[DemoGateway]:
    """A demo gateway with short job times and small frames."""
    with DemoGateway(
        queued_seconds=0.2, processing_seconds=0.5, poll_after_seconds=1, video_scale=0.25
    ) as gateway:
        yield gateway


@pytest.fixture
def client(gw: DemoGateway) -> Iterator[GatewayClient]:
    """A real client for the demo gateway, with a short read timeout."""
    with GatewayClient(gw.base_url, DEMO_API_KEY, read_timeout=5.0) as made:
        yield made


def params(prompt: str = "A lighthouse at dusk", duration: int = 1) -> JobParams:
    return JobParams(model=MODEL, prompt=prompt, duration=duration, aspect_ratio="16:9")


def until_terminal(client: GatewayClient, job_id: str, timeout: float = 15.0) -> RemoteJob:
    """Poll ``get`` until the job ends; the demo's jobs take under a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(job_id)
        if job.status in TERMINAL:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s")


def error_of(call: object) -> GatewayError:
    assert callable(call)
    with pytest.raises(GatewayError) as caught:
        call()
    return caught.value


def log_for(gw: DemoGateway, path_start: str) -> list[tuple[str, str, dict[str, str]]]:
    return [entry for entry in gw.requests_log if entry[1].startswith(path_start)]


def has_authorization(headers: dict[str, str]) -> bool:
    return any(name.lower() == "authorization" for name in headers)


def test_create_poll_and_download_the_exact_bytes(gw: DemoGateway, client: GatewayClient) -> None:
    created = client.create(params())
    assert created.id is not None and created.id.startswith("G-")
    assert created.status in (RemoteStatus.QUEUED, RemoteStatus.PROCESSING)
    done = until_terminal(client, created.id)
    assert done.status is RemoteStatus.COMPLETED and done.poll_after_seconds == 1
    with client.open_content(created.id) as stream:
        assert stream.status == 200 and stream.content_type == "video/mp4"
        data = b"".join(stream.iter_chunks(64 * 1024))
    assert data == gw.job_bytes(created.id) and data[4:8] == b"ftyp"
    (entry,) = log_for(gw, f"/v1/videos/{created.id}/content")
    assert entry[2]["Authorization"] == f"Bearer {DEMO_API_KEY}"
    assert entry[2]["User-Agent"].startswith("Reelgate/")


def test_content_before_completion_is_not_ready(client: GatewayClient) -> None:
    created = client.create(params())
    assert created.id is not None
    error = error_of(lambda: client.open_content(created.id))  # type: ignore[arg-type]
    assert error.kind is ErrorKind.NOT_READY and error.status == 409


def test_signed_link_downloads_without_authorization(
    gw: DemoGateway, client: GatewayClient
) -> None:
    created = client.create(params())
    assert created.id is not None
    until_terminal(client, created.id)
    link = client.download_url(created.id, ttl_seconds=120, disposition="attachment")
    assert link.expires_at is not None and 60 < link.expires_at - time.time() <= 121
    with client.open_signed(link.url) as stream:
        data = b"".join(stream.iter_chunks())
    assert data == gw.job_bytes(created.id)
    assert gw.stats["signed_content"] == 1
    signed = [entry for entry in gw.requests_log if "signature=" in entry[1]]
    assert len(signed) == 1 and not has_authorization(signed[0][2])
    minted = log_for(gw, f"/v1/videos/{created.id}/download_url")
    assert has_authorization(minted[0][2])


def test_delete_then_get_is_not_found(client: GatewayClient) -> None:
    created = client.create(params())
    assert created.id is not None
    until_terminal(client, created.id)
    assert client.delete(created.id) is True
    error = error_of(lambda: client.get(created.id))  # type: ignore[arg-type]
    assert error.kind is ErrorKind.NOT_FOUND and error.status == 404


def test_delete_of_a_running_job_is_a_validation_error(client: GatewayClient) -> None:
    created = client.create(params())
    assert created.id is not None
    error = error_of(lambda: client.delete(created.id))  # type: ignore[arg-type]
    assert error.kind is ErrorKind.VALIDATION and error.reason == "video_not_deletable"


def test_cancel_is_feature_disabled(client: GatewayClient) -> None:
    created = client.create(params())
    assert created.id is not None
    error = error_of(lambda: client.cancel(created.id))  # type: ignore[arg-type]
    assert error.kind is ErrorKind.FEATURE_DISABLED and error.status == 501
    assert error.message == "Cancel is not available on this gateway"
    assert error.reason == "video_cancellation_disabled"


def test_list_pagination_covers_every_job_once(gw: DemoGateway, client: GatewayClient) -> None:
    made = {client.create(params(f"job {n}")).id for n in range(5)}
    for order in ("desc", "asc"):
        seen = [job.id for job in client.iter_jobs(limit=2, order=order)]
        assert sorted(seen) == sorted(made)  # type: ignore[type-var]
    pages = [path for _, path, _ in log_for(gw, "/v1/videos?")]
    assert len(pages) == 6 and all("limit=2" in path for path in pages)
    assert sum("after=" in path for path in pages) == 4


def test_models_returns_the_catalogue(client: GatewayClient) -> None:
    catalogue = client.models()
    assert isinstance(catalogue, dict) and catalogue["object"] == "list"
    assert MODEL in {item["model"] for item in catalogue["data"]}


def test_a_missing_key_is_an_auth_error(gw: DemoGateway) -> None:
    with GatewayClient(gw.base_url, None) as keyless:
        error = error_of(keyless.list)
    assert error.kind is ErrorKind.AUTH and error.code == "unauthorised"
    assert error.reason == "missing Authorization header"


def test_a_dropped_create_is_ambiguous_and_never_resent(
    gw: DemoGateway, client: GatewayClient
) -> None:
    error = error_of(lambda: client.create(params("Lost answer [drop-create]")))
    assert error.ambiguous and error.kind in (ErrorKind.NETWORK, ErrorKind.TIMEOUT)
    time.sleep(0.2)  # a wrong resend would have arrived by now
    assert gw.stats["create"] == 1 and gw.stats["jobs_created"] == 1
    # The job exists: a caller reconciles it by listing instead of resending.
    assert [job.id for job in client.iter_jobs()] == gw.job_ids()


@pytest.mark.parametrize(
    ("prompt", "kind", "status", "code"),
    [
        ("[policy]", ErrorKind.POLICY_BLOCK, 403, "guardrail_blocked"),
        ("[funds]", ErrorKind.INSUFFICIENT_FUNDS, 402, "insufficient_funds"),
        ("[disabled]", ErrorKind.FEATURE_DISABLED, 501, "not_implemented_yet"),
    ],
)
def test_create_refusals_are_typed_and_not_ambiguous(
    gw: DemoGateway, client: GatewayClient, prompt: str, kind: ErrorKind, status: int, code: str
) -> None:
    error = error_of(lambda: client.create(params(f"A boat {prompt}")))
    assert (error.kind, error.status, error.code) == (kind, status, code)
    assert not error.ambiguous and error.request_id is not None
    assert gw.job_ids() == []


@pytest.mark.parametrize(
    ("prompt", "kind", "status"),
    [
        ("[429]", ErrorKind.RATE_LIMITED, 429),
        ("[429-noretry]", ErrorKind.RATE_LIMITED, 429),
        ("[429-date]", ErrorKind.RATE_LIMITED, 429),
        ("[upstream=1]", ErrorKind.TRANSIENT, 502),
        ("[500]", ErrorKind.TRANSIENT, 500),
        ("[503]", ErrorKind.TRANSIENT, 503),
        ("[malformed]", ErrorKind.UNEXPECTED, 200),
        ("[html]", ErrorKind.UNEXPECTED, 502),
    ],
)
def test_status_faults_are_typed_then_the_job_reads_fine(
    client: GatewayClient, prompt: str, kind: ErrorKind, status: int
) -> None:
    created = client.create(params(f"A forest {prompt}"))
    assert created.id is not None
    error = error_of(lambda: client.get(created.id))  # type: ignore[arg-type]
    assert (error.kind, error.status) == (kind, status) and error.retryable
    if prompt == "[429]":
        assert error.retry_after == 1.0
    if prompt == "[429-date]":  # an HTTP date 30 s ahead, and no reset_at in the body
        assert "reset_at" not in error.body
        assert error.retry_after is not None and 27.0 <= error.retry_after <= 30.0
    if prompt == "[upstream=1]":
        assert error.body["provider_failure_diagnostics"]["category"] == "provider_access_missing"
        assert error.request_id is not None
    if prompt in ("[malformed]", "[html]"):
        assert error.body_excerpt
    if prompt == "[html]":
        assert "<" in error.body_excerpt  # type: ignore[operator]
    assert client.get(created.id).id == created.id


def test_a_create_answered_202_accepted_is_a_created_job(
    gw: DemoGateway, client: GatewayClient
) -> None:
    raw = requests.post(
        f"{gw.base_url}/videos",
        json=params("A quay [accepted]").to_request(),
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
        timeout=5,
    )
    assert raw.status_code == 202 and raw.json()["id"].startswith("G-")
    created = client.create(params("A pier [accepted]"))
    assert created.id is not None and created.status is RemoteStatus.QUEUED
    assert until_terminal(client, created.id).status is RemoteStatus.COMPLETED
    assert len(gw.job_ids()) == 2


@pytest.mark.parametrize("prompt", ["[fail]", "[fail-string]"])
def test_failed_jobs_report_their_error(client: GatewayClient, prompt: str) -> None:
    created = client.create(params(f"A storm {prompt}"))
    assert created.id is not None
    done = until_terminal(client, created.id)
    assert done.status is RemoteStatus.FAILED and done.error is not None
    if prompt == "[fail]":
        assert done.error.code is not None and done.error.message
        assert isinstance(done.raw["error"], dict)
    else:
        assert isinstance(done.raw["error"], str) and done.error.message == done.raw["error"]


def test_revoked_key_is_an_auth_error(client: GatewayClient) -> None:
    created = client.create(params("A desert [revoked]"))
    assert created.id is not None
    error = error_of(lambda: client.get(created.id))  # type: ignore[arg-type]
    assert error.kind is ErrorKind.AUTH and error.reason == "key revoked"


def test_a_cut_content_stream_raises_network_and_a_retry_succeeds(
    gw: DemoGateway, client: GatewayClient
) -> None:
    created = client.create(params("A river [drop-content]"))
    assert created.id is not None
    until_terminal(client, created.id)
    with client.open_content(created.id) as stream, pytest.raises(GatewayError) as caught:
        for _ in stream.iter_chunks(4096):
            pass
    assert caught.value.kind is ErrorKind.NETWORK
    with client.open_content(created.id) as stream:
        assert b"".join(stream.iter_chunks()) == gw.job_bytes(created.id)


def test_close_delimited_content_streams_whole(gw: DemoGateway, client: GatewayClient) -> None:
    created = client.create(params("A meadow [close-delimited]"))
    assert created.id is not None
    until_terminal(client, created.id)
    with client.open_content(created.id) as stream:
        assert b"".join(stream.iter_chunks()) == gw.job_bytes(created.id)


def test_content_past_the_client_cap_stops_early(gw: DemoGateway) -> None:
    with GatewayClient(gw.base_url, DEMO_API_KEY, max_content_bytes=1 << 20) as small:
        created = small.create(params("A glacier [size=8MiB] [chunked]"))
        assert created.id is not None
        until_terminal(small, created.id)
        with small.open_content(created.id) as stream, pytest.raises(GatewayError) as caught:
            for _ in stream.iter_chunks(64 * 1024):
                pass
    assert caught.value.code == "content_too_large"
    assert stream.bytes_read <= (1 << 20) + 64 * 1024
