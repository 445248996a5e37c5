"""HTTP plumbing of the demo gateway: threaded server, request parsing, routing and streaming."""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from core.demo_gateway.api import Reply, Request, StreamReply, VideoApi, error_reply
from core.demo_gateway.api_errors import ApiError, not_found
from core.demo_gateway.store import RequestLog, Stats

PREFIXES = ("/v1/videos", "/v1/video/generations")
PRICING_PREFIX = "/v1/pricing"
_PRICING_ROUTES = {"models": "GET", "calculate": "POST"}
#: The gateway caps JSON bodies at 16 MiB (an image can travel inline as a data: URL).
MAX_BODY_BYTES = 16 * 1024 * 1024
_QUIET_ERRORS = (ConnectionError, TimeoutError, socket.timeout, OSError)


class GatewayServer(ThreadingHTTPServer):
    """A threaded HTTP server that tracks its open connections so stop() can cut them."""

    daemon_threads = True
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], api: VideoApi, stats: Stats, log: RequestLog
    ) -> None:
        """Bind to `address` (port 0 picks a free port) and remember the endpoint logic."""
        self.api = api
        self.stats = stats
        self.log = log
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, GatewayHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection, then serve it on a daemon thread."""
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget and close the connection."""
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection (idle keep-alives and streams alike)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hang up; report anything else."""
        error = sys.exc_info()[1]
        if isinstance(error, _QUIET_ERRORS):
            return
        traceback.print_exc()


class GatewayHandler(BaseHTTPRequestHandler):
    """Parses one HTTP request, routes it to VideoApi and writes the reply."""

    server: GatewayServer
    protocol_version = "HTTP/1.1"
    server_version = "ReelgateDemoGateway/1.0"
    sys_version = ""
    timeout = 300
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        """The Server header value."""
        return self.server_version

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, on the gateway's own clock (a test may set it apart from ours)."""
        if timestamp is None:
            timestamp = self.server.api.config.clock()
        return email.utils.formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr line."""

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch()

    def do_POST(self) -> None:
        """Handle POST."""
        self._dispatch()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._dispatch()

    def do_PUT(self) -> None:
        """Handle PUT (always 405 or 404)."""
        self._dispatch()

    def do_PATCH(self) -> None:
        """Handle PATCH (always 405 or 404)."""
        self._dispatch()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    raise _too_large()
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._discard(length)
            raise _too_large()
        return self.rfile.read(length) if length > 0 else b""

    def _discard(self, length: int) -> None:
        """Read and drop a refused body (up to 64 MiB).

        So the client hears the 413 answer instead of a reset connection while it is still
        sending.
        """
        left = min(length, 64 * 1024 * 1024)
        while left > 0:
            piece = self.rfile.read(min(left, 1024 * 1024))
            if not piece:
                break
            left -= len(piece)

    def _dispatch(self) -> None:
        stats = self.server.stats
        self.server.log.add(self.command, self.path, dict(self.headers.items()))
        stats.bump("requests")
        try:
            body = self._read_body()
        except ApiError as error:
            self.close_connection = True
            self._send(error_reply(error))
            return
        except ValueError:
            self.close_connection = True
            self._send(error_reply(ApiError(400, "invalid_request", "Malformed body framing")))
            return
        parts = urlsplit(self.path)
        prefix = next((p for p in PREFIXES if _under(parts.path, p)), None)
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            base=f"http://{host}{prefix or PREFIXES[0]}",
        )
        rest = parts.path[len(prefix) :].strip("/") if prefix is not None else ""
        # Calls in flight at once (answer sent included): a client's politeness, measured.
        # "api" is the video calls but content downloads (the ones a request budget governs).
        kind = "create" if prefix is not None and not rest and self.command == "POST" else "call"
        api = "content" if rest.endswith("/content") else "api" if prefix else "other"
        with stats.concurrent(kind), stats.concurrent(api), stats.concurrent("request"):
            self._answer(request, prefix, rest)

    def _answer(self, request: Request, prefix: str | None, rest: str) -> None:
        stats = self.server.stats
        reply: Reply | StreamReply
        try:
            if _under(request.path, PRICING_PREFIX):
                reply = self._route_pricing(request, request.path[len(PRICING_PREFIX) :].strip("/"))
            elif prefix is None:
                raise not_found("Route")
            else:
                reply = self._route(request, rest)
        except ApiError as error:
            if error.status == 401:
                stats.bump("unauthorised")
            reply = error_reply(error)
        except Exception:
            traceback.print_exc()
            reply = error_reply(
                ApiError(500, "gateway_error", "Internal gateway error", origin="gateway")
            )
        if isinstance(reply, StreamReply):
            self._stream(reply)
        else:
            self._send(reply)

    def _route(self, request: Request, rest: str) -> Reply | StreamReply:
        api, stats, method = self.server.api, self.server.stats, request.method
        segments = rest.split("/") if rest else []
        if not segments:
            routes = {"POST": "create", "GET": "list"}
        elif segments == ["models"]:
            routes = {"GET": "models"}
        elif len(segments) == 1:
            routes = {"GET": "get", "DELETE": "delete"}
        elif len(segments) == 2 and segments[1] in ("content", "download_url", "cancel"):
            routes = {"GET": "content"} if segments[1] == "content" else {"POST": segments[1]}
        else:
            raise not_found("Route")
        name = routes.get(method)
        if name is None:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{method} is not allowed here",
                reason="method_not_allowed",
                headers={"Allow": ", ".join(sorted(routes))},
            )
        stats.bump(name)
        if not (name == "content" and "signature" in request.query):
            api.authorise(request)
        api.check_video_api()
        job_id = segments[0] if segments else ""
        if name == "create":
            return api.create(request)
        if name == "list":
            return api.list(request)
        if name == "models":
            return api.models()
        if name == "get":
            return api.get(request, job_id)
        if name == "delete":
            return api.delete(request, job_id)
        if name == "content":
            return api.content(request, job_id)
        if name == "download_url":
            return api.download_url(request, job_id)
        return api.cancel()

    def _route_pricing(self, request: Request, rest: str) -> Reply:
        method = _PRICING_ROUTES.get(rest)
        if method is None:
            raise not_found("Route")
        if request.method != method:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here",
                reason="method_not_allowed",
                headers={"Allow": method},
            )
        self.server.stats.bump(f"pricing_{rest}")
        self.server.api.authorise(request)
        return self.server.api.pricing(rest, request)

    def _send(self, reply: Reply) -> None:
        if reply.delay > 0:
            time.sleep(reply.delay)
        if reply.drop:
            self.close_connection = True
            return
        data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: StreamReply) -> None:
        self.send_response(200)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        limit = reply.drop_after
        sent = 0
        write = self.wfile.write
        try:
            for piece in reply.payload.chunks(self.server.api.config.chunk_size):
                if limit is not None and sent + len(piece) > limit:
                    piece = piece[: limit - sent]
                if not piece:
                    continue
                if reply.chunked:
                    write(b"%x\r\n" % len(piece))
                    write(piece)
                    write(b"\r\n")
                else:
                    write(piece)
                sent += len(piece)
                if limit is not None and sent >= limit:
                    self.close_connection = True
                    return
            if reply.chunked:
                write(b"0\r\n\r\n")
        finally:
            self.server.stats.bump("content_bytes", sent)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", "Request body too large", reason="body_too_large")
