"""HTTP plumbing for the gateway client: URL and key safety, error mapping, bounded reads.

Everything here turns the many ways ``requests``/``urllib3`` can fail into one
:class:`~core.errors.GatewayError`, and decides whether a failure happened before the request
left this machine (``ambiguous=False``: nothing reached the server) or after it may have
(``ambiguous=True``: a create may exist on the server and must not be resent).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import ipaddress
import json
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.errors import ErrorKind, GatewayError, error_from_response, parse_retry_after
from core.wire import as_object, decode_json

#: The longest body excerpt kept on an error (characters).
MAX_EXCERPT_CHARS = 2000
#: JSON answers (jobs, lists, errors) larger than this are refused, so a runaway body cannot
#: exhaust memory; a full list page of 100 jobs is a few hundred KiB.
MAX_JSON_BYTES = 16 * 1024 * 1024

# requests and urllib3 (about 0.1 s to import) load with the first request, not with this
# module: the window imports the client at start-up but sends nothing before it shows.
if TYPE_CHECKING:
    import requests


@functools.cache
def transport_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a ``requests`` call or a body read may raise for transport reasons."""
    import http.client

    import requests
    import urllib3.exceptions as u3

    return (requests.RequestException, u3.HTTPError, http.client.HTTPException, OSError)


@functools.cache
def _local_request_errors() -> tuple[type[BaseException], ...]:
    import requests
    import urllib3.exceptions as u3

    return (
        requests.exceptions.InvalidURL,
        requests.exceptions.InvalidSchema,
        requests.exceptions.MissingSchema,
        requests.exceptions.InvalidHeader,
        requests.exceptions.InvalidJSONError,
        u3.LocationValueError,
    )


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` names this machine: ``localhost``, 127.0.0.0/8 or ``::1``."""
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_secure_url(url: str) -> bool:
    """Whether ``url`` may carry a secret: ``https``, or plain ``http`` to a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    if parts.scheme.lower() == "https":
        return True
    return parts.scheme.lower() == "http" and is_loopback_host(host)


def require_secure_url(url: str, what: str) -> None:
    """Raise ``GatewayError(INSECURE)`` unless :func:`is_secure_url` accepts ``url``."""
    if not is_secure_url(url):
        raise GatewayError(
            kind=ErrorKind.INSECURE,
            message=f"Refusing {what} {redact_url(url)}: only https (or http to this machine) "
            "is allowed",
            code="insecure_url",
        )


def origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def redact_url(url: str) -> str:
    """The URL without its query or user info, for messages (signed links carry a secret)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    return f"{parts.scheme}://{host}{port}{parts.path}"[:300]


def excerpt(body: bytes) -> str | None:
    """The first bytes of a body as text (undecodable bytes replaced), at most 2000 chars."""
    if not body:
        return None
    return body[: MAX_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")[:MAX_EXCERPT_CHARS]


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (``args``, ``reason``, ``__cause__``)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 16:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            pending.append(reason)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        # Only explicit wrapping (``raise ... from``), not __context__: an exception handled
        # earlier inside urllib3 says nothing about why this call failed.
        if current.__cause__ is not None:
            pending.append(current.__cause__)


_QUERY = re.compile(r"\?[^\s'\"<>()]*")


def scrub_urls(text: str) -> str:
    """``text`` without URL queries: a signed link's query is a credential until it expires.

    Transport errors quote the URL they failed on (``Max retries exceeded with url:
    /videos/G-1/content?signature=...``); messages and diagnostics keep only the path.
    """
    return _QUERY.sub("?[redacted]", text)


def _describe(exc: BaseException) -> str:
    """A short, key- and signature-free description of the innermost useful cause."""
    innermost = exc
    for cause in _causes(exc):
        innermost = cause
    text = scrub_urls(str(innermost) or type(innermost).__name__)
    return text if len(text) <= 300 else text[:297] + "..."


def transport_error(exc: BaseException, *, during_body: bool = False) -> GatewayError:
    """Map a ``requests``/``urllib3``/socket exception to a :class:`GatewayError`.

    ``ambiguous`` is False only when the failure certainly happened before the request was
    sent (DNS, refused connection, connect timeout, certificate rejected, bad URL); anything
    else, and every failure while reading a body, may have reached the server.
    """
    import ssl

    import requests
    import urllib3.exceptions as u3

    causes = list(_causes(exc))
    detail = _describe(exc)

    def has(*types: type[BaseException]) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    if not during_body:
        if has(*_local_request_errors()):
            return GatewayError(
                kind=ErrorKind.UNEXPECTED,
                message=f"The request could not be built: {detail}",
                code="invalid_request",
            )
        if has(u3.NameResolutionError, u3.NewConnectionError):
            return GatewayError(
                kind=ErrorKind.NETWORK,
                message=f"Cannot connect to the server: {detail}",
                code="connect_failed",
            )
        if has(requests.exceptions.ConnectTimeout, u3.ConnectTimeoutError):
            return GatewayError(
                kind=ErrorKind.TIMEOUT,
                message=f"Connecting to the server timed out: {detail}",
                code="connect_timeout",
            )
        if has(ssl.SSLCertVerificationError, ssl.CertificateError):
            return GatewayError(
                kind=ErrorKind.NETWORK,
                message=f"The server's TLS certificate was rejected: {detail}",
                code="tls_certificate",
            )
        if has(requests.exceptions.ProxyError, u3.ProxyError):
            return GatewayError(
                kind=ErrorKind.NETWORK,
                message=f"The proxy refused the connection: {detail}",
                code="proxy_error",
            )
    if has(requests.exceptions.ReadTimeout, u3.ReadTimeoutError, TimeoutError):
        return GatewayError(
            kind=ErrorKind.TIMEOUT,
            message=f"The server stopped answering: {detail}",
            code="read_timeout",
            ambiguous=True,
        )
    return GatewayError(
        kind=ErrorKind.NETWORK,
        message=f"The connection broke off: {detail}",
        code="connection_lost",
        ambiguous=True,
    )


def _body_chunks(response: requests.Response, deadline: float | None) -> Iterator[bytes]:
    """The body's chunks; with a ``deadline`` (monotonic), a TIMEOUT error once it passes.

    The read timeout bounds each wait for bytes, not the whole body: a server that trickles
    a byte every second would hold the call forever. ``read1`` returns whatever has arrived,
    so the deadline is checked at least once per network read.
    """
    read1 = getattr(response.raw, "read1", None)
    if deadline is None or read1 is None:  # urllib3 < 2 has no read1: per-read timeouts only
        yield from response.iter_content(64 * 1024)
        return
    while True:
        if time.monotonic() > deadline:
            raise GatewayError(
                kind=ErrorKind.TIMEOUT,
                message="The server sent its answer too slowly; the call was stopped",
                status=response.status_code,
                code="read_deadline",
                ambiguous=True,
            )
        chunk = read1(64 * 1024, decode_content=True)
        if not chunk:
            return
        yield chunk


def read_limited(
    response: requests.Response, limit: int = MAX_JSON_BYTES, *, deadline: float | None = None
) -> bytes:
    """Read a whole (streamed) body, refusing more than ``limit`` bytes; always closes it.

    ``deadline`` (a ``time.monotonic()`` value) also bounds the time the whole body may take.
    """
    parts: list[bytes] = []
    total = 0
    try:
        for chunk in _body_chunks(response, deadline):
            total += len(chunk)
            if total > limit:
                raise GatewayError(
                    kind=ErrorKind.UNEXPECTED,
                    message=f"The response is larger than {limit} bytes",
                    status=response.status_code,
                    code="response_too_large",
                    body_excerpt=excerpt(b"".join(parts)),
                )
            parts.append(chunk)
    except transport_errors() as exc:
        raise transport_error(exc, during_body=True) from exc
    finally:
        response.close()
    return b"".join(parts)


_KEY_CHARS = re.compile(r"^[\x21-\x7e]+$")
REDACTED_BYTES = b"[redacted]"
MIN_SCRUBBED_KEY = 12


def scrub_secret(body: bytes, secret: str | None) -> bytes:
    """``body`` with every copy of ``secret`` (as sent, or JSON-escaped) replaced.

    A gateway or proxy that echoes the Authorization header in an answer must not get the
    key written into the journal, the logs or a diagnostics export, which keep answers
    verbatim. Keys shorter than ``MIN_SCRUBBED_KEY`` characters (the demo gateway's
    ``demo``) are not secrets worth mangling ordinary text for.
    """
    if not secret or len(secret) < MIN_SCRUBBED_KEY:
        return body
    for form in {secret, json.dumps(secret)[1:-1]}:
        body = body.replace(form.encode(), REDACTED_BYTES)
    return body


class BearerAuth:
    """Adds ``Authorization: Bearer <key>``; its repr never shows the key.

    requests takes any callable as ``auth`` (its ``AuthBase`` adds nothing but the call).
    """

    def __init__(self, key: str | None) -> None:
        """Hold the key (``None``: send no Authorization at all)."""
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Set (or, without a key, remove) the Authorization header."""
        request.headers.pop("Authorization", None)
        if self.key:
            request.headers["Authorization"] = f"Bearer {self.key}"
        return request

    def __repr__(self) -> str:
        """No secret in reprs."""
        return f"BearerAuth(has_key={bool(self.key)})"


#: Explicit "no auth": strips any Authorization a session default would add, and (being an
#: explicit auth) stops requests from falling back to ~/.netrc or URL credentials.
NO_AUTH = BearerAuth(None)


def key_fingerprint(key: str | None) -> str:
    """A short, one-way fingerprint of an API key (``"none"`` without one); never the key.

    Sixteen hex digits of a salted SHA-256: enough to tell a person's keys apart, and no way
    back to a key of that length.
    """
    if not key:
        return "none"
    return hashlib.sha256(b"reelgate-key-fingerprint:" + key.encode()).hexdigest()[:16]


def gateway_identity(base_url: str, key: str | None) -> str:
    """Which gateway and account a job belongs to: ``<base URL>#<key fingerprint>``."""
    return f"{base_url}#{key_fingerprint(key)}"


def clean_key(key: str | None) -> str | None:
    """The key stripped (blank -> ``None``); ValueError if it cannot go in a header."""
    if key is None or not key.strip():
        return None
    key = key.strip()
    if not _KEY_CHARS.match(key):
        raise ValueError("The API key contains spaces or characters that cannot be sent")
    return key


def normalise_base_url(base_url: str) -> str:
    """The gateway root without trailing slashes; ValueError if malformed, INSECURE if http."""
    url = base_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"Not a usable gateway URL: {base_url!r}") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"The gateway URL must start with https://: {base_url!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ValueError("The gateway URL must not contain credentials, a query or a fragment")
    require_secure_url(url, "to send the API key to")
    return url


def with_changes(error: GatewayError, **changes: Any) -> GatewayError:
    """A copy of ``error`` with some fields changed (GatewayError is frozen)."""
    return dataclasses.replace(error, **changes)


def unexpected(
    message: str,
    document: object = None,
    status: int | None = None,
    *,
    body: bytes = b"",
    code: str = "unexpected_response",
) -> GatewayError:
    """An ``UNEXPECTED`` error for an answer of the wrong shape."""
    raw = as_object(document)
    if not body and document is not None:
        try:
            body = json.dumps(document, ensure_ascii=False)[: MAX_EXCERPT_CHARS * 2].encode()
        except (ValueError, TypeError, RecursionError):
            body = b""
    return GatewayError(
        kind=ErrorKind.UNEXPECTED,
        message=message,
        status=status,
        code=code,
        request_id=request_id_of(raw),
        body=raw,
        body_excerpt=excerpt(body),
    )


def request_id_of(raw: dict[str, Any]) -> str | None:
    """The gateway request id a body carries (``request_id``, ``generation_id`` or ``id``)."""
    value = raw.get("request_id") or raw.get("generation_id") or raw.get("id")
    return value if isinstance(value, str) and value else None


def decode_body(status: int, body: bytes) -> object:
    """Decode a 2xx JSON body or raise UNEXPECTED with the body's first bytes."""
    document, problem = decode_json(body)
    if problem is not None:
        raise unexpected(
            f"The gateway's answer is not readable JSON: {problem}",
            status=status,
            body=body,
            code="malformed_response",
        )
    return document


def http_error(response: requests.Response, body: bytes) -> GatewayError:
    """The GatewayError for a non-2xx answer; only a JSON body is classified by its code."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    text = excerpt(body)
    document, problem = decode_json(body)
    if problem is not None:
        # Not the gateway's JSON (a proxy's HTML page, a wrong URL): its status says little.
        return GatewayError(
            kind=ErrorKind.UNEXPECTED,
            message=f"HTTP {status} with a body that is not the gateway's JSON ({problem})",
            status=status,
            code="malformed_error_response",
            retry_after=retry_after,
            body_excerpt=text,
        )
    try:
        return error_from_response(status, document, retry_after=retry_after, body_excerpt=text)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        return GatewayError(
            kind=ErrorKind.UNEXPECTED,
            message=f"HTTP {status} with an error body Reelgate could not read ({exc})",
            status=status,
            code="malformed_error_response",
            retry_after=retry_after,
            body_excerpt=text,
        )
