"""The Phaseo gateway's asynchronous video API as typed Python calls: a thin, honest layer.

Each method makes exactly one logical request (redirects of reads aside) and either returns
a parsed value or raises :class:`~core.errors.GatewayError`; nothing is retried here, the
caller's poll policy decides. A create whose outcome is unknown (sent, then no usable answer)
raises with ``ambiguous=True`` and is never resent: that includes timeouts and dropped
connections after sending, a 2xx without a readable job, and any 5xx other than 501.

The API key goes only to the configured gateway origin, only over https (or http to a
loopback host), never in a URL, a log line or ``repr``; signed links are fetched without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from core.clock_offset import ClockOffset
from core.errors import ErrorKind, GatewayError
from core.gateway_content import ContentStream, SignedLink, content_too_large
from core.gateway_http import (
    NO_AUTH,
    TRANSPORT_ERRORS,
    BearerAuth,
    clean_key,
    decode_body,
    gateway_identity,
    http_error,
    is_loopback_host,
    is_secure_url,
    normalise_base_url,
    origin,
    read_limited,
    redact_url,
    require_secure_url,
    scrub_secret,
    transport_error,
    unexpected,
    with_changes,
)
from core.jobs import JobParams
from core.version import APP_NAME, __version__
from core.wire import (
    JobPage,
    RemoteJob,
    as_bool,
    as_object,
    parse_job,
    parse_job_page,
    parse_time,
)

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "ContentStream", "GatewayClient", "SignedLink"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.phaseo.app/v1"
USER_AGENT = f"{APP_NAME}/{__version__} (+python-requests)"
MAX_REDIRECTS = 5
_JSON = "application/json"


class GatewayClient:
    """One gateway account: a shared ``requests.Session`` (safe to use from several threads)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        session: requests.Session | None = None,
        max_content_bytes: int = 512 * 1024 * 1024 + 1024 * 1024,
        max_answer_seconds: float = 120.0,
    ) -> None:
        """Check the URL (https, or http to loopback) and prepare the connection pool.

        ``max_answer_seconds`` bounds the time a JSON answer's body may take to arrive (the
        read timeout only bounds each wait for the next bytes).
        """
        self._base_url = normalise_base_url(base_url)
        self._origin = origin(self._base_url)
        self._auth = BearerAuth(clean_key(api_key))
        self._timeout = (connect_timeout, read_timeout)
        self.max_content_bytes = max_content_bytes
        self.max_answer_seconds = max_answer_seconds
        #: The gateway's clock against ours, from its answers' Date headers.
        self._clock = ClockOffset()
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self._session = session

    # -- configuration ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The gateway root without a trailing slash, e.g. ``https://api.phaseo.app/v1``."""
        return self._base_url

    @property
    def has_key(self) -> bool:
        """Whether an API key is set."""
        return self._auth.key is not None

    @property
    def create_timeout(self) -> float:
        """The longest a create may take to reach the gateway: connect + read timeouts."""
        return float(self._timeout[0] + self._timeout[1])

    @property
    def identity(self) -> str:
        """This gateway and account: base URL plus a fingerprint of the key (never the key)."""
        return gateway_identity(self._base_url, self._auth.key)

    @property
    def clock_offset(self) -> float:
        """Seconds the gateway's clock is ahead of this machine's (0.0 until it answered)."""
        return self._clock.seconds

    def set_api_key(self, key: str | None) -> None:
        """Replace the key (``None`` or blank: none); takes effect for the next request."""
        self._auth.key = clean_key(key)

    def __repr__(self) -> str:
        """Base URL and whether a key is set; never the key."""
        return f"GatewayClient(base_url={self._base_url!r}, has_key={self.has_key})"

    def close(self) -> None:
        """Close the session's connections (only a session this client created)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> GatewayClient:
        """Use as a context manager that closes the client."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close on exit."""
        self.close()

    # -- jobs ---------------------------------------------------------------------------------

    def create(self, params: JobParams) -> RemoteJob:
        """``POST /videos``: start a job. Sent once; an unknown outcome is ``ambiguous``."""
        try:
            job = _require_job(
                *self._call_json("POST", "/videos", json_body=params.to_request()), "create"
            )
        except GatewayError as error:
            if not error.ambiguous and _create_outcome_unknown(error):
                raise with_changes(error, ambiguous=True) from error
            raise
        logger.info("Created job %s (%s)", job.id, job.status_text)
        return job

    def get(self, job_id: str) -> RemoteJob:
        """``GET /videos/{id}``: the job's current status (the gateway refreshes it)."""
        return _require_job(*self._call_json("GET", f"/videos/{_segment(job_id)}"), "status")

    def list(
        self,
        *,
        limit: int = 100,
        after: str | None = None,
        order: str = "desc",
        status: str | None = None,
    ) -> JobPage:
        """``GET /videos``: one page of the account's jobs (``limit`` is clamped to 1-100)."""
        if order not in ("asc", "desc"):
            raise ValueError(f"order must be 'asc' or 'desc', not {order!r}")
        params = {
            "limit": str(max(1, min(100, limit))),
            "order": order,
            "after": after or None,
            "status": status or None,
        }
        status_code, document = self._call_json("GET", "/videos", params=params)
        if not isinstance(document, dict | list):
            raise unexpected("The job list is not a JSON object", document, status_code)
        return parse_job_page(document)

    def iter_jobs(
        self,
        *,
        max_pages: int = 10,
        limit: int = 100,
        order: str = "desc",
        status: str | None = None,
        after: str | None = None,
    ) -> Iterator[RemoteJob]:
        """Every job across pages, following ``after=<last_id>`` while ``has_more``."""
        cursor = after
        for _ in range(max_pages):
            page = self.list(limit=limit, after=cursor, order=order, status=status)
            yield from page.jobs
            if not page.has_more or not page.last_id or page.last_id == cursor:
                return
            cursor = page.last_id

    def models(self) -> object:
        """``GET /videos/models``: the raw decoded catalogue (parsed elsewhere)."""
        return self._call_json("GET", "/videos/models")[1]

    def pricing_models(self) -> object:
        """``GET /pricing/models``: the raw price list (parsed by ``core.pricing``)."""
        return self._call_json("GET", "/pricing/models")[1]

    def pricing_calculate(self, body: object) -> object:
        """``POST /pricing/calculate``: the gateway prices one usage (``core.estimate``)."""
        return self._call_json("POST", "/pricing/calculate", json_body=body)[1]

    def delete(self, job_id: str) -> bool:
        """``DELETE /videos/{id}``: True when the gateway confirms ``deleted: true``."""
        response = self._send("DELETE", self._url(f"/videos/{_segment(job_id)}"), accept=_JSON)
        body = self._read(response)
        if not 200 <= response.status_code < 300:
            raise http_error(response, body)
        if not body.strip():
            return True  # a bodiless 2xx (204) is a confirmation too
        document = decode_body(response.status_code, body)
        if not isinstance(document, dict):
            raise unexpected("The delete answer is not a JSON object", document, 200)
        return as_bool(document.get("deleted")) is True

    def cancel(self, job_id: str) -> None:
        """``POST /videos/{id}/cancel``; today's gateway answers 501 (``FEATURE_DISABLED``)."""
        try:
            self._call_json("POST", f"/videos/{_segment(job_id)}/cancel", allow_empty=True)
        except GatewayError as error:
            if error.status == 501 or error.kind is ErrorKind.FEATURE_DISABLED:
                raise with_changes(
                    error,
                    kind=ErrorKind.FEATURE_DISABLED,
                    message="Cancel is not available on this gateway",
                ) from error
            raise

    # -- content ------------------------------------------------------------------------------

    def open_content(self, job_id: str, index: int = 0) -> ContentStream:
        """``GET /videos/{id}/content`` (``?index=n`` for n > 0), streamed; needs the key."""
        if index < 0:
            raise ValueError("index must not be negative")
        params = {"index": str(index)} if index > 0 else None
        url = self._url(f"/videos/{_segment(job_id)}/content")
        return self._open_stream(url, params=params, authorized=True)

    def open_signed(self, url: str) -> ContentStream:
        """Fetch a signed ``download_url`` without Authorization (https or loopback only)."""
        absolute = urljoin(self._base_url + "/", url.strip())
        require_secure_url(absolute, "to fetch the signed link")
        return self._open_stream(absolute, params=None, authorized=False)

    def download_url(
        self,
        job_id: str,
        *,
        ttl_seconds: int = 900,
        index: int | None = None,
        disposition: str | None = None,
    ) -> SignedLink:
        """``POST /videos/{id}/download_url``: mint a signed link (completed jobs only)."""
        body: dict[str, Any] = {"ttl_seconds": ttl_seconds}
        if index is not None:
            body["index"] = index
        if disposition is not None:
            body["disposition"] = disposition
        status_code, document = self._call_json(
            "POST", f"/videos/{_segment(job_id)}/download_url", json_body=body
        )
        doc = as_object(document)
        link = doc.get("download_url") or doc.get("url")
        if not isinstance(link, str) or not link.strip():
            raise unexpected("The gateway answered without a download_url", document, status_code)
        return SignedLink(
            url=urljoin(self._base_url + "/", link.strip()),
            expires_at=parse_time(doc.get("expires_at")),
            raw=doc,
        )

    # -- plumbing -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        """An absolute gateway URL for an API path like ``/videos``."""
        return self._base_url + path

    def _call_json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | None] | None = None,
        json_body: object = None,
        allow_empty: bool = False,
    ) -> tuple[int, object]:
        """One JSON request: ``(status, decoded 2xx body)``, or a GatewayError otherwise."""
        response = self._send(
            method, self._url(path), params=params, json_body=json_body, accept=_JSON
        )
        body = self._read(response)
        if not 200 <= response.status_code < 300:
            raise http_error(response, body)
        if allow_empty and not body.strip():
            return response.status_code, None
        return response.status_code, decode_body(response.status_code, body)

    def _read(self, response: requests.Response) -> bytes:
        """A whole JSON (or error) answer: size- and time-limited, this client's key scrubbed."""
        body = read_limited(response, deadline=time.monotonic() + self.max_answer_seconds)
        return scrub_secret(body, self._auth.key)

    def _open_stream(
        self, url: str, *, params: dict[str, str] | None, authorized: bool
    ) -> ContentStream:
        """GET a body as a stream; non-2xx answers become errors, the size cap is checked."""
        response = self._send(
            "GET", url, params=params, accept="*/*", authorized=authorized, identity=True
        )
        if not 200 <= response.status_code < 300:
            error = http_error(response, self._read(response))
            if not authorized and error.status in (401, 403, 410):
                # The link itself is the credential: a refusal means it expired, not the key.
                error = with_changes(error, kind=ErrorKind.LINK_EXPIRED)
            raise error
        stream = ContentStream(response, max_bytes=self.max_content_bytes)
        if stream.content_length is not None and stream.content_length > self.max_content_bytes:
            stream.close()
            raise content_too_large(self.max_content_bytes, response.status_code)
        return stream

    def _send(
        self,
        method: str,
        url: str,
        *,
        accept: str,
        params: dict[str, str] | dict[str, str | None] | None = None,
        json_body: object = None,
        authorized: bool = True,
        identity: bool = False,
    ) -> requests.Response:
        """Send one request (following GET redirects by hand) and return the open response.

        The key rides only to the gateway's own origin; every hop must be https or loopback.
        """
        headers = {"User-Agent": USER_AGENT, "Accept": accept}
        if identity:
            headers["Accept-Encoding"] = "identity"  # videos are compressed already
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            require_secure_url(current, "to connect to")
            send_key = authorized and origin(current) == self._origin
            # Never through a proxy from the environment (HTTP_PROXY...) to this machine: the
            # proxy cannot reach it, and over plain http it would read the key in transit.
            local = is_loopback_host(urlsplit(current).hostname)
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    current,
                    params=params,
                    json=json_body,
                    headers=headers,
                    auth=self._auth if send_key else NO_AUTH,
                    timeout=self._timeout,
                    verify=True,
                    stream=True,
                    allow_redirects=False,
                    proxies=_no_env_proxies() if local else None,
                )
            except TRANSPORT_ERRORS as exc:
                error = transport_error(exc)
                logger.info("%s %s failed: %s", method, redact_url(current), error.message)
                raise error from exc
            except UnicodeError as exc:
                # requests decodes a redirect's Location as UTF-8 even when it does not follow
                # it; a Latin-1 (or binary) Location raised straight through the job loop.
                raise GatewayError(
                    kind=ErrorKind.UNEXPECTED,
                    message="The gateway answered with a redirect whose target is not text",
                    code="unreadable_redirect",
                ) from exc
            logger.debug(
                "%s %s -> %s in %.2f s",
                method,
                redact_url(current),
                response.status_code,
                time.monotonic() - started,
            )
            if origin(current) == self._origin:  # the gateway's own clock, not a CDN's
                self._clock.note(response.headers.get("Date"), time.time())
            if not response.is_redirect:
                return response
            location = response.headers.get("Location", "")
            response.close()
            if method != "GET":
                raise GatewayError(
                    kind=ErrorKind.UNEXPECTED,
                    message=f"The gateway answered {method} with a redirect to "
                    f"{redact_url(urljoin(current, location))}",
                    status=response.status_code,
                    code="unexpected_redirect",
                )
            current = urljoin(current, location)
            params = None  # the Location carries its own query
            if not is_secure_url(current):
                raise GatewayError(
                    kind=ErrorKind.INSECURE,
                    message=f"Refusing a redirect to the insecure URL {redact_url(current)}",
                    status=response.status_code,
                    code="insecure_redirect",
                )
        raise GatewayError(
            kind=ErrorKind.UNEXPECTED,
            message=f"More than {MAX_REDIRECTS} redirects",
            code="too_many_redirects",
        )


# -- helpers ----------------------------------------------------------------------------------


def _no_env_proxies() -> dict[str, Any]:
    """Per-request proxies that switch off the environment's (``None`` removes a scheme).

    A fresh dict each time: ``requests`` adds the environment's other entries to it.
    """
    return {"http": None, "https": None, "all": None}


def _segment(job_id: str) -> str:
    """A job id as one URL path segment (no slashes, dots or queries can escape it)."""
    if not job_id or job_id in (".", ".."):
        raise ValueError("A job id is required")
    return quote(job_id, safe="")


def _require_job(status: int, document: object, what: str) -> RemoteJob:
    """A RemoteJob from a 2xx body that must be a job object with an id."""
    if not isinstance(document, dict):
        raise unexpected(f"The {what} answer is not a JSON object", document, status)
    try:
        job = parse_job(document)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise unexpected(f"The {what} answer could not be read ({exc})", document, status) from exc
    if job.id is None:
        raise unexpected(f"The {what} answer has no job id", document, status)
    return job


def _create_outcome_unknown(error: GatewayError) -> bool:
    """Whether a create that failed this way may still have made (and charged) a job."""
    if error.code in ("malformed_response", "unexpected_response", "response_too_large"):
        return True  # a 2xx arrived: the job was probably made, its id is unknown
    if error.code == "unexpected_redirect":
        return False
    if error.status is None:
        return False
    if error.status == 501:
        return False
    return error.status >= 500
