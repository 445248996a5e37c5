"""The job loop: submit, poll, reconcile, download; every step journaled before it is shown.

The engine is synchronous and thread-safe: the command line calls it directly, the desktop
app calls it from executor threads. Listeners hear about every job change (from whatever
thread made it). Creates are never retried; reads are, on the scheduler's timetable.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from core.download import DownloadError, DownloadErrorKind, DownloadResult, copy_file, download
from core.errors import ErrorKind, GatewayError
from core.failure_evidence import poll_error_record, problem_text
from core.gateway import GatewayClient, SignedLink
from core.jobs import (
    MAX_RATING,
    AuthRejected,
    Cause,
    CreateAmbiguous,
    Created,
    CreateRejected,
    DeletedOnServer,
    DownloadChanged,
    DownloadState,
    Event,
    Job,
    JobFailure,
    JobParams,
    JobState,
    KeepChanged,
    KeyReplaced,
    PollFailed,
    Rated,
    Reviewed,
    Scheduled,
    SetKind,
    StatusSeen,
    Vanished,
    apply,
    with_marks_of,
)
from core.journal import Journal
from core.reconcile import RECONCILE_ATTEMPTS, contested, find_match, next_reconcile_at
from core.scheduler import (
    PollPolicy,
    RequestBudget,
    next_after_create,
    next_after_failure,
    next_after_status,
)
from core.wire import RemoteJob

logger = logging.getLogger(__name__)

Listener = Callable[[Job], None]
ProgressListener = Callable[[str, int, int | None], None]

_CAUSE_BY_KIND = {
    ErrorKind.AUTH: Cause.AUTH,
    ErrorKind.VALIDATION: Cause.INVALID,
    ErrorKind.INSUFFICIENT_FUNDS: Cause.CREDIT,
    ErrorKind.POLICY_BLOCK: Cause.POLICY,
    ErrorKind.FEATURE_DISABLED: Cause.INVALID,
    ErrorKind.NOT_FOUND: Cause.GONE,
    ErrorKind.NETWORK: Cause.NOT_SENT,
    ErrorKind.TIMEOUT: Cause.NOT_SENT,
    ErrorKind.INSECURE: Cause.NOT_SENT,
    ErrorKind.RATE_LIMITED: Cause.RATE_LIMITED,
}
#: Create failures after which the job may exist on the server: reconcile, never resend.
#: A 5xx may come after the provider accepted the job; an unreadable 2xx did create one.
_MAYBE_CREATED = frozenset({ErrorKind.TRANSIENT, ErrorKind.UNEXPECTED})
#: How long a download failure waits before the loop tries again on its own.
DOWNLOAD_RETRY_SECONDS = 30.0
#: A job still ``submitting`` this long after its row was written has no create in flight
#: anywhere (a create gives up after the client's connect + read timeouts, 35 s by default):
#: the run that sent it stopped (was killed) before the answer was recorded. It is then
#: reconciled like a create that timed out, never resent. Waiting first spares a create that
#: another Reelgate process (the window while the command line runs) still has in flight.
ORPHANED_CREATE_AFTER = 60.0


def failure_from_error(error: GatewayError, cause: Cause | None = None) -> JobFailure:
    """A job failure record built from a gateway error, keeping its body verbatim."""
    body = error.body
    provider = body.get("provider") if isinstance(body.get("provider"), str) else None
    message = error.message
    if error.details:
        message = f"{message} ({'; '.join(error.details)})"
    return JobFailure(
        cause=cause or _CAUSE_BY_KIND.get(error.kind, Cause.PROVIDER),
        code=error.code,
        message=message,
        provider=provider,
        http_status=error.status,
        request_id=error.request_id,
        raw=error.to_dict(),
    )


class Engine:
    """Runs every job from submission to a file on disk, through the journal."""

    def __init__(
        self,
        journal: Journal,
        client: GatewayClient,
        videos_dir: Path,
        *,
        policy: PollPolicy | None = None,
        budget: RequestBudget | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        gateway_label: str = "default",
    ) -> None:
        self.journal = journal
        self.gateway_label = gateway_label
        self.client = client
        self.videos_dir = videos_dir
        self.policy = policy or PollPolicy()
        self.budget = budget or RequestBudget()
        self.clock = clock
        self.rng = rng or random.Random()
        self._lock = threading.RLock()
        # Jobs made on another gateway (the demo one, say) are left alone: that server would
        # not know them, and a 404 from the wrong server must not mark them gone.
        self._jobs: dict[str, Job] = {
            job.local_id: self._interrupted(job) for job in journal.unfinished() if self.owns(job)
        }
        self._busy: set[str] = set()
        #: Jobs whose create this engine is sending right now (never treated as orphaned).
        self._submitting: set[str] = set()
        self._reconcile_lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._progress_listeners: list[ProgressListener] = []
        self.key_rejected: GatewayError | None = None
        #: Bumped by set_api_key: a 401 to a call sent with an older key is stale (the person
        #: entered a new key while it was in flight) and must not stop the new key's work.
        self._key_generation = 0
        self._calls = threading.local()
        #: Held while a refusal is recorded and while the key is replaced, so a refusal
        #: cannot land between set_api_key's clearing and its resuming of blocked jobs.
        self._key_lock = threading.RLock()
        #: One job change at a time from apply to journal to memory, so a rating given while
        #: a poll is in flight is neither overwritten in memory nor in the journal.
        self._commit_lock = threading.RLock()

    # -- observation -------------------------------------------------------------------------

    @staticmethod
    def _interrupted(job: Job) -> Job:
        """A download that was running when the app last stopped starts again from zero.

        A job left ``submitting`` (the app stopped between journaling it and recording the
        create's answer) is looked for on the gateway once ``ORPHANED_CREATE_AFTER`` has
        passed since its row was written (see :meth:`poll`).
        """
        if job.download is DownloadState.ACTIVE:
            return replace(job, download=DownloadState.PENDING)
        if job.state is JobState.SUBMITTING:
            return replace(job, next_poll_at=job.updated_at + ORPHANED_CREATE_AFTER)
        return job

    def owns(self, job: Job) -> bool:
        """Whether ``job`` was made on the gateway this engine talks to."""
        return str(job.extra.get("gateway", "default")) == self.gateway_label

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(job)`` after every change (from the thread that made it)."""
        self._listeners.append(listener)

    def add_progress_listener(self, listener: ProgressListener) -> None:
        """Call ``listener(local_id, bytes, total)`` while downloads run."""
        self._progress_listeners.append(listener)

    def job(self, local_id: str) -> Job | None:
        """The newest known state of a job."""
        with self._lock:
            cached = self._jobs.get(local_id)
        return cached or self.journal.get(local_id)

    def active_jobs(self) -> list[Job]:
        """Jobs the engine is still working on (polling, reconciling or downloading)."""
        with self._lock:
            return list(self._jobs.values())

    # -- the one place a job changes ------------------------------------------------------------

    def _commit(
        self,
        job: Job,
        event: Event,
        kind: str,
        *,
        http_status: int | None = None,
        request_id: str | None = None,
        raw: object = None,
        note: str | None = None,
        record: bool = True,
    ) -> Job:
        with self._commit_lock:
            updated = self._commit_locked(
                job, event, kind, http_status, request_id, raw, note, record
            )
        for listener in list(self._listeners):
            try:
                listener(updated)
            except Exception:  # a broken listener must not break the job loop
                logger.exception("Job listener failed")
        return updated

    def _commit_locked(
        self,
        job: Job,
        event: Event,
        kind: str,
        http_status: int | None,
        request_id: str | None,
        raw: object,
        note: str | None,
        record: bool,
    ) -> Job:
        with self._lock:
            current = self._jobs.get(job.local_id)
        if current is not None and not isinstance(event, Rated | KeepChanged):
            # ``job`` may be a copy taken before a slow call (a poll, a download) while the
            # person rated or kept it meanwhile: their marks must survive that call's result.
            job = with_marks_of(job, current)
        updated = apply(job, event)
        if record:
            self.journal.save(
                updated, kind, http_status=http_status, request_id=request_id, raw=raw, note=note
            )
        else:
            self.journal.update(updated)
        with self._lock:
            if (
                updated.terminal
                and not updated.wants_download
                and updated.download
                in (
                    DownloadState.DONE,
                    DownloadState.NONE,
                )
            ):
                self._jobs.pop(updated.local_id, None)
            else:
                self._jobs[updated.local_id] = updated
        return updated

    def _schedule(self, job: Job, when: float | None) -> Job:
        return self._commit(job, Scheduled(when, self.clock()), "schedule", record=False)

    # -- submission ---------------------------------------------------------------------------

    def submit(
        self,
        params: JobParams,
        *,
        output_path: str | None = None,
        parent_id: str | None = None,
        set_id: str | None = None,
        set_kind: SetKind | None = None,
    ) -> Job:
        """Journal the job, then send the create exactly once; returns the job as it stands.

        ``set_id``/``set_kind`` link the job to a compare set or batch (see core.job_sets);
        every member of a set is sent through here, one create at a time.
        """
        self._begin_call()
        now = self.clock()
        job = Job(
            local_id=uuid.uuid4().hex,
            params=params,
            state=JobState.SUBMITTING,
            created_at=now,
            updated_at=now,
            output_path=output_path,
            parent_id=parent_id,
            set_id=set_id,
            set_kind=set_kind if set_id is not None else None,
            extra={"gateway": self.gateway_label},
        )
        with self._lock:
            self._submitting.add(job.local_id)
        try:
            return self._submit(job, params)
        finally:
            with self._lock:
                self._submitting.discard(job.local_id)

    def _submit(self, job: Job, params: JobParams) -> Job:
        self.journal.insert(job)
        with self._lock:
            self._jobs[job.local_id] = job
        for listener in list(self._listeners):
            listener(job)
        try:
            remote = self.client.create(params)
        except GatewayError as error:
            at = self.clock()
            if error.ambiguous or error.kind in _MAYBE_CREATED:
                job = self._commit(
                    job,
                    CreateAmbiguous(error.summary, at),
                    "create_ambiguous",
                    http_status=error.status,
                    raw=error.to_dict(),
                    note="The create may have reached the gateway; it is reconciled, not resent.",
                )
                return self._schedule(job, next_reconcile_at(at, 0, self.rng))
            if error.kind is ErrorKind.AUTH:
                with self._key_lock:
                    if not self._stale_refusal():
                        self.key_rejected = error
            return self._commit(
                job,
                CreateRejected(failure_from_error(error), at),
                "create_rejected",
                http_status=error.status,
                request_id=error.request_id,
                raw=error.to_dict(),
            )
        return self._record_answer(job, remote, "created", created=True)

    def _record_answer(
        self, job: Job, remote: RemoteJob, kind: str, *, created: bool, note: str | None = None
    ) -> Job:
        """Journal a job document from the gateway, then schedule the next look at it."""
        at = self.clock()
        event: Event = Created(remote, at) if created else StatusSeen(remote, at)
        job = self._commit(
            job, event, kind, http_status=200, request_id=remote.id, raw=remote.raw, note=note
        )
        if job.terminal:
            return self._schedule(job, None)
        if created:
            return self._schedule(job, next_after_create(at, self.policy, self.rng))
        return self._schedule(
            job, next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
        )

    # -- polling ------------------------------------------------------------------------------

    def claim_due(self, now: float | None = None, limit: int | None = None) -> list[Job]:
        """Jobs due for a status read or a reconcile now, marked busy so nobody polls twice.

        Each claimed job holds a request-budget slot; :meth:`poll` releases it.
        """
        now = self.clock() if now is None else now
        if self.key_rejected is not None:
            return []
        with self._lock:
            candidates = sorted(
                (
                    job
                    for job in self._jobs.values()
                    if job.local_id not in self._busy
                    and (job.pollable or self._reconcilable(job))
                    and (job.next_poll_at is None or job.next_poll_at <= now)
                ),
                key=lambda job: job.next_poll_at or 0.0,
            )
            claimed: list[Job] = []
            for job in candidates:
                if limit is not None and len(claimed) >= limit:
                    break
                if not self.budget.try_acquire():
                    break
                self._busy.add(job.local_id)
                claimed.append(job)
            return claimed

    def _reconcilable(self, job: Job) -> bool:
        if job.state is JobState.SUBMITTING:  # orphaned by a stopped run (see _interrupted)
            return job.local_id not in self._submitting and job.next_poll_at is not None
        attempts = int(job.extra.get("reconcile_attempts", 0))
        return job.state is JobState.SUBMIT_UNKNOWN and attempts < RECONCILE_ATTEMPTS

    def next_wake(self, now: float | None = None, *, downloads: bool = True) -> float | None:
        """When the next poll, reconcile or download retry is due (``None``: nothing to do).

        ``downloads=False`` leaves out downloads (they wait for the user's Download action).
        """
        now = self.clock() if now is None else now
        if self.key_rejected is not None:
            return None
        times: list[float] = []
        with self._lock:
            for job in self._jobs.values():
                if job.local_id in self._busy:
                    continue
                if job.pollable or self._reconcilable(job):
                    times.append(job.next_poll_at if job.next_poll_at is not None else now)
                elif (
                    downloads
                    and job.wants_download
                    and (due_at := self._download_due_at(job)) is not None
                ):
                    times.append(due_at)
        return max(now, min(times)) if times else None

    def poll(self, job: Job, *, budgeted: bool = True) -> Job:
        """Read one claimed job's status (or reconcile a lost create) and record the answer.

        ``budgeted`` says the caller holds a request-budget slot (from :meth:`claim_due`),
        which is released here.
        """
        self._begin_call()
        try:
            current = self.job(job.local_id) or job
            if current.state is JobState.SUBMITTING and self._reconcilable(current):
                current = self._commit(
                    current,
                    CreateAmbiguous(
                        "Reelgate stopped before the create's answer arrived", self.clock()
                    ),
                    "create_ambiguous",
                    note="The create may have reached the gateway; it is reconciled, not resent.",
                )
            if current.state is JobState.SUBMIT_UNKNOWN:
                return self._reconcile(current)
            if not current.pollable:
                return current
            return self._poll_status(current)
        finally:
            with self._lock:
                self._busy.discard(job.local_id)
            if budgeted:
                self.budget.release()

    def _poll_status(self, job: Job) -> Job:
        assert job.remote_id is not None
        try:
            remote = self.client.get(job.remote_id)
        except GatewayError as error:
            return self._poll_error(job, error)
        return self._record_answer(job, remote, "status", created=False)

    def _poll_error(self, job: Job, error: GatewayError) -> Job:
        at = self.clock()
        raw = error.body or error.body_excerpt
        if error.kind is ErrorKind.NOT_FOUND:
            return self._commit(
                job,
                Vanished(failure_from_error(error, Cause.GONE), at),
                "not_found",
                http_status=error.status,
                request_id=error.request_id,
                raw=raw,
            )
        if error.kind is ErrorKind.AUTH:
            with self._key_lock:
                if not self._stale_refusal():
                    self.key_rejected = error
                    return self._commit(
                        job,
                        AuthRejected(error.summary, at),
                        "auth_rejected",
                        http_status=error.status,
                        request_id=error.request_id,
                        raw=raw,
                        note="Polling stopped until a new API key is entered.",
                    )
        job = self._commit(
            job,
            PollFailed(problem_text(error), at, error.request_id, poll_error_record(error)),
            "poll_failed",
            http_status=error.status,
            request_id=error.request_id,
            raw=raw,
            note=error.kind.value,
        )
        when = next_after_failure(
            at, job.failures, error.kind, error.retry_after, self.policy, self.rng
        )
        return self._schedule(job, when)

    def _reconcile(self, job: Job) -> Job:
        # One reconcile at a time: two lost creates searched in parallel would both see the
        # same unadopted gateway job and both adopt it (one paid video, two local rows).
        with self._reconcile_lock:
            return self._reconcile_locked(job)

    def _reconcile_locked(self, job: Job) -> Job:
        attempts = int(job.extra.get("reconcile_attempts", 0)) + 1
        job = replace(job, extra={**job.extra, "reconcile_attempts": attempts})
        try:
            known = self.journal.remote_ids()
            # Other creates whose outcome is unknown too: a listed job nearer in time to one
            # of them is theirs, not this one's (see find_match).
            rivals = [
                j
                for j in self.journal.unfinished()
                if j.remote_id is None
                and j.state in (JobState.SUBMITTING, JobState.SUBMIT_UNKNOWN)
                and self.owns(j)
            ]
            match = find_match(job, self.client.iter_jobs(max_pages=5), known, rivals)
        except GatewayError as error:
            job = self._commit(
                job,
                PollFailed(error.summary, self.clock(), error.request_id),
                "reconcile_failed",
                http_status=error.status,
                raw=error.body or error.body_excerpt,
            )
            return self._schedule(job, next_reconcile_at(self.clock(), attempts, self.rng))
        at = self.clock()
        if match is not None:
            note = "Found the job the lost create made; nothing was resent."
            # Lost creates matched earlier are neighbours too: if one of them took this job's
            # gateway job by mistake, this match is no surer than that one.
            matched = [
                j
                for j in self.journal.jobs(include_hidden=True, limit=1000)
                if j.extra.get("reconciled") and j.local_id != job.local_id
            ]
            job = replace(job, extra={**job.extra, "reconciled": True})
            if contested(job, match, rivals + matched):
                job = replace(job, extra={**job.extra, "uncertain_match": True})
                note += (
                    " Matched by creation time only: another submission whose outcome is "
                    "unknown was sent around the same time, so this video may be that one's. "
                    "Check it."
                )
            return self._record_answer(job, match, "reconciled", created=True, note=note)
        note = f"No matching job on the gateway yet (check {attempts} of {RECONCILE_ATTEMPTS})."
        job = self._commit(job, Scheduled(None, at), "reconcile_none", note=note)
        if attempts >= RECONCILE_ATTEMPTS:
            return job
        return self._schedule(job, next_reconcile_at(at, attempts, self.rng))

    def poll_once(self, local_id: str) -> Job:
        """Poll one job now, whatever its schedule (the "Refresh" action)."""
        job = self.job(local_id)
        if job is None:
            raise KeyError(local_id)
        with self._lock:
            if job.local_id in self._busy:
                return job
            self._busy.add(job.local_id)
        # A person asked: go now even when the budget is spent, but hold a slot if one is free.
        return self.poll(job, budgeted=self.budget.try_acquire())

    # -- downloads ----------------------------------------------------------------------------

    def _download_due_at(self, job: Job) -> float | None:
        """When the loop should fetch a job's bytes; ``None`` waits for the user (disk full...)."""
        if job.download is DownloadState.FAILED:
            if not job.extra.get("download_retryable", True):
                return None
            return job.updated_at + DOWNLOAD_RETRY_SECONDS
        return job.updated_at

    def claim_downloads(self, now: float | None = None) -> list[Job]:
        """Completed jobs whose bytes should be fetched now, marked busy."""
        now = self.clock() if now is None else now
        if self.key_rejected is not None:  # content needs the key too: wait for a new one
            return []
        with self._lock:
            ready = [
                job
                for job in self._jobs.values()
                if job.wants_download
                and job.local_id not in self._busy
                and (due_at := self._download_due_at(job)) is not None
                and due_at <= now
            ]
            for job in ready:
                self._busy.add(job.local_id)
            return ready

    def output_file(self, job: Job, index: int) -> Path:
        """Where the app keeps output ``index`` of a job."""
        name = job.remote_id or job.local_id
        safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_") or job.local_id
        return self.videos_dir / f"{safe}-{index + 1}.mp4"

    def retry_download(self, local_id: str, cancel: threading.Event | None = None) -> Job:
        """Fetch a completed job's bytes now, whatever stopped the last attempt."""
        job = self.job(local_id)
        if job is None:
            raise KeyError(local_id)
        with self._lock:
            if job.local_id in self._busy:
                return job
            self._busy.add(job.local_id)
        job = replace(job, extra={**job.extra, "download_retryable": True})
        return self.download(job, cancel)

    def download(self, job: Job, cancel: threading.Event | None = None) -> Job:
        """Fetch every output of a claimed completed job into the videos folder."""
        try:
            return self._download(job, cancel)
        finally:
            with self._lock:
                self._busy.discard(job.local_id)

    def _download(self, job: Job, cancel: threading.Event | None) -> Job:
        self._begin_call()
        current = self.job(job.local_id) or job
        if not current.wants_download or current.remote_id is None:
            return current
        remote_id = current.remote_id
        current = self._commit(
            current, DownloadChanged(DownloadState.ACTIVE, self.clock()), "download", note="started"
        )
        files: list[str] = []
        try:
            # No mkdir here: download() creates the folder itself and turns a folder that
            # cannot be made (a file in its place, no permission) into a DownloadError; a
            # bare OSError from here escaped the engine and stopped the whole job loop.
            for index in range(current.outputs):
                dest = self.output_file(current, index)
                result = download(
                    lambda index=index: self.client.open_content(remote_id, index),  # type: ignore[misc]
                    dest,
                    progress=self._progress_for(current.local_id),
                    cancel=cancel,
                )
                files.append(str(result.path))
        except DownloadError as error:
            current = replace(
                current,
                extra={
                    **current.extra,
                    "download_error": error.kind.value,
                    "download_retryable": error.retryable,
                },
            )
            return self._commit(
                current,
                DownloadChanged(DownloadState.FAILED, self.clock(), tuple(files), error.message),
                "download",
                note=f"failed: {error.kind.value}",
                raw={"kind": error.kind.value, "message": error.message},
            )
        except GatewayError as error:
            if error.kind is ErrorKind.NOT_FOUND:
                return self._commit(
                    current,
                    Vanished(failure_from_error(error, Cause.GONE), self.clock()),
                    "not_found",
                    http_status=error.status,
                    raw=error.body,
                )
            if error.kind is ErrorKind.AUTH:
                # A refused key stops every call with it, downloads included, until a new key
                # is set; otherwise the loop would retry with it every 30 s, forever.
                with self._key_lock:
                    if not self._stale_refusal():
                        self.key_rejected = error
            return self._commit(
                current,
                DownloadChanged(DownloadState.FAILED, self.clock(), tuple(files), error.summary),
                "download",
                http_status=error.status,
                request_id=error.request_id,
                note=f"failed: {error.kind.value}",
                raw=error.body or error.body_excerpt,
            )
        note = f"saved {len(files)} file(s)"
        if current.output_path:
            # Exported before DONE is committed: a crash in between re-runs both on resume.
            problem = self._export_to_output_path(current.output_path, files)
            current = replace(current, extra={**current.extra, "export_error": problem})
            note += f"; exported to {current.output_path}" if problem is None else f"; {problem}"
        return self._commit(
            current,
            DownloadChanged(DownloadState.DONE, self.clock(), tuple(files)),
            "download",
            note=note,
        )

    @staticmethod
    def _export_to_output_path(output_path: str, files: list[str]) -> str | None:
        """Copy downloaded outputs to the ``--output`` file; returns a problem or ``None``."""
        target = Path(output_path)
        for index, source in enumerate(files):
            suffix = target.suffix or ".mp4"
            dest = target if index == 0 else target.with_name(f"{target.stem}-{index + 1}{suffix}")
            try:
                copy_file(Path(source), dest)
            except DownloadError as error:
                return f"could not save to {dest}: {error.message}"
        return None

    def _progress_for(self, local_id: str) -> Callable[[int, int | None], None]:
        def report(done: int, total: int | None) -> None:
            for listener in list(self._progress_listeners):
                listener(local_id, done, total)

        return report

    # -- user actions --------------------------------------------------------------------------

    def save_as(
        self,
        local_id: str,
        dest: Path,
        *,
        index: int = 0,
        progress: Callable[[int, int | None], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> DownloadResult:
        """Copy a downloaded output to a place the user chose (atomic; never half-written)."""
        job = self.job(local_id)
        if job is None or index >= len(job.files):
            raise DownloadError(
                DownloadErrorKind.OTHER, "This video has not been downloaded yet.", retryable=False
            )
        result = copy_file(Path(job.files[index]), dest, progress=progress, cancel=cancel)
        self.journal.save(job, "saved_as", note=str(dest))
        return result

    def mint_link(self, local_id: str, ttl_seconds: int = 900) -> SignedLink:
        """A short-lived signed link to the video that needs no key."""
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        return self.client.download_url(job.remote_id, ttl_seconds=ttl_seconds)

    def delete_on_server(self, local_id: str) -> Job:
        """Delete the server's copy of a finished job (the local record and files stay)."""
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        self.client.delete(job.remote_id)
        return self._commit(job, DeletedOnServer(self.clock()), "deleted_on_server")

    def cancel(self, local_id: str) -> None:
        """Ask the gateway to cancel (it currently answers "not available": a GatewayError)."""
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        self.client.cancel(job.remote_id)

    def review(self, local_id: str, reviewed: bool, note: str) -> Job:
        """Mark a job reviewed (or not) with a note; kept in the journal."""
        job = self.job(local_id)
        if job is None:
            raise KeyError(local_id)
        return self._commit(job, Reviewed(reviewed, note, self.clock()), "review", note=note)

    def set_rating(self, local_id: str, rating: int) -> Job:
        """Rate a job 1-5 stars (0 clears the rating); journaled as a ``rate`` event."""
        if not 0 <= rating <= MAX_RATING:
            raise ValueError(f"A rating is 0 (none) to {MAX_RATING} stars, not {rating}.")
        with self._commit_lock:
            job = self._known(local_id)
            return self._commit(job, Rated(rating, self.clock()), "rate", note=str(rating))

    def set_kept(self, local_id: str, kept: bool) -> Job:
        """Mark a job as one the creator keeps (or not); journaled as a ``keep`` event."""
        with self._commit_lock:
            job = self._known(local_id)
            note = "kept" if kept else "not kept"
            return self._commit(job, KeepChanged(kept, self.clock()), "keep", note=note)

    def _known(self, local_id: str) -> Job:
        job = self.job(local_id)
        if job is None:
            raise KeyError(local_id)
        return job

    def set_hidden(self, local_id: str, hidden: bool) -> None:
        """Remove a job from the list (or bring it back); the journal keeps it."""
        self.journal.set_hidden(local_id, hidden)

    def set_api_key(self, key: str | None) -> None:
        """Use a new key; jobs stopped by a refused key resume polling."""
        with self._key_lock:
            self.client.set_api_key(key)
            self._key_generation += 1
            self.key_rejected = None
            for job in self.active_jobs():
                if job.auth_blocked:
                    self._commit(job, KeyReplaced(self.clock()), "key_replaced")

    def _begin_call(self) -> None:
        """Note which key this thread's gateway call is about to use (see _stale_refusal)."""
        self._calls.key_generation = self._key_generation

    def _stale_refusal(self) -> bool:
        """Whether this thread's refused call was sent with a key replaced since."""
        started: int = getattr(self._calls, "key_generation", self._key_generation)
        return started != self._key_generation

    def _require_remote(self, local_id: str) -> Job:
        job = self.job(local_id)
        if job is None or job.remote_id is None:
            raise GatewayError(
                kind=ErrorKind.NOT_FOUND,
                message="This job was never created on the gateway.",
            )
        return job

    # -- used by the headless loop -----------------------------------------------------------

    def run_due(self, cancel: threading.Event | None = None) -> list[Job]:
        """Poll everything due and download everything ready, sequentially (command line)."""
        changed: list[Job] = []
        for job in self.claim_due():
            changed.append(self.poll(job))
        for job in self.claim_downloads():
            changed.append(self.download(job, cancel))
        return changed


__all__ = ["Engine", "RemoteJob", "failure_from_error"]
