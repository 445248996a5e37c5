"""The job loop: submit, poll, reconcile, download; every step journaled before it is shown.

The engine is synchronous and thread-safe: the command line calls it directly, the desktop
app calls it from executor threads. Listeners hear about every job change (from whatever
thread made it). Creates are never retried, and are sent one at a time per gateway identity
(across processes too), so two creates whose answers were lost never overlap; reads are
retried on the scheduler's timetable. The roles live in their own modules:
``engine_base`` (state, commits, identity, 404 and key rules), ``engine_reconcile`` (lost
creates) and ``engine_downloads`` (bytes to disk).
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import replace
from pathlib import Path

from core.engine_base import ORPHANED_CREATE_AFTER, EngineBase, failure_from_error
from core.engine_downloads import DOWNLOAD_RETRY_SECONDS, DownloadRole
from core.engine_reconcile import ReconcileRole
from core.errors import ErrorKind, GatewayError
from core.gateway import SignedLink
from core.joblock import FileLock, lock_name
from core.jobs import (
    MAX_RATING,
    BillingSeen,
    CreateAmbiguous,
    CreateRejected,
    CreateSent,
    DeletedOnServer,
    Job,
    JobParams,
    JobState,
    KeepChanged,
    KeyReplaced,
    Rated,
    Reviewed,
    SetKind,
)
from core.reconcile import next_reconcile_at
from core.safe_write import DownloadError, DownloadErrorKind, DownloadResult, ProgressFn, copy_file
from core.scheduler import due_jobs, earliest_due, next_after_status
from core.wire import RemoteJob

logger = logging.getLogger(__name__)

#: Create failures after which the job may exist on the server: reconcile, never resend.
#: A 5xx may come after the provider accepted the job; an unreadable 2xx did create one.
_MAYBE_CREATED = frozenset({ErrorKind.TRANSIENT, ErrorKind.UNEXPECTED})


class Engine(ReconcileRole, DownloadRole, EngineBase):
    """Runs every job from submission to a file on disk, through the journal."""

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

        The single entry point for creating a video. The job is journaled (and shown) at
        once; its create then waits for any other create of the same gateway identity still
        in flight, in this process or another, so the caller's thread may wait here.
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
            gateway=self.identity,
            gateway_label=self.gateway_label,
        )
        with self._lock:
            self._submitting.add(job.local_id)
        try:
            return self._submit(job, params)
        finally:
            with self._lock:
                self._submitting.discard(job.local_id)

    def _create_lock(self, identity: str) -> FileLock:
        """The lock that lets one create at a time through for ``identity``."""
        return FileLock(self.locks_dir / f"create-{lock_name(identity)}.lock")

    def _submit(self, job: Job, params: JobParams) -> Job:
        self.journal.insert(job)
        with self._lock:
            self._jobs[job.local_id] = job
        self._notify(job)
        assert job.gateway is not None
        with self._create_lock(job.gateway):
            # When the create leaves: a lost create is looked for in a window that starts
            # here, not when the row was written (it may have waited behind another create).
            job = self._commit(job, CreateSent(self.clock()), "create_sent", record=False)
            try:
                remote = self.client.create(params)
            except GatewayError as error:
                return self._create_failed(job, error)
        return self._record_answer(job, remote, "created", created=True)

    def _create_failed(self, job: Job, error: GatewayError) -> Job:
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
            self._refuse_key(error)
        self._note_key_limit(error)
        return self._commit(
            job,
            CreateRejected(failure_from_error(error), at),
            "create_rejected",
            http_status=error.status,
            request_id=error.request_id,
            raw=error.to_dict(),
        )

    # -- polling ------------------------------------------------------------------------------

    def claim_due(
        self, now: float | None = None, limit: int | None = None, only: set[str] | None = None
    ) -> list[Job]:
        """Jobs due for a status read or a reconcile now, marked busy so nobody polls twice.

        Each claimed job holds a request-budget slot; :meth:`poll` releases it. ``only``
        limits the claim to those jobs (the command line drives just its own).
        """
        now = self.clock() if now is None else now
        if self.key_rejected is not None or self._key_paused(now):
            return []
        with self._lock:
            candidates = due_jobs(self._free_jobs(only), now, wants=self._wants_read)
            claimed: list[Job] = []
            for job in candidates:
                if limit is not None and len(claimed) >= limit:
                    break
                if not self.budget.try_acquire():
                    break
                self._busy.add(job.local_id)
                claimed.append(job)
            return claimed

    def next_wake(
        self, now: float | None = None, *, downloads: bool = True, only: set[str] | None = None
    ) -> float | None:
        """When the next poll, reconcile or download retry is due (``None``: nothing to do).

        ``downloads=False`` leaves out downloads (they wait for the user's Download action).
        While the key's rate limit holds, nothing is due before it ends.
        """
        now = self.clock() if now is None else now
        if self.key_rejected is not None:
            return None
        with self._lock:
            free = self._free_jobs(only)
            reads = earliest_due(free, now, wants=self._wants_read)
            times = [] if reads is None else [reads]
            if downloads:
                times.extend(
                    due_at
                    for job in free
                    if job.wants_download
                    and not self._wants_read(job)
                    and (due_at := self._download_due_at(job)) is not None
                )
            paused = self.key_paused_until
        if not times:
            return None
        wake = max(now, min(times))
        return max(wake, paused) if paused is not None else wake

    def poll(self, job: Job, *, budgeted: bool = True, refresh: bool = False) -> Job:
        """Read one claimed job's status (or reconcile a lost create) and record the answer.

        ``budgeted`` says the caller holds a request-budget slot (from :meth:`claim_due`),
        which is released here. ``refresh`` (a person asked) also reads a job marked gone.
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
                if not self.owns(current) or current.auth_blocked:
                    return current
                return self._reconcile(current)
            if refresh and current.state is JobState.GONE and current.remote_id:
                return self._poll_status(current) if self.owns(current) else current
            if current.awaiting_bill and self.owns(current):
                return self._poll_bill(current)
            if not current.pollable or not self.owns(current):
                return current
            return self._poll_status(current)
        finally:
            with self._lock:
                self._busy.discard(job.local_id)
            if budgeted:
                self.budget.release()

    def _free_jobs(self, only: set[str] | None) -> list[Job]:
        """Jobs no call is working on (``only``: just those); the caller holds the lock."""
        return [
            job
            for job in self._jobs.values()
            if job.local_id not in self._busy and (only is None or job.local_id in only)
        ]

    def _poll_status(self, job: Job) -> Job:
        assert job.remote_id is not None
        try:
            remote = self.client.get(job.remote_id)
        except GatewayError as error:
            return self._poll_error(job, error)
        return self._record_answer(job, remote, "status", created=False)

    def _wants_read(self, job: Job) -> bool:
        """Whether the loop reads ``job`` from the gateway when it is due."""
        return job.pollable or job.awaiting_bill or self._reconcilable(job)

    def _poll_bill(self, job: Job) -> Job:
        """Read a completed job again for its bill only; trouble just waits for the next try."""
        assert job.remote_id is not None
        at = self.clock()
        try:
            remote = self.client.get(job.remote_id)
        except GatewayError as error:
            logger.info("Bill check for %s failed: %s", job.remote_id, error.summary)
            job = replace(job, bill_checks=job.bill_checks + 1)
            return self._schedule(job, next_after_status(at, None, self.policy, self.rng))
        job = self._commit(
            job,
            BillingSeen(remote, at),
            "billing",
            http_status=200,
            request_id=remote.id,
            raw=remote.raw,
        )
        later = next_after_status(at, remote.poll_after_seconds, self.policy, self.rng)
        return self._schedule(job, later if job.awaiting_bill else None)

    def _poll_error(self, job: Job, error: GatewayError) -> Job:
        if error.kind is ErrorKind.NOT_FOUND and not self._stale_refusal():
            if job.state is JobState.GONE:  # a Refresh of a gone job: still gone
                raw = error.body or error.body_excerpt
                self.journal.save(job, "not_found", http_status=error.status, raw=raw)
                return job
            return self._not_found(job, error)
        return self._read_failed(
            job,
            error,
            "poll_failed",
            auth_note="Polling stopped until a new API key is entered.",
            note=error.kind.value,
        )

    def poll_once(self, local_id: str) -> Job:
        """Poll one job now, whatever its schedule (the "Refresh" action; gone jobs too)."""
        job = self.job(local_id)
        if job is None:
            raise KeyError(local_id)
        with self._lock:
            if job.local_id in self._busy:
                return job
            self._busy.add(job.local_id)
        # A person asked: go now even when the budget is spent, but hold a slot if one is free.
        return self.poll(job, budgeted=self.budget.try_acquire(), refresh=True)

    # -- user actions --------------------------------------------------------------------------

    def save_as(
        self,
        local_id: str,
        dest: Path,
        *,
        index: int = 0,
        progress: ProgressFn | None = None,
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
        """Delete the server's copy of a finished job (the local record and files stay).

        Raises :class:`GatewayError` when the gateway does not confirm ``deleted: true``:
        the job is then not marked deleted.
        """
        job = self._require_remote(local_id)
        assert job.remote_id is not None
        if not self.client.delete(job.remote_id):
            raise GatewayError(
                kind=ErrorKind.UNEXPECTED,
                message="The gateway answered without confirming the deletion "
                '(no "deleted": true); the video may still be on the server.',
                code="delete_unconfirmed",
            )
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
        """Use a new key; jobs stopped by a refused key resume polling under it.

        A key is part of the gateway identity: jobs made with another key are no longer
        polled (that account's 404s prove nothing), except those the old key's refusal
        stopped, which the person replaced it for. Jobs made with the new key are picked up.
        """
        with self._key_lock:
            self.client.set_api_key(key)
            self._key_generation += 1
            self.key_rejected = None
            self.key_paused_until = None
            identity = self.identity
            for job in self.active_jobs():
                if job.auth_blocked:
                    self._commit(job, KeyReplaced(self.clock(), identity), "key_replaced")
            self._adopt_owned()

    def _adopt_owned(self) -> None:
        """Work on exactly the unfinished jobs of the current gateway identity."""
        owned = {job.local_id: job for job in self.journal.unfinished() if self.owns(job)}
        with self._lock:
            for local_id in list(self._jobs):
                if local_id not in owned and local_id not in self._busy:
                    del self._jobs[local_id]
            for local_id, job in owned.items():
                self._jobs.setdefault(local_id, self._interrupted(job))

    def _require_remote(self, local_id: str) -> Job:
        job = self.job(local_id)
        if job is None or job.remote_id is None:
            raise GatewayError(
                kind=ErrorKind.NOT_FOUND,
                message="This job was never created on the gateway.",
            )
        return job

    # -- used by the headless loop -----------------------------------------------------------

    def run_due(
        self, cancel: threading.Event | None = None, only: set[str] | None = None
    ) -> list[Job]:
        """Poll everything due and download everything ready, sequentially (command line).

        ``only`` limits the work to those jobs (``generate`` drives just its own).
        """
        changed: list[Job] = []
        for job in self.claim_due(only=only):
            changed.append(self.poll(job))
        for job in self.claim_downloads(only=only):
            changed.append(self.download(job, cancel))
        return changed


__all__ = [
    "DOWNLOAD_RETRY_SECONDS",
    "ORPHANED_CREATE_AFTER",
    "Engine",
    "RemoteJob",
    "failure_from_error",
]
