"""Thread-safe job state for the demo gateway: jobs, their state over time, and counters."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.demo_gateway.validation import CreateParams
from core.demo_gateway.video import CLIPS, ClipKey, Payload

STANDARD_COUNTERS = (
    "requests",
    "create",
    "jobs_created",
    "get",
    "list",
    "models",
    "content",
    "signed_content",
    "content_bytes",
    "download_url",
    "delete",
    "cancel",
    "unauthorised",
)
TERMINAL = ("completed", "failed", "cancelled", "expired")


@dataclass(frozen=True)
class Phase:
    """A job's state at one instant: lifecycle kind, shown status word, progress and times."""

    kind: str
    status: str
    progress: int
    started_at: float | None
    finished_at: float | None

    @property
    def terminal(self) -> bool:
        """Whether the job has reached a final state."""
        return self.kind in TERMINAL


@dataclass
class Job:
    """One video job: what was asked, when each phase ends, and the faults it carries."""

    id: str
    seq: int
    params: CreateParams
    created: float
    queued_until: float
    done_at: float
    terminal: str
    error_as_string: bool
    payloads: list[Payload]
    asset_id: str
    width: int
    height: int
    fps: int
    error: Any = None
    forced_kind: str | None = None
    forced_at: float | None = None
    status_calls: int = 0
    content_calls: int = 0
    deleted: bool = False
    #: The key that made the job, when the gateway keeps jobs per key (else None).
    owner: str | None = None

    def phase(self, now: float, output_ttl: float | None = None) -> Phase:
        """The job's state at `now` (time only moves it forward; forced states win)."""
        style = self.params.spec.style
        if self.forced_kind is not None and self.forced_at is not None:
            started = min(self.queued_until, self.forced_at)
            return self._finished(self.forced_kind, started, self.forced_at, now, output_ttl)
        if now < self.queued_until:
            return Phase("queued", "queued", 0, None, None)
        if now < self.done_at:
            status = style.processing_status
            if self.params.faults.unknown_status:
                status = "rendering_frames"
            progress = 0
            if style.progress_rises:
                span = max(self.done_at - self.queued_until, 1e-9)
                progress = max(1, min(99, int(100 * (now - self.queued_until) / span)))
            return Phase("processing", status, progress, self.queued_until, None)
        return self._finished(self.terminal, self.queued_until, self.done_at, now, output_ttl)

    def _finished(
        self, kind: str, started: float, finished: float, now: float, output_ttl: float | None
    ) -> Phase:
        if kind == "completed":
            if output_ttl is not None and now >= finished + output_ttl:
                return Phase("expired", "expired", 100, started, finished)
            return Phase("completed", "completed", 100, started, finished)
        progress = 0
        if kind == "failed" and self.params.spec.style.progress_rises:
            progress = 37
        return Phase(kind, kind, progress, started, finished)


def build_payloads(
    job_id: str, params: CreateParams, width: int, height: int, fps: int, *, defer: bool = False
) -> list[Payload]:
    """The job's outputs; the same arguments always give the same bytes.

    With `defer`, nothing is encoded until an output's bytes are first needed.
    """
    payloads = []
    for index in range(params.sample_count):
        variant = (index + (params.seed or 0)) % 4
        key = ClipKey(
            width, height, params.duration, fps, variant, params.first_frame, params.last_frame
        )
        tag = f"reelgate demo gateway: job={job_id} output={index}\n".encode()
        clip = key if defer else CLIPS.get(key)
        payloads.append(Payload(clip, tag, params.faults.size_bytes))
    return payloads


class StoreObserver(Protocol):
    """Told about every job change worth keeping (see `core.demo_gateway.persistence`)."""

    def job_changed(self, job: Job, seq: int) -> None:
        """Note `job`'s new state; called with the store lock held, so it must be quick."""

    def flush(self) -> None:
        """Write out what job_changed noted; called after the store lock is released."""


class Stats:
    """Thread-safe request and fault counters."""

    def __init__(self) -> None:
        """Start every counter at zero."""
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter(dict.fromkeys(STANDARD_COUNTERS, 0))
        self._in_flight: Counter[str] = Counter()

    def bump(self, key: str, amount: int = 1) -> None:
        """Add `amount` to counter `key`."""
        with self._lock:
            self._counts[key] += amount

    @contextlib.contextmanager
    def concurrent(self, key: str) -> Iterator[None]:
        """Count a request of kind `key` as in flight; ``max_concurrent:<key>`` keeps the peak."""
        with self._lock:
            self._in_flight[key] += 1
            peak = f"max_concurrent:{key}"
            self._counts[peak] = max(self._counts[peak], self._in_flight[key])
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[key] -= 1

    def snapshot(self) -> dict[str, int]:
        """A copy of all counters."""
        with self._lock:
            return dict(self._counts)


class JobStore:
    """All jobs of one gateway, guarded by one lock; deleted jobs are forgotten."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._seq = 0
        self._observer: StoreObserver | None = None

    def observe(self, observer: StoreObserver | None) -> None:
        """Report every create, delete and forced state to `observer` (None stops it)."""
        with self._lock:
            self._observer = observer

    def restore(self, jobs: Iterable[Job], seq: int) -> None:
        """Take back jobs saved by an earlier run; the sequence never goes backwards."""
        with self._lock:
            for job in jobs:
                if not job.deleted:
                    self._jobs[job.id] = job
                self._seq = max(self._seq, job.seq)
            self._seq = max(self._seq, seq)

    def _changed(self, job: Job) -> StoreObserver | None:
        """Tell the observer under the lock; the caller flushes it after unlocking."""
        observer = self._observer
        if observer is not None:
            observer.job_changed(job, self._seq)
        return observer

    def next_seq(self) -> int:
        """A strictly increasing sequence number for ordering listings."""
        with self._lock:
            self._seq += 1
            return self._seq

    def add(self, job: Job) -> None:
        """Remember a new job."""
        with self._lock:
            self._jobs[job.id] = job
            observer = self._changed(job)
        if observer is not None:
            observer.flush()

    def get(self, job_id: str) -> Job | None:
        """The live (not deleted) job with `job_id`, else None."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None or job.deleted else job

    def delete(self, job_id: str) -> None:
        """Forget the job (later lookups answer 404)."""
        observer = None
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job is not None:
                job.deleted = True
                observer = self._changed(job)
        if observer is not None:
            observer.flush()

    def count_status_call(self, job: Job) -> int:
        """Count one status GET for `job`; returns its 0-based index."""
        with self._lock:
            job.status_calls += 1
            return job.status_calls - 1

    def count_content_call(self, job: Job) -> int:
        """Count one content fetch for `job`; returns its 0-based index."""
        with self._lock:
            job.content_calls += 1
            return job.content_calls - 1

    def force(self, job_id: str, kind: str, at: float, error: Any = None) -> Job:
        """Force a job into terminal state `kind` now (KeyError if unknown)."""
        with self._lock:
            job = self.get(job_id)
            if job is None:
                raise KeyError(job_id)
            job.forced_kind = kind
            job.forced_at = at
            if error is not None:
                job.error = error
            observer = self._changed(job)
        if observer is not None:
            observer.flush()
        return job

    def ordered(self, descending: bool) -> list[Job]:
        """Live jobs by creation order."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda job: job.seq)
        return jobs[::-1] if descending else jobs

    def __len__(self) -> int:
        """Number of live jobs."""
        with self._lock:
            return len(self._jobs)


@dataclass
class RequestLog:
    """Every request received, as (method, path with query, headers), thread-safe."""

    entries: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, headers: dict[str, str]) -> None:
        """Record one request."""
        with self.lock:
            self.entries.append((method, path, headers))

    def snapshot(self) -> list[tuple[str, str, dict[str, str]]]:
        """A copy of the log."""
        with self.lock:
            return list(self.entries)
