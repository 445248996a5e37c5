"""Signed links stay out of error texts and diagnostics; the CLI's end states for lost creates."""

from __future__ import annotations

import io
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from core.cli_drive import EXIT_UNKNOWN, outcome, report_end
from core.diagnostics import diagnostics_text
from core.engine.matching import RECONCILE_ATTEMPTS
from core.errors import GatewayError
from core.gateway import GatewayClient
from core.gateway_http import transport_error
from core.jobs import Job, JobParams, JobState
from core.journal import JournalEvent

SIGNED = "http://127.0.0.1:9/v1/videos/G-1/content?signature=s3cr3t-sig&expires=1900000000"
PARAMS = JobParams(model="demo/test-pattern", prompt="a lake", duration=2, aspect_ratio="16:9")


def test_a_transport_error_never_quotes_a_signed_query() -> None:
    cause = requests.exceptions.ConnectionError(
        f"HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: "
        f"/v1/videos/G-1/content?signature=s3cr3t-sig (Caused by {SIGNED})"
    )
    error = transport_error(cause, during_body=True)
    assert "s3cr3t-sig" not in error.message and "s3cr3t-sig" not in error.summary
    assert "/v1/videos/G-1/content" in error.message


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port that accepts the connection and closes it at once."""

    class Closer(BaseHTTPRequestHandler):
        def handle(self) -> None:
            self.connection.shutdown(socket.SHUT_RDWR)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Closer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_fetching_a_signed_link_that_breaks_keeps_its_signature_out(dead_port: int) -> None:
    link = f"http://127.0.0.1:{dead_port}/v1/videos/G-1/content?signature=s3cr3t-sig"
    with (
        GatewayClient(f"http://127.0.0.1:{dead_port}/v1", "k" * 20) as client,
        pytest.raises(GatewayError) as caught,
        client.open_signed(link) as stream,
    ):
        list(stream.iter_chunks(1024))
    assert "s3cr3t-sig" not in str(caught.value) and "s3cr3t-sig" not in repr(
        caught.value.to_dict()
    )


def test_diagnostics_cut_the_query_off_every_download_url() -> None:
    job = Job(
        local_id="L1",
        params=PARAMS,
        state=JobState.COMPLETED,
        created_at=1.0,
        updated_at=2.0,
        remote_id="G-1",
    )
    answer: dict[str, Any] = {
        "id": "G-1",
        "status": "completed",
        "download_url": SIGNED,
        "outputs": [{"index": 0, "download_url": SIGNED.replace("s3cr3t", "other")}],
        "content_url": "http://127.0.0.1:9/v1/videos/G-1/content",
        "note": f"see {SIGNED}",
    }
    event = JournalEvent(
        id=1,
        local_id="L1",
        at=2.0,
        kind="status",
        state="completed",
        http_status=200,
        request_id="G-1",
        raw=answer,
        note=None,
    )
    text = diagnostics_text(job, [event])
    assert "s3cr3t" not in text and "other-sig" not in text
    document = json.loads(text)
    response = document["timeline"][0]["response"]
    assert response["download_url"].startswith("http://127.0.0.1:9/v1/videos/G-1/content?")
    assert response["content_url"] == "http://127.0.0.1:9/v1/videos/G-1/content"


def test_generate_ends_after_the_fast_searches_and_says_resume_continues() -> None:
    job = Job(
        local_id="L1",
        params=PARAMS,
        state=JobState.SUBMIT_UNKNOWN,
        created_at=1.0,
        updated_at=2.0,
        next_poll_at=600.0,  # the slow search is still scheduled: the CLI does not wait for it
    )
    assert outcome(job) is None
    searched = job.__class__(**{**job.__dict__, "reconcile_attempts": RECONCILE_ATTEMPTS})
    assert outcome(searched) == EXIT_UNKNOWN
    out = io.StringIO()
    report_end(searched, EXIT_UNKNOWN, out)
    assert "nothing was resent" in out.getvalue() and "`reelgate resume`" in out.getvalue()
