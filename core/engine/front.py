"""The engine's front: submitting a job, the key, and the headless loop, over its roles.

Creates are never retried, and are sent one at a time per gateway identity (across
processes too), so two creates whose answers were lost never overlap. The roles live beside
this module in ``core/engine/`` (see the package docstring).
"""

from __future__ import annotations

import logging
import threading
import uuid

from core.engine.actions import ActionsRole
from core.engine.base import failure_from_error
from core.engine.matching import next_reconcile_at
from core.engine.polling import PollingRole
from core.errors import ErrorKind, GatewayError
from core.joblock import FileLock, lock_name
from core.jobs import (
    CreateAmbiguous,
    CreateRejected,
    CreateSent,
    Job,
    JobParams,
    JobState,
    KeyReplaced,
    SetKind,
)

logger = logging.getLogger(__name__)

#: Create failures after which the job may exist on the server: reconcile, never resend.
#: A 5xx may come after the provider accepted the job; an unreadable 2xx did create one.
_MAYBE_CREATED = frozenset({ErrorKind.TRANSIENT, ErrorKind.UNEXPECTED})


class Engine(PollingRole, ActionsRole):
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
        self.keys.begin_call()
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
        self.keys.heard(error)
        return self._commit(
            job,
            CreateRejected(failure_from_error(error), at, error.request_ids),
            "create_rejected",
            http_status=error.status,
            request_id=error.request_id,
            raw=error.to_dict(),
        )

    # -- the key -------------------------------------------------------------------------------

    def set_api_key(self, key: str | None) -> None:
        """Use a new key; jobs stopped by a refused key resume polling under it.

        A key is part of the gateway identity: jobs made with another key are no longer
        polled (that account's 404s prove nothing), except those the old key's refusal
        stopped, which the person replaced it for. Jobs made with the new key are picked up.
        """
        with self.keys.lock:
            self.client.set_api_key(key)
            self.keys.replaced()
            identity = self.identity
            for job in self.unfinished_jobs():
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


__all__ = ["Engine"]
