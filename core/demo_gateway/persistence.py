"""Keeps the demo gateway's jobs in a JSON file so they outlive a restart of the gateway.

The file (see `StateFile`) holds one record per job, oldest first, newest 1,000 at most::

    {"format": "reelgate-demo-gateway-state", "version": 1, "last_seq": 7,
     "signing_secret": "<64 hex digits>",
     "jobs": [{"id": "G-01K...", "seq": 7, "params": {...}, "created": 1760000000.0, ...}]}

Times are absolute wall-clock seconds from the gateway's clock, so a restored job carries on
along the same timeline. Videos are not stored: they are rendered again, byte for byte, from the
saved parameters the first time they are asked for. Request and fault counters (status GETs
seen, content fetches) start again from zero, so a job's scripted status faults replay.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.demo_gateway.catalogue import find_model
from core.demo_gateway.faults import CREATE_ERRORS, FAILURE_KINDS, STATUS_FAULTS, JobFaults
from core.demo_gateway.images import ImageRef, still_from_json, still_to_json
from core.demo_gateway.store import TERMINAL, Job, build_payloads
from core.demo_gateway.validation import CreateParams
from core.files import write_text_atomic

logger = logging.getLogger(__name__)

FORMAT = "reelgate-demo-gateway-state"
VERSION = 1
#: Only the newest jobs (by sequence number, deleted ones included) are kept in the file.
MAX_SAVED_JOBS = 1000


class StateError(ValueError):
    """A state file, or one job record in it, is not what this version writes."""


# -- reading JSON values strictly ---------------------------------------------------------


def _get(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise StateError(f"missing {key!r}")
    return data[key]


def _str(data: dict[str, Any], key: str) -> str:
    value = _get(data, key)
    if not isinstance(value, str):
        raise StateError(f"{key!r} is not a string")
    return value


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)


def _bool(data: dict[str, Any], key: str) -> bool:
    value = _get(data, key)
    if not isinstance(value, bool):
        raise StateError(f"{key!r} is not a boolean")
    return value


def _opt_bool(data: dict[str, Any], key: str) -> bool | None:
    return None if data.get(key) is None else _bool(data, key)


def _int(data: dict[str, Any], key: str, low: int = 0) -> int:
    value = _get(data, key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise StateError(f"{key!r} is not an integer >= {low}")
    return value


def _opt_int(data: dict[str, Any], key: str) -> int | None:
    return None if data.get(key) is None else _int(data, key)


def _float(data: dict[str, Any], key: str) -> float:
    value = _get(data, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StateError(f"{key!r} is not a finite number")
    return float(value)


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise StateError(f"{what} is not an object")
    return value


def _choice(value: str | None, allowed: tuple[str, ...], key: str) -> str | None:
    if value is not None and value not in allowed:
        raise StateError(f"{key!r} is not one of {', '.join(allowed)}")
    return value


# -- job records ---------------------------------------------------------------------------


def params_to_json(params: CreateParams) -> dict[str, Any]:
    """The validated create parameters as JSON (the model by its canonical id)."""
    return {
        "model": params.spec.model,
        "prompt": params.prompt,
        "duration": params.duration,
        "aspect_ratio": params.aspect_ratio,
        "resolution": params.resolution,
        "width": params.width,
        "height": params.height,
        "negative_prompt": params.negative_prompt,
        "seed": params.seed,
        "generate_audio": params.generate_audio,
        "sample_count": params.sample_count,
        "enhance_prompt": params.enhance_prompt,
        "webhook": params.webhook,
        "faults": asdict(params.faults),
        # a data: URL can be 28 million characters; its decoded still is what is kept
        "images": [{"role": ref.role, "url": ref.url[:2048]} for ref in params.images],
        "first_frame": still_to_json(params.first_frame),
        "last_frame": still_to_json(params.last_frame),
    }


def _images_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """The image fields of saved params (absent in files written before images existed)."""
    items = data.get("images") or []
    if not isinstance(items, list):
        raise StateError("'images' is not a list")
    try:
        return {
            "images": tuple(ImageRef(_str(item, "role"), _str(item, "url")) for item in items),
            "first_frame": still_from_json(data.get("first_frame")),
            "last_frame": still_from_json(data.get("last_frame")),
        }
    except (ValueError, TypeError, AttributeError) as error:
        raise StateError(f"unusable image inputs: {error}") from None


def _faults_from_json(data: dict[str, Any]) -> JobFaults:
    script = _get(data, "status_script")
    if not isinstance(script, list) or not all(word in STATUS_FAULTS for word in script):
        raise StateError("'status_script' is not a list of status faults")
    return JobFaults(
        terminal=_choice(_str(data, "terminal"), TERMINAL, "terminal") or "completed",
        error_as_string=_opt_bool(data, "error_as_string"),
        failure_kind=_choice(_opt_str(data, "failure_kind"), FAILURE_KINDS, "failure_kind"),
        unknown_status=_bool(data, "unknown_status"),
        status_script=[str(word) for word in script],
        revoked=_bool(data, "revoked"),
        slow_status=_float(data, "slow_status"),
        slow_create=_float(data, "slow_create"),
        drop_create=_bool(data, "drop_create"),
        drop_content=_int(data, "drop_content"),
        create_error=_choice(_opt_str(data, "create_error"), CREATE_ERRORS, "create_error"),
        size_bytes=_opt_int(data, "size_bytes"),
        chunked=_opt_bool(data, "chunked"),
    )


def params_from_json(data: dict[str, Any]) -> CreateParams:
    """Rebuild CreateParams from `params_to_json`; StateError if anything is off."""
    model = _str(data, "model")
    spec = find_model(model)
    if spec is None:
        raise StateError(f"unknown model {model!r}")
    webhook = data.get("webhook")
    return CreateParams(
        spec=spec,
        prompt=_str(data, "prompt"),
        duration=_int(data, "duration", 1),
        aspect_ratio=_opt_str(data, "aspect_ratio"),
        resolution=_opt_str(data, "resolution"),
        width=_int(data, "width", 1),
        height=_int(data, "height", 1),
        negative_prompt=_opt_str(data, "negative_prompt"),
        seed=_opt_int(data, "seed"),
        generate_audio=_bool(data, "generate_audio"),
        sample_count=_int(data, "sample_count", 1),
        enhance_prompt=_bool(data, "enhance_prompt"),
        webhook=None if webhook is None else _dict(webhook, "'webhook'"),
        faults=_faults_from_json(_dict(_get(data, "faults"), "'faults'")),
        **_images_from_json(data),
    )


def job_to_json(job: Job) -> dict[str, Any]:
    """Everything needed to rebuild `job` later (not its outputs' bytes or call counters)."""
    return {
        "id": job.id,
        "seq": job.seq,
        "params": params_to_json(job.params),
        "created": job.created,
        "queued_until": job.queued_until,
        "done_at": job.done_at,
        "terminal": job.terminal,
        "error_as_string": job.error_as_string,
        "error": job.error,
        "forced_kind": job.forced_kind,
        "forced_at": job.forced_at,
        "asset_id": job.asset_id,
        "width": job.width,
        "height": job.height,
        "fps": job.fps,
        "deleted": job.deleted,
    }


def job_from_json(data: Any) -> Job:
    """Rebuild a job from `job_to_json`; its videos are rendered on first use."""
    record = _dict(data, "job record")
    job_id = _str(record, "id")
    params = params_from_json(_dict(_get(record, "params"), "'params'"))
    width, height, fps = _int(record, "width", 1), _int(record, "height", 1), _int(record, "fps", 1)
    error = record.get("error")
    if error is not None and not isinstance(error, str | dict):
        raise StateError("'error' is neither a string nor an object")
    forced_kind = _choice(_opt_str(record, "forced_kind"), TERMINAL, "forced_kind")
    return Job(
        id=job_id,
        seq=_int(record, "seq", 1),
        params=params,
        created=_float(record, "created"),
        queued_until=_float(record, "queued_until"),
        done_at=_float(record, "done_at"),
        terminal=_choice(_str(record, "terminal"), TERMINAL, "terminal") or "completed",
        error_as_string=_bool(record, "error_as_string"),
        payloads=build_payloads(job_id, params, width, height, fps, defer=True),
        asset_id=_str(record, "asset_id"),
        width=width,
        height=height,
        fps=fps,
        error=error,
        forced_kind=forced_kind,
        forced_at=_float(record, "forced_at") if forced_kind is not None else None,
        deleted=_bool(record, "deleted"),
    )


# -- the file ------------------------------------------------------------------------------


@dataclass
class SavedState:
    """What an earlier run left: its jobs (deleted ones too), last sequence number and secret."""

    jobs: list[Job]
    last_seq: int = 0
    secret: bytes | None = None


class StateFile:
    """The gateway's job file: loads it once, then rewrites it whenever a job changes.

    It observes a `JobStore`: `job_changed` runs under the store lock and only encodes the
    job's record; `flush` writes the whole file afterwards, without the store lock, so status
    GETs are never held up by disk writes. Writes are serialised and skip stale snapshots.
    """

    def __init__(self, path: Path, secret: bytes, max_jobs: int | None = None) -> None:
        """Save to `path`; `secret` is the link-signing secret stored alongside the jobs."""
        self.path = Path(path)
        self.secret = secret
        self.max_jobs = MAX_SAVED_JOBS if max_jobs is None else max_jobs
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._records: dict[str, tuple[int, str]] = {}
        self._last_seq = 0
        self._generation = 0
        self._written = 0

    # -- loading ---------------------------------------------------------------------------

    def load(self) -> SavedState:
        """The saved state; empty when the file is missing, unreadable or corrupt.

        A corrupt file is moved aside to ``<name>.corrupt`` (replacing an older one) and a
        warning logged. Single unusable job records are skipped with a warning.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            logger.info("No saved demo gateway state at %s; starting empty", self.path)
            return SavedState([])
        except OSError as error:
            logger.warning(
                "Cannot read demo gateway state %s (%s); starting empty", self.path, error
            )
            return SavedState([])
        try:
            document = _dict(json.loads(raw), "the file")
            if document.get("format") != FORMAT or document.get("version") != VERSION:
                raise StateError(f"not a version {VERSION} {FORMAT} file")
            last_seq = _int(document, "last_seq")
            secret_hex = _opt_str(document, "signing_secret")
            secret = bytes.fromhex(secret_hex) if secret_hex else None
            records = _get(document, "jobs")
            if not isinstance(records, list):
                raise StateError("'jobs' is not a list")
        except (ValueError, UnicodeDecodeError) as error:
            self._set_aside(str(error))
            return SavedState([])
        jobs: dict[str, Job] = {}
        skipped = 0
        for record in records:
            try:
                job = job_from_json(record)
            except (StateError, TypeError, ValueError):
                skipped += 1
                continue
            jobs[job.id] = job
        if skipped:
            logger.warning("Skipped %d unusable job record(s) in %s", skipped, self.path)
        kept = sorted(jobs.values(), key=lambda job: job.seq)[-self.max_jobs :]
        last_seq = max([last_seq, *(job.seq for job in jobs.values())])
        with self._lock:
            self._last_seq = max(self._last_seq, last_seq)
            for job in kept:
                self._records[job.id] = (job.seq, json.dumps(job_to_json(job)))
        logger.info("Restored %d demo job(s) from %s", len(kept), self.path)
        return SavedState(kept, last_seq, secret)

    def _set_aside(self, reason: str) -> None:
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, aside)
        except OSError as error:
            logger.warning(
                "Demo gateway state %s is corrupt (%s) and could not be moved aside (%s); "
                "starting empty",
                self.path,
                reason,
                error,
            )
            return
        logger.warning(
            "Demo gateway state %s is corrupt (%s); kept it as %s and started empty",
            self.path,
            reason,
            aside,
        )

    # -- saving (StoreObserver) ------------------------------------------------------------

    def job_changed(self, job: Job, seq: int) -> None:
        """Encode `job`'s record now (the store lock is held); `flush` writes it."""
        try:
            text = json.dumps(job_to_json(job), allow_nan=False)
        except (TypeError, ValueError) as error:
            logger.warning("Cannot save demo job %s (%s)", job.id, error)
            return
        with self._lock:
            self._records[job.id] = (job.seq, text)
            self._last_seq = max(self._last_seq, seq, job.seq)
            while len(self._records) > self.max_jobs:
                oldest = min(self._records, key=lambda key: self._records[key][0])
                del self._records[oldest]
            self._generation += 1

    def flush(self) -> None:
        """Write the file if anything changed since the last write; failures are logged."""
        with self._write_lock:
            with self._lock:
                generation = self._generation
                if generation == self._written:
                    return
                text = self._document()
            try:
                write_text_atomic(self.path, text)
            except OSError as error:
                logger.warning("Cannot save demo gateway state to %s (%s)", self.path, error)
                return
            self._written = generation

    def _document(self) -> str:
        head = json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "last_seq": self._last_seq,
                "signing_secret": self.secret.hex(),
            }
        )
        records = sorted(self._records.values())
        body = ",\n".join(text for _, text in records)
        return f'{head[:-1]}, "jobs": [\n{body}\n]}}\n'
