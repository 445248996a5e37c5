"""A fault-injecting HTTP proxy in front of the demo gateway, for the reliability suite.

The demo gateway scripts many faults itself (prompt keywords and ``FaultProfile``); this
proxy adds the ones a real network and a real gateway produce that the demo cannot: 504s,
read timeouts and dropped connections on any call, truncated bodies, missing fields and type
variations in job objects, 409 on content, a key revoked mid-run for every request, and so on.

Faults are asked for per job, in the prompt, as ``{px:NAME}`` or ``{px:NAME=N}`` (N calls of
that route for the job; default 1). Several faults on one route apply in prompt order, like
the demo gateway's keywords: ``{px:status-504} {px:status-drop=2}`` answers the first status
call with a 504 and drops the next two. The demo gateway ignores these words. Everything
else is forwarded verbatim over real loopback HTTP, ``Host`` included, so URLs the gateway
builds (content and signed links) point back through the proxy.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

_TAG = re.compile(r"\{px:([a-z0-9-]+)(?:=(\d+))?\}")
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>504 Gateway Time-out</title></head><body>"
    b"<h1>504 Gateway Time-out</h1><p>The upstream server did not answer in time.</p>"
    b"<hr><address>nginx</address></body></html>"
)

#: Every proxy fault, the route it applies to, and what the client sees.
FAULTS: dict[str, str] = {
    # create (POST /videos): ambiguous outcomes and refusals
    "create-drop-before": "create",  # request read, never forwarded, connection closed
    "create-stall-before": "create",  # request read, never forwarded, held, then closed
    "create-drop-after": "create",  # forwarded (job made), connection closed without answer
    "create-timeout-after": "create",  # forwarded, answer held past the client's read timeout
    "create-500-before": "create",  # 500 gateway_error, nothing forwarded
    "create-502-html-after": "create",  # forwarded, then a 502 HTML page instead of the job
    "create-504-after": "create",  # forwarded, then a 504 JSON error
    "create-truncated-after": "create",  # forwarded, half the job JSON, then closed
    "create-429": "create",  # 429 with Retry-After, nothing forwarded
    # status (GET /videos/{id})
    "status-500": "status",
    "status-502": "status",
    "status-503": "status",
    "status-504": "status",
    "status-504-html": "status",
    "status-429": "status",
    "status-429-noretry": "status",
    "status-404": "status",  # a not_found the gateway does not mean (a replica behind)
    "status-timeout": "status",
    "status-drop": "status",
    "status-truncated": "status",
    "status-malformed": "status",
    "status-empty": "status",
    "status-unknown": "status",
    "status-missing-fields": "status",
    "status-types": "status",
    "status-content-type-lie": "status",
    "status-echo-key": "status",  # a 400 whose message quotes the Authorization header
    "status-echo-ok": "status",  # the real job, plus a debug field quoting Authorization
    # content (GET /videos/{id}/content)
    "content-409": "content",
    "content-timeout": "content",
    "content-stall-mid": "content",
    "content-drop": "content",
    "content-truncated": "content",
    "content-500": "content",
    "content-429": "content",
    "content-502": "content",  # the provider refuses the bytes (upstream_error)
    "content-redirect-cdn": "content",  # 302 to another origin (the "CDN") serving the bytes
    # list (GET /videos, used by reconciliation)
    "list-500": "list",
    "list-malformed": "list",
}


@dataclass(frozen=True)
class Call:
    """One request as the proxy classified it."""

    method: str
    path: str
    route: str
    job_id: str | None
    headers: dict[str, str]


def classify(method: str, path: str) -> tuple[str, str | None]:
    """The route (``create``, ``status``, ``content``, ...) and the job id of a request."""
    parts = urlsplit(path)
    segments = [s for s in parts.path.split("/") if s]
    if segments[:2] != ["v1", "videos"]:
        return "other", None
    rest = segments[2:]
    query = dict(parse_qsl(parts.query))
    if not rest:
        return ("create" if method == "POST" else "list"), None
    if rest == ["models"]:
        return "models", None
    if len(rest) == 1:
        return ("delete" if method == "DELETE" else "status"), rest[0]
    if len(rest) == 2 and rest[1] == "content":
        return ("signed" if "signature" in query else "content"), rest[0]
    if len(rest) == 2:
        return rest[1], rest[0]
    return "other", None


def faults_in(prompt: str | None) -> dict[str, int]:
    """``{fault name: how many calls}`` asked for in a prompt."""
    if not prompt:
        return {}
    found: dict[str, int] = {}
    for match in _TAG.finditer(prompt):
        name = match.group(1)
        if name not in FAULTS:
            raise ValueError(f"unknown proxy fault {name!r}")
        found[name] = int(match.group(2) or 1)
    return found


def vary_types(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The same job with the type variations real providers send (int/ISO, str/obj, ...)."""
    out = dict(doc)
    for key in ("created_at", "started_at", "completed_at"):
        value = out.get(key)
        if isinstance(value, int | float):
            out[key] = datetime.fromtimestamp(value, UTC).isoformat().replace("+00:00", "Z")
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                out[key] = int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    if isinstance(out.get("progress"), int):
        out["progress"] = str(out["progress"])
    if isinstance(out.get("seconds"), int):
        out["seconds"] = str(out["seconds"])
    if isinstance(out.get("poll_after_seconds"), int):
        out["poll_after_seconds"] = f"{out['poll_after_seconds']}.0"
    error = out.get("error")
    if isinstance(error, dict):
        out["error"] = f"{error.get('code')}: {error.get('message')}"
    elif isinstance(error, str):
        out["error"] = {"code": "provider_error", "message": error}
    if out.get("outputs") == []:
        out["outputs"] = None
    out["x_extra_field"] = {"nested": [1, "two", None], "flag": rng.random() < 0.5}
    return out


def drop_fields(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The job with optional fields missing (``id`` and ``status`` stay: they are required)."""
    keep = {"id", "status"}
    return {k: v for k, v in doc.items() if k in keep or rng.random() < 0.4}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.open_sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-answer is the point of this server: stay quiet."""


class FaultProxy:
    """Forwards to an upstream gateway and injects the faults each job's prompt asks for."""

    def __init__(
        self,
        upstream_base: str,
        *,
        prompt_of: Callable[[str], str | None],
        stall_seconds: float = 1.0,
        seed: int = 0,
    ) -> None:
        """``prompt_of(job_id)`` tells the proxy which prompt (so which faults) a job has."""
        parts = urlsplit(upstream_base)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.prompt_of = prompt_of
        self.stall_seconds = stall_seconds
        self.rng = random.Random(seed)
        self.revoked = False
        #: The next this many listings (``GET /videos``) fail: 503s and dropped connections
        #: in turn, as in an outage of the gateway's list (401s when ``list_outage_401``).
        self.list_outage = 0
        self.list_outage_401 = False
        #: Bodies the "CDN" serves (see ``content-redirect-cdn``), by token.
        self.cdn_blobs: dict[str, bytes] = {}
        self.cdn_base: str | None = None
        self.injected: Counter[str] = Counter()
        self.creates: Counter[str] = Counter()
        self.calls: list[Call] = []
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen on a free loopback port."""
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection."""
        server = self._server
        if server is None:
            return
        server.shutdown()
        with server.lock:
            sockets = list(server.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def __enter__(self) -> FaultProxy:
        """Start on entering a ``with`` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving it."""
        self.stop()

    @property
    def base_url(self) -> str:
        """The API base URL clients should use."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # -- decisions ---------------------------------------------------------------------------

    def record(self, call: Call) -> None:
        """Remember a request (for the secret-hygiene and header checks)."""
        with self._lock:
            self.calls.append(call)

    def pick(self, route: str, key: str | None, prompt: str | None) -> str | None:
        """The fault to inject for this call of ``route`` for the job, if any."""
        script = [n for n, c in faults_in(prompt).items() if FAULTS[n] == route for _ in range(c)]
        with self._lock:
            index = self._counts[(route, key or "")]
            self._counts[(route, key or "")] += 1
            if index < len(script):
                self.injected[script[index]] += 1
                return script[index]
        return None

    def count(self, kind: str) -> None:
        """Count an injected fault that is not tied to a prompt (a revoked key, say)."""
        with self._lock:
            self.injected[kind] += 1


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, applies at most one fault, forwards the rest."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request stderr lines."""

    def do_GET(self) -> None:
        """Handle GET."""
        self._handle()

    def do_POST(self) -> None:
        """Handle POST."""
        self._handle()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._handle()

    # -- plumbing ----------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        length: int | None = None,
        close: bool = False,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _json_error(
        self, status: int, code: str, job_id: str | None, headers: dict[str, str] | None = None
    ) -> None:
        body = {
            "error": code,
            "status_code": status,
            "error_origin": "gateway",
            "reason": f"injected_{code}",
            "message": f"Injected {status} {code}",
            "generation_id": job_id,
            "request_id": f"req-proxy-{status}-{job_id or 'none'}",
        }
        self._reply(status, json.dumps(body).encode(), headers=headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _forward(self, body: bytes) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(*self.server.proxy.upstream, timeout=60)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for key, value in self.headers.items():
            if key.lower() not in _HOP and key.lower() != "content-length":
                conn.putheader(key, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        return conn.getresponse()

    def _relay(self, response: http.client.HTTPResponse, data: bytes) -> None:
        headers = {
            key: value
            for key, value in response.getheaders()
            if key.lower() not in _HOP and key.lower() not in ("content-length", "content-type")
        }
        self._reply(
            response.status,
            data,
            response.getheader("Content-Type") or "application/json",
            headers,
        )

    # -- the request -------------------------------------------------------------------------

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self._body()
        route, job_id = classify(self.command, self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        proxy.record(Call(self.command, self.path, route, job_id, headers))
        prompt: str | None = None
        if route == "create":
            with contextlib.suppress(ValueError, AttributeError):
                prompt = json.loads(body or b"{}").get("prompt")
            if isinstance(prompt, str):
                with proxy._lock:
                    proxy.creates[prompt] += 1
        elif job_id is not None:
            prompt = proxy.prompt_of(job_id)
        if proxy.revoked and route != "signed":
            proxy.count("key-revoked-401")
            body401 = {
                "error": "unauthorised",
                "reason": "key revoked",
                "message": "This API key has been revoked",
                "request_id": "req-proxy-401",
            }
            self._reply(401, json.dumps(body401).encode())
            return
        if route == "list" and self._list_outage():
            return
        key = prompt if route == "create" else job_id
        fault = proxy.pick(route, key, prompt)
        try:
            self._apply(fault, route, job_id, body)
        except (ConnectionError, TimeoutError, http.client.HTTPException, OSError):
            self._drop()

    def _list_outage(self) -> bool:
        """Fail this listing if an outage is on; True when it was answered (or dropped)."""
        proxy = self.server.proxy
        with proxy._lock:
            if proxy.list_outage <= 0:
                return False
            proxy.list_outage -= 1
            turn = proxy.list_outage
            proxy.injected["list-outage"] += 1
        if proxy.list_outage_401:
            self._reply(401, json.dumps({"error": "unauthorised", "reason": "outage"}).encode())
        elif turn % 2:
            self._drop()
        else:
            self._json_error(503, "service_unavailable", None)
        return True

    def _apply(self, fault: str | None, route: str, job_id: str | None, body: bytes) -> None:
        proxy = self.server.proxy
        stall = proxy.stall_seconds
        if fault is None:
            if route in ("content", "signed"):
                self._stream(self._forward(body), None)
                return
            response = self._forward(body)
            try:
                data = response.read()
            except (http.client.HTTPException, OSError):
                self._drop()  # the upstream dropped us (a demo fault): pass the drop on
                return
            self._relay(response, data)
            return
        # -- faults answered without asking the gateway ---------------------------------------
        before = {
            "create-500-before": (500, "gateway_error", None),
            "create-429": (429, "key_limit_exceeded", {"Retry-After": "2"}),
            "status-500": (500, "gateway_error", None),
            "status-502": (502, "upstream_error", None),
            "status-503": (503, "service_unavailable", {"Retry-After": "3"}),
            "status-504": (504, "gateway_timeout", None),
            "status-429": (429, "key_limit_exceeded", {"Retry-After": "4"}),
            "status-429-noretry": (429, "key_limit_exceeded", None),
            "content-409": (409, "not_ready", None),
            "content-500": (500, "gateway_error", None),
            "content-429": (429, "key_limit_exceeded", {"Retry-After": "5"}),
            "content-502": (502, "upstream_error", None),
            "status-404": (404, "not_found", None),
            "list-500": (500, "gateway_error", None),
        }
        if fault in before:
            status, code, extra = before[fault]
            self._json_error(status, code, job_id, extra)
            return
        if fault == "status-504-html":
            self._reply(504, HTML_PAGE, "text/html")
            return
        if fault in ("create-drop-before", "status-drop", "content-drop"):
            self._drop()
            return
        if fault in ("status-timeout", "content-timeout", "create-stall-before"):
            time.sleep(stall)
            self._drop()
            return
        if fault == "status-empty":
            self._reply(200, b"")
            return
        if fault == "status-echo-key":
            echoed = {
                "error": "validation_error",
                "message": f"Rejected header Authorization: {self.headers.get('Authorization')}",
                "request_id": "req-echo",
            }
            self._reply(400, json.dumps(echoed).encode())
            return
        # -- faults applied to the gateway's real answer -------------------------------------
        response = self._forward(body)
        if route == "content":
            self._stream(response, fault)
            return
        data = response.read()
        if fault in ("create-drop-after",):
            self._drop()
        elif fault == "create-timeout-after":
            time.sleep(stall)
            self._drop()
        elif fault == "create-502-html-after":
            self._reply(502, HTML_PAGE.replace(b"504", b"502"), "text/html")
        elif fault == "create-504-after":
            self._json_error(504, "gateway_timeout", None)
        elif fault in ("create-truncated-after", "status-truncated"):
            self._reply(200, data[: len(data) // 2], length=len(data), close=True)
            self._drop()
        elif fault in ("status-malformed", "list-malformed"):
            self._reply(200, data[: max(1, len(data) // 3)] + b"\x00garbage")
        elif fault == "status-content-type-lie":
            self._reply(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "application/json")
        elif fault == "status-echo-ok":
            doc = json.loads(data)
            doc["debug"] = {"authorization": self.headers.get("Authorization")}
            self._relay(response, json.dumps(doc).encode())
        elif fault in ("status-unknown", "status-missing-fields", "status-types"):
            doc = json.loads(data)
            if fault == "status-unknown":
                doc["status"] = proxy.rng.choice(["upscaling", "RENDERING", "", "paused", 7])
            elif fault == "status-missing-fields":
                doc = drop_fields(doc, proxy.rng)
            else:
                doc = vary_types(doc, proxy.rng)
            self._relay(response, json.dumps(doc).encode())
        else:  # pragma: no cover - every fault is handled above
            raise AssertionError(fault)

    def _stream(self, response: http.client.HTTPResponse, fault: str | None) -> None:
        """Relay a content body (chunked), cutting or stalling it as the fault asks."""
        if response.status != 200:
            self._relay(response, response.read())
            return
        if fault == "content-redirect-cdn":
            data = response.read()
            token = f"blob-{len(self.server.proxy.cdn_blobs)}-{self.server.proxy.rng.random()}"
            self.server.proxy.cdn_blobs[token] = data
            assert self.server.proxy.cdn_base is not None, "start a CdnServer first"
            self._reply(302, b"", headers={"Location": f"{self.server.proxy.cdn_base}/{token}"})
            return
        if fault == "content-truncated":
            data = response.read()
            self._reply(200, data[: len(data) // 2], "video/mp4", length=len(data), close=True)
            self._drop()
            return
        if fault == "content-stall-mid":
            data = response.read()
            half = data[: len(data) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
            self.wfile.flush()
            time.sleep(self.server.proxy.stall_seconds)
            self._drop()
            return
        self.send_response(200)
        for key, value in response.getheaders():
            if key.lower() not in _HOP and key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            try:
                piece = response.read1(64 * 1024)
            except (http.client.HTTPException, OSError):
                self._drop()  # the gateway cut the body: cut ours, unterminated
                return
            if not piece:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _CdnHandler(BaseHTTPRequestHandler):
    server: CdnServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        """Serve a blob the proxy stored, and remember who asked how."""
        self.server.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        data = self.server.proxy.cdn_blobs.get(self.path.rsplit("/", 1)[-1], b"")
        self.send_response(200 if data else 404)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class CdnServer(ThreadingHTTPServer):
    """Another origin ("localhost" rather than "127.0.0.1") that the proxy redirects to."""

    daemon_threads = True

    def __init__(self, proxy: FaultProxy) -> None:
        super().__init__(("127.0.0.1", 0), _CdnHandler)
        self.proxy = proxy
        self.calls: list[tuple[str, dict[str, str]]] = []
        proxy.cdn_base = f"http://localhost:{self.server_address[1]}/cdn"
        threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        """Stop serving."""
        self.shutdown()
        self.server_close()
