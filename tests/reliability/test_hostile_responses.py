"""Hostile responses: fuzzed parsers, a fuzzing gateway over real HTTP, and runaway bodies.

The existing property tests (``tests/core/test_wire.py``, ``test_gateway_properties.py``)
check that parsers and the client never raise; these go further. Parsed values must have
sane types and ranges, errors must be typed with the status they came with, a garbled status
answer must never turn a running job into a failed one, and a gateway that answers with a
2 GB body, an endless stream, a lying Content-Type or a trickle must meet a bounded, clearly
worded refusal while the rest of the app keeps working.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.catalogue import ModelInfo, parse_catalogue
from core.download import DownloadError, DownloadErrorKind, download
from core.engine import Engine
from core.errors import ErrorKind, GatewayError, error_from_response
from core.gateway import GatewayClient
from core.jobs import JobParams, JobState
from core.journal import Journal
from core.wire import RemoteStatus, decode_json, parse_job, parse_job_page

from .figures import FIGURES, sized

EXAMPLES = sized(100, 2000)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
#: Over real HTTP each example costs a round trip (and, for the engine, a journal).
HTTP_FUZZ = settings(FUZZ, max_examples=sized(80, 1000))
ENGINE_FUZZ = settings(FUZZ, max_examples=sized(40, 400))
MIB = 1024 * 1024

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
JOB_KEYS = ["id", "generation_id", "status", "progress", "created_at", "started_at",
            "completed_at", "poll_after_seconds", "outputs", "error", "billing", "usage",
            "asset", "seconds", "expires_at", "download_url", "content_url", "data",
            "has_more", "last_id", "message", "reason", "details", "request_id",
            "reset_at", "upstream_error", "provider_failure_diagnostics"]  # fmt: skip
job_like = st.dictionaries(st.sampled_from(JOB_KEYS), json_values, max_size=10)
documents = st.one_of(json_values, job_like, st.lists(job_like, max_size=4))


def _finite_or_none(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isfinite(value))


# -- parsers: invariants, not just "does not raise" ------------------------------------------------


@FUZZ
@given(documents)
def test_parse_job_yields_sane_types_for_any_json(document: object) -> None:
    """Progress 0-100, finite times, a known status, the raw document kept, >= 1 output."""
    FIGURES.add_fuzz()
    job = parse_job(document)
    assert isinstance(job.status, RemoteStatus)
    assert job.progress is None or (isinstance(job.progress, int) and 0 <= job.progress <= 100)
    for moment in (job.created_at, job.started_at, job.completed_at, job.expires_at):
        assert _finite_or_none(moment) and (moment is None or moment >= 0)
    assert job.poll_after_seconds is None or job.poll_after_seconds >= 0
    assert job.id is None or (isinstance(job.id, str) and job.id)
    assert job.raw is document if isinstance(document, dict) else job.raw == {}
    assert job.output_count >= 1
    json.dumps(job.raw, default=str)  # the raw document can always be journaled


@FUZZ
@given(documents)
def test_parse_job_page_keeps_only_jobs(document: object) -> None:
    """A list answer: only object items become jobs, ``has_more`` only when truly ``true``."""
    FIGURES.add_fuzz()
    page = parse_job_page(document)
    assert isinstance(page.has_more, bool)
    if isinstance(document, dict):
        assert page.has_more is (document.get("has_more") is True)
    assert page.last_id is None or isinstance(page.last_id, str)


@FUZZ
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
def test_decode_json_is_either_a_value_or_a_reason(body: bytes) -> None:
    """Exactly one of value and reason; JSON that Python wrote always comes back equal."""
    FIGURES.add_fuzz()
    value, reason = decode_json(body)
    assert (reason is None) or (value is None and isinstance(reason, str) and reason)
    try:
        expected = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return
    if reason is None and not _has_nan(expected):
        assert value == expected


def _has_nan(value: object) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    return False


def test_deeply_nested_and_enormous_numbers_are_refused_not_crashed() -> None:
    """Nesting past the recursion limit and 5000-digit integers become a plain reason."""
    FIGURES.add_fuzz(3)
    for body in (b"[" * 100_000 + b"]" * 100_000, b"9" * 5000, b'{"a":' * 50_000):
        value, reason = decode_json(body)
        assert value is None and reason


@FUZZ
@given(st.integers(100, 599), documents, st.one_of(st.none(), st.text(max_size=30)))
def test_error_from_response_is_typed_with_its_status(
    status: int, document: object, excerpt: str | None
) -> None:
    """Any status and body: a GatewayError with that status, a kind, words and a bounded wait."""
    FIGURES.add_fuzz()
    error = error_from_response(status, document, body_excerpt=excerpt)
    assert isinstance(error, GatewayError) and error.status == status
    assert isinstance(error.kind, ErrorKind) and error.message and error.summary
    assert error.retry_after is None or 0 <= error.retry_after <= 3600
    assert error.request_id is None or isinstance(error.request_id, str)
    json.dumps(error.to_dict(), default=str)
    if status >= 500 and status != 501 and error.kind not in (ErrorKind.TRANSIENT,):
        # A 5xx is only ever something other than transient when its code says so.
        assert isinstance(document, dict) and document.get("error") is not None


@FUZZ
@given(
    st.one_of(
        documents,
        st.fixed_dictionaries(
            {"data": st.lists(st.dictionaries(st.sampled_from(
                ["model", "id", "name", "supported_params", "supported_params_detail",
                 "status", "aliases", "pricing"]), json_values, max_size=6), max_size=4)}
        ),
    )
)  # fmt: skip
def test_parse_catalogue_yields_usable_models(document: object) -> None:
    """Every model has a non-empty unique id, and its rules answer allows/describe safely."""
    FIGURES.add_fuzz()
    models = parse_catalogue(document)
    ids = [model.id for model in models]
    assert len(ids) == len(set(ids)) and all(isinstance(i, str) and i for i in ids)
    for model in models:
        assert isinstance(model, ModelInfo)
        for rule in (model.durations, model.aspect_ratios, model.resolutions):
            if rule is not None:
                rule.allows(8)
                rule.allows("16:9")
                rule.allows(None)
                assert isinstance(rule.describe(), str)


# -- a fuzzing gateway over real HTTP --------------------------------------------------------------


@dataclass
class Scripted:
    """What the fuzzing server answers next."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    framing: str = "length"  # length | short | long | close | chunked | chunked-cut


class _FuzzHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FuzzServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.command, self.path, dict(self.headers.items())))
        plan = self.server.script
        self.send_response(plan.status)
        for key, value in plan.headers.items():
            self.send_header(key, value)
        body = plan.body
        try:
            if plan.framing in ("length", "short", "long"):
                size = (
                    len(body) + {"length": 0, "short": -min(3, len(body)), "long": 7}[plan.framing]
                )
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self.wfile.write(body[:size] if plan.framing == "short" else body)
                if plan.framing != "length":
                    self.close_connection = True
            elif plan.framing == "close":
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if body:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
                if plan.framing == "chunked":
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.close_connection = True
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_DELETE = _answer


class _FuzzServer(ThreadingHTTPServer):
    daemon_threads = True
    script = Scripted()

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _FuzzHandler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[_FuzzServer]:
    """A loopback server that answers whatever the test scripts."""
    server = _FuzzServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


STATUSES = [200, 201, 202, 204, 301, 302, 400, 401, 402, 403, 404, 409, 410, 413, 429,
            500, 501, 502, 503, 504, 599]  # fmt: skip
bodies = st.one_of(
    st.binary(max_size=120),
    documents.map(lambda d: json.dumps(d).encode()),
    job_like.map(lambda d: json.dumps({"id": "G-1", **d}).encode()),
    st.sampled_from([b"<html><body>502 Bad Gateway</body></html>", b"", b"null", b"[]"]),
)
headers = st.dictionaries(
    st.sampled_from(["Content-Type", "Retry-After", "Location", "Content-Encoding", "X-Junk"]),
    st.sampled_from(["application/json", "text/html", "video/mp4", "1", "-5", "soon",
                     "http://evil.example/x", "/v1/videos/G-2", "gzip", "\u00e9t\u00e9"]),
    max_size=3,
)  # fmt: skip
framings = st.sampled_from(["length", "short", "long", "close", "chunked", "chunked-cut"])
CALLS: dict[str, Callable[[GatewayClient], object]] = {
    "get": lambda c: c.get("G-1"),
    "create": lambda c: c.create(JobParams(model="m", prompt="p", duration=4, aspect_ratio="1:1")),
    "list": lambda c: list(c.iter_jobs(max_pages=2)),
    "models": lambda c: c.models(),
    "delete": lambda c: c.delete("G-1"),
    "download_url": lambda c: c.download_url("G-1"),
    "content": lambda c: _read_content(c),
}


def _read_content(client: GatewayClient) -> int:
    with client.open_content("G-1") as stream:
        return sum(len(chunk) for chunk in stream.iter_chunks(4096))


@HTTP_FUZZ
@given(st.sampled_from(STATUSES), headers, bodies, framings, st.sampled_from(sorted(CALLS)))
def test_every_call_returns_or_raises_a_typed_error_over_real_http(
    fuzz_server: _FuzzServer,
    status: int,
    extra_headers: dict[str, str],
    body: bytes,
    framing: str,
    call: str,
) -> None:
    """Whatever comes back on the wire, the client returns a value or a GatewayError."""
    FIGURES.add_fuzz()
    fuzz_server.script = Scripted(status, extra_headers, body, framing)
    port = fuzz_server.server_address[1]
    with GatewayClient(
        f"http://127.0.0.1:{port}/v1", "phaseo_v1_sk_FUZZ0123456789", read_timeout=2.0
    ) as client:
        try:
            CALLS[call](client)
        except GatewayError as error:
            assert isinstance(error.kind, ErrorKind) and error.summary
            if call == "create" and error.status is not None and 200 <= error.status < 300:
                assert error.ambiguous, "a 2xx create without a readable job may have made one"
        except ValueError as error:  # only for a redirect target that is not a URL at all
            assert call != "create", error


@ENGINE_FUZZ
@given(st.sampled_from(STATUSES), headers, bodies, framings)
def test_a_garbled_status_answer_never_fails_a_running_job(
    fuzz_server: _FuzzServer,
    tmp_path: Path,
    status: int,
    extra_headers: dict[str, str],
    body: bytes,
    framing: str,
) -> None:
    """Only a readable job document, a JSON 404 or a 401 may change a running job's state."""
    FIGURES.add_fuzz()
    port = fuzz_server.server_address[1]
    fuzz_server.script = Scripted(200, {}, json.dumps({"id": "G-1", "status": "queued"}).encode())
    path = tmp_path / f"j-{random.random()}.db"
    with (
        Journal.open(path) as journal,
        GatewayClient(f"http://127.0.0.1:{port}/v1", "k", read_timeout=2.0) as client,
    ):
        engine = Engine(journal, client, tmp_path / "videos")
        job = engine.submit(JobParams(model="m", prompt="p", duration=4, aspect_ratio="1:1"))
        assert job.state is JobState.QUEUED
        fuzz_server.script = Scripted(status, extra_headers, body, framing)
        after = engine.poll_once(job.local_id)
        readable_job = 200 <= status < 300 and framing in ("length", "close", "chunked")
        try:
            document = json.loads(body) if readable_job else None
        except ValueError:
            document = None
        is_job = isinstance(document, dict) and bool(
            document.get("id") or document.get("generation_id")
        )
        json_error = decode_json(body)[1] is None and framing in ("length", "close", "chunked")
        if after.state is not JobState.QUEUED:
            allowed = is_job or (status == 404 and json_error)
            assert allowed, (status, framing, body[:80], after.state)
        if after.state in (JobState.FAILED, JobState.GONE, JobState.CANCELLED, JobState.EXPIRED):
            assert after.failure is not None


# -- runaway bodies --------------------------------------------------------------------------------


def _rss() -> int:
    """This process's resident memory now (bytes), from /proc; peak RSS elsewhere."""
    try:
        with open("/proc/self/statm") as handle:
            import os

            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Runaway(BaseHTTPRequestHandler):
    """Status and content answers that never end, lie, or trickle."""

    protocol_version = "HTTP/1.1"
    mode = "zeros"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        """Serve the hostile answer the path asks for."""
        zeros = bytes(MIB)
        kind = self.path.rsplit("/", 1)[-1]
        try:
            endless = self.path.endswith("/content") and "endless" in self.path
            if kind == "endless-json" or endless:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(zeros), zeros))
            elif kind == "content" and "two-gb" in self.path:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(2 * 1024**3))
                self.end_headers()
                while True:
                    self.wfile.write(zeros)
            elif kind == "two-gb-json":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(2 * 1024**3))
                self.end_headers()
                self.wfile.write(b'{"id": "G-1", "status": "queued", "pad": "')
                while True:
                    self.wfile.write(zeros)
            elif kind == "content" and "lie" in self.path:
                body = b"<html><body>Login to the captive portal</body></html>" * 50
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif kind == "trickle":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                while True:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            else:
                body = json.dumps({"id": kind, "status": "processing"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")  # a lie the client must ignore
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        except OSError:
            return


@pytest.fixture(scope="module")
def runaway() -> Iterator[str]:
    """The base URL of the runaway server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Runaway)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


class _Peak:
    """Samples RSS on a thread while a block runs; ``growth`` is the peak above the start."""

    def __init__(self) -> None:
        self.start = _rss()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, _rss())

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        """Peak RSS growth in bytes."""
        return self.peak - self.start


def test_an_endless_video_stream_stops_at_the_cap_with_a_clear_error(
    runaway: str, tmp_path: Path
) -> None:
    """Zeros forever: the download stops at ``max_content_bytes``, RSS stays small, no file."""
    cap = sized(48, 256) * MIB
    FIGURES.add_faults({"endless content stream": 1})
    with (
        GatewayClient(runaway, "k", max_content_bytes=cap) as client,
        _Peak() as peak,
        pytest.raises(DownloadError) as caught,
    ):
        download(lambda: client.open_content("endless"), tmp_path / "v.mp4", attempts=3)
    assert caught.value.kind is DownloadErrorKind.TOO_LARGE and not caught.value.retryable
    assert "larger than" in caught.value.message
    assert peak.growth < 40 * MIB, f"RSS grew by {peak.growth / MIB:.0f} MiB"
    assert not list(tmp_path.iterdir()), "nothing (not even a .part) is left"


def test_a_2gb_content_length_is_refused_before_reading(runaway: str, tmp_path: Path) -> None:
    """A 2 GiB announced body above the cap: refused at once, nothing written."""
    FIGURES.add_faults({"2 GB body": 1})
    started = time.monotonic()
    with (
        GatewayClient(runaway, "k", max_content_bytes=64 * MIB) as client,
        pytest.raises(DownloadError) as caught,
    ):
        download(lambda: client.open_content("two-gb"), tmp_path / "v.mp4")
    assert caught.value.kind is DownloadErrorKind.TOO_LARGE
    assert "2.1 GB" in caught.value.message or "larger than" in caught.value.message
    assert time.monotonic() - started < 5 and not list(tmp_path.iterdir())


@pytest.mark.parametrize("path", ["endless-json", "two-gb-json"])
def test_runaway_json_answers_stop_at_the_json_cap(runaway: str, path: str) -> None:
    """A status answer that never ends (or announces 2 GB): refused at 16 MiB, memory bounded."""
    FIGURES.add_faults({f"runaway JSON ({path})": 1})
    with (
        GatewayClient(runaway, "k") as client,
        _Peak() as peak,
        pytest.raises(GatewayError) as caught,
    ):
        client.get(path)
    assert caught.value.code == "response_too_large" and "larger than" in caught.value.message
    assert peak.growth < 80 * MIB, f"RSS grew by {peak.growth / MIB:.0f} MiB"


def test_a_trickling_answer_is_cut_off_by_the_answer_deadline(runaway: str) -> None:
    """A byte every 50 ms never trips the read timeout; the whole-answer deadline does."""
    FIGURES.add_faults({"trickling answer": 1})
    started = time.monotonic()
    with (
        GatewayClient(runaway, "k", read_timeout=0.5, max_answer_seconds=0.6) as client,
        pytest.raises(GatewayError) as caught,
    ):
        client.get("trickle")
    assert caught.value.kind is ErrorKind.TIMEOUT and "too slowly" in caught.value.message
    assert time.monotonic() - started < 6


def test_content_type_lies_are_judged_by_the_bytes(runaway: str, tmp_path: Path) -> None:
    """JSON labelled text/html is read; an HTML page labelled video/mp4 is not saved as video."""
    FIGURES.add_faults({"Content-Type lie": 2})
    with GatewayClient(runaway, "k") as client:
        assert client.get("G-7").status is RemoteStatus.PROCESSING
        with pytest.raises(DownloadError) as caught:
            download(lambda: client.open_content("lie"), tmp_path / "v.mp4")
    assert caught.value.kind is DownloadErrorKind.VERIFY and "not an MP4" in caught.value.message
    assert not list(tmp_path.iterdir())


def test_the_app_stays_responsive_while_a_download_runs_away(runaway: str, tmp_path: Path) -> None:
    """Status calls on another thread answer promptly while an endless stream is read."""
    with GatewayClient(runaway, "k", max_content_bytes=sized(96, 512) * MIB) as client:
        done = threading.Event()

        def hog() -> None:
            try:
                download(lambda: client.open_content("endless"), tmp_path / "v.mp4", attempts=1)
            except DownloadError:
                pass
            finally:
                done.set()

        thread = threading.Thread(target=hog, daemon=True)
        thread.start()
        waits = []
        for index in range(5):
            started = time.monotonic()
            assert client.get(f"G-{index}").status is RemoteStatus.PROCESSING
            waits.append(time.monotonic() - started)
        thread.join(60)
        assert done.is_set()
    assert max(waits) < 2.0, waits
