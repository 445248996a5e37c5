"""A job's diagnostics: everything needed to understand it, redacted, as JSON text.

Copied to the clipboard or exported to a file from the failure review. It holds the app
version, the request parameters, the job's ids, the full status timeline with the
gateway's raw answers and error bodies, and never the API key (every string is redacted)
nor a live signed link (``download_url`` queries are cut off).
"""

from __future__ import annotations

import json
import platform
import re
import time
from typing import Any

from core.failure_class import verdict_for
from core.gateway_http import scrub_urls
from core.jobs import Job
from core.journal import JournalEvent, job_to_dict
from core.logsetup import redact
from core.version import APP_NAME, __version__

#: Fields that hold signed links: live credentials until they expire (about 15 minutes).
_SIGNED_LINK_KEYS = frozenset({"download_url", "signed_url", "url"})
_SIGNED_QUERY = re.compile(r"(https?://[^\s?\"'<>]+)\?[^\s\"'<>]*(?:sig|token|expires)[^\s\"'<>]*")


def _scrub_value(key: str, value: Any, redacted: tuple[str, ...]) -> Any:
    lowered = key.lower()
    if lowered == "authorization":
        return "[redacted]"
    if lowered in _SIGNED_LINK_KEYS and isinstance(value, str):
        return scrub_urls(redact(value, redacted))
    return _scrub(value, redacted)


def _scrub(value: Any, redacted: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _SIGNED_QUERY.sub(r"\1?[redacted]", redact(value, redacted))
    if isinstance(value, dict):
        return {str(k): _scrub_value(str(k), v, redacted) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, redacted) for item in value]
    return value


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def build_diagnostics(
    job: Job, events: list[JournalEvent], *, redacted: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The diagnostics document for one job (redacted)."""
    verdict = verdict_for(job)
    document: dict[str, Any] = {
        "app": {"name": APP_NAME, "version": __version__},
        "system": {"python": platform.python_version(), "platform": platform.platform()},
        "generated_at": _iso(time.time()),
        "job": {
            "local_id": job.local_id,
            "gateway_id": job.remote_id,
            "request_id": job.request_id,
            "request_ids": list(job.request_ids),
            "status": job.status_text,
            "state": job.state.value,
            "cause": f"{verdict.heading}: {verdict.cause}" if verdict else None,
            "next_step": verdict.next_step if verdict else None,
            "created_at": _iso(job.created_at),
            "finished_at": _iso(job.finished_at),
            "billing_state": job.billing_state,
            "cost": job.cost,
            "reviewed": job.reviewed,
            "review_note": job.review_note,
        },
        "parameters": job.params.to_dict(),
        "failure_class": verdict.to_dict() if verdict else None,
        "failure": job.failure.to_dict() if job.failure else None,
        "last_status_error": job.poll_error,
        "timeline": [
            {
                "at": _iso(event.at),
                "kind": event.kind,
                "state": event.state,
                "http_status": event.http_status,
                "request_id": event.request_id,
                "note": event.note,
                "response": event.raw,
            }
            for event in events
        ],
        "record": job_to_dict(job),
    }
    scrubbed: dict[str, Any] = _scrub(document, redacted)
    return scrubbed


def sidecar_document(job: Job, saved: list[str]) -> dict[str, Any]:
    """What "Save as" writes beside a video: the request and the ids needed to trace it."""
    return {
        "generator": f"{APP_NAME} {__version__}",
        "gateway_id": job.remote_id,
        "created_at": _iso(job.created_at),
        "completed_at": _iso(job.finished_at),
        "parameters": job.params.to_dict(),
        "cost": job.cost,
        "files": saved,
    }


def diagnostics_text(
    job: Job, events: list[JournalEvent], *, redacted: tuple[str, ...] = ()
) -> str:
    """The diagnostics document as pretty JSON text."""
    return json.dumps(
        build_diagnostics(job, events, redacted=redacted), indent=2, ensure_ascii=False, default=str
    )
