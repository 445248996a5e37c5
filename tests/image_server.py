"""Test images and a local HTTPS server for them, with a self-signed certificate made at test time.

There is no internet in the tests: image URLs point at this server on 127.0.0.1. Its
certificate is made with the ``openssl`` command when the server starts; the client side
trusts it only through an explicit CA bundle (``ImageServer.ca_bundle``).
"""

from __future__ import annotations

import http.server
import ssl
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def png_bytes(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour RGB PNG."""
    return png_from_pixels(width, height, bytes(rgb) * (width * height))


def png_from_pixels(width: int, height: int, pixels: bytes) -> bytes:
    """An RGB PNG from packed 8-bit RGB rows (``width * height * 3`` bytes)."""
    stride = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    content_type: str = "image/png"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (``cert.pem``, ``key.pem``) made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.hits.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            route = Route(b"not here", "text/plain", 404)
        if route.delay:
            time.sleep(route.delay)
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header(
            "Content-Length", route.headers.get("Content-Length", str(len(route.body)))
        )
        for name, value in route.headers.items():
            if name != "Content-Length":
                self.send_header(name, value)
        self.end_headers()
        with suppress(OSError):
            self.wfile.write(route.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    hits: list[str]


class ImageServer:
    """An HTTPS server on 127.0.0.1 serving :class:`Route` answers."""

    def __init__(self, server: _Server, ca_bundle: Path) -> None:
        self._server = server
        self.ca_bundle = str(ca_bundle)

    @property
    def routes(self) -> dict[str, Route]:
        """Path -> answer; tests add to it freely."""
        return self._server.routes

    @property
    def hits(self) -> list[str]:
        """Paths requested so far."""
        return self._server.hits

    def url(self, path: str) -> str:
        """The https URL of ``path``."""
        return f"https://127.0.0.1:{self._server.server_address[1]}{path}"

    def add_png(
        self, path: str, rgb: tuple[int, int, int], size: tuple[int, int] = (64, 36)
    ) -> str:
        """Serve a solid-colour PNG at ``path``; returns its URL."""
        self.routes[path] = Route(png_bytes(size[0], size[1], rgb))
        return self.url(path)


@contextmanager
def serve_images(folder: Path) -> Iterator[ImageServer]:
    """Run an :class:`ImageServer` with a fresh certificate kept in ``folder``."""
    cert, key = make_certificate(folder)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.hits = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield ImageServer(server, cert)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def images(tmp_path: Path) -> Iterator[ImageServer]:
    """A local HTTPS image server for one test (its certificate in the test's folder)."""
    with serve_images(tmp_path) as server:
        yield server
