"""Renders jobs as the gateway's JSON objects, with each provider family's type quirks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.demo_gateway.prices import job_billing
from core.demo_gateway.signing import LinkSigner
from core.demo_gateway.store import Job, Phase

_LIFECYCLE = {
    "queued": "queued",
    "processing": "running",
    "completed": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "expired": "expired",
}
_PROVIDER_STATUS = {
    "queued": "PENDING",
    "processing": "RUNNING",
}


@dataclass(frozen=True)
class ViewContext:
    """What rendering needs besides the job: URLs, time, polling hint and link signing."""

    base: str
    now: float
    poll_after_seconds: int
    link_ttl_seconds: int
    signer: LinkSigner
    output_ttl_seconds: float | None = None


def iso(timestamp: float) -> str:
    """ISO-8601 UTC with milliseconds and a ``Z`` suffix."""
    text = datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _stamp(timestamp: float | None, as_iso: bool) -> str | int | None:
    if timestamp is None:
        return None
    return iso(timestamp) if as_iso else int(timestamp)


def content_url(ctx: ViewContext, job: Job) -> str:
    """The job's authenticated content URL."""
    return f"{ctx.base}/{job.id}/content"


def signed_link(
    ctx: ViewContext, job: Job, index: int, ttl: int | None = None, disposition: str = ""
) -> tuple[str, int]:
    """A fresh signed link for output `index` and its expiry (unix seconds)."""
    expires = int(ctx.now) + (ttl if ttl is not None else ctx.link_ttl_seconds)
    url = ctx.signer.mint(content_url(ctx, job), job.id, index, expires, disposition)
    return url, expires


def job_error(job: Job, phase: Phase) -> Any:
    """The `error` field: an object or a plain string depending on provider and fault."""
    if phase.kind != "failed":
        return None
    if job.error is not None:
        return job.error
    message = "The provider failed to render the video (demo fault)."
    if job.error_as_string:
        return f"provider_error: {message}"
    return {"code": "provider_error", "message": message}


def create_json(job: Job) -> dict[str, Any]:
    """The slim create response: no poll_after_seconds and no polling_url.

    A job that failed at once (``[create-failed]``) says so in this very answer.
    """
    spec = job.params.spec
    failed = job.forced_kind == "failed"
    phase = Phase("failed", "failed", 0, job.created, job.created)
    return {
        "id": job.id,
        "object": "video",
        "model": spec.model,
        "status": "failed" if failed else "queued",
        "progress": 0,
        "created_at": int(job.created),
        "error": job_error(job, phase) if failed else None,
        "generation_id": job.id,
        "provider": spec.style.provider,
        "billing": _billing(job, "failed" if failed else "queued")[1],
    }


def _billing(job: Job, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(usage, billing)``: estimated after create, then settled, void or pending."""
    params = job.params
    return job_billing(
        kind,
        params.spec.model,
        params.resolution,
        params.generate_audio,
        params.duration,
        params.sample_count,
    )


def _outputs(ctx: ViewContext, job: Job, phase: Phase) -> list[dict[str, Any]]:
    if job.params.spec.style.empty_outputs or job.params.faults.no_outputs:
        return []
    done = phase.kind == "completed"
    outputs = []
    for index, payload in enumerate(job.payloads):
        item: dict[str, Any] = {
            "index": index,
            "mime_type": "video/mp4",
            "bytes_available": done,
            "content_url": f"{content_url(ctx, job)}?index={index}",
            "download_url": None,
            "expires_at": None,
        }
        if done:
            item["bytes"] = payload.size
            item["download_url"], item["expires_at"] = signed_link(ctx, job, index)
        outputs.append(item)
    return outputs


def job_json(ctx: ViewContext, job: Job) -> dict[str, Any]:
    """The full job object as `GET /videos/{id}` and list items return it."""
    phase = job.phase(ctx.now, ctx.output_ttl_seconds)
    params, spec = job.params, job.params.spec
    style = spec.style
    done = phase.kind == "completed"
    kind = phase.kind
    unsettled = job.params.faults.unsettled
    if phase.finished_at is not None and ctx.now < phase.finished_at + unsettled:
        # The bill trails the status: a completed job's is ``pending``, and a failed,
        # cancelled or expired job's reservation is still ``estimated`` until it is voided.
        kind = "unsettled" if kind == "completed" else "unreleased"
    usage, billing = _billing(job, kind)
    body: dict[str, Any] = {
        "id": job.id,
        "object": "video",
        "status": phase.status,
        "lifecycle_status": _LIFECYCLE.get(phase.kind, "running"),
        "progress": phase.progress,
        "progress_source": "provider" if style.progress_rises else "status",
        "provider": style.provider,
        "model": spec.model,
        "seconds": str(params.duration) if style.seconds_as_string else params.duration,
        "size": params.size,
        "audio": params.generate_audio,
        "poll_after_seconds": ctx.poll_after_seconds,
        "created_at": _stamp(job.created, style.iso_created_at),
        "started_at": _stamp(phase.started_at, style.iso_other_times),
        "completed_at": _stamp(phase.finished_at, style.iso_other_times),
        "content_url": content_url(ctx, job),
        "download_url": None,
        "expires_at": None,
        "outputs": _outputs(ctx, job, phase),
        "asset": None,
        "usage": usage,
        "billing": billing,
        "error": job_error(job, phase),
    }
    if params.aspect_ratio is not None:
        body["aspect_ratio"] = params.aspect_ratio
    if params.resolution is not None:
        body["resolution"] = params.resolution
    if params.sample_count > 1:
        body["sample_count"] = params.sample_count
    if phase.kind in _PROVIDER_STATUS:
        body["provider_status"] = _PROVIDER_STATUS[phase.kind]
        body["estimated_completion_at"] = int(job.done_at)
    if done:
        body["download_url"], body["expires_at"] = signed_link(ctx, job, 0)
        body["asset"] = {
            "id": job.asset_id,
            "mime_type": "video/mp4",
            "bytes": job.payloads[0].size,
            "duration_seconds": params.duration,
            "width": job.width,
            "height": job.height,
        }
    if phase.kind == "failed":
        body["failed_at"] = body["completed_at"]
    if job.params.faults.no_status:
        del body["status"]
    return body
