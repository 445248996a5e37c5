"""The demo gateway's endpoint logic: requests in, replies out, no sockets involved."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from core.demo_gateway import api_errors, prices
from core.demo_gateway.api_errors import ApiError, new_job_id, new_request_id, validation_error
from core.demo_gateway.create_checks import CreateParams, validate_create
from core.demo_gateway.fault_errors import (
    FAILURE_ERRORS,
    HTML_502_PAGE,
    create_fault_error,
    rate_limit_error,
    status_fault_error,
    video_api_off,
)
from core.demo_gateway.faults import FaultDice, FaultProfile
from core.demo_gateway.images import load_stills
from core.demo_gateway.jobview import ViewContext, create_json, job_json, signed_link
from core.demo_gateway.models import catalogue_json, scaled_dimensions
from core.demo_gateway.signing import DISPOSITIONS, LinkSigner
from core.demo_gateway.store import Job, JobStore, Stats, build_payloads
from core.demo_gateway.video import Payload

MIB = 1024 * 1024


@dataclass(frozen=True)
class GatewayConfig:
    """Timing, auth and output settings of one demo gateway."""

    queued_seconds: float = 1.0
    processing_seconds: float = 4.0
    poll_after_seconds: int = 2
    api_key: str | None = None
    video_scale: float = 1.0
    clock: Callable[[], float] = time.time
    link_ttl_seconds: int = 900
    fps: int = 12
    chunked_content: bool = True
    output_ttl_seconds: float | None = None
    max_content_bytes: int = 512 * MIB
    chunk_size: int = MIB
    #: Jobs belong to the key that made them (the real gateway's accounts): others get 404.
    per_key_jobs: bool = False
    #: Extra certificates to trust when fetching image URLs (tests' local HTTPS servers).
    image_ca_bundle: str | None = None


@dataclass
class Request:
    """One parsed HTTP request, as the endpoint logic sees it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base: str


@dataclass
class Reply:
    """A complete (non-streamed) answer; `drop` closes the connection without answering."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


@dataclass
class StreamReply:
    """A streamed video body; `drop_after` cuts the connection after that many bytes."""

    payload: Payload
    chunked: bool
    drop_after: int | None
    headers: dict[str, str]


def error_reply(error: ApiError) -> Reply:
    """Render an ApiError as a flat JSON error reply with a fresh request id."""
    return Reply(error.status, error.body(new_request_id()), headers=dict(error.headers))


class VideoApi:
    """Implements every video endpoint against one job store."""

    def __init__(self, config: GatewayConfig, profile: FaultProfile, stats: Stats) -> None:
        """Wire the endpoints to their configuration, faults and counters."""
        self.config = config
        self.profile = profile
        self.dice = FaultDice(profile)
        self.stats = stats
        self.store = JobStore()
        #: ``[create-429=N]``: how many creates of each prompt were refused so far.
        self._limited: dict[str, int] = {}
        self._limited_lock = threading.Lock()
        self.signer = LinkSigner()
        #: The most recent create bodies as received (decoded JSON), newest last.
        self.received: deque[Any] = deque(maxlen=16)
        #: None, or one of ``prices.FAULTS``: the pricing endpoints answer 404/501.
        self.pricing_fault: str | None = None

    def view(self, request: Request) -> ViewContext:
        """Rendering context for a response to `request`."""
        return ViewContext(
            base=request.base,
            now=self.config.clock(),
            poll_after_seconds=self.config.poll_after_seconds,
            link_ttl_seconds=self.config.link_ttl_seconds,
            signer=self.signer,
            output_ttl_seconds=self.config.output_ttl_seconds,
        )

    def fault(self, kind: str) -> None:
        """Count one injected fault of `kind`."""
        self.stats.bump(f"fault:{kind}")

    def check_video_api(self) -> None:
        """501 on every video route when the profile switches the video API off."""
        state = self.profile.video_api
        if state != "enabled":
            self.fault(f"video-api-{state}")
            raise video_api_off(state)

    def authorise(self, request: Request) -> None:
        """Check the Bearer key; raise 401 ``unauthorised`` when it is missing or wrong."""
        header = request.headers.get("authorization")
        if header is None or not header.strip():
            raise api_errors.unauthorised("missing Authorization header")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise api_errors.unauthorised("bad format: expected 'Bearer <key>'")
        if self.config.api_key is not None and token != self.config.api_key:
            raise api_errors.unauthorised("invalid API key")

    def owner_of(self, request: Request) -> str | None:
        """The account a request speaks for (its key), when jobs are kept per key."""
        if not self.config.per_key_jobs:
            return None
        header = request.headers.get("authorization") or ""
        return header.strip().partition(" ")[2].strip() or None

    def job_for(self, job_id: str, request: Request | None) -> Job:
        """The live job `job_id` (404 if gone, or another key's); 401 if its prompt revoked it."""
        job = self.store.get(job_id)
        if job is None or (request is not None and job.owner != self.owner_of(request)):
            raise api_errors.not_found("Video", job_id)
        if request is not None and job.params.faults.revoked:
            self.fault("revoked")
            raise api_errors.unauthorised("key revoked", job_id)
        return job

    def create(self, request: Request) -> Reply:
        """``POST /videos``: validate, apply create faults, store the job, answer 200."""
        try:
            body = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                400, "invalid_json", "Body is not valid JSON", reason="invalid_json"
            ) from None
        self.received.append(body)
        params = validate_create(body)
        if params.images:
            first, last = load_stills(params.images, self.config.image_ca_bundle)
            params = replace(params, first_frame=first, last_frame=last)
        self._create_faults(params)
        job = self._new_job(params)
        job.owner = self.owner_of(request)
        if params.faults.create_failed:
            self.fault("create-failed")
            job.terminal, job.forced_kind, job.forced_at = "failed", "failed", job.created
        self.store.add(job)
        self.stats.bump("jobs_created")
        faults = params.faults
        reply = Reply(202 if faults.accepted else 200, create_json(job))
        if faults.drop_create or self.dice.chance(self.profile.create_drop):
            self.fault("drop-create")
            reply.drop = True
        if faults.slow_create > 0:
            self.fault("slow-create")
            reply.delay = faults.slow_create
        return reply

    def _create_faults(self, params: CreateParams) -> None:
        if params.faults.create_429:
            with self._limited_lock:
                refused = self._limited.get(params.prompt, 0)
                if refused < params.faults.create_429:
                    self._limited[params.prompt] = refused + 1
                    self.fault("create-429")
                    raise rate_limit_error(self.config.clock())
        kind = params.faults.create_error
        if kind is not None:
            self.fault(kind)
            raise create_fault_error(kind, params.spec.cost(params.duration, params.sample_count))

    def _new_job(self, params: CreateParams) -> Job:
        config = self.config
        now = config.clock()
        job_id = new_job_id()
        width, height = scaled_dimensions(params.width, params.height, config.video_scale)
        payloads = build_payloads(job_id, params, width, height, config.fps)
        terminal = params.faults.terminal
        failure_kind = params.faults.failure_kind
        if terminal == "completed" and self.dice.chance(self.profile.fail_rate):
            failure_kind = self.dice.failure_kind()
            self.fault(failure_kind or "fail")
            terminal = "failed"
        elif terminal != "completed":
            self.fault(failure_kind or terminal)
        as_string = params.faults.error_as_string
        if params.faults.unknown_status:
            self.fault("unknown-status")
        return Job(
            id=job_id,
            seq=self.store.next_seq(),
            params=params,
            created=now,
            queued_until=now + config.queued_seconds,
            done_at=now + config.queued_seconds + config.processing_seconds,
            terminal=terminal,
            error_as_string=params.spec.style.error_as_string if as_string is None else as_string,
            payloads=payloads,
            asset_id="asset_" + job_id[2:].lower(),
            width=width,
            height=height,
            fps=config.fps,
            error=FAILURE_ERRORS.get(failure_kind) if failure_kind else None,
        )

    def get(self, request: Request, job_id: str) -> Reply:
        """``GET /videos/{id}``: the job, or a scripted/random status fault."""
        job = self.job_for(job_id, request)
        call = self.store.count_status_call(job)
        delay = self.profile.status_delay_seconds
        if call == 0 and job.params.faults.slow_status > 0:
            self.fault("slow-status")
            delay += job.params.faults.slow_status
        kind = job.params.faults.status_fault(call) or self.dice.status_fault()
        reply = self._status_fault(request, job, kind) if kind else None
        if reply is None:
            reply = Reply(200, job_json(self.view(request), job))
        reply.delay = delay
        return reply

    def _status_fault(self, request: Request, job: Job, kind: str) -> Reply:
        self.fault(kind)
        if kind == "malformed":
            text = json.dumps(job_json(self.view(request), job))
            return Reply(200, raw=text[: max(12, len(text) // 3)].encode())
        if kind == "html":
            return Reply(502, raw=HTML_502_PAGE, content_type="text/html; charset=UTF-8")
        retry = self.profile.retry_after_seconds or 1
        provider = job.params.spec.style.provider
        now = self.config.clock()
        return error_reply(status_fault_error(kind, provider, job.id, retry, now))

    def list(self, request: Request) -> Reply:
        """``GET /videos``: cursor-paginated listing, newest first by default."""
        query = request.query
        raw_limit = query.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
            raise validation_error("limit", "Expected an integer 1-100")
        limit = int(raw_limit)
        order = query.get("order", "desc")
        if order not in ("asc", "desc"):
            raise validation_error("order", "Expected asc or desc")
        ctx = self.view(request)
        owner = self.owner_of(request)
        jobs = [j for j in self.store.ordered(descending=order == "desc") if j.owner == owner]
        wanted = query.get("status")
        if wanted:
            jobs = [
                job
                for job in jobs
                if wanted
                in {job.phase(ctx.now, ctx.output_ttl_seconds).kind}
                | {job.phase(ctx.now, ctx.output_ttl_seconds).status}
            ]
        after = query.get("after")
        if after:
            ids = [job.id for job in jobs]
            if after not in ids:
                raise validation_error("after", "Unknown cursor id")
            jobs = jobs[ids.index(after) + 1 :]
        page = jobs[:limit]
        return Reply(
            200,
            {
                "object": "list",
                "data": [job_json(ctx, job) for job in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(jobs) > limit,
            },
        )

    def models(self) -> Reply:
        """``GET /videos/models``: the catalogue."""
        return Reply(200, catalogue_json())

    def pricing(self, endpoint: str, request: Request) -> Reply:
        """``GET /pricing/models`` and ``POST /pricing/calculate`` (or the switched-on fault)."""
        error = prices.fault_error(self.pricing_fault, endpoint)
        if error is not None:
            self.fault(f"pricing-{error.status}")
            raise error
        if endpoint == "models":
            return Reply(200, prices.price_list())
        return Reply(200, prices.calculate(request.body))

    def content(self, request: Request, job_id: str) -> Reply | StreamReply:
        """``GET /videos/{id}/content``: stream the MP4 (signed links need no auth)."""
        signed = "signature" in request.query
        disposition = ""
        if signed:
            self.stats.bump("signed_content")
            index, disposition = self.signer.verify(job_id, request.query, self.config.clock())
            job = self.job_for(job_id, None)
        else:
            job = self.job_for(job_id, request)
            index = self._index(request.query.get("index", "0"))
        phase = job.phase(self.config.clock(), self.config.output_ttl_seconds)
        if phase.kind != "completed":
            raise ApiError(
                409,
                "not_ready",
                f"The video is not ready (status: {phase.status})",
                reason=f"video_{phase.kind}",
                generation_id=job.id,
                extra={"status": phase.status},
            )
        if not 0 <= index < len(job.payloads):
            raise validation_error("index", f"Expected 0-{len(job.payloads) - 1}")
        payload = job.payloads[index]
        if payload.size > self.config.max_content_bytes:
            raise ApiError(
                502,
                "video_content_too_large",
                "The video is larger than the gateway's streaming cap",
                reason="content_exceeds_cap",
                origin="gateway",
                generation_id=job.id,
                extra={"limit_bytes": self.config.max_content_bytes, "bytes": payload.size},
            )
        call = self.store.count_content_call(job)
        drop_after = None
        if call < job.params.faults.drop_content or self.dice.chance(self.profile.content_drop):
            self.fault("drop-content")
            drop_after = payload.size // 2
        headers = {"Content-Type": "video/mp4", "Cache-Control": "private, no-store"}
        headers["X-Content-Type-Options"] = "nosniff"
        if disposition:
            headers["Content-Disposition"] = f'{disposition}; filename="{job.id}.mp4"'
        chunked = job.params.faults.chunked
        return StreamReply(
            payload,
            self.config.chunked_content if chunked is None else chunked,
            drop_after,
            headers,
        )

    @staticmethod
    def _index(raw: Any) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).isdigit():
            raise validation_error("index", "Expected a non-negative integer")
        return int(raw)

    def download_url(self, request: Request, job_id: str) -> Reply:
        """``POST /videos/{id}/download_url``: mint a signed link for a completed job."""
        job = self.job_for(job_id, request)
        try:
            body = json.loads(request.body) if request.body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError(
                400, "invalid_json", "Body is not valid JSON", reason="invalid_json"
            ) from None
        if not isinstance(body, dict):
            raise validation_error("body", "Expected a JSON object")
        unknown = sorted(set(body) - {"ttl_seconds", "disposition", "index"})
        if unknown:
            raise validation_error(unknown[0], "Unrecognized key", "unrecognized_keys")
        ttl = body.get("ttl_seconds", self.config.link_ttl_seconds)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 60 <= ttl <= 3600:
            raise validation_error("ttl_seconds", "Expected an integer 60-3600")
        disposition = body.get("disposition") or ""
        if disposition and disposition not in DISPOSITIONS:
            raise validation_error("disposition", "Expected attachment or inline")
        index = self._index(body.get("index", 0))
        ctx = self.view(request)
        phase = job.phase(ctx.now, ctx.output_ttl_seconds)
        if phase.kind != "completed":
            raise validation_error(
                "id", f"The video is {phase.status}; only completed videos", "video_not_completed"
            )
        if index >= len(job.payloads):
            raise validation_error("index", f"Expected 0-{len(job.payloads) - 1}")
        url, expires = signed_link(ctx, job, index, ttl, disposition)
        return Reply(
            200, {"id": job.id, "index": index, "download_url": url, "expires_at": expires}
        )

    def delete(self, request: Request, job_id: str) -> Reply:
        """``DELETE /videos/{id}``: only completed or failed jobs."""
        job = self.job_for(job_id, request)
        phase = job.phase(self.config.clock(), self.config.output_ttl_seconds)
        if phase.kind not in ("completed", "failed"):
            raise validation_error(
                "id",
                f"Only completed or failed videos can be deleted (status: {phase.status})",
                "video_not_deletable",
            )
        self.store.delete(job.id)
        return Reply(200, {"id": job.id, "object": "video.deleted", "deleted": True})

    def cancel(self) -> Reply:
        """``POST /videos/{id}/cancel``: always 501, as on the real gateway today."""
        raise ApiError(
            501,
            "not_implemented_yet",
            "Video cancellation is not available yet",
            reason="video_cancellation_disabled",
            origin="gateway",
        )
