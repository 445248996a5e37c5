"""Local image files read for sending inline, and image URLs fetched the way the gateway does.

A local file becomes a base64 ``data:`` URL (only models taking ``input_reference`` accept
one). An https image is fetched with the gateway's own rules (API.md: about 25 MiB,
``image/*`` only, no redirects, 10 s), so a picture the app can show is one the gateway
will take. ``ca_bundle`` lets tests and the demo trust a local HTTPS server's certificate.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from core.image_inputs import MAX_DATA_URL_CHARS, ImageInput
from core.image_rules import check_image_url

# The HTTP client (about 0.1 s to import) loads when an image is first fetched: the window
# and the demo gateway import this module at start-up.
if TYPE_CHECKING:
    import requests

#: The largest image the gateway fetches from a URL (about 25 MiB).
MAX_FETCH_BYTES = 25 * 1024 * 1024
#: How long the gateway waits for an image URL, in seconds.
FETCH_TIMEOUT = 10.0
#: The largest file that can fit in a data: URL of at most MAX_DATA_URL_CHARS characters.
MAX_FILE_BYTES = MAX_DATA_URL_CHARS * 3 // 4
#: Names a PEM file of extra certificates to trust for image URLs: for tests and demos that
#: serve images from a local HTTPS server. Never used for the gateway itself.
CA_BUNDLE_ENV = "REELGATE_IMAGE_CA_BUNDLE"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def ca_bundle_from_env() -> str | None:
    """The extra certificates named by :data:`CA_BUNDLE_ENV`, if set."""
    return os.environ.get(CA_BUNDLE_ENV) or None


class ImageError(Exception):
    """An image that cannot be used, with a message a person can act on."""


@dataclass(frozen=True)
class FetchedImage:
    """The bytes of an image fetched from a URL, and its declared type."""

    data: bytes
    content_type: str


def sniff_image_type(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes (PNG, JPEG, GIF, WebP), else ``None``."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def data_url(data: bytes, kind: str) -> str:
    """``data`` as a base64 ``data:`` URL of type ``kind``."""
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


def data_url_bytes(url: str) -> bytes:
    """The bytes inside a base64 ``data:`` URL (the inverse of :func:`data_url`).

    Raises :class:`ImageError` when the part after the comma is not valid base64.
    """
    try:
        return base64.b64decode(url.partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("The data: URL is not valid base64.") from None


def read_image_file(path: str | Path, role: str | None = None) -> ImageInput:
    """A local image as an :class:`ImageInput` with its ``data:`` URL; ImageError if unusable."""
    file = Path(path).expanduser()
    name = file.name or str(file)
    try:
        size = file.stat().st_size
        if not file.is_file():
            raise ImageError(f"{name} is not a file.")
        if size > MAX_FILE_BYTES:
            raise ImageError(
                f"{name} is {size / 1024 / 1024:.1f} MiB; an image sent from a file can be at "
                f"most {MAX_FILE_BYTES / 1024 / 1024:.1f} MiB. Use a smaller file or an "
                "https:// URL."
            )
        data = file.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"The image file {file} does not exist.") from None
    except OSError as error:
        raise ImageError(
            f"The image file {file} cannot be read: {error.strerror or error}."
        ) from None
    kind = sniff_image_type(data)
    if kind is None:
        raise ImageError(f"{name} is not a PNG, JPEG, WebP or GIF image.")
    return ImageInput(url=data_url(data, kind), role=role, file=str(file.resolve()))


def _fetch_problem(error: requests.RequestException, host: str) -> str:
    import requests

    if isinstance(error, requests.exceptions.SSLError):
        return f"The image server {host} has a certificate that is not trusted."
    if isinstance(error, requests.Timeout):
        return f"The image did not arrive within {FETCH_TIMEOUT:g} s."
    if isinstance(error, requests.ConnectionError):
        return f"Could not reach the image server {host}."
    return f"The image could not be fetched ({type(error).__name__})."


def fetch_image(
    url: str,
    *,
    ca_bundle: str | None = None,
    max_bytes: int = MAX_FETCH_BYTES,
    timeout: float = FETCH_TIMEOUT,
) -> FetchedImage:
    """Fetch an https image with the gateway's rules; ImageError says what is wrong."""
    problem = check_image_url(url)
    if problem is not None:
        raise ImageError(problem)
    import requests

    host = urlsplit(url.strip()).hostname or "?"
    deadline = time.monotonic() + timeout
    try:
        with requests.get(
            url.strip(),
            stream=True,
            allow_redirects=False,
            timeout=(timeout, timeout),
            verify=ca_bundle if ca_bundle else True,
            headers={"Accept": "image/*"},
        ) as response:
            status = response.status_code
            if 300 <= status < 400:
                raise ImageError(
                    f"The image URL redirects (HTTP {status}); redirects are not followed. "
                    "Use the image's final address."
                )
            if status != 200:
                raise ImageError(f"The image URL answered HTTP {status}.")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if not kind.startswith("image/"):
                raise ImageError(f"The URL is not an image (it is {kind or 'of no stated type'}).")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ImageError(_too_big(max_bytes))
            parts: list[bytes] = []
            total = 0
            for chunk in response.iter_content(64 * 1024):
                total += len(chunk)
                if total > max_bytes:
                    raise ImageError(_too_big(max_bytes))
                if time.monotonic() > deadline:
                    raise ImageError(f"The image did not arrive within {timeout:g} s.")
                parts.append(chunk)
    except requests.RequestException as error:
        raise ImageError(_fetch_problem(error, host)) from None
    return FetchedImage(b"".join(parts), kind)


def _too_big(limit: int) -> str:
    return f"The image is larger than {limit / 1024 / 1024:.0f} MiB, the most the gateway fetches."
