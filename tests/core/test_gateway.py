"""Unit tests of the gateway client: error classification, ambiguity, security, streaming."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3
from requests.adapters import BaseAdapter, HTTPAdapter

from core.errors import ErrorKind, GatewayError
from core.gateway import DEFAULT_BASE_URL, ContentStream, GatewayClient, SignedLink
from core.gateway_http import transport_error
from core.jobs import JobParams
from core.version import __version__

KEY = "phaseo_v1_sk_TESTKEY0123456789"
BASE = "https://gw.test/v1"
PARAMS = JobParams(model="google/veo-3.1-lite-preview", prompt="a cat", duration=4,
                   aspect_ratio="16:9")  # fmt: skip

Reply = tuple[int, dict[str, str], bytes]


# -- an in-process transport: no sockets, scripted answers ------------------------------------


class StubAdapter(BaseAdapter):
    """A requests transport that answers from a function and records what was sent."""

    def __init__(self, answer: Callable[[requests.PreparedRequest], Reply]) -> None:
        super().__init__()
        self.answer = answer
        self.sent: list[requests.PreparedRequest] = []
        self.kwargs: list[dict[str, Any]] = []

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        self.kwargs.append(kwargs)
        status, headers, body = self.answer(request)
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=status,
            preload_content=False,
            decode_content=False,
        )
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


def reply(status: int, document: object = None, *, raw: bytes | None = None,
          headers: dict[str, str] | None = None) -> Reply:  # fmt: skip
    body = raw if raw is not None else json.dumps(document).encode()
    return status, {"Content-Type": "application/json", **(headers or {})}, body


def stub_client(
    answer: Callable[[requests.PreparedRequest], Reply] | Reply, **kwargs: Any
) -> tuple[GatewayClient, StubAdapter]:
    fixed = answer
    adapter = StubAdapter(answer if callable(answer) else (lambda _request: fixed))  # type: ignore[arg-type,return-value]
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return GatewayClient(BASE, KEY, session=session, **kwargs), adapter


def error_of(call: Callable[[], object]) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        call()
    return caught.value


# -- a real loopback HTTP server with a per-test script ----------------------------------------


class ScriptedServer:
    """A threaded HTTP server on 127.0.0.1 whose handler calls ``script(handler)``."""

    def __init__(self, script: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.log: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                outer.log.append((self.command, self.path, dict(self.headers.items())))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    script(self)

            do_GET = do_POST = do_DELETE = handle_any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/v1", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def send_json(handler: BaseHTTPRequestHandler, status: int, document: object,
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
    body = json.dumps(document).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


@contextlib.contextmanager
def raw_socket_server(
    on_connect: Callable[[socket.socket], None],
) -> Iterator[tuple[int, list[bytes]]]:
    """A bare TCP server: each connection's first read is recorded, then ``on_connect`` runs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    received: list[bytes] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            conn.settimeout(2)
            with contextlib.suppress(OSError):
                received.append(conn.recv(65536))
            on_connect(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


# -- classification of HTTP errors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "document", "kind", "code"),
    [
        (400, {"error": "validation_error", "details": [{"field": "duration", "message": "bad"}]},
         ErrorKind.VALIDATION, "validation_error"),
        (400, {"error": "unsupported_model_or_endpoint"}, ErrorKind.VALIDATION,
         "unsupported_model_or_endpoint"),
        (401, {"error": "unauthorised", "reason": "key revoked"}, ErrorKind.AUTH, "unauthorised"),
        (402, {"error": "insufficient_funds"}, ErrorKind.INSUFFICIENT_FUNDS, "insufficient_funds"),
        (403, {"error": "guardrail_blocked"}, ErrorKind.POLICY_BLOCK, "guardrail_blocked"),
        (403, {"error": "PROVIDER_REFUSED"}, ErrorKind.POLICY_BLOCK, "PROVIDER_REFUSED"),
        (404, {"error": "not_found"}, ErrorKind.NOT_FOUND, "not_found"),
        (409, {"error": "not_ready"}, ErrorKind.NOT_READY, "not_ready"),
        (429, {"error": "key_limit_exceeded"}, ErrorKind.RATE_LIMITED, "key_limit_exceeded"),
        (500, {"error": "gateway_error"}, ErrorKind.TRANSIENT, "gateway_error"),
        (503, {"error": "service_unavailable"}, ErrorKind.TRANSIENT, "service_unavailable"),
        (504, {"message": "timeout"}, ErrorKind.TRANSIENT, None),
        (501, {"error": "not_implemented_yet", "reason": "video_api_feature_disabled"},
         ErrorKind.FEATURE_DISABLED, "not_implemented_yet"),
        (501, {"error": "not_implemented_yet", "reason": "video_cancellation_disabled"},
         ErrorKind.FEATURE_DISABLED, "not_implemented_yet"),
    ],
)  # fmt: skip
def test_http_errors_are_classified_by_code_and_status(
    status: int, document: dict[str, Any], kind: ErrorKind, code: str | None
) -> None:
    body = {**document, "request_id": "req_abc", "message": "detail from the gateway"}
    client, _ = stub_client(reply(status, body))
    error = error_of(lambda: client.get("G-1"))
    assert (error.kind, error.status, error.code) == (kind, status, code)
    assert error.request_id == "req_abc"
    assert error.message == "detail from the gateway"
    assert error.body["request_id"] == "req_abc"
    assert error.body_excerpt is not None and "req_abc" in error.body_excerpt
    assert not error.ambiguous  # a read is never ambiguous about creating anything


def test_validation_error_keeps_details_and_reason() -> None:
    body = {
        "error": "validation_error",
        "reason": "invalid_request",
        "details": [{"field": "duration", "message": "must be one of 4, 6, 8"}, "size and x"],
    }
    client, _ = stub_client(reply(400, body))
    error = error_of(lambda: client.create(PARAMS))
    assert error.kind is ErrorKind.VALIDATION and error.reason == "invalid_request"
    assert error.details == ("duration: must be one of 4, 6, 8", "size and x")
    assert not error.ambiguous


def test_unauthorised_keeps_reason() -> None:
    client, _ = stub_client(reply(401, {"error": "unauthorised", "reason": "key expired"}))
    error = error_of(lambda: client.list())
    assert error.kind is ErrorKind.AUTH and error.reason == "key expired"
    assert KEY not in str(error) and KEY not in json.dumps(error.to_dict())


def test_retry_after_header_is_honoured() -> None:
    client, _ = stub_client(
        reply(429, {"error": "key_limit_exceeded"}, headers={"Retry-After": "7"})
    )
    error = error_of(lambda: client.get("G-1"))
    assert error.kind is ErrorKind.RATE_LIMITED and error.retry_after == 7.0


def test_429_without_retry_after_has_none() -> None:
    client, _ = stub_client(reply(429, {"error": "rate_limited"}))
    assert error_of(lambda: client.get("G-1")).retry_after is None


def test_reset_at_in_body_gives_a_delay() -> None:
    body = {"error": "key_limit_exceeded", "reset_at": int(time.time()) + 30}
    client, _ = stub_client(reply(429, body))
    error = error_of(lambda: client.get("G-1"))
    assert error.retry_after is not None and 25 <= error.retry_after <= 31


def test_upstream_error_keeps_provider_diagnostics() -> None:
    body = {
        "error": "upstream_error",
        "error_origin": "upstream",
        "provider": "google-vertex",
        "upstream_status": 403,
        "upstream_error": {"code": "PERMISSION_DENIED", "message": "Permission denied"},
        "provider_failure_diagnostics": {"category": "provider_access_missing", "hint": "wait"},
        "generation_id": "G-01KXYZ",
    }
    client, _ = stub_client(reply(502, body))
    error = error_of(lambda: client.get("G-01KXYZ"))
    assert error.kind is ErrorKind.TRANSIENT and error.retryable
    assert error.reason == "provider_access_missing"
    assert error.message == "Permission denied"
    assert error.request_id == "G-01KXYZ"
    assert error.body["provider_failure_diagnostics"]["hint"] == "wait"


def test_error_as_object_with_code_and_message() -> None:
    body = {"error": {"code": "guardrail_blocked", "message": "Blocked by policy"}}
    client, _ = stub_client(reply(403, body))
    error = error_of(lambda: client.create(PARAMS))
    assert (error.kind, error.code, error.message) == (
        ErrorKind.POLICY_BLOCK,
        "guardrail_blocked",
        "Blocked by policy",
    )


def test_html_error_page_is_unexpected_with_an_excerpt() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 5000 + b"</body>"
    client, _ = stub_client((502, {"Content-Type": "text/html"}, page))
    error = error_of(lambda: client.get("G-1"))
    assert error.kind is ErrorKind.UNEXPECTED and error.status == 502 and error.retryable
    assert error.body_excerpt is not None and error.body_excerpt.startswith("<html><head>")
    assert len(error.body_excerpt) == 2000


def test_html_404_from_a_wrong_url_does_not_claim_the_job_is_gone() -> None:
    client, _ = stub_client((404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"))
    assert error_of(lambda: client.get("G-1")).kind is ErrorKind.UNEXPECTED


def test_truncated_json_on_200_is_unexpected() -> None:
    client, _ = stub_client(reply(200, raw=b'{"id": "G-01K'))
    error = error_of(lambda: client.get("G-1"))
    assert error.kind is ErrorKind.UNEXPECTED and error.status == 200
    assert error.body_excerpt == '{"id": "G-01K'


def test_undecodable_bytes_are_replaced_in_the_excerpt() -> None:
    client, _ = stub_client(reply(500, raw=b"\xff\xfe oops"))
    error = error_of(lambda: client.get("G-1"))
    assert error.kind is ErrorKind.UNEXPECTED and error.body_excerpt == "\ufffd\ufffd oops"


@pytest.mark.parametrize("document", [[{"id": "G-1"}], "G-1", 42, None, {"status": "queued"}])
def test_a_200_that_is_not_a_job_object_with_an_id_is_unexpected(document: object) -> None:
    client, _ = stub_client(reply(200, document))
    assert error_of(lambda: client.get("G-1")).kind is ErrorKind.UNEXPECTED


def test_get_parses_a_job_and_keeps_the_raw_document() -> None:
    job = {"id": "G-1", "status": "in_progress", "poll_after_seconds": 20, "extra": [1]}
    client, adapter = stub_client(reply(200, job))
    remote = client.get("G-1")
    assert remote.id == "G-1" and remote.poll_after_seconds == 20 and remote.raw == job
    assert adapter.sent[0].method == "GET" and adapter.sent[0].url == f"{BASE}/videos/G-1"


# -- create: sent once, ambiguity decided honestly ---------------------------------------------


def test_create_posts_exactly_the_request_fields() -> None:
    client, adapter = stub_client(reply(202, {"id": "G-NEW", "status": "queued"}))
    assert client.create(PARAMS).id == "G-NEW"
    sent = adapter.sent[0]
    assert sent.method == "POST" and sent.url == f"{BASE}/videos"
    assert json.loads(sent.body or b"") == PARAMS.to_request()
    assert sent.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    ("answer", "ambiguous"),
    [
        (reply(400, {"error": "validation_error"}), False),
        (reply(402, {"error": "insufficient_funds"}), False),
        (reply(403, {"error": "guardrail_blocked"}), False),
        (reply(429, {"error": "key_limit_exceeded"}), False),
        (reply(501, {"error": "not_implemented_yet"}), False),
        ((403, {"Content-Type": "text/html"}, b"<h1>Forbidden</h1>"), False),
        (reply(500, {"error": "gateway_error"}), True),
        (reply(502, {"error": "upstream_error"}), True),
        ((504, {"Content-Type": "text/html"}, b"<h1>Gateway Timeout</h1>"), True),
        (reply(200, raw=b'{"id": "G-'), True),
        (reply(200, {"status": "queued"}), True),
        (reply(200, [1, 2]), True),
    ],
)
def test_create_failures_are_ambiguous_only_when_a_job_may_exist(
    answer: Reply, ambiguous: bool
) -> None:
    client, adapter = stub_client(answer)
    assert error_of(lambda: client.create(PARAMS)).ambiguous is ambiguous
    assert len(adapter.sent) == 1


def test_create_to_a_closed_port_is_not_ambiguous() -> None:
    client = GatewayClient(f"http://127.0.0.1:{free_port()}/v1", KEY)
    error = error_of(lambda: client.create(PARAMS))
    assert error.kind is ErrorKind.NETWORK and not error.ambiguous


def test_create_dropped_after_sending_is_ambiguous_and_not_resent() -> None:
    with raw_socket_server(lambda conn: conn.close()) as (port, received):
        client = GatewayClient(f"http://127.0.0.1:{port}/v1", KEY)
        error = error_of(lambda: client.create(PARAMS))
        time.sleep(0.1)  # let a (wrong) resend arrive before counting
        assert len(received) == 1
    assert error.kind is ErrorKind.NETWORK and error.ambiguous
    assert received[0].startswith(b"POST /v1/videos HTTP/1.1")


def test_create_that_never_answers_times_out_ambiguously_and_is_not_resent() -> None:
    with raw_socket_server(lambda conn: None) as (port, received):
        client = GatewayClient(f"http://127.0.0.1:{port}/v1", KEY, read_timeout=0.3)
        started = time.monotonic()
        error = error_of(lambda: client.create(PARAMS))
        assert time.monotonic() - started < 5
        time.sleep(0.1)
        assert len(received) == 1
    assert error.kind is ErrorKind.TIMEOUT and error.ambiguous


def test_a_read_dropped_mid_body_is_ambiguous_network() -> None:
    def half(conn: socket.socket) -> None:
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id": ')
        conn.close()

    with raw_socket_server(half) as (port, _):
        client = GatewayClient(f"http://127.0.0.1:{port}/v1", KEY)
        error = error_of(lambda: client.create(PARAMS))
    assert error.kind is ErrorKind.NETWORK and error.ambiguous


@pytest.mark.parametrize(
    ("exc", "kind", "ambiguous"),
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), ErrorKind.TIMEOUT, False),
        (requests.exceptions.ReadTimeout("read timed out"), ErrorKind.TIMEOUT, True),
        (requests.exceptions.ChunkedEncodingError("cut"), ErrorKind.NETWORK, True),
        (requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
            "Connection aborted.", ConnectionResetError(104, "reset"))), ErrorKind.NETWORK, True),
        (requests.exceptions.SSLError("certificate verify failed"), ErrorKind.NETWORK, True),
        (requests.exceptions.InvalidURL("bad"), ErrorKind.UNEXPECTED, False),
        (OSError("boom"), ErrorKind.NETWORK, True),
    ],
)  # fmt: skip
def test_transport_exceptions_map_to_kinds(
    exc: BaseException, kind: ErrorKind, ambiguous: bool
) -> None:
    error = transport_error(exc)
    assert (error.kind, error.ambiguous) == (kind, ambiguous)


def test_no_requests_exception_escapes(monkeypatch: pytest.MonkeyPatch) -> None:
    client, _ = stub_client(reply(200, {}))

    def explode(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectTimeout("nope")

    monkeypatch.setattr(client._session, "request", explode)
    error = error_of(lambda: client.create(PARAMS))
    assert error.kind is ErrorKind.TIMEOUT and not error.ambiguous


# -- security ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.phaseo.app/v1",
        "http://10.0.0.2:8080/v1",
        "http://localhost.evil.com/v1",
        "http://127.0.0.1.nip.io/v1",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    error = error_of(lambda: GatewayClient(url, KEY))
    assert error.kind is ErrorKind.INSECURE and KEY not in error.message


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/v1",
        "http://127.8.0.3/v1",
        "http://localhost:9/v1",
        "http://[::1]:9/v1",
        DEFAULT_BASE_URL,
    ],
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert GatewayClient(url, KEY).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "api.phaseo.app/v1",
        "ftp://api.phaseo.app/v1",
        "https://user:pw@api.phaseo.app/v1",
        "https://h/v1?x=1",
    ],
)
def test_malformed_base_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        GatewayClient(url, KEY)


def test_base_url_with_or_without_trailing_slash() -> None:
    for base in (BASE, BASE + "/", BASE + "//"):
        adapter = StubAdapter(lambda _r: reply(200, {"id": "G-1"}))
        session = requests.Session()
        session.mount("https://", adapter)
        client = GatewayClient(base, KEY, session=session)
        client.get("G-1")
        assert client.base_url == BASE and adapter.sent[0].url == f"{BASE}/videos/G-1"


def test_headers_key_and_timeouts_on_every_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client, adapter = stub_client(reply(200, {"id": "G-1"}), connect_timeout=1.5, read_timeout=9)
    client._session.verify = False  # a careless session default must not switch TLS checks off
    client.get("G-1")
    sent, kwargs = adapter.sent[0], adapter.kwargs[0]
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["User-Agent"] == f"Reelgate/{__version__} (+python-requests)"
    assert sent.headers["Accept"] == "application/json"
    assert kwargs["timeout"] == (1.5, 9)
    # True, or the CA bundle REQUESTS_CA_BUNDLE names: verification stays on either way.
    assert kwargs["verify"] is True or (isinstance(kwargs["verify"], str) and kwargs["verify"])
    assert KEY not in (sent.url or "")
    assert KEY not in repr(client) and "has_key=True" in repr(client)
    assert KEY not in caplog.text


def test_set_api_key_replaces_or_removes_the_key() -> None:
    client, adapter = stub_client(reply(200, {"id": "G-1"}))
    client.set_api_key("  phaseo_v1_sk_OTHER  ")
    client.get("G-1")
    assert adapter.sent[-1].headers["Authorization"] == "Bearer phaseo_v1_sk_OTHER"
    client.set_api_key(None)
    assert not client.has_key
    client.get("G-1")
    assert "Authorization" not in adapter.sent[-1].headers
    with pytest.raises(ValueError):
        client.set_api_key("bad key\r\nX-Evil: 1")


def test_own_session_pools_16_connections() -> None:
    client = GatewayClient(BASE, KEY)
    adapter = client._session.get_adapter(BASE)
    assert isinstance(adapter, HTTPAdapter) and adapter._pool_maxsize == 16  # type: ignore[attr-defined]
    client.close()


def test_open_signed_never_sends_authorization() -> None:
    def serve(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Content-Length", "4")
        handler.end_headers()
        handler.wfile.write(b"mp4!")

    with ScriptedServer(serve) as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {KEY}"  # even a session default is stripped
        client = GatewayClient(server.url(), KEY, session=session)
        for url in (server.url("/signed/v.mp4?sig=abc"),
                    f"http://user:pw@127.0.0.1:{server.port}/signed/v.mp4"):  # fmt: skip
            with client.open_signed(url) as stream:
                assert b"".join(stream.iter_chunks()) == b"mp4!"
                assert stream.content_type == "video/mp4" and stream.content_length == 4
        assert [entry[1] for entry in server.log] == ["/signed/v.mp4?sig=abc", "/signed/v.mp4"]
        assert all("Authorization" not in headers for _, _, headers in server.log)


def test_open_signed_refuses_plain_http_to_a_remote_host() -> None:
    client, adapter = stub_client(reply(200, {}))
    error = error_of(lambda: client.open_signed("http://cdn.example.com/v.mp4?sig=SECRET"))
    assert error.kind is ErrorKind.INSECURE and "SECRET" not in error.message
    assert adapter.sent == []


def test_open_signed_to_another_https_host_goes_without_the_key() -> None:
    client, adapter = stub_client((200, {"Content-Type": "video/mp4"}, b"abc"))
    with client.open_signed("https://cdn.example.com/v.mp4?sig=1") as stream:
        assert b"".join(stream.iter_chunks()) == b"abc"
    assert "Authorization" not in adapter.sent[0].headers


def test_a_refused_signed_link_is_link_expired_not_a_key_problem() -> None:
    client, _ = stub_client(reply(403, {"error": "unauthorised", "reason": "signature expired"}))
    error = error_of(lambda: client.open_signed("https://cdn.example.com/v.mp4?sig=1"))
    assert error.kind is ErrorKind.LINK_EXPIRED and error.status == 403


def test_cross_host_redirect_drops_the_key_and_same_origin_keeps_it() -> None:
    def target(handler: BaseHTTPRequestHandler) -> None:
        send_json(handler, 200, {"id": "G-1", "status": "queued"})

    with ScriptedServer(target) as other:

        def gateway(handler: BaseHTTPRequestHandler) -> None:
            if handler.path == "/v1/videos/G-1":
                handler.send_response(302)
                handler.send_header("Location", "/v1/videos/G-1/moved")
            elif handler.path == "/v1/videos/G-1/moved":
                handler.send_response(307)
                handler.send_header("Location", other.url("/elsewhere", host="localhost"))
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        with ScriptedServer(gateway) as gw:
            client = GatewayClient(gw.url(), KEY)
            assert client.get("G-1").id == "G-1"
    assert [path for _, path, _ in gw.log] == ["/v1/videos/G-1", "/v1/videos/G-1/moved"]
    assert all(headers["Authorization"] == f"Bearer {KEY}" for _, _, headers in gw.log)
    assert [path for _, path, _ in other.log] == ["/elsewhere"]
    assert "Authorization" not in other.log[0][2]


def test_redirect_to_plain_http_elsewhere_is_refused() -> None:
    client, adapter = stub_client((302, {"Location": "http://evil.example.com/steal"}, b""))
    error = error_of(lambda: client.get("G-1"))
    assert error.kind is ErrorKind.INSECURE
    assert [r.url for r in adapter.sent] == [f"{BASE}/videos/G-1"]


def test_redirects_of_writes_are_not_followed() -> None:
    client, adapter = stub_client((307, {"Location": f"{BASE}/videos2"}, b""))
    error = error_of(lambda: client.create(PARAMS))
    assert error.kind is ErrorKind.UNEXPECTED and not error.ambiguous and len(adapter.sent) == 1


def test_redirect_loops_end() -> None:
    client, adapter = stub_client((302, {"Location": f"{BASE}/videos/G-1"}, b""))
    assert error_of(lambda: client.get("G-1")).code == "too_many_redirects"
    assert len(adapter.sent) == 6


# -- the other calls ---------------------------------------------------------------------------


def test_job_ids_cannot_escape_their_path_segment() -> None:
    client, adapter = stub_client(reply(200, {"id": "x"}))
    client.get("../a/b?c#d")
    assert adapter.sent[0].url == f"{BASE}/videos/..%2Fa%2Fb%3Fc%23d"
    with pytest.raises(ValueError):
        client.get("")


def test_list_sends_only_given_filters_and_parses_the_page() -> None:
    page = {"object": "list", "data": [{"id": "G-2"}, {"id": "G-1"}], "has_more": True,
            "last_id": "G-1"}  # fmt: skip
    client, adapter = stub_client(reply(200, page))
    result = client.list(limit=2)
    assert [job.id for job in result.jobs] == ["G-2", "G-1"] and result.has_more
    assert adapter.sent[0].url == f"{BASE}/videos?limit=2&order=desc"
    client.list(limit=500, after="G-1", order="asc", status="completed")
    assert adapter.sent[1].url == f"{BASE}/videos?limit=100&order=asc&after=G-1&status=completed"
    with pytest.raises(ValueError):
        client.list(order="sideways")


def test_iter_jobs_follows_the_cursor_until_has_more_is_false() -> None:
    pages = {
        None: {"data": [{"id": "a"}, {"id": "b"}], "has_more": True, "last_id": "b"},
        "b": {"data": [{"id": "c"}, {"id": "d"}], "has_more": True},
        "d": {"data": [{"id": "e"}], "has_more": False, "last_id": "e"},
    }

    def answer(request: requests.PreparedRequest) -> Reply:
        after = requests.utils.urlparse(request.url).query.partition("after=")[2] or None
        return reply(200, pages[after])

    client, adapter = stub_client(answer)
    assert [job.id for job in client.iter_jobs(limit=2)] == ["a", "b", "c", "d", "e"]
    assert len(adapter.sent) == 3
    assert [job.id for job in client.iter_jobs(max_pages=2, limit=2)] == ["a", "b", "c", "d"]


def test_iter_jobs_stops_when_the_cursor_does_not_move() -> None:
    client, adapter = stub_client(reply(200, {"data": [{"id": "a"}], "has_more": True,
                                              "last_id": "a"}))  # fmt: skip
    assert [job.id for job in client.iter_jobs()] == ["a", "a"]
    assert len(adapter.sent) == 2


def test_models_returns_the_raw_document() -> None:
    catalogue = {"object": "list", "data": [{"model": "openai/sora-2"}]}
    client, adapter = stub_client(reply(200, catalogue))
    assert client.models() == catalogue
    assert adapter.sent[0].url == f"{BASE}/videos/models"


def test_delete_reports_the_confirmation() -> None:
    client, adapter = stub_client(reply(200, {"id": "G-1", "deleted": True}))
    assert client.delete("G-1") is True and adapter.sent[0].method == "DELETE"
    client, _ = stub_client(reply(200, {"id": "G-1", "deleted": False}))
    assert client.delete("G-1") is False
    client, _ = stub_client((204, {}, b""))
    assert client.delete("G-1") is True
    client, _ = stub_client(reply(200, {"id": "G-1", "deleted": "true"}))
    assert client.delete("G-1") is True  # a boolean written as text still confirms
    client, _ = stub_client(reply(404, {"error": "not_found"}))
    assert error_of(lambda: client.delete("G-1")).kind is ErrorKind.NOT_FOUND


@pytest.mark.parametrize("reason", ["video_cancellation_disabled", "video_api_feature_disabled"])
def test_cancel_is_feature_disabled_in_plain_words(reason: str) -> None:
    body = {"error": "not_implemented_yet", "reason": reason, "request_id": "req_1"}
    client, adapter = stub_client(reply(501, body))
    error = error_of(lambda: client.cancel("G-1"))
    assert error.kind is ErrorKind.FEATURE_DISABLED and error.status == 501
    assert error.message == "Cancel is not available on this gateway"
    assert error.reason == reason and error.request_id == "req_1"
    assert adapter.sent[0].method == "POST" and adapter.sent[0].url == f"{BASE}/videos/G-1/cancel"


def test_cancel_with_a_non_json_501_is_still_feature_disabled() -> None:
    client, _ = stub_client((501, {"Content-Type": "text/plain"}, b"Not Implemented"))
    error = error_of(lambda: client.cancel("G-1"))
    assert error.kind is ErrorKind.FEATURE_DISABLED


def test_download_url_mints_a_signed_link() -> None:
    expires = int(time.time()) + 900
    client, adapter = stub_client(
        reply(200, {"download_url": "https://cdn.test/v.mp4?sig=1", "expires_at": expires})
    )
    link = client.download_url("G-1", ttl_seconds=120, index=1, disposition="attachment")
    assert isinstance(link, SignedLink)
    assert link.url == "https://cdn.test/v.mp4?sig=1" and link.expires_at == expires
    assert "sig=1" not in repr(link)
    assert json.loads(adapter.sent[0].body or b"") == {
        "ttl_seconds": 120,
        "index": 1,
        "disposition": "attachment",
    }
    client, adapter = stub_client(reply(200, {"download_url": "/v1/videos/G-1/file?sig=2"}))
    link = client.download_url("G-1")
    assert json.loads(adapter.sent[0].body or b"") == {"ttl_seconds": 900}
    assert link.url == "https://gw.test/v1/videos/G-1/file?sig=2" and link.expires_at is None


def test_download_url_without_a_link_is_unexpected() -> None:
    client, _ = stub_client(reply(200, {"expires_at": 1}))
    assert error_of(lambda: client.download_url("G-1")).kind is ErrorKind.UNEXPECTED


def test_errors_survive_context_managers() -> None:
    """A GatewayError must pass through ``with`` blocks (contextlib sets __traceback__)."""

    @contextlib.contextmanager
    def wrapper() -> Iterator[None]:
        yield

    client, _ = stub_client(reply(404, {"error": "not_found"}))
    with pytest.raises(GatewayError) as caught, wrapper():
        client.get("G-1")
    assert caught.value.kind is ErrorKind.NOT_FOUND


# -- streaming content -------------------------------------------------------------------------


def video_server(
    body: bytes | None = None,
    *,
    length: int | None = None,
    chunked: bool = False,
    endless: bool = False,
    cut_after: int | None = None,
    stall_after: int | None = None,
) -> ScriptedServer:
    """Serve ``body`` on every GET with the requested framing and faults."""

    def serve(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        if length is not None:
            handler.send_header("Content-Length", str(length))
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        if length is None and not chunked:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        data = body or b""
        if endless:
            block = b"\0" * 65536
            with contextlib.suppress(OSError):
                for _ in range(10_000):
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            return
        if cut_after is not None or stall_after is not None:
            handler.wfile.write(data[: cut_after if cut_after is not None else stall_after])
            handler.wfile.flush()
            if stall_after is not None:
                time.sleep(1.5)
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if chunked:
            for start in range(0, len(data), 1000):
                piece = data[start : start + 1000]
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.wfile.write(data)

    return ScriptedServer(serve)


VIDEO = bytes(range(256)) * 400  # 100 KiB


@pytest.mark.parametrize(
    "framing", [{"length": len(VIDEO)}, {"chunked": True}, {}], ids=["length", "chunked", "close"]
)
def test_open_content_streams_the_whole_body(framing: dict[str, Any]) -> None:
    with video_server(VIDEO, **framing) as server:
        client = GatewayClient(server.url(), KEY)
        with client.open_content("G-1") as stream:
            assert isinstance(stream, ContentStream) and stream.status == 200
            assert stream.content_length == framing.get("length")
            chunks = list(stream.iter_chunks(8192))
        assert b"".join(chunks) == VIDEO and max(map(len, chunks)) <= 8192
        assert server.log[0][1] == "/v1/videos/G-1/content"
        assert server.log[0][2]["Authorization"] == f"Bearer {KEY}"


def test_open_content_index_is_sent_only_when_positive() -> None:
    with video_server(b"x", length=1) as server:
        client = GatewayClient(server.url(), KEY)
        for index in (0, 2):
            with client.open_content("G-1", index) as stream:
                list(stream.iter_chunks())
        assert [path for _, path, _ in server.log] == [
            "/v1/videos/G-1/content",
            "/v1/videos/G-1/content?index=2",
        ]


def test_a_body_past_the_cap_stops_after_about_the_cap() -> None:
    with video_server(chunked=True, endless=True) as server:
        client = GatewayClient(server.url(), KEY, max_content_bytes=300_000)
        stream = client.open_content("G-1")
        with stream, pytest.raises(GatewayError) as caught:
            for _ in stream.iter_chunks(65536):
                pass
    assert caught.value.kind is ErrorKind.UNEXPECTED and caught.value.code == "content_too_large"
    assert 300_000 < stream.bytes_read <= 300_000 + 65536


def test_a_declared_length_past_the_cap_fails_before_reading() -> None:
    with video_server(b"x" * 2000, length=2000) as server:
        client = GatewayClient(server.url(), KEY, max_content_bytes=1000)
        error = error_of(lambda: client.open_content("G-1"))
    assert error.code == "content_too_large"


@pytest.mark.parametrize("framing", [{"length": len(VIDEO)}, {"chunked": True}],
                         ids=["length", "chunked"])  # fmt: skip
def test_a_stream_cut_half_way_raises_network(framing: dict[str, Any]) -> None:
    with video_server(VIDEO, cut_after=len(VIDEO) // 2, **framing) as server:
        client = GatewayClient(server.url(), KEY)
        with client.open_content("G-1") as stream, pytest.raises(GatewayError) as caught:
            for _ in stream.iter_chunks(4096):
                pass
    assert caught.value.kind is ErrorKind.NETWORK


def test_a_stalled_stream_raises_timeout() -> None:
    with video_server(VIDEO, length=len(VIDEO), stall_after=1000) as server:
        client = GatewayClient(server.url(), KEY, read_timeout=0.3)
        with client.open_content("G-1") as stream, pytest.raises(GatewayError) as caught:
            for _ in stream.iter_chunks(4096):
                pass
    assert caught.value.kind is ErrorKind.TIMEOUT


def test_content_not_ready_is_a_typed_error() -> None:
    def serve(handler: BaseHTTPRequestHandler) -> None:
        send_json(handler, 409, {"error": "not_ready", "message": "Video is not ready"})

    with ScriptedServer(serve) as server:
        error = error_of(lambda: GatewayClient(server.url(), KEY).open_content("G-1"))
    assert error.kind is ErrorKind.NOT_READY and error.message == "Video is not ready"
